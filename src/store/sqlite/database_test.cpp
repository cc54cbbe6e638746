#include "store/sqlite/database.hpp"

#include <gtest/gtest.h>

#include <string>

namespace akamu::store::sqlite {
namespace {

using core::ProblemType;

std::unique_ptr<Database> memoryDb() {
  auto db = Database::open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(db) << db.error().detail;
  EXPECT_TRUE(
      (*db)->exec("PRAGMA foreign_keys=ON;"
                  "CREATE TABLE parent(id TEXT PRIMARY KEY, name TEXT UNIQUE);"
                  "CREATE TABLE child(id INTEGER PRIMARY KEY, "
                  "  parent TEXT NOT NULL REFERENCES parent(id));"));
  return std::move(*db);
}

int count(Database& db, std::string_view table) {
  auto s = db.prepare("SELECT count(*) FROM " + std::string(table));
  EXPECT_TRUE(s);
  auto row = s->step();
  EXPECT_TRUE(row && *row);
  return static_cast<int>(s->columnInt(0));
}

int preparedStatements(Database& db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.handle(), nullptr); s != nullptr;
       s = sqlite3_next_stmt(db.handle(), s)) {
    ++n;
  }
  return n;
}

bool anyStatementBusy(Database& db) {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.handle(), nullptr); s != nullptr;
       s = sqlite3_next_stmt(db.handle(), s)) {
    if (sqlite3_stmt_busy(s)) return true;
  }
  return false;
}

TEST(Database, StatementsAreCachedPerSqlText) {
  auto db = memoryDb();
  const int before = preparedStatements(*db);
  for (int i = 0; i < 3; ++i) {
    auto s = db->prepare("INSERT INTO parent(id, name) VALUES (?1, ?2)");
    ASSERT_TRUE(s);
    s->bindText(1, "p" + std::to_string(i)).bindText(2, "n" + std::to_string(i));
    auto changed = s->run();
    ASSERT_TRUE(changed) << changed.error().detail;
    EXPECT_EQ(*changed, 1);
  }
  EXPECT_EQ(preparedStatements(*db), before + 1);
  EXPECT_EQ(count(*db, "parent"), 3);
}

TEST(Database, StatementResetsWhenItGoesOutOfScope) {
  auto db = memoryDb();
  ASSERT_TRUE(db->exec("INSERT INTO parent VALUES ('a','1'),('b','2'),('c','3')"));
  {
    auto s = db->prepare("SELECT id FROM parent ORDER BY id");
    ASSERT_TRUE(s);
    auto row = s->step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(s->columnText(0), "a");
    EXPECT_TRUE(anyStatementBusy(*db));
  }
  // A half-read SELECT left busy would hold its read transaction (and WAL snapshot) open.
  EXPECT_FALSE(anyStatementBusy(*db));
  auto again = db->prepare("SELECT id FROM parent ORDER BY id");
  ASSERT_TRUE(again);
  auto row = again->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(again->columnText(0), "a");  // starts over: bindings and cursor were reset
}

TEST(Database, ConstraintViolationsMapToProblems) {
  auto db = memoryDb();
  ASSERT_TRUE(db->exec("INSERT INTO parent VALUES ('a', 'x')"));
  auto pk = db->prepare("INSERT INTO parent(id, name) VALUES (?1, ?2)");
  ASSERT_TRUE(pk);
  pk->bindText(1, "a").bindText(2, "y");
  auto dup_id = pk->run();
  ASSERT_FALSE(dup_id);
  EXPECT_EQ(dup_id.error().type, ProblemType::kConflict);
}

TEST(Database, UniqueColumnIsConflictForeignKeyIsServerInternal) {
  auto db = memoryDb();
  ASSERT_TRUE(db->exec("INSERT INTO parent VALUES ('a', 'x')"));
  {
    auto s = db->prepare("INSERT INTO parent(id, name) VALUES (?1, ?2)");
    ASSERT_TRUE(s);
    s->bindText(1, "b").bindText(2, "x");
    auto dup_name = s->run();
    ASSERT_FALSE(dup_name);
    EXPECT_EQ(dup_name.error().type, ProblemType::kConflict);
    EXPECT_NE(dup_name.error().detail.find("UNIQUE"), std::string::npos);
  }
  auto fk = db->prepare("INSERT INTO child(parent) VALUES (?1)");
  ASSERT_TRUE(fk);
  fk->bindText(1, "nobody");
  auto orphan = fk->run();
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().type, ProblemType::kServerInternal);
  EXPECT_NE(orphan.error().detail.find("FOREIGN KEY"), std::string::npos);
}

TEST(Database, BadSqlAndBadBindAreServerInternal) {
  auto db = memoryDb();
  auto bad = db->prepare("SELEC nonsense");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().type, ProblemType::kServerInternal);

  auto s = db->prepare("SELECT ?1");
  ASSERT_TRUE(s);
  s->bindInt(7, 1);  // out of range: reported by step, not lost
  auto row = s->step();
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error().type, ProblemType::kServerInternal);
}

TEST(Database, TextAndNullsRoundTripExactly) {
  auto db = memoryDb();
  const std::string bytes("a\0b\r\n\xff", 6);
  auto s = db->prepare("SELECT ?1, ?2, ?3, ?4");
  ASSERT_TRUE(s);
  s->bindText(1, bytes).bindOptText(2, std::nullopt).bindOptInt(3, 42).bindOptInt(4, std::nullopt);
  auto row = s->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(s->columnText(0), bytes);
  EXPECT_EQ(s->columnOptText(1), std::nullopt);
  EXPECT_EQ(s->columnOptInt(2), 42);
  EXPECT_TRUE(s->columnIsNull(3));
  EXPECT_EQ(s->columnOptInt(3), std::nullopt);
}

TEST(Transaction, RollsBackUnlessCommitted) {
  auto db = memoryDb();
  {
    auto tx = Transaction::begin(*db, Transaction::Mode::kImmediate);
    ASSERT_TRUE(tx) << tx.error().detail;
    ASSERT_TRUE(db->exec("INSERT INTO parent VALUES ('gone', 'g')"));
    EXPECT_TRUE(db->inTransaction());
  }
  EXPECT_FALSE(db->inTransaction());
  EXPECT_EQ(count(*db, "parent"), 0);
  {
    auto tx = Transaction::begin(*db, Transaction::Mode::kDeferred);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->exec("INSERT INTO parent VALUES ('kept', 'k')"));
    ASSERT_TRUE(tx->commit());
    EXPECT_FALSE(tx->commit());  // a second commit is refused, not silently run
  }
  EXPECT_EQ(count(*db, "parent"), 1);
}

TEST(Database, OpenFailureIsAProblem) {
  auto db = Database::open("/nonexistent-akamu-dir/x.db", SQLITE_OPEN_READWRITE);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().type, ProblemType::kServerInternal);
  EXPECT_NE(db.error().detail.find("/nonexistent-akamu-dir/x.db"), std::string::npos);
}

}  // namespace
}  // namespace akamu::store::sqlite
