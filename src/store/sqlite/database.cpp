#include "store/sqlite/database.hpp"

#include <string>

namespace akamu::store::sqlite {

core::Problem sqliteProblem(sqlite3* db, int rc, std::string_view context) {
  std::string detail(context);
  detail += ": ";
  // sqlite3_errmsg describes the connection's last failure; before a connection exists only the
  // result code is known.
  detail += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return core::makeProblem(core::ProblemType::kConflict, std::move(detail));
  }
  return core::serverInternal("sqlite: " + detail);
}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_), bind_rc_(other.bind_rc_) {}

Statement& Statement::bindText(int index, std::string_view text) {
  // SQLITE_TRANSIENT: callers bind temporaries (freshly serialised JSON) that die before step().
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bindInt(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bindOptText(int index, const std::optional<std::string>& text) {
  return text ? bindText(index, *text) : bindNull(index);
}

Statement& Statement::bindOptInt(int index, const std::optional<std::int64_t>& value) {
  return value ? bindInt(index, *value) : bindNull(index);
}

core::Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK) {
    return core::fail(sqliteProblem(db_, bind_rc_, std::string("bind for ") + sqlite3_sql(stmt_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return core::fail(sqliteProblem(db_, rc, sqlite3_sql(stmt_)));
}

core::Result<int> Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return core::fail(row.error());
    if (!*row) break;
  }
  return sqlite3_changes(db_);
}

std::string Statement::columnText(int col) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (text == nullptr) return {};
  // Length from column_bytes, not strlen: the stored bytes come back exactly.
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::int64_t Statement::columnInt(int col) const { return sqlite3_column_int64(stmt_, col); }

bool Statement::columnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::optional<std::string> Statement::columnOptText(int col) const {
  if (columnIsNull(col)) return std::nullopt;
  return columnText(col);
}

std::optional<std::int64_t> Statement::columnOptInt(int col) const {
  if (columnIsNull(col)) return std::nullopt;
  return columnInt(col);
}

core::Result<std::unique_ptr<Database>> Database::open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  // Even a failed open may hand back a handle that must be closed.
  std::unique_ptr<Database> db(new Database(raw));
  if (rc != SQLITE_OK) {
    return core::fail(sqliteProblem(raw, rc, "cannot open database " + path));
  }
  // Extended codes make sqlite3_step report SQLITE_CONSTRAINT_UNIQUE rather than the bare class.
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Database::~Database() = default;

core::Result<Statement> Database::prepare(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) {
    return Statement(it->second.get(), db_.get());
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, Finalizer> owned(raw);
  if (rc != SQLITE_OK) {
    return core::fail(sqliteProblem(db_.get(), rc, "prepare " + std::string(sql)));
  }
  if (raw == nullptr) return core::fail(core::serverInternal("sqlite: empty statement"));
  auto [it, inserted] = statements_.emplace(std::string(sql), std::move(owned));
  return Statement(it->second.get(), db_.get());
}

core::Status Database::exec(const std::string& sql) {
  int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return core::fail(sqliteProblem(db_.get(), rc, "exec"));
  return {};
}

core::Result<std::string> Database::queryText(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) return core::fail(stmt.error());
  auto row = stmt->step();
  if (!row) return core::fail(row.error());
  if (!*row) return std::string();
  return stmt->columnText(0);
}

core::Result<Transaction> Transaction::begin(Database& db, Mode mode) {
  auto stmt = db.prepare(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!stmt) return core::fail(stmt.error());
  if (auto rc = stmt->run(); !rc) return core::fail(rc.error());
  return Transaction(db);
}

Transaction::~Transaction() {
  // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, ...); a second
  // ROLLBACK would only fail.
  if (db_ == nullptr || !db_->inTransaction()) return;
  if (auto stmt = db_->prepare("ROLLBACK")) (void)stmt->run();
}

core::Status Transaction::commit() {
  if (db_ == nullptr) return core::fail(core::serverInternal("sqlite: transaction already ended"));
  auto stmt = db_->prepare("COMMIT");
  if (!stmt) return core::fail(stmt.error());
  if (auto rc = stmt->run(); !rc) return core::fail(rc.error());  // destructor rolls back
  db_ = nullptr;
  return {};
}

}  // namespace akamu::store::sqlite
