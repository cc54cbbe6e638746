// The SQLite backend: the Store contract (store_contract.hpp) on ":memory:" and on a WAL file,
// and what only SQLite has (files reopened, WAL, schema versions, read connections).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/blocking_store.hpp"
#include "store/open_store.hpp"
#include "store/sqlite/database.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/store_contract.hpp"
#include "store/store_test_support.hpp"

namespace akamu::store {
namespace {

using acme::Account;
using acme::AccountStatus;
using acme::Authorization;
using acme::AuthzStatus;
using acme::Certificate;
using acme::Challenge;
using acme::ChallengeStatus;
using acme::Order;
using acme::OrderStatus;
using core::ProblemType;
using core::TimePoint;
using namespace test_support;

// The store with every call run to completion, so the contract reads as plain calls.
struct OwnedStore : BlockingStore {
  explicit OwnedStore(std::unique_ptr<Store> s) : BlockingStore(*s), owned(std::move(s)) {}
  std::unique_ptr<Store> owned;
};

core::Result<std::unique_ptr<OwnedStore>> openBlocking(const std::string& url,
                                                       const StoreOptions& options = {}) {
  auto store = openStore(url, options);
  if (!store) return core::fail(store.error());
  return std::make_unique<OwnedStore>(std::move(*store));
}

// A file database in a fresh temporary directory, removed with its -wal and -shm files.
class TempDatabase {
 public:
  TempDatabase() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("akamu-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDatabase() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return (dir_ / "akamu.db").string(); }
  std::string url() const { return "sqlite://" + path(); }  // path is absolute: sqlite:///...

 private:
  std::filesystem::path dir_;
};

Status execRaw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  std::string message = sqlite3_errmsg(db);
  sqlite3_close_v2(db);
  if (rc != SQLITE_OK) return core::fail(core::serverInternal(message));
  return {};
}

std::string queryRaw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string out = "<error>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    out = text ? reinterpret_cast<const char*>(text) : "<null>";
  }
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  return out;
}

// ---- the contract on both kinds of database -----------------------------------------------

// ":memory:": nothing but the store reaches it.
class MemoryBackend final : public contract::Backend {
 public:
  Result<std::unique_ptr<Store>> open(boost::asio::any_io_executor) override {
    return openStore("sqlite::memory:");
  }
  std::optional<std::string> query(const std::string&) override { return std::nullopt; }
};

// A WAL file in a fresh directory, read past the store by a connection of its own.
class FileBackend final : public contract::Backend {
 public:
  Result<std::unique_ptr<Store>> open(boost::asio::any_io_executor) override {
    return openStore(file_.url());
  }
  std::optional<std::string> query(const std::string& sql) override {
    return queryRaw(file_.path(), sql);
  }

 private:
  TempDatabase file_;
};

using contract::BackendFactory;
using contract::StoreContract;
INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreContract,
    ::testing::Values(BackendFactory{"memory",
                                     []() -> Result<std::unique_ptr<contract::Backend>> {
                                       return std::make_unique<MemoryBackend>();
                                     }},
                      BackendFactory{"file",
                                     []() -> Result<std::unique_ptr<contract::Backend>> {
                                       return std::make_unique<FileBackend>();
                                     }}),
    contract::backendName);

// ---- file databases only ------------------------------------------------------------------

TEST(SqliteFileStore, DataSurvivesReopenByteForByte) {
  TempDatabase file;
  Order o = makeOrder("o1", "acct1", 1'700'000'000);
  o.status = OrderStatus::kProcessing;
  Certificate cert = makeCert("cert1", "00ff", o);
  cert.pem_chain += std::string("trailing \x01 bytes\0 and NUL", 25);
  Order valid = o;
  valid.status = OrderStatus::kValid;
  valid.certificate_id = "cert1";
  {
    auto store = openBlocking(file.url());
    ASSERT_TRUE(store) << store.error().detail;
    ASSERT_TRUE((*store)->insertAccount(makeAccount("acct1", "thumb1")));
    ASSERT_TRUE((*store)->insertOrder(o, authzsFor(o)));
    auto won = (*store)->insertCertificateForOrder(cert, valid);
    ASSERT_TRUE(won && *won);
  }
  auto store = openBlocking(file.url());
  ASSERT_TRUE(store) << store.error().detail;
  auto account = (*store)->getAccount("acct1");
  ASSERT_TRUE(account && account->has_value());
  EXPECT_EQ(describe(**account), describe(makeAccount("acct1", "thumb1")));
  auto order = (*store)->getOrder("o1");
  ASSERT_TRUE(order && order->has_value());
  EXPECT_EQ(describe(**order), describe(valid));
  auto authzs = (*store)->getAuthorizations(o.authz_ids);
  ASSERT_TRUE(authzs);
  ASSERT_EQ(authzs->size(), 2u);
  EXPECT_EQ(describe((*authzs)[1]), describe(authzsFor(o)[1]));
  auto got = (*store)->getCertificate("cert1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->pem_chain.size(), cert.pem_chain.size());
  EXPECT_TRUE((*got)->pem_chain == cert.pem_chain);
}

TEST(SqliteFileStore, UsesWalAndRecordsSchemaVersion) {
  TempDatabase file;
  auto store = openBlocking(file.url());
  ASSERT_TRUE(store) << store.error().detail;
  EXPECT_EQ(queryRaw(file.path(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(queryRaw(file.path(), "SELECT max(version) FROM schema_migrations"),
            std::to_string(sqlite::latestSchemaVersion()));
  EXPECT_NE(queryRaw(file.path(), "SELECT applied_at FROM schema_migrations WHERE version = 1"),
            "<null>");
  store->reset();
  // Reopening applies nothing twice.
  store = openBlocking(file.url());
  ASSERT_TRUE(store) << store.error().detail;
  EXPECT_EQ(queryRaw(file.path(), "SELECT count(*) FROM schema_migrations"),
            std::to_string(sqlite::migrations().size()));
}

// A database written by an akamu from before ARI (schema version 3): migrated on open, its
// rows read back with the defaults (no profile, nothing replaced, issued at notBefore, the
// default renewal window).
// A database file with migrations 1..max_version applied and recorded, as an older akamu left
// it (null, with a test failure, when that fails).
std::unique_ptr<sqlite::Database> databaseAtVersion(const std::string& path, int max_version) {
  auto db = sqlite::Database::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) {
    ADD_FAILURE() << db.error().detail;
    return nullptr;
  }
  auto ok = [&](core::Status st, const std::string& what) {
    if (!st) ADD_FAILURE() << what << ": " << st.error().detail;
    return static_cast<bool>(st);
  };
  if (!ok((*db)->exec(
              "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at TEXT)"),
          "schema_migrations")) {
    return nullptr;
  }
  for (const auto& m : sqlite::migrations()) {
    if (m.version > max_version) break;
    const std::string v = std::to_string(m.version);
    if (!ok((*db)->exec(m.sql), "migration " + v) ||
        !ok((*db)->exec("INSERT INTO schema_migrations VALUES (" + v + ", 'then')"), v)) {
      return nullptr;
    }
  }
  return std::move(*db);
}

TEST(SqliteFileStore, RowsFromSchemaVersion3ReadBackWithAriDefaults) {
  TempDatabase file;
  {
    auto db = databaseAtVersion(file.path(), 3);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(
        "INSERT INTO accounts VALUES ('acct1', 'thumb1', '{}', 'valid', '[]', 1, 1700000000);"
        "INSERT INTO orders(id, account_id, status, expires, identifiers, authz_ids, "
        "certificate_id, created_at) VALUES ('o1', 'acct1', 'valid', 1700086400, "
        "'[{\"type\":\"dns\",\"value\":\"a.example\"}]', '[]', 'cert1', 1700000000);"
        "INSERT INTO certificates(id, serial_hex, account_id, order_id, pem_chain, not_before, "
        "not_after) VALUES ('cert1', '0a0b', 'acct1', 'o1', 'PEM', 1700000000, 1707776000);"));
  }
  auto store = openBlocking(file.url());
  ASSERT_TRUE(store) << store.error().detail;
  EXPECT_EQ(queryRaw(file.path(), "SELECT max(version) FROM schema_migrations"),
            std::to_string(sqlite::latestSchemaVersion()));
  contract::expectVersion3RowsWithAriDefaults(**store);
}

// Migration 8 on a database written by migrations 1..7: every order keeps its authorizations,
// now through the link table, and the upgraded database takes pre-authorizations.
TEST(SqliteFileStore, RowsFromSchemaVersion7GetTheirOrderAuthorizationLinks) {
  TempDatabase file;
  {
    auto db = databaseAtVersion(file.path(), 7);
    ASSERT_TRUE(db);
    auto st = db->exec(contract::kRowsBeforeMigration8);
    ASSERT_TRUE(st) << st.error().detail;
  }
  auto store = openBlocking(file.url());
  ASSERT_TRUE(store) << store.error().detail;
  // Migration 8 ran on the old rows (and every later one after it).
  EXPECT_EQ(queryRaw(file.path(), "SELECT count(*) FROM schema_migrations WHERE version = 8"), "1");
  EXPECT_EQ(queryRaw(file.path(),
                     "SELECT group_concat(authz_id || ':' || position, ',') FROM (SELECT * FROM "
                     "order_authorizations ORDER BY position)"),
            "old-az2:0,old-az1:1");
  contract::expectRowsFromBeforeMigration8(**store);
  // The rebuilt table left no reference dangling (the migration ran with foreign keys off).
  EXPECT_EQ(queryRaw(file.path(), "SELECT count(*) FROM pragma_foreign_key_check"), "0");
}

TEST(SqliteFileStore, RefusesSchemaNewerThanThisBuild) {
  TempDatabase file;
  ASSERT_TRUE(openBlocking(file.url()));
  const int newer = sqlite::latestSchemaVersion() + 1;
  ASSERT_TRUE(execRaw(file.path(), "INSERT INTO schema_migrations VALUES (" +
                                       std::to_string(newer) + ", '2030-01-01T00:00:00Z')"));
  auto store = openBlocking(file.url());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().detail, "database schema version " + std::to_string(newer) +
                                      " is newer than this akamu supports (" +
                                      std::to_string(sqlite::latestSchemaVersion()) +
                                      "); upgrade akamu");
}

TEST(SqliteFileStore, ReadConnectionsSeeEveryCommittedWrite) {
  TempDatabase file;
  auto opened = openBlocking(file.url(), StoreOptions{.pool_connections = 4});
  ASSERT_TRUE(opened) << opened.error().detail;
  BlockingStore& store = **opened;
  Account account = makeAccount("acct1", "thumb1");
  account.contacts = {"-1"};
  ASSERT_TRUE(store.insertAccount(account));

  constexpr int kUpdates = 100;
  std::atomic<bool> done{false};
  std::atomic<int> regressions{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      int last = -1;
      while (!done.load()) {
        auto got = store.getAccount("acct1");
        if (!got || !got->has_value()) {
          ++regressions;
          continue;
        }
        int seen = (*got)->contacts.empty() ? -1 : std::stoi((*got)->contacts[0]);
        if (seen < last) ++regressions;  // a stale snapshot would go backwards
        last = seen;
      }
    });
  }
  for (int i = 0; i < kUpdates; ++i) {
    account.contacts = {std::to_string(i)};
    auto written = store.updateAccountIf(account, AccountStatus::kValid, "thumb1");
    ASSERT_TRUE(written && *written);
    // Whichever read connection serves it, a read after the commit sees the commit.
    auto got = store.getAccount("acct1");
    ASSERT_TRUE(got && got->has_value());
    ASSERT_EQ((*got)->contacts, account.contacts);
  }
  done = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(regressions.load(), 0);
}

TEST(SqliteMemoryStore, EachOpenIsItsOwnDatabase) {
  auto first = openBlocking("sqlite::memory:");
  auto second = openBlocking("sqlite::memory:");
  ASSERT_TRUE(first && second);
  ASSERT_TRUE((*first)->insertAccount(makeAccount("acct1", "thumb1")));
  auto there = (*first)->getAccount("acct1");
  ASSERT_TRUE(there && there->has_value());
  auto elsewhere = (*second)->getAccount("acct1");
  ASSERT_TRUE(elsewhere);
  EXPECT_FALSE(elsewhere->has_value());
}

}  // namespace
}  // namespace akamu::store
