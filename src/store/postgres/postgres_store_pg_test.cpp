// The PostgreSQL backend: the Store contract (store_contract.hpp) against a real server, plus
// what only PostgreSQL has: the connection pool, read-only connections, migrations shared by
// several processes, timeouts, connections killed under the store, and the row locks of
// finalize's claim.
//
// Needs a server: AKAMU_TEST_PG_URL (tests/pg/with_pg.sh sets it) or AKAMU_TEST_PG_URL_FILE
// naming a file that holds the URL (CTest's `pg` fixture). Without either the tests fail.
// Each test works in a schema of its own, dropped at the end, so several can run at once.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/store_contract.hpp"
#include "store/store_test_support.hpp"

namespace akamu::store::postgres {
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
using namespace store::test_support;

// Coroutines that own copies of their arguments, for calls spawned to run concurrently (a
// Store call only reads its reference arguments while it is awaited).
Awaitable<Result<bool>> updateAccountCopy(Store* store, Account account,
                                          std::string expected_thumbprint) {
  co_return co_await store->updateAccountIf(account, AccountStatus::kValid, expected_thumbprint);
}
Awaitable<Result<std::optional<Account>>> getAccountCopy(Store* store, std::string id) {
  co_return co_await store->getAccount(id);
}
Awaitable<Status> insertAndGet(Store* store, Account account) {
  if (auto st = co_await store->insertAccount(account); !st) co_return st;
  auto got = co_await store->getAccount(account.id);
  if (!got) co_return core::fail(got.error());
  if (!got->has_value()) co_return core::fail(core::serverInternal("lost " + account.id));
  co_return Status{};
}

// ---- the test server ----------------------------------------------------------------------

std::string randomSchemaName() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  const char* hex = "0123456789abcdef";
  std::string name = "t_";
  for (int i = 0; i < 16; ++i) name += hex[gen() % 16];
  return name;
}

// The URL from AKAMU_TEST_PG_URL, else from the file AKAMU_TEST_PG_URL_FILE names; "" if none.
std::string testServerUrl() {
  if (const char* url = std::getenv("AKAMU_TEST_PG_URL"); url != nullptr && *url != '\0') {
    return url;
  }
  const char* file = std::getenv("AKAMU_TEST_PG_URL_FILE");
  if (file == nullptr || *file == '\0') return {};
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) url.pop_back();
  return url;
}

// A schema of its own on the test server, dropped with this object, so that tests can run at
// once; and an admin connection (search_path set to it) that reads and changes it past the
// store.
class TestSchema {
 public:
  static Result<std::unique_ptr<TestSchema>> create() {
    std::unique_ptr<TestSchema> s(new TestSchema);
    s->base_url_ = testServerUrl();
    if (s->base_url_.empty()) {
      return core::fail(core::serverInternal(
          "No PostgreSQL server: set AKAMU_TEST_PG_URL (run the tests as "
          "tests/pg/with_pg.sh STATE_DIR <test binary> after tests/pg/pg_server.sh start "
          "STATE_DIR) or AKAMU_TEST_PG_URL_FILE (ctest's pg fixture does that)."));
    }
    s->admin_.reset(PQconnectdb(s->base_url_.c_str()));
    if (PQstatus(s->admin_.get()) != CONNECTION_OK) {
      return core::fail(core::serverInternal(PQerrorMessage(s->admin_.get())));
    }
    PQsetNoticeProcessor(
        s->admin_.get(), [](void*, const char*) {}, nullptr);
    const std::string name = randomSchemaName();
    if (auto e = s->exec("CREATE SCHEMA " + name); !e.empty()) {
      return core::fail(core::serverInternal(e));
    }
    s->name_ = name;
    if (auto e = s->exec("SET search_path TO " + name); !e.empty()) {
      return core::fail(core::serverInternal(e));
    }
    // The schema on every connection of the store under test, and a name to find them by.
    s->url_ = s->base_url_ + (s->base_url_.find('?') == std::string::npos ? "?" : "&") +
              "options=-csearch_path%3D" + name + "&application_name=" + name;
    return s;
  }
  ~TestSchema() {
    if (admin_ && !name_.empty()) exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  const std::string& name() const { return name_; }
  const std::string& baseUrl() const { return base_url_; }
  // For the store under test.
  const std::string& url() const { return url_; }

  // Raw SQL on the admin connection (in the test's schema): "" or the error.
  std::string exec(const std::string& sql) {
    PgResultPtr r(PQexec(admin_.get(), sql.c_str()));
    const auto status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return "";
    return PQresultErrorMessage(r.get());
  }
  // The first column of the first row, "<none>" without one, "<error: ...>" on failure.
  std::string query(const std::string& sql) {
    PgResultPtr r(PQexec(admin_.get(), sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      return std::string("<error: ") + PQresultErrorMessage(r.get()) + ">";
    }
    if (PQntuples(r.get()) == 0) return "<none>";
    return PQgetvalue(r.get(), 0, 0);
  }
  std::vector<std::string> queryColumn(const std::string& sql) {
    PgResultPtr r(PQexec(admin_.get(), sql.c_str()));
    std::vector<std::string> out;
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return {PQresultErrorMessage(r.get())};
    for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
    return out;
  }

 private:
  TestSchema() = default;

  PgConnPtr admin_;
  std::string base_url_;
  std::string url_;
  std::string name_;
};

// ---- the Store contract -------------------------------------------------------------------

class PgBackend final : public contract::Backend {
 public:
  explicit PgBackend(std::unique_ptr<TestSchema> schema) : schema_(std::move(schema)) {}
  Result<std::unique_ptr<Store>> open(boost::asio::any_io_executor executor) override {
    return openPostgresStore(std::move(executor), schema_->url());
  }
  std::optional<std::string> query(const std::string& sql) override { return schema_->query(sql); }

 private:
  std::unique_ptr<TestSchema> schema_;
};

using contract::BackendFactory;
using contract::StoreContract;
INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract,
                         ::testing::Values(BackendFactory{
                             "postgres",
                             []() -> Result<std::unique_ptr<contract::Backend>> {
                               auto schema = TestSchema::create();
                               if (!schema) return core::fail(schema.error());
                               return std::make_unique<PgBackend>(std::move(*schema));
                             }}),
                         contract::backendName);

// ---- fixture for what only PostgreSQL has -------------------------------------------------

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestSchema::create();
    ASSERT_TRUE(db) << db.error().detail;
    db_ = std::move(*db);
    base_url_ = db_->baseUrl();
    url_ = db_->url();
    schema_ = db_->name();
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  Result<std::unique_ptr<Store>> open(const PostgresOptions& options = {}) {
    return openPostgresStore(io_.get_executor(), url_, options);
  }

  void openStore(const PostgresOptions& options = {}) {
    auto store = open(options);
    ASSERT_TRUE(store) << store.error().detail;
    store_ = std::move(*store);
  }

  // Runs one awaitable to completion on the test's io_context.
  template <class T>
  T run(Awaitable<T> awaitable) {
    auto future = boost::asio::co_spawn(io_, std::move(awaitable), boost::asio::use_future);
    io_.restart();
    io_.run();
    return future.get();
  }

  // Runs every awaitable concurrently on `threads` threads.
  template <class T>
  std::vector<T> runAll(std::vector<Awaitable<T>> awaitables, int threads) {
    std::vector<std::future<T>> futures;
    for (auto& a : awaitables) {
      futures.push_back(boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future));
    }
    io_.restart();
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back([this] { io_.run(); });
    for (auto& t : pool) t.join();
    std::vector<T> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

  std::string exec(const std::string& sql) { return db_->exec(sql); }
  std::string query(const std::string& sql) { return db_->query(sql); }
  std::vector<std::string> queryColumn(const std::string& sql) { return db_->queryColumn(sql); }
  std::vector<std::string> storeBackendPids() {
    return queryColumn("SELECT pid FROM pg_stat_activity WHERE application_name = '" + schema_ +
                       "' ORDER BY pid");
  }
  // How many of the store's sessions are waiting for a lock another session holds.
  std::string storeSessionsWaitingForALock() {
    return query("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + schema_ +
                 "' AND cardinality(pg_blocking_pids(pid)) > 0");
  }

  void seedAccount() {
    auto st = run(store_->insertAccount(makeAccount("acct1", "thumb1")));
    ASSERT_TRUE(st) << st.error().detail;
  }

  // io_ outlives store_ (members are destroyed in reverse order).
  boost::asio::io_context io_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TestSchema> db_;
  std::string base_url_;
  std::string url_;
  std::string schema_;
};

// ---- statements ---------------------------------------------------------------------------

TEST_F(PgStoreTest, StatementsPreparedByAFailedCallStayUsable) {
  // One connection, so the failed call and the next ones share its prepared statements. The
  // first insertOrder prepares its statements inside a pipeline that then fails (two
  // challenges with one id) and is rolled back.
  openStore(PostgresOptions{.pool_connections = 1});
  seedAccount();
  Order o = makeOrder("o1", "acct1", 1'700'000'000);
  auto authzs = authzsFor(o);
  authzs[1].challenges[2].id = authzs[1].challenges[0].id;
  auto st = run(store_->insertOrder(o, authzs));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kConflict);
  EXPECT_EQ(query("SELECT count(*) FROM orders"), "0");
  EXPECT_EQ(query("SELECT count(*) FROM challenges"), "0");
  auto retry = run(store_->insertOrder(o, authzsFor(o)));
  ASSERT_TRUE(retry) << retry.error().detail;
  EXPECT_EQ(query("SELECT count(*) FROM challenges"), "6");
}

// ---- finalize's claim and row locks -------------------------------------------------------

// A claim that meets an authorization change not yet committed waits for it, then decides on
// the committed state: the admin connection holds the change open until the claim's session
// is seen waiting for it (no sleeps: the wait is observed in pg_stat_activity).
class PgClaimLockTest : public PgStoreTest {
 protected:
  // Order "o1", ready; its first authorization valid, the second `second`.
  void seedOrder(AuthzStatus second) {
    seedAccount();
    Order o = makeOrder("o1", "acct1", 1'700'000'000);
    o.status = OrderStatus::kReady;
    auto authzs = authzsFor(o);
    authzs[0].status = AuthzStatus::kValid;
    authzs[1].status = second;
    ASSERT_TRUE(run(store_->insertOrder(o, authzs)));
    second_authz_ = authzs[1].id;
  }

  // Runs the claim while the admin connection holds `change` (an UPDATE) uncommitted; commits
  // it once the claim is seen waiting. Returns the claim's result.
  Result<bool> claimAgainstUncommitted(const std::string& change) {
    EXPECT_EQ(exec("BEGIN"), "");
    EXPECT_EQ(exec(change), "");
    auto claim = boost::asio::co_spawn(
        io_, contract::claimCopy(store_.get(), "o1", at(1'700'000'500)), boost::asio::use_future);
    io_.restart();
    std::thread loop([this] { io_.run(); });
    bool waited = false;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < give_up) {
      if (storeSessionsWaitingForALock() == "1") {
        waited = true;
        break;
      }
      // The claim finishing without waiting is the failure this test looks for.
      if (claim.wait_for(std::chrono::milliseconds(1)) == std::future_status::ready) break;
    }
    EXPECT_TRUE(waited) << "the claim did not wait for the uncommitted authorization change";
    EXPECT_EQ(exec("COMMIT"), "");
    loop.join();
    return claim.get();
  }

  std::string second_authz_;
};

TEST_F(PgClaimLockTest, ClaimWaitsForAnUncommittedDeactivationAndThenFails) {
  openStore(PostgresOptions{.pool_connections = 2});
  seedOrder(AuthzStatus::kValid);
  auto claimed = claimAgainstUncommitted(
      "UPDATE authorizations SET status = 'deactivated' WHERE id = '" + second_authz_ + "'");
  ASSERT_TRUE(claimed) << claimed.error().detail;
  EXPECT_FALSE(*claimed);
  EXPECT_EQ(query("SELECT status FROM orders WHERE id = 'o1'"), "ready");
}

TEST_F(PgClaimLockTest, ClaimWaitsForAnUncommittedValidationAndThenSucceeds) {
  openStore(PostgresOptions{.pool_connections = 2});
  seedOrder(AuthzStatus::kPending);
  auto claimed = claimAgainstUncommitted("UPDATE authorizations SET status = 'valid' WHERE id = '" +
                                         second_authz_ + "'");
  ASSERT_TRUE(claimed) << claimed.error().detail;
  EXPECT_TRUE(*claimed);
  EXPECT_EQ(query("SELECT status FROM orders WHERE id = 'o1'"), "processing");
}

// While the claim holds its locks, a deactivation of one of the order's authorizations
// waits; here the claim's transaction is the admin connection's, taking the locks the store's
// claim takes, in its order.
TEST_F(PgClaimLockTest, DeactivationWaitsForAClaimInProgress) {
  openStore(PostgresOptions{.pool_connections = 2});
  seedOrder(AuthzStatus::kValid);
  ASSERT_EQ(exec("BEGIN"), "");
  ASSERT_EQ(exec("SELECT 1 FROM orders WHERE id = 'o1' FOR NO KEY UPDATE"), "");
  ASSERT_EQ(exec("SELECT 1 FROM authorizations WHERE order_id = 'o1' FOR SHARE"), "");
  auto authz = run(store_->getAuthorization(second_authz_));
  ASSERT_TRUE(authz && authz->has_value());
  Authorization deactivated = **authz;
  deactivated.status = AuthzStatus::kDeactivated;
  auto done = boost::asio::co_spawn(
      io_,
      [](Store* store, Authorization a) -> Awaitable<Result<bool>> {
        co_return co_await store->updateAuthorizationIfStatus(a, AuthzStatus::kValid);
      }(store_.get(), deactivated),
      boost::asio::use_future);
  io_.restart();
  std::thread loop([this] { io_.run(); });
  bool waited = false;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < give_up) {
    if (storeSessionsWaitingForALock() == "1") {
      waited = true;
      break;
    }
    if (done.wait_for(std::chrono::milliseconds(1)) == std::future_status::ready) break;
  }
  EXPECT_TRUE(waited) << "the deactivation did not wait for the claim's share lock";
  ASSERT_EQ(exec("UPDATE orders SET status = 'processing' WHERE id = 'o1'"), "");
  ASSERT_EQ(exec("COMMIT"), "");
  loop.join();
  auto won = done.get();
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);  // serialised after the claim
  EXPECT_EQ(query("SELECT status FROM orders WHERE id = 'o1'"), "processing");
  EXPECT_EQ(query("SELECT status FROM authorizations WHERE id = '" + second_authz_ + "'"),
            "deactivated");
}

// ---- schema and migrations ----------------------------------------------------------------

TEST_F(PgStoreTest, MigrationsRecordVersionsAndRunOnce) {
  openStore();
  const std::string latest = std::to_string(latestSchemaVersion());
  // Version numbers may have gaps (see the SQLite migrations test): one row per migration.
  const std::string applied = std::to_string(migrations().size());
  EXPECT_EQ(query("SELECT max(version) FROM schema_migrations"), latest);
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), applied);
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations WHERE applied_at IS NULL"), "0");
  // In the connection's schema, not hard-coded to public.
  EXPECT_EQ(query("SELECT table_schema FROM information_schema.tables "
                  "WHERE table_name = 'accounts' AND table_schema = '" +
                  schema_ + "'"),
            schema_);
  seedAccount();
  store_.reset();

  openStore();
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), applied);
  auto account = run(store_->getAccount("acct1"));
  ASSERT_TRUE(account && account->has_value());
}

// Migration 8 on a schema written by migrations 1..7: every order keeps its authorizations,
// now through the link table, and the upgraded schema takes pre-authorizations.
TEST_F(PgStoreTest, RowsFromSchemaVersion7GetTheirOrderAuthorizationLinks) {
  ASSERT_EQ(exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                 "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"),
            "");
  for (const auto& m : migrations()) {
    if (m.version > 7) break;
    ASSERT_EQ(exec(m.sql), "") << m.version;
    ASSERT_EQ(
        exec("INSERT INTO schema_migrations(version) VALUES (" + std::to_string(m.version) + ")"),
        "");
  }
  ASSERT_EQ(exec(contract::kRowsBeforeMigration8), "");
  openStore();
  // Migration 8 ran on the old rows (and every later one after it).
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations WHERE version = 8"), "1");
  EXPECT_EQ(query("SELECT string_agg(authz_id || ':' || position, ',' ORDER BY position) FROM "
                  "order_authorizations"),
            "old-az2:0,old-az1:1");
  BlockingStore blocking(*store_, &io_);
  contract::expectRowsFromBeforeMigration8(blocking);
}

TEST_F(PgStoreTest, ConcurrentOpensOnAFreshSchemaAllSucceed) {
  constexpr int kOpeners = 4;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kOpeners);
  std::atomic<int> ready{0};
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kOpeners) std::this_thread::yield();
      auto store =
          openPostgresStore(io_.get_executor(), url_, PostgresOptions{.pool_connections = 1});
      if (!store) errors[i] = store.error().detail;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), std::to_string(migrations().size()));
}

TEST_F(PgStoreTest, RefusesSchemaNewerThanThisBuild) {
  openStore();
  store_.reset();
  ASSERT_EQ(exec("INSERT INTO schema_migrations(version) VALUES (999)"), "");
  auto store = open();
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().type, ProblemType::kServerInternal);
  EXPECT_EQ(store.error().detail,
            "database schema version 999 is newer than this akamu "
            "supports (" +
                std::to_string(latestSchemaVersion()) + "); upgrade akamu");
}

// ---- connecting ---------------------------------------------------------------------------

TEST_F(PgStoreTest, ConnectFailuresNeverQuoteThePassword) {
  const std::string secret = "s3cr3t-Passw0rd";
  // Nothing listens on port 1.
  auto refused = openPostgresStore(io_.get_executor(),
                                   "postgres://akamu:" + secret + "@127.0.0.1:1/akamu_test",
                                   PostgresOptions{.connect_timeout = std::chrono::seconds(2)});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, ProblemType::kServerInternal);
  EXPECT_EQ(refused.error().detail.find(secret), std::string::npos) << refused.error().detail;
  EXPECT_NE(refused.error().detail.find("127.0.0.1"), std::string::npos) << refused.error().detail;

  for (const std::string& bad : {"postgres://akamu:" + secret + "@[::1/akamu_test",
                                 "host=127.0.0.1 password=" + secret + " port='unterminated",
                                 "postgres://akamu:" + secret + "@127.0.0.1/db?nosuchoption=1"}) {
    auto unparsable = openPostgresStore(io_.get_executor(), bad);
    ASSERT_FALSE(unparsable) << bad;
    EXPECT_EQ(unparsable.error().detail.find(secret), std::string::npos)
        << unparsable.error().detail;
  }
}

TEST_F(PgStoreTest, RequireTlsRefusesAServerWithoutTls) {
  // The test server has no certificate: with require_tls nothing may connect in clear text.
  auto store = open(PostgresOptions{.require_tls = true});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().type, ProblemType::kServerInternal);
  EXPECT_NE(store.error().detail.find("SSL"), std::string::npos) << store.error().detail;
  // And the key=value form is accepted too (without TLS requirement).
  auto kv = openPostgresStore(
      io_.get_executor(),
      "host=127.0.0.1 port=" + query("SELECT setting FROM pg_settings WHERE name = 'port'") +
          " user=akamu dbname=akamu_test options='-csearch_path=" + schema_ + "'");
  ASSERT_TRUE(kv) << kv.error().detail;
}

TEST_F(PgStoreTest, ZeroPoolConnectionsIsRefused) {
  auto store = open(PostgresOptions{.pool_connections = 0});
  ASSERT_FALSE(store);
}

// ---- pools --------------------------------------------------------------------------------

TEST_F(PgStoreTest, OnePooledConnectionServesManyConcurrentCalls) {
  openStore(PostgresOptions{.pool_connections = 1});
  constexpr int kCalls = 20;
  std::vector<Awaitable<Status>> calls;
  for (int i = 0; i < kCalls; ++i) {
    std::string id = "acct" + std::to_string(i);
    calls.push_back(insertAndGet(store_.get(), makeAccount(id, "thumb-" + id)));
  }
  for (const auto& st : runAll(std::move(calls), 4)) EXPECT_TRUE(st) << st.error().detail;
  EXPECT_EQ(query("SELECT count(*) FROM accounts"), std::to_string(kCalls));
  EXPECT_EQ(storeBackendPids().size(), 1u);
}

TEST_F(PgStoreTest, ReadOnlyViewReadsOnReadOnlyConnectionsAndForwardsWrites) {
  openStore(PostgresOptions{.pool_connections = 1, .ro_connections = 2});
  EXPECT_EQ(storeBackendPids().size(), 3u);
  // Each session's last statement so far is its set-up: two of them are read-only.
  const std::string last =
      "SELECT query FROM pg_stat_activity WHERE application_name = '" + schema_ + "' AND query ";
  EXPECT_EQ(queryColumn(last + "LIKE '%default_transaction_read_only%'").size(), 2u);
  Store& ro = store_->readOnly();
  ASSERT_NE(&ro, store_.get());
  EXPECT_EQ(&ro.readOnly(), &ro);

  // Writes through the view land on the main pool.
  ASSERT_TRUE(run(ro.insertAccount(makeAccount("acct1", "thumb1"))));
  Order o = makeOrder("o1", "acct1", 1'700'000'000);
  o.status = OrderStatus::kProcessing;
  auto authzs = authzsFor(o);
  authzs[0].status = AuthzStatus::kValid;
  ASSERT_TRUE(run(ro.insertOrder(o, authzs)));
  // The conditional updates and finalize's claim through the view too.
  Account with_contact = makeAccount("acct1", "thumb1");
  with_contact.contacts = {"mailto:ro@example.com"};
  auto account_cas = run(ro.updateAccountIf(with_contact, AccountStatus::kValid, "thumb1"));
  ASSERT_TRUE(account_cas && *account_cas) << (account_cas ? "lost" : account_cas.error().detail);
  Authorization validated = authzs[1];
  validated.status = AuthzStatus::kValid;
  auto authz_cas = run(ro.updateAuthorizationIfStatus(validated, AuthzStatus::kPending));
  ASSERT_TRUE(authz_cas && *authz_cas) << (authz_cas ? "lost" : authz_cas.error().detail);
  ASSERT_TRUE(run(ro.insertAccount(makeAccount("acct2", "thumb2"))));
  Order ready = makeOrder("o2", "acct2", 1'700'000'000);
  ready.status = OrderStatus::kReady;
  auto ready_authzs = authzsFor(ready);
  for (auto& a : ready_authzs) a.status = AuthzStatus::kValid;
  ASSERT_TRUE(run(ro.insertOrder(ready, ready_authzs)));
  auto claimed = run(ro.claimOrderForFinalize("o2", at(1'700'000'500)));
  ASSERT_TRUE(claimed && *claimed) << (claimed ? "lost" : claimed.error().detail);
  Order valid = o;
  valid.status = OrderStatus::kValid;
  valid.certificate_id = "cert1";
  auto won = run(ro.insertCertificateForOrder(makeCert("cert1", "01", o), valid));
  ASSERT_TRUE(won && *won);
  auto cas = run(ro.updateOrderIfStatus(valid, OrderStatus::kValid));
  ASSERT_TRUE(cas && *cas);
  auto revoked = run(ro.revokeCertificate("cert1", 0, at(1'700'000'001)));
  ASSERT_TRUE(revoked && *revoked);

  // Every lookup works through the view (read-only sessions accept all of them).
  auto account = run(ro.getAccount("acct1"));
  ASSERT_TRUE(account && account->has_value()) << (account ? "" : account.error().detail);
  auto by_thumb = run(ro.findAccountByThumbprint("thumb1"));
  ASSERT_TRUE(by_thumb && by_thumb->has_value());
  auto order = run(ro.getOrder("o1"));
  ASSERT_TRUE(order && order->has_value());
  auto ids = run(ro.listOrderIds("acct1", 0, 10));
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, std::vector<std::string>{"o1"});
  auto authz = run(ro.getAuthorization(o.authz_ids[0]));
  ASSERT_TRUE(authz && authz->has_value());
  auto both = run(ro.getAuthorizations(o.authz_ids));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->size(), 2u);
  auto has = run(ro.hasValidAuthorizations("acct1", {o.identifiers[0]}, at(1'700'000'000)));
  ASSERT_TRUE(has);
  EXPECT_TRUE(*has);
  auto cert = run(ro.getCertificate("cert1"));
  ASSERT_TRUE(cert && cert->has_value());
  auto by_serial = run(ro.findCertificateBySerial("01"));
  ASSERT_TRUE(by_serial && by_serial->has_value());
  EXPECT_TRUE((*by_serial)->revoked);

  // The last statement of each session shows which pool served what: the main connection
  // ran the writes and none of the lookups, the read-only ones the lookups.
  EXPECT_EQ(queryColumn(last + "LIKE 'UPDATE certificates SET revoked%'").size(), 1u);
  EXPECT_GE(queryColumn(last + "LIKE 'SELECT id, serial_hex%'").size(), 1u);
}

// The ARI read path: findIncidentFor on the read-only connection, the writes on the main one.
TEST_F(PgStoreTest, ReadOnlyViewFindsIncidentsOnItsReadOnlyConnection) {
  openStore(PostgresOptions{.pool_connections = 1, .ro_connections = 1});
  Store& ro = store_->readOnly();
  ASSERT_NE(&ro, store_.get());
  ASSERT_TRUE(run(ro.insertAccount(makeAccount("acct1", "thumb1"))));
  Order o = makeOrder("r1", "acct1", 1'700'000'000);
  o.replaces_serial = "0a0b";
  auto claimed = run(ro.insertReplacementOrder(o, authzsFor(o), at(1'700'000'100)));
  ASSERT_TRUE(claimed && *claimed) << (claimed ? "lost" : claimed.error().detail);
  ASSERT_TRUE(
      run(ro.insertIncident(makeIncident("i1", acme::IncidentScope::kSerial, "0a0b", 100))));
  Certificate cert = makeCert("cert1", "0a0b", o);
  auto found = run(ro.findIncidentFor(cert));
  ASSERT_TRUE(found && found->has_value()) << (found ? "none" : found.error().detail);
  EXPECT_EQ((*found)->id, "i1");
  const std::string last =
      "SELECT query FROM pg_stat_activity WHERE application_name = '" + schema_ + "' AND query ";
  EXPECT_EQ(queryColumn(last + "LIKE 'SELECT id, scope, value%'").size(), 1u);
  EXPECT_EQ(queryColumn(last + "LIKE 'INSERT INTO incidents%'").size(), 1u);
  auto listed = run(ro.listIncidents());
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 1u);
  auto deleted = run(ro.deleteIncident("i1"));
  ASSERT_TRUE(deleted && *deleted);
}

// A database migrated by an akamu from before ARI: its rows read back with the defaults (no
// profile, nothing replaced, issued at notBefore, the default renewal window).
TEST_F(PgStoreTest, RowsFromSchemaVersion3ReadBackWithAriDefaults) {
  ASSERT_EQ(exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                 "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"),
            "");
  for (const Migration& m : migrations()) {
    if (m.version > 3) break;
    ASSERT_EQ(exec(m.sql), "") << m.version;
    ASSERT_EQ(
        exec("INSERT INTO schema_migrations(version) VALUES (" + std::to_string(m.version) + ")"),
        "");
  }
  ASSERT_EQ(exec("INSERT INTO accounts VALUES ('acct1', 'thumb1', '{}', 'valid', '[]', true, "
                 "1700000000)"),
            "");
  ASSERT_EQ(exec("INSERT INTO orders(id, account_id, status, expires, identifiers, authz_ids, "
                 "certificate_id, created_at) VALUES ('o1', 'acct1', 'valid', 1700086400, "
                 "'[{\"type\":\"dns\",\"value\":\"a.example\"}]', '[]', 'cert1', 1700000000)"),
            "");
  ASSERT_EQ(exec("INSERT INTO certificates(id, serial_hex, account_id, order_id, pem_chain, "
                 "not_before, not_after) VALUES ('cert1', '0a0b', 'acct1', 'o1', 'PEM', "
                 "1700000000, 1707776000)"),
            "");
  openStore();
  EXPECT_EQ(query("SELECT max(version) FROM schema_migrations"),
            std::to_string(latestSchemaVersion()));
  BlockingStore store(*store_, &io_);
  contract::expectVersion3RowsWithAriDefaults(store);
}

// ---- failures -----------------------------------------------------------------------------

TEST_F(PgStoreTest, KilledConnectionIsReplaced) {
  openStore(PostgresOptions{.pool_connections = 1});
  seedAccount();
  auto pids = storeBackendPids();
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(query("SELECT pg_terminate_backend(" + pids[0] + ")"), "t");
  for (int i = 0; i < 100 && storeBackendPids() == pids; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(storeBackendPids(), pids);

  // The next call may fail (the loss is discovered while it runs) or go through on a new
  // connection; the one after it must succeed either way.
  auto next = run(store_->getAccount("acct1"));
  if (!next) {
    EXPECT_EQ(next.error().type, ProblemType::kServerInternal);
  }
  auto after = run(store_->getAccount("acct1"));
  ASSERT_TRUE(after) << after.error().detail;
  ASSERT_TRUE(after->has_value());
  EXPECT_TRUE(run(store_->insertAccount(makeAccount("acct2", "thumb2"))));
  EXPECT_EQ(storeBackendPids().size(), 1u);
}

TEST_F(PgStoreTest, ConnectionKilledMidCallFailsThatCallOnly) {
  openStore(PostgresOptions{.pool_connections = 1});
  seedAccount();
  auto pids = storeBackendPids();
  ASSERT_EQ(pids.size(), 1u);
  // Hold the row so that the store's update waits on the server, then kill its backend.
  ASSERT_EQ(exec("BEGIN"), "");
  ASSERT_EQ(exec("SELECT 1 FROM accounts WHERE id = 'acct1' FOR UPDATE"), "");
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    PgConnPtr other(PQconnectdb(base_url_.c_str()));
    PgResultPtr r(PQexec(other.get(), ("SELECT pg_terminate_backend(" + pids[0] + ")").c_str()));
  });
  Account changed = makeAccount("acct1", "thumb1b");
  auto st = run(store_->updateAccountIf(changed, AccountStatus::kValid, "thumb1"));
  killer.join();
  ASSERT_EQ(exec("ROLLBACK"), "");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kServerInternal);
  auto after = run(store_->updateAccountIf(changed, AccountStatus::kValid, "thumb1"));
  ASSERT_TRUE(after) << after.error().detail;
  EXPECT_TRUE(*after);
  auto got = run(store_->findAccountByThumbprint("thumb1b"));
  ASSERT_TRUE(got && got->has_value());
}

TEST_F(PgStoreTest, CallsTimeOutAndTheNextOneWorks) {
  openStore(PostgresOptions{.pool_connections = 1, .query_timeout = std::chrono::seconds(1)});
  seedAccount();
  ASSERT_EQ(exec("BEGIN"), "");
  ASSERT_EQ(exec("SELECT 1 FROM accounts WHERE id = 'acct1' FOR UPDATE"), "");
  const auto started = std::chrono::steady_clock::now();
  auto st = run(
      store_->updateAccountIf(makeAccount("acct1", "thumb1b"), AccountStatus::kValid, "thumb1"));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(exec("ROLLBACK"), "");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kServerInternal);
  EXPECT_LT(took, std::chrono::seconds(15));
  auto after = run(
      store_->updateAccountIf(makeAccount("acct1", "thumb1b"), AccountStatus::kValid, "thumb1"));
  ASSERT_TRUE(after) << after.error().detail;
  EXPECT_TRUE(*after);
}

TEST_F(PgStoreTest, UnresponsiveServerTimesOutAndTheConnectionIsReplaced) {
  openStore(PostgresOptions{.pool_connections = 1, .query_timeout = std::chrono::seconds(1)});
  seedAccount();
  auto pids = storeBackendPids();
  ASSERT_EQ(pids.size(), 1u);
  const pid_t backend = std::stoi(pids[0]);
  // A stopped backend never answers: only the client-side deadline ends the call. The test
  // server runs as this user, or as "postgres" when the tests run as root: either way we may
  // signal it.
  ASSERT_EQ(::kill(backend, SIGSTOP), 0) << "cannot stop the server backend " << backend;
  const auto started = std::chrono::steady_clock::now();
  auto st = run(store_->getAccount("acct1"));
  const auto took = std::chrono::steady_clock::now() - started;
  ::kill(backend, SIGCONT);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kServerInternal);
  EXPECT_NE(st.error().detail.find("no answer"), std::string::npos) << st.error().detail;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(15));
  auto after = run(store_->getAccount("acct1"));
  ASSERT_TRUE(after) << after.error().detail;
  ASSERT_TRUE(after->has_value());
  for (int i = 0; i < 100 && storeBackendPids().size() != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(storeBackendPids(), pids);
}

TEST_F(PgStoreTest, PoolWaitIsBoundedByTheQueryTimeout) {
  openStore(PostgresOptions{.pool_connections = 1, .query_timeout = std::chrono::seconds(1)});
  seedAccount();
  // The only connection blocks on a row lock; a second call cannot get a connection in time.
  ASSERT_EQ(exec("BEGIN"), "");
  ASSERT_EQ(exec("SELECT 1 FROM accounts WHERE id = 'acct1' FOR UPDATE"), "");
  std::vector<Awaitable<Status>> calls;
  calls.push_back([](Store* s) -> Awaitable<Status> {
    auto won = co_await updateAccountCopy(s, makeAccount("acct1", "thumb1b"), "thumb1");
    if (!won) co_return core::fail(won.error());
    co_return Status{};
  }(store_.get()));
  calls.push_back([](Store* s) -> Awaitable<Status> {
    auto got = co_await s->getAccount("acct1");
    if (!got) co_return core::fail(got.error());
    co_return Status{};
  }(store_.get()));
  auto results = runAll(std::move(calls), 2);
  ASSERT_EQ(exec("ROLLBACK"), "");
  int failed = 0;
  for (const auto& r : results) failed += r ? 0 : 1;
  EXPECT_GE(failed, 1);
  auto after = run(getAccountCopy(store_.get(), "acct1"));
  ASSERT_TRUE(after) << after.error().detail;
}

}  // namespace
}  // namespace akamu::store::postgres
