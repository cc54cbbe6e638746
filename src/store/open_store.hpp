#pragma once
// Picks the Store implementation from a database URL.
#include <cstddef>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "store/store.hpp"

namespace akamu::store {

struct StoreOptions {
  // File databases: read-only connections (opened SQLITE_OPEN_READONLY) for the lookups.
  std::size_t read_connections = 4;
};

// url: "sqlite:///abs/path/file.db", "sqlite://relative/path.db", "sqlite:path.db",
// "sqlite::memory:". Anything else is a malformed problem "unsupported database url ...".
core::Result<std::unique_ptr<Store>> openStore(const std::string& url,
                                               const StoreOptions& options = {});

}  // namespace akamu::store
