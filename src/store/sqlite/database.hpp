#pragma once
// A small RAII layer over the SQLite C API: a connection that owns its prepared-statement cache,
// a borrowed Statement that resets itself when it goes out of scope (an un-reset SELECT would
// pin an old WAL snapshot and keep the read transaction open), and a Transaction guard that
// rolls back unless committed.
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/result.hpp"

namespace akamu::store::sqlite {

class Database;

// Maps a SQLite failure to a Problem: uniqueness violations are kConflict (the Store contract),
// everything else kServerInternal with SQLite's message.
core::Problem sqliteProblem(sqlite3* db, int rc, std::string_view context);

// A cached statement borrowed from its Database. Bind indexes are 1-based, column indexes
// 0-based, as in SQLite. Only one Statement per SQL text may be alive at a time.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) noexcept : stmt_(stmt), db_(db) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  // Bind failures are remembered and reported by the next step(), so call sites can chain.
  Statement& bindText(int index, std::string_view text);
  Statement& bindInt(int index, std::int64_t value);
  Statement& bindNull(int index);
  Statement& bindOptText(int index, const std::optional<std::string>& text);
  Statement& bindOptInt(int index, const std::optional<std::int64_t>& value);

  // true when a row is ready, false when the statement is done.
  core::Result<bool> step();
  // Steps to completion; returns the number of rows the statement changed.
  core::Result<int> run();

  std::string columnText(int col) const;
  std::int64_t columnInt(int col) const;
  bool columnIsNull(int col) const;
  std::optional<std::string> columnOptText(int col) const;
  std::optional<std::int64_t> columnOptInt(int col) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = SQLITE_OK;
};

class Database {
 public:
  // `flags` are sqlite3_open_v2 flags; the connection is always opened SQLITE_OPEN_NOMUTEX
  // because every user serialises access to it.
  static core::Result<std::unique_ptr<Database>> open(const std::string& path, int flags);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Returns the cached prepared statement for `sql`, preparing it on first use.
  core::Result<Statement> prepare(std::string_view sql);
  // Runs a script of one or more statements (pragmas, migrations); nothing is cached.
  core::Status exec(const std::string& sql);
  // Runs a single-row, single-column query such as "PRAGMA journal_mode=WAL".
  core::Result<std::string> queryText(std::string_view sql);

  bool inTransaction() const noexcept { return sqlite3_get_autocommit(db_.get()) == 0; }
  sqlite3* handle() const noexcept { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  explicit Database(sqlite3* db) noexcept : db_(db) {}

  std::unique_ptr<sqlite3, Closer> db_;
  // Declared after db_ so the statements are finalized before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalizer>, Hash, std::equal_to<>>
      statements_;
};

class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };

  static core::Result<Transaction> begin(Database& db, Mode mode);

  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  // Rolls back when commit() was not reached or failed.
  ~Transaction();

  core::Status commit();

 private:
  explicit Transaction(Database& db) noexcept : db_(&db) {}
  Database* db_;
};

}  // namespace akamu::store::sqlite
