#pragma once
// Picks the Store implementation from a database URL.
#include <cstddef>
#include <memory>
#include <string>

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
};

// url: "sqlite:///abs/path/file.db", "sqlite://relative/path.db", "sqlite:path.db",
// "sqlite::memory:". Anything else is a malformed problem "unsupported database url ...".
core::Result<std::unique_ptr<Store>> openStore(const std::string& url,
                                               const StoreOptions& options = {});

}  // namespace akamu::store
