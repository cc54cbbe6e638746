#pragma once
// Versioned schema migrations for the PostgreSQL store, recorded in schema_migrations. They
// run at start-up in one transaction under an advisory lock, so that several akamu processes
// starting at once on one database apply each migration exactly once. Tables live in the
// connection's current schema (the first one on its search_path).
#include <libpq-fe.h>

#include <cstdint>
#include <span>

#include "core/result.hpp"

namespace akamu::store::postgres {

struct Migration {
  int version;
  const char* name;
  const char* sql;  // may hold several statements
};

std::span<const Migration> migrations();
int latestSchemaVersion();

// The pg_advisory_xact_lock key that serialises migrations ("akamuMIG" in ASCII).
inline constexpr std::int64_t kMigrationLockKey = 0x616b616d754d4947;

// Applies the missing migrations on `conn`, a blocking connection outside any transaction.
// Fails when the database is at a version newer than this build knows.
core::Status migrate(PGconn* conn);

}  // namespace akamu::store::postgres
