// The Store contract against a real PostgreSQL server, plus what only PostgreSQL has: the
// connection pool, read-only connections, migrations shared by several processes, timeouts
// and connections killed under the store.
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
Awaitable<Status> updateAccountCopy(Store* store, Account account) {
  co_return co_await store->updateAccount(account);
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
Awaitable<Result<bool>> finalizeCopy(Store* store, Certificate cert, Order order) {
  co_return co_await store->insertCertificateForOrder(cert, order);
}

// ---- fixture ------------------------------------------------------------------------------

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

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_url_ = testServerUrl();
    if (base_url_.empty()) {
      FAIL() << "No PostgreSQL server: set AKAMU_TEST_PG_URL (run the tests as "
                "tests/pg/with_pg.sh STATE_DIR <test binary> after tests/pg/pg_server.sh start "
                "STATE_DIR) or AKAMU_TEST_PG_URL_FILE (ctest's pg fixture does that).";
    }
    schema_ = randomSchemaName();
    admin_.reset(PQconnectdb(base_url_.c_str()));
    ASSERT_EQ(PQstatus(admin_.get()), CONNECTION_OK) << PQerrorMessage(admin_.get());
    PQsetNoticeProcessor(
        admin_.get(), [](void*, const char*) {}, nullptr);
    ASSERT_EQ(exec("CREATE SCHEMA " + schema_), "");
    ASSERT_EQ(exec("SET search_path TO " + schema_), "");
    // The schema on every connection of the store under test, and a name to find them by.
    url_ = base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema_ + "&application_name=" + schema_;
  }

  void TearDown() override {
    store_.reset();
    if (admin_ && !schema_.empty()) exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
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
  std::vector<std::string> storeBackendPids() {
    return queryColumn("SELECT pid FROM pg_stat_activity WHERE application_name = '" + schema_ +
                       "' ORDER BY pid");
  }

  void seedAccount() {
    auto st = run(store_->insertAccount(makeAccount("acct1", "thumb1")));
    ASSERT_TRUE(st) << st.error().detail;
  }

  // An order with its authorizations, already in the store, in the given status.
  Order seedOrder(const std::string& id, OrderStatus status = OrderStatus::kPending,
                  std::int64_t created = 1'700'000'000) {
    Order o = makeOrder(id, "acct1", created);
    o.status = status;
    auto st = run(store_->insertOrder(o, authzsFor(o)));
    EXPECT_TRUE(st) << st.error().detail;
    return o;
  }

  // Issues `cert` for the processing order `o`, which becomes valid.
  Order issue(const Order& o, const Certificate& cert) {
    Order valid = o;
    valid.status = OrderStatus::kValid;
    valid.certificate_id = cert.id;
    auto won = run(store_->insertCertificateForOrder(cert, valid));
    EXPECT_TRUE(won && *won) << (won ? "lost" : won.error().detail);
    return valid;
  }

  // io_ outlives store_ (members are destroyed in reverse order).
  boost::asio::io_context io_;
  std::unique_ptr<Store> store_;
  PgConnPtr admin_;
  std::string base_url_;
  std::string url_;
  std::string schema_;
};

// ---- the Store contract -------------------------------------------------------------------

TEST_F(PgStoreTest, AccountRoundTripsAndMissingIsNullopt) {
  openStore();
  seedAccount();
  Account expected = makeAccount("acct1", "thumb1");
  auto got = run(store_->getAccount("acct1"));
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(describe(**got), describe(expected));

  auto by_thumb = run(store_->findAccountByThumbprint("thumb1"));
  ASSERT_TRUE(by_thumb && by_thumb->has_value());
  EXPECT_EQ(describe(**by_thumb), describe(expected));

  auto missing = run(store_->getAccount("nope"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto missing_thumb = run(store_->findAccountByThumbprint("nope"));
  ASSERT_TRUE(missing_thumb);
  EXPECT_FALSE(missing_thumb->has_value());
}

TEST_F(PgStoreTest, DuplicateAccountIdOrThumbprintIsConflict) {
  openStore();
  seedAccount();
  auto same_id = run(store_->insertAccount(makeAccount("acct1", "other-thumb")));
  ASSERT_FALSE(same_id);
  EXPECT_EQ(same_id.error().type, ProblemType::kConflict);
  // The message names the constraint, never the row's values.
  EXPECT_EQ(same_id.error().detail.find("other-thumb"), std::string::npos)
      << same_id.error().detail;

  auto same_thumb = run(store_->insertAccount(makeAccount("acct2", "thumb1")));
  ASSERT_FALSE(same_thumb);
  EXPECT_EQ(same_thumb.error().type, ProblemType::kConflict);

  auto acct2 = run(store_->getAccount("acct2"));
  ASSERT_TRUE(acct2);
  EXPECT_FALSE(acct2->has_value());
  auto other = run(store_->findAccountByThumbprint("other-thumb"));
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_value());
}

TEST_F(PgStoreTest, UpdateAccountWritesFieldsAndRefusesTakenThumbprint) {
  openStore();
  seedAccount();
  ASSERT_TRUE(run(store_->insertAccount(makeAccount("acct2", "thumb2"))));
  Account changed = makeAccount("acct1", "thumb1-rolled");
  changed.status = AccountStatus::kDeactivated;
  changed.contacts = {};
  changed.tos_agreed = false;
  changed.jwk_json = R"({"kty":"OKP"})";
  ASSERT_TRUE(run(store_->updateAccount(changed)));
  auto got = run(store_->getAccount("acct1"));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(changed));
  auto old_thumb = run(store_->findAccountByThumbprint("thumb1"));
  ASSERT_TRUE(old_thumb);
  EXPECT_FALSE(old_thumb->has_value());

  Account steal = changed;
  steal.thumbprint = "thumb2";
  steal.status = AccountStatus::kValid;
  auto st = run(store_->updateAccount(steal));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kConflict);
  got = run(store_->getAccount("acct1"));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(changed));

  auto missing = run(store_->updateAccount(makeAccount("ghost", "ghost-thumb")));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().type, ProblemType::kServerInternal);
}

TEST_F(PgStoreTest, OrderWithAuthorizationsAndChallengesRoundTrips) {
  openStore();
  seedAccount();
  Order o = makeOrder("o1", "acct1", 1'700'000'100);
  o.not_before = at(1'700'000'000);
  o.not_after = at(1'707'776'000);
  o.error = richProblem();
  o.error->algorithms = {"ES256", "EdDSA"};
  auto authzs = authzsFor(o);
  authzs[1].wildcard = true;
  authzs[1].status = AuthzStatus::kValid;
  authzs[1].challenges[1].status = ChallengeStatus::kInvalid;
  authzs[1].challenges[1].validated = at(1'700'000'200);
  authzs[1].challenges[1].error = richProblem();
  // Non-ASCII and quoting survive the text protocol and the array literals.
  authzs[0].identifier.value = "xn--bcher-kva.example";
  authzs[0].challenges[0].token = "tok\"with\\quotes,{and}braces ünïcode";
  ASSERT_TRUE(run(store_->insertOrder(o, authzs)));

  auto got = run(store_->getOrder("o1"));
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(describe(**got), describe(o));

  for (const auto& expected : authzs) {
    auto a = run(store_->getAuthorization(expected.id));
    ASSERT_TRUE(a) << a.error().detail;
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ(describe(**a), describe(expected));
  }

  // An authorization without challenges reads back with none.
  Order bare = makeOrder("bare", "acct1", 1'700'000'000);
  Authorization lone = makeAuthz("lone", "acct1", "bare", "lone.example");
  lone.challenges.clear();
  ASSERT_TRUE(run(store_->insertOrder(bare, {lone})));
  auto got_lone = run(store_->getAuthorization("lone"));
  ASSERT_TRUE(got_lone && got_lone->has_value());
  EXPECT_EQ(describe(**got_lone), describe(lone));

  auto missing = run(store_->getOrder("nope"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto missing_authz = run(store_->getAuthorization("nope"));
  ASSERT_TRUE(missing_authz);
  EXPECT_FALSE(missing_authz->has_value());
}

TEST_F(PgStoreTest, InsertOrderIsAllOrNothing) {
  openStore();
  seedAccount();
  seedOrder("o1");
  // Same authorization ids as o1: the order row goes in first and must be rolled back.
  Order o2 = makeOrder("o2", "acct1", 1'700'000'000);
  auto authzs = authzsFor(makeOrder("o1", "acct1", 1'700'000'000));
  for (auto& a : authzs) a.order_id = "o2";
  auto st = run(store_->insertOrder(o2, authzs));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kConflict);
  auto got = run(store_->getOrder("o2"));
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());

  // An unknown account violates a foreign key: a server error, and nothing written either.
  Order orphan = makeOrder("o3", "no-such-account", 1'700'000'000);
  auto orphan_st = run(store_->insertOrder(orphan, {}));
  ASSERT_FALSE(orphan_st);
  EXPECT_EQ(orphan_st.error().type, ProblemType::kServerInternal);
  got = run(store_->getOrder("o3"));
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());

  // The failures left the connection usable.
  EXPECT_TRUE(run(store_->getOrder("o1")));
}

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

TEST_F(PgStoreTest, ListOrderIdsOldestFirstWithPaging) {
  openStore();
  seedAccount();
  ASSERT_TRUE(run(store_->insertAccount(makeAccount("acct2", "thumb2"))));
  // Inserted out of time order; "c" and "d" share a second and keep insertion order.
  seedOrder("b", OrderStatus::kPending, 200);
  seedOrder("a", OrderStatus::kPending, 100);
  seedOrder("d", OrderStatus::kPending, 300);
  seedOrder("c", OrderStatus::kPending, 300);
  Order other = makeOrder("x", "acct2", 50);
  ASSERT_TRUE(run(store_->insertOrder(other, {})));

  using Ids = std::vector<std::string>;
  auto all = run(store_->listOrderIds("acct1", 0, 100));
  ASSERT_TRUE(all) << all.error().detail;
  EXPECT_EQ(*all, (Ids{"a", "b", "d", "c"}));
  auto page = run(store_->listOrderIds("acct1", 1, 2));
  ASSERT_TRUE(page);
  EXPECT_EQ(*page, (Ids{"b", "d"}));
  auto tail = run(store_->listOrderIds("acct1", 3, SIZE_MAX));
  ASSERT_TRUE(tail) << tail.error().detail;
  EXPECT_EQ(*tail, (Ids{"c"}));
  auto past_end = run(store_->listOrderIds("acct1", SIZE_MAX, 10));
  ASSERT_TRUE(past_end) << past_end.error().detail;
  EXPECT_TRUE(past_end->empty());
  auto none = run(store_->listOrderIds("acct1", 0, 0));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto unknown = run(store_->listOrderIds("nobody", 0, 10));
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->empty());
}

TEST_F(PgStoreTest, UpdateOrderIfStatusIsCompareAndSet) {
  openStore();
  seedAccount();
  Order o = seedOrder("o1");
  Order ready = o;
  ready.status = OrderStatus::kReady;
  ready.not_before = at(1'700'000'000);
  auto first = run(store_->updateOrderIfStatus(ready, OrderStatus::kPending));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);

  // A second request that also loaded the order while it was pending loses.
  Order stale = o;
  stale.status = OrderStatus::kInvalid;
  stale.error = core::malformed("late");
  auto second = run(store_->updateOrderIfStatus(stale, OrderStatus::kPending));
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  auto got = run(store_->getOrder("o1"));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(ready));

  Order ghost = makeOrder("ghost", "acct1", 1);
  auto missing = run(store_->updateOrderIfStatus(ghost, OrderStatus::kPending));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(PgStoreTest, GetAuthorizationsFollowsRequestedOrderAndSkipsMissing) {
  openStore();
  seedAccount();
  Order o = seedOrder("o1");
  auto authzs = authzsFor(o);  // ids "o1-az2", "o1-az1"
  auto got = run(store_->getAuthorizations({"o1-az1", "missing", "o1-az2", "x\"y{z}"}));
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(describe((*got)[0]), describe(authzs[1]));
  EXPECT_EQ(describe((*got)[1]), describe(authzs[0]));
  ASSERT_EQ((*got)[0].challenges.size(), 3u);
  EXPECT_EQ((*got)[0].challenges[0].type, "http-01");
  EXPECT_EQ((*got)[0].challenges[2].type, "tls-alpn-01");

  // Asked twice, returned twice, as a loop over the ids would.
  auto twice = run(store_->getAuthorizations({"o1-az2", "o1-az2"}));
  ASSERT_TRUE(twice);
  ASSERT_EQ(twice->size(), 2u);
  EXPECT_EQ(describe((*twice)[1]), describe(authzs[0]));

  auto empty = run(store_->getAuthorizations({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_F(PgStoreTest, UpdateAuthorizationWritesStatusAndChallenges) {
  openStore();
  seedAccount();
  Order o = seedOrder("o1");
  Authorization a = authzsFor(o)[0];
  a.status = AuthzStatus::kInvalid;
  a.challenges[0].status = ChallengeStatus::kInvalid;
  a.challenges[0].validated = at(1'700'000'500);
  a.challenges[0].error = richProblem();
  a.challenges[2].status = ChallengeStatus::kProcessing;
  auto updated = run(store_->updateAuthorization(a));
  ASSERT_TRUE(updated) << updated.error().detail;
  auto got = run(store_->getAuthorization(a.id));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(a));

  // A challenge that does not belong to it: the whole call fails and writes nothing.
  Authorization bad = a;
  bad.status = AuthzStatus::kValid;
  bad.challenges[1].status = ChallengeStatus::kValid;
  bad.challenges.push_back(makeChallenge("foreign", a.id, "http-01"));
  auto st = run(store_->updateAuthorization(bad));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kServerInternal);
  got = run(store_->getAuthorization(a.id));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(a));

  Authorization ghost = makeAuthz("ghost", "acct1", "o1", "g.example");
  auto ghost_st = run(store_->updateAuthorization(ghost));
  ASSERT_FALSE(ghost_st);
  EXPECT_EQ(ghost_st.error().type, ProblemType::kServerInternal);
}

TEST_F(PgStoreTest, UpdateChallengeIfStatusIsCompareAndSet) {
  openStore();
  seedAccount();
  Order o = seedOrder("o1");
  Challenge c = authzsFor(o)[0].challenges[1];
  c.status = ChallengeStatus::kProcessing;
  auto first = run(store_->updateChallengeIfStatus(c, ChallengeStatus::kPending));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);

  Challenge stale = c;
  stale.status = ChallengeStatus::kInvalid;
  stale.error = richProblem();
  auto second = run(store_->updateChallengeIfStatus(stale, ChallengeStatus::kPending));
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);

  Challenge done = c;
  done.status = ChallengeStatus::kValid;
  done.validated = at(1'700'000'900);
  auto third = run(store_->updateChallengeIfStatus(done, ChallengeStatus::kProcessing));
  ASSERT_TRUE(third);
  EXPECT_TRUE(*third);

  auto authz = run(store_->getAuthorization(c.authz_id));
  ASSERT_TRUE(authz && authz->has_value());
  ASSERT_EQ((*authz)->challenges.size(), 3u);
  EXPECT_EQ(describe((*authz)->challenges[1]), describe(done));
  EXPECT_EQ((*authz)->challenges[0].status, ChallengeStatus::kPending);

  auto ghost = run(store_->updateChallengeIfStatus(makeChallenge("ghost", "x", "http-01"),
                                                   ChallengeStatus::kPending));
  ASSERT_TRUE(ghost);
  EXPECT_FALSE(*ghost);
}

TEST_F(PgStoreTest, HasValidAuthorizationsNeedsEveryIdentifierValidAndUnexpired) {
  openStore();
  seedAccount();
  ASSERT_TRUE(run(store_->insertAccount(makeAccount("acct2", "thumb2"))));
  Order o = makeOrder("o1", "acct1", 1'700'000'000);
  auto authzs = authzsFor(o);  // a.o1.example, b.o1.example; expire at 1'700'086'400
  authzs[0].status = AuthzStatus::kValid;
  ASSERT_TRUE(run(store_->insertOrder(o, authzs)));
  const core::Identifier a{"dns", "a.o1.example"};
  const core::Identifier b{"dns", "b.o1.example"};
  const TimePoint before = at(1'700'000'500);

  auto only_a = run(store_->hasValidAuthorizations("acct1", {a}, before));
  ASSERT_TRUE(only_a) << only_a.error().detail;
  EXPECT_TRUE(*only_a);
  auto both = run(store_->hasValidAuthorizations("acct1", {a, b}, before));
  ASSERT_TRUE(both);
  EXPECT_FALSE(*both);  // b is pending
  auto expired = run(store_->hasValidAuthorizations("acct1", {a}, at(1'700'086'400)));
  ASSERT_TRUE(expired);
  EXPECT_FALSE(*expired);
  auto other_account = run(store_->hasValidAuthorizations("acct2", {a}, before));
  ASSERT_TRUE(other_account);
  EXPECT_FALSE(*other_account);
  auto other_type = run(store_->hasValidAuthorizations("acct1", {{"ip", a.value}}, before));
  ASSERT_TRUE(other_type);
  EXPECT_FALSE(*other_type);
  auto empty = run(store_->hasValidAuthorizations("acct1", {}, before));
  ASSERT_TRUE(empty);
  EXPECT_FALSE(*empty);

  Authorization b_valid = authzs[1];
  b_valid.status = AuthzStatus::kValid;
  ASSERT_TRUE(run(store_->updateAuthorization(b_valid)));
  both = run(store_->hasValidAuthorizations("acct1", {a, b, a}, before));
  ASSERT_TRUE(both);
  EXPECT_TRUE(*both);
}

TEST_F(PgStoreTest, InsertCertificateForOrderOnlyWhileProcessing) {
  openStore();
  seedAccount();
  Order pending = seedOrder("pending-order");
  Order finished = pending;
  finished.status = OrderStatus::kValid;
  finished.certificate_id = "cert0";
  auto refused = run(store_->insertCertificateForOrder(makeCert("cert0", "0a", pending), finished));
  ASSERT_TRUE(refused) << refused.error().detail;
  EXPECT_FALSE(*refused);
  auto cert0 = run(store_->getCertificate("cert0"));
  ASSERT_TRUE(cert0);
  EXPECT_FALSE(cert0->has_value());
  auto still_pending = run(store_->getOrder("pending-order"));
  ASSERT_TRUE(still_pending && still_pending->has_value());
  EXPECT_EQ(describe(**still_pending), describe(pending));
  EXPECT_EQ(query("SELECT count(*) FROM certificates"), "0");

  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "01ff", o);
  Order valid = o;
  valid.status = OrderStatus::kValid;
  valid.certificate_id = "cert1";
  auto won = run(store_->insertCertificateForOrder(cert, valid));
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);
  auto got_order = run(store_->getOrder("o1"));
  ASSERT_TRUE(got_order && got_order->has_value());
  EXPECT_EQ(describe(**got_order), describe(valid));
  auto by_id = run(store_->getCertificate("cert1"));
  ASSERT_TRUE(by_id && by_id->has_value());
  EXPECT_EQ(describe(**by_id), describe(cert));
  auto by_serial = run(store_->findCertificateBySerial("01ff"));
  ASSERT_TRUE(by_serial && by_serial->has_value());
  EXPECT_EQ(describe(**by_serial), describe(cert));
  auto no_serial = run(store_->findCertificateBySerial("02"));
  ASSERT_TRUE(no_serial);
  EXPECT_FALSE(no_serial->has_value());

  // A second finalize of the same order: the order is valid now, nothing more is written.
  Order again = valid;
  again.certificate_id = "cert2";
  auto lost = run(store_->insertCertificateForOrder(makeCert("cert2", "02", o), again));
  ASSERT_TRUE(lost);
  EXPECT_FALSE(*lost);
  auto cert2 = run(store_->getCertificate("cert2"));
  ASSERT_TRUE(cert2);
  EXPECT_FALSE(cert2->has_value());
  got_order = run(store_->getOrder("o1"));
  ASSERT_TRUE(got_order && got_order->has_value());
  EXPECT_EQ((*got_order)->certificate_id, "cert1");
}

TEST_F(PgStoreTest, CertificateChainKeepsEveryByte) {
  openStore();
  seedAccount();
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "00ff", o);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  cert.pem_chain += std::string("trailing \x01 bytes\0 and NUL", 25) + all_bytes;
  issue(o, cert);
  auto got = run(store_->getCertificate("cert1"));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->pem_chain.size(), cert.pem_chain.size());
  EXPECT_TRUE((*got)->pem_chain == cert.pem_chain);
}

TEST_F(PgStoreTest, DuplicateSerialIsConflictAndLeavesOrderProcessing) {
  openStore();
  seedAccount();
  Order first = seedOrder("o1", OrderStatus::kProcessing);
  issue(first, makeCert("cert1", "abcd", first));

  Order second = seedOrder("o2", OrderStatus::kProcessing);
  Order second_valid = second;
  second_valid.status = OrderStatus::kValid;
  second_valid.certificate_id = "cert2";
  auto dup =
      run(store_->insertCertificateForOrder(makeCert("cert2", "abcd", second), second_valid));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().type, ProblemType::kConflict);
  auto got = run(store_->getOrder("o2"));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(second));
}

TEST_F(PgStoreTest, RevokeCertificateOnlyOnce) {
  openStore();
  seedAccount();
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  issue(o, makeCert("cert1", "01", o));

  auto first = run(store_->revokeCertificate("cert1", 1, at(1'700'001'000)));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);
  auto second = run(store_->revokeCertificate("cert1", 4, at(1'700'002'000)));
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);

  auto got = run(store_->findCertificateBySerial("01"));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE((*got)->revoked);
  EXPECT_EQ((*got)->revocation_reason, 1);
  EXPECT_EQ(describe((*got)->revoked_at), describe(std::optional(at(1'700'001'000))));

  auto missing = run(store_->revokeCertificate("nope", 1, at(1)));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(PgStoreTest, ConcurrentFinalizeHasExactlyOneWinner) {
  openStore(PostgresOptions{.pool_connections = 4});
  seedAccount();
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  constexpr int kCalls = 8;
  std::vector<Awaitable<Result<bool>>> calls;
  for (int t = 0; t < kCalls; ++t) {
    std::string id = "cert" + std::to_string(t);
    Order valid = o;
    valid.status = OrderStatus::kValid;
    valid.certificate_id = id;
    calls.push_back(finalizeCopy(store_.get(), makeCert(id, "serial" + std::to_string(t), o),
                                 std::move(valid)));
  }
  int wins = 0;
  for (const auto& r : runAll(std::move(calls), 4)) {
    ASSERT_TRUE(r) << r.error().detail;
    if (*r) ++wins;
  }
  EXPECT_EQ(wins, 1);
  EXPECT_EQ(query("SELECT count(*) FROM certificates"), "1");
  EXPECT_EQ(query("SELECT certificate_id = (SELECT id FROM certificates) FROM orders "
                  "WHERE id = 'o1'"),
            "t");
}

// ---- retention ----------------------------------------------------------------------------

TEST_F(PgStoreTest, PruneExpiredDeletesUncertifiedOrdersAndOldAuthorizationsOfKeptOnes) {
  openStore();
  seedAccount();
  const std::int64_t cutoff = 1'800'000'000;
  auto withTimes = [](Order o, std::int64_t expires) {
    o.expires = at(expires);
    return o;
  };
  auto authzsExpiring = [](const Order& o, std::int64_t expires) {
    auto a = authzsFor(o);
    for (auto& x : a) x.expires = at(expires);
    return a;
  };
  // Expired, never certified: goes, with its authorizations and challenges.
  Order stale = withTimes(makeOrder("stale", "acct1", 100), cutoff - 10);
  ASSERT_TRUE(run(store_->insertOrder(stale, authzsExpiring(stale, cutoff - 10))));
  // Expired but certified: the order and certificate stay, its expired authorizations go.
  Order certified = withTimes(makeOrder("certified", "acct1", 100), cutoff - 10);
  certified.status = OrderStatus::kProcessing;
  ASSERT_TRUE(run(store_->insertOrder(certified, authzsExpiring(certified, cutoff - 10))));
  Order certified_valid = issue(certified, makeCert("cert1", "01", certified));
  // Certified with authorizations still valid after the cutoff: untouched.
  Order recent_cert = withTimes(makeOrder("recent-cert", "acct1", 100), cutoff - 10);
  recent_cert.status = OrderStatus::kProcessing;
  ASSERT_TRUE(run(store_->insertOrder(recent_cert, authzsExpiring(recent_cert, cutoff + 10))));
  issue(recent_cert, makeCert("cert2", "02", recent_cert));
  // Not expired: untouched.
  Order fresh = withTimes(makeOrder("fresh", "acct1", 100), cutoff + 10);
  ASSERT_TRUE(run(store_->insertOrder(fresh, authzsExpiring(fresh, cutoff + 10))));

  auto counts = run(store_->pruneExpired(at(cutoff), 100));
  ASSERT_TRUE(counts) << counts.error().detail;
  EXPECT_EQ(counts->orders, 1u);
  EXPECT_EQ(counts->authorizations, 4u);  // 2 of "stale", 2 of "certified"
  EXPECT_EQ(counts->challenges, 12u);
  EXPECT_FALSE(counts->more);

  auto gone = run(store_->getOrder("stale"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto kept = run(store_->getOrder("certified"));
  ASSERT_TRUE(kept && kept->has_value());
  EXPECT_EQ(describe(**kept), describe(certified_valid));
  auto cert = run(store_->getCertificate("cert1"));
  ASSERT_TRUE(cert && cert->has_value());
  auto old_authzs =
      run(store_->getAuthorizations({"stale-az1", "stale-az2", "certified-az1", "certified-az2"}));
  ASSERT_TRUE(old_authzs);
  EXPECT_TRUE(old_authzs->empty());
  auto live_authzs = run(
      store_->getAuthorizations({"recent-cert-az1", "recent-cert-az2", "fresh-az1", "fresh-az2"}));
  ASSERT_TRUE(live_authzs);
  EXPECT_EQ(live_authzs->size(), 4u);
  EXPECT_EQ(query("SELECT count(*) FROM challenges"), "12");
  EXPECT_EQ(query("SELECT count(*) FROM orders"), "3");
  auto account = run(store_->getAccount("acct1"));
  ASSERT_TRUE(account && account->has_value());

  // Nothing left to do.
  counts = run(store_->pruneExpired(at(cutoff), 100));
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->orders + counts->authorizations + counts->challenges, 0u);
  EXPECT_FALSE(counts->more);
}

TEST_F(PgStoreTest, PruneExpiredDrainsABacklogInBoundedPasses) {
  openStore();
  seedAccount();
  for (int i = 0; i < 5; ++i) {
    Order o = makeOrder("old" + std::to_string(i), "acct1", 100 + i);
    ASSERT_TRUE(run(store_->insertOrder(o, authzsFor(o))));
  }
  std::vector<std::size_t> passes;
  for (int pass = 0; pass < 10; ++pass) {
    auto counts = run(store_->pruneExpired(at(1'900'000'000), 2));
    ASSERT_TRUE(counts) << counts.error().detail;
    passes.push_back(counts->orders);
    EXPECT_EQ(counts->authorizations, 2 * counts->orders);
    EXPECT_EQ(counts->challenges, 6 * counts->orders);
    if (!counts->more) break;
  }
  EXPECT_EQ(passes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(query("SELECT count(*) FROM orders"), "0");
  EXPECT_EQ(query("SELECT count(*) FROM authorizations"), "0");

  auto zero = run(store_->pruneExpired(at(1'900'000'000), 0));
  ASSERT_TRUE(zero);
  EXPECT_FALSE(zero->more);
}

// ---- schema and migrations ----------------------------------------------------------------

TEST_F(PgStoreTest, MigrationsRecordVersionsAndRunOnce) {
  openStore();
  const std::string latest = std::to_string(latestSchemaVersion());
  EXPECT_EQ(query("SELECT max(version) FROM schema_migrations"), latest);
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), latest);
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations WHERE applied_at IS NULL"), "0");
  // In the connection's schema, not hard-coded to public.
  EXPECT_EQ(query("SELECT table_schema FROM information_schema.tables "
                  "WHERE table_name = 'accounts' AND table_schema = '" +
                  schema_ + "'"),
            schema_);
  seedAccount();
  store_.reset();

  openStore();
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), latest);
  auto account = run(store_->getAccount("acct1"));
  ASSERT_TRUE(account && account->has_value());
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
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), std::to_string(latestSchemaVersion()));
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
  auto st = run(store_->updateAccount(changed));
  killer.join();
  ASSERT_EQ(exec("ROLLBACK"), "");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kServerInternal);
  auto after = run(store_->updateAccount(changed));
  ASSERT_TRUE(after) << after.error().detail;
  auto got = run(store_->findAccountByThumbprint("thumb1b"));
  ASSERT_TRUE(got && got->has_value());
}

TEST_F(PgStoreTest, CallsTimeOutAndTheNextOneWorks) {
  openStore(PostgresOptions{.pool_connections = 1, .query_timeout = std::chrono::seconds(1)});
  seedAccount();
  ASSERT_EQ(exec("BEGIN"), "");
  ASSERT_EQ(exec("SELECT 1 FROM accounts WHERE id = 'acct1' FOR UPDATE"), "");
  const auto started = std::chrono::steady_clock::now();
  auto st = run(store_->updateAccount(makeAccount("acct1", "thumb1b")));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(exec("ROLLBACK"), "");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kServerInternal);
  EXPECT_LT(took, std::chrono::seconds(15));
  auto after = run(store_->updateAccount(makeAccount("acct1", "thumb1b")));
  ASSERT_TRUE(after) << after.error().detail;
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
  calls.push_back(updateAccountCopy(store_.get(), makeAccount("acct1", "thumb1b")));
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
