#pragma once
// The SQLite implementation of Store. File databases run in WAL mode (synchronous=FULL) with
// one writer connection owned by a batching writer thread (write_batcher.hpp), a pool of
// connections for lookups, and optionally a separate pool of read-only connections for the
// read-only handlers (Store::readOnly()). ":memory:" uses a single connection for everything,
// since a second connection would open a different, empty database; its writes and lookups run
// on the calling thread under a mutex (there is nothing to sync, so nothing to batch).
#include <cstddef>
#include <memory>
#include <string>

#include "core/metrics.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace akamu::store::sqlite {

struct SqliteOptions {
  // Connections serving lookups of file databases (`[database] pool_connections`).
  std::size_t pool_connections = 4;
  // Connections opened SQLITE_OPEN_READONLY for the read-only handlers
  // (`[database] ro_connections`); 0 sends those lookups to the pool above.
  std::size_t ro_connections = 0;
  // Most write calls committed in one transaction.
  std::size_t max_write_batch = 256;
  // How long a connection waits for a lock held by another process before failing.
  int busy_timeout_ms = 5000;
  // Told how long each read() and write() took; null records nothing. Outlives the store.
  core::Metrics* metrics = nullptr;
};

// `path` is a file name for sqlite3_open_v2 or ":memory:". Creates the file if needed and
// applies the schema migrations.
core::Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                                     const SqliteOptions& options = {});

}  // namespace akamu::store::sqlite
