#include "store/sqlite/migrations.hpp"

#include <gtest/gtest.h>

#include <string>

namespace akamu::store::sqlite {
namespace {

std::unique_ptr<Database> freshDb() {
  auto db = Database::open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(db);
  return std::move(*db);
}

std::int64_t scalar(Database& db, std::string_view sql) {
  auto s = db.prepare(sql);
  EXPECT_TRUE(s) << s.error().detail;
  auto row = s->step();
  EXPECT_TRUE(row && *row);
  return s->columnInt(0);
}

// Versions are reserved per piece of work, so a release may skip some (5 and 6 while STAR's is
// 7); they only ever increase.
TEST(Migrations, NumberedFromOneAndIncreasing) {
  auto all = migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].version, 1);
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(all[i].version, all[i - 1].version);
    }
    EXPECT_NE(std::string(all[i].sql).find_first_not_of(" \n"), std::string::npos);
  }
  EXPECT_EQ(latestSchemaVersion(), all.back().version);
}

TEST(Migrations, FreshDatabaseGetsEveryTableOnce) {
  auto db = freshDb();
  auto before = schemaVersion(*db);
  ASSERT_TRUE(before);
  EXPECT_EQ(*before, 0);

  ASSERT_TRUE(migrate(*db));
  auto after = schemaVersion(*db);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, latestSchemaVersion());
  for (const char* table : {"accounts", "orders", "authorizations", "challenges", "certificates",
                            "replacements", "incidents"}) {
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
                              std::string(table) + "'"),
              1)
        << table;
  }

  auto again = migrate(*db);
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(migrations().size()));
}

TEST(Migrations, RefusesNewerDatabaseAndChangesNothing) {
  auto db = freshDb();
  ASSERT_TRUE(migrate(*db));
  const int newer = latestSchemaVersion() + 5;
  ASSERT_TRUE(
      db->exec("INSERT INTO schema_migrations VALUES (" + std::to_string(newer) + ", 'later')"));
  auto st = migrate(*db);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, core::ProblemType::kServerInternal);
  EXPECT_EQ(st.error().detail, "database schema version " + std::to_string(newer) +
                                   " is newer than this akamu supports (" +
                                   std::to_string(latestSchemaVersion()) + "); upgrade akamu");
  EXPECT_FALSE(db->inTransaction());
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(migrations().size()) + 1);
}

TEST(Migrations, TablesAreStrict) {
  auto db = freshDb();
  ASSERT_TRUE(migrate(*db));
  // A text where an integer belongs is refused instead of stored.
  auto st = db->exec("INSERT INTO accounts VALUES ('a', 't', '{}', 'valid', '[]', 'yes', 0)");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, core::ProblemType::kServerInternal);
}

}  // namespace
}  // namespace akamu::store::sqlite
