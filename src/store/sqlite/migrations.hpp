#pragma once
// The SQLite schema as numbered migrations. The SQL lives only in migrations.cpp (embedded in
// the binary, nothing generated at build time); a migration, once released, is never edited:
// change the schema by appending the next number.
#include <span>

#include "core/result.hpp"
#include "store/sqlite/database.hpp"

namespace akamu::store::sqlite {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// In ascending version order, starting at 1; numbers may have gaps (reserved by changes
// developed in parallel), and migrate() applies every one not yet recorded.
std::span<const Migration> migrations();
int latestSchemaVersion();

// Brings `db` up to latestSchemaVersion() in one IMMEDIATE transaction, recording each applied
// version in schema_migrations. Refuses a database written by a newer akamu.
core::Status migrate(Database& db);

// The highest version recorded in schema_migrations, 0 for a fresh database.
core::Result<int> schemaVersion(Database& db);

}  // namespace akamu::store::sqlite
