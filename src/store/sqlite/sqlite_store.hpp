#pragma once
// The SQLite implementation of Store. File databases run in WAL mode with one writer
// connection (serialised by a mutex; each write call is one BEGIN IMMEDIATE ... COMMIT) and a
// pool of read-only connections for lookups. ":memory:" uses a single connection for
// everything, since a second connection would open a different, empty database.
#include <cstddef>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "store/store.hpp"

namespace akamu::store::sqlite {

struct SqliteOptions {
  // Read-only connections for file databases; 0 sends reads through the writer connection.
  std::size_t read_connections = 4;
  // How long a connection waits for a lock held by another process before failing.
  int busy_timeout_ms = 5000;
};

// `path` is a file name for sqlite3_open_v2 or ":memory:". Creates the file if needed and
// applies the schema migrations.
core::Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                                     const SqliteOptions& options = {});

}  // namespace akamu::store::sqlite
