#pragma once
// The PostgreSQL implementation of Store, for clusters of akamu processes on one database.
//
// Queries run on non-blocking libpq connections watched by the event loop: no thread ever
// waits for the database. Each Store call is one pipeline ending in one sync, hence one
// transaction and one round trip; statements are prepared once per connection. Connections
// come from a fixed pool shared by all the loop's threads; a broken or timed-out connection is
// dropped and its slot reconnected by the next call that needs it.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "core/metrics.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace akamu::store::postgres {

struct PostgresOptions {
  // Connections for every call (and for lookups when ro_connections is 0).
  std::size_t pool_connections = 4;
  // More connections, with default_transaction_read_only on, for the lookups made through
  // Store::readOnly(). 0: none, readOnly() is the store itself.
  std::size_t ro_connections = 0;
  // Connect with sslmode=require (a URL's verify-ca / verify-full is kept) and refuse any
  // connection that does not use TLS.
  bool require_tls = false;
  std::chrono::seconds connect_timeout{10};
  // Bound on every call: waiting for a free connection, sending, and waiting for the answer.
  // Past it the call fails and its connection is dropped. Also the server's statement_timeout.
  std::chrono::seconds query_timeout{30};
  // Told how long each call took; null records nothing. Outlives the store.
  core::Metrics* metrics = nullptr;
};

// `conninfo`: anything libpq accepts ("postgres://user:pass@host:port/db?...",
// "postgresql://...", "host=... dbname=..."); it is never quoted in an error. Connects the
// pools and applies the schema migrations, blocking the calling thread (start-up only). Query
// I/O then runs on `executor`, whose io_context must be running while the store is used. The
// store may be destroyed while calls are still suspended in a stopped io_context: they hold the
// connection pool alive until that io_context destroys them.
core::Result<std::unique_ptr<Store>> openPostgresStore(boost::asio::any_io_executor executor,
                                                       const std::string& conninfo,
                                                       const PostgresOptions& options = {});

}  // namespace akamu::store::postgres
