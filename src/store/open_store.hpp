#pragma once
// Picks the Store implementation from a database URL.
#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/metrics.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace akamu::store {

struct StoreOptions {
  // SQLite files: connections serving lookups; PostgreSQL: the connection pool.
  std::size_t pool_connections = 4;
  // A separate pool for the read-only handlers (order, authorization, certificate GETs);
  // 0 = no split. SQLite opens them SQLITE_OPEN_READONLY, PostgreSQL read-only sessions.
  std::size_t ro_connections = 0;
  // PostgreSQL: refuse connections that do not use TLS.
  bool require_tls = false;
  // Told how long each call took (null: nothing is recorded). Outlives the store.
  core::Metrics* metrics = nullptr;
};

// url: "sqlite:///abs/path/file.db", "sqlite://relative/path.db", "sqlite:path.db",
// "sqlite::memory:"; PostgreSQL: "postgres://...", "postgresql://..." or a key=value conninfo
// ("host=... dbname=..."), which need `executor` (the event loop the queries run on). Anything
// else is a malformed problem "unsupported database url ...". Never quotes a password.
core::Result<std::unique_ptr<Store>> openStore(const std::string& url,
                                               const StoreOptions& options = {},
                                               boost::asio::any_io_executor executor = {});

}  // namespace akamu::store
