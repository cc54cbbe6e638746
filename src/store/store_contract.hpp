#pragma once
// The Store contract: every test body written once and run against every backend. Test code
// only. A backend's test file includes this header once, implements contract::Backend and
// instantiates the suite (sqlite_store_test.cpp: ":memory:" and a WAL file;
// postgres/postgres_store_pg_test.cpp: PostgreSQL):
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(BackendFactory{...}),
//                            contract::backendName);
//
// What only one backend has (SQLite's writer and migrations, PostgreSQL's pool, timeouts and
// lock waits) stays in that backend's file.
//
// Every call runs on the fixture's io_context (the executor the store was opened with): a
// PostgreSQL store's pool timers and reconnects run there. Concurrent tests spawn coroutines
// that own copies of their arguments and run that io_context on several threads. Nothing
// sleeps or depends on timing: the concurrent tests assert what holds in every interleaving.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "acme/renewal_window.hpp"
#include "store/blocking_store.hpp"
#include "store/bucket_store.hpp"
#include "store/store.hpp"
#include "store/store_test_support.hpp"

namespace akamu::store::contract {

// One database to test on, fresh for each test.
class Backend {
 public:
  virtual ~Backend() = default;
  // A store on this backend's database, doing its I/O on `executor`.
  virtual Result<std::unique_ptr<Store>> open(boost::asio::any_io_executor executor) = 0;
  // The first column of the first row of `sql`, read past the store on a connection of its
  // own; std::nullopt where nothing but the store can reach the database (":memory:"). Used
  // for counts, whose text is the same on every backend.
  virtual std::optional<std::string> query(const std::string& sql) = 0;
};

struct BackendFactory {
  std::string name;  // the test-name suffix
  std::function<Result<std::unique_ptr<Backend>>()> make;
};
inline void PrintTo(const BackendFactory& f, std::ostream* os) { *os << f.name; }
inline std::string backendName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

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

// ---- coroutines that own their arguments, for concurrent calls -----------------------------

inline Awaitable<Result<acme::gcra::Decision>> spendCopy(BucketStore* buckets, std::string key,
                                                         acme::gcra::Limit limit, TimePoint now) {
  co_return co_await buckets->spend(key, limit, 1, now);
}

inline Awaitable<Result<bool>> finalizeCopy(Store* store, Certificate cert, Order order) {
  co_return co_await store->insertCertificateForOrder(cert, order);
}
inline Awaitable<Result<bool>> claimCopy(Store* store, std::string order_id, TimePoint now) {
  co_return co_await store->claimOrderForFinalize(order_id, now);
}
inline Awaitable<Result<bool>> replaceCopy(Store* store, Order order,
                                           std::vector<Authorization> authzs, TimePoint now) {
  co_return co_await store->insertReplacementOrder(order, authzs, now);
}
inline Awaitable<Result<bool>> starIssueCopy(Store* store, Certificate cert, Order order,
                                             std::int64_t period, OrderStatus expected) {
  co_return co_await store->insertStarCertificate(cert, order, period, expected);
}
inline Awaitable<Status> insertAccountCopy(Store* store, Account account) {
  co_return co_await store->insertAccount(account);
}
// Inserts accounts prefix-0 .. prefix-(n-1), each looked up right after its insert; returns
// how many of those calls failed.
inline Awaitable<int> insertAndGetMany(Store* store, std::string prefix, int n) {
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    const std::string id = prefix + std::to_string(i);
    if (!co_await store->insertAccount(makeAccount(id, "thumb-" + id))) ++failures;
    // Interleaved lookups: readers and the writer really run side by side.
    auto got = co_await store->getAccount(id);
    if (!got || !got->has_value()) ++failures;
  }
  co_return failures;
}

// What a deactivation racing finalize's claim saw.
struct DeactivationSeen {
  bool won = false;
  // The order was still `ready` when read after the deactivation had committed.
  bool order_ready_after = false;
};
inline Awaitable<Result<DeactivationSeen>> deactivateThenReadOrder(Store* store,
                                                                   Authorization deactivated) {
  DeactivationSeen seen;
  auto won = co_await store->updateAuthorizationIfStatus(deactivated, AuthzStatus::kValid);
  if (!won) co_return core::fail(won.error());
  seen.won = *won;
  auto order = co_await store->getOrder(deactivated.order_id);
  if (!order) co_return core::fail(order.error());
  seen.order_ready_after = order->has_value() && (*order)->status == OrderStatus::kReady;
  co_return seen;
}

// The backends' migration tests seed a schema-version-3 database with order o1 and its
// certificate cert1 (valid from 1'700'000'000 to 1'707'776'000), then open it: those rows read
// back with the defaults of ARI and profiles.
inline void expectVersion3RowsWithAriDefaults(BlockingStore& store) {
  auto cert = store.getCertificate("cert1");
  ASSERT_TRUE(cert && cert->has_value()) << (cert ? "none" : cert.error().detail);
  EXPECT_EQ((*cert)->profile, "");
  EXPECT_EQ(describe((*cert)->issued_at), "1700000000");
  const auto window = acme::renewalWindowFor(at(1'700'000'000), at(1'707'776'000));
  EXPECT_EQ(describe((*cert)->renewal_start), describe(window.start));
  EXPECT_EQ(describe((*cert)->renewal_end), describe(window.end));
  auto order = store.getOrder("o1");
  ASSERT_TRUE(order && order->has_value()) << (order ? "none" : order.error().detail);
  EXPECT_EQ((*order)->profile, "");
  EXPECT_FALSE((*order)->replaces.has_value());
  EXPECT_FALSE((*order)->replaces_serial.has_value());
}

// ---- fixture ------------------------------------------------------------------------------

class StoreContract : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    auto backend = GetParam().make();
    ASSERT_TRUE(backend) << backend.error().detail;
    backend_ = std::move(*backend);
    auto store = backend_->open(io_.get_executor());
    ASSERT_TRUE(store) << store.error().detail;
    owned_ = std::move(*store);
    store_.emplace(*owned_, &io_);
    auto st = store_->insertAccount(makeAccount("acct1", "thumb1"));
    ASSERT_TRUE(st) << st.error().detail;
  }
  void TearDown() override {
    store_.reset();
    owned_.reset();
    backend_.reset();
  }

  Store& async() { return *owned_; }

  // Starts `call` on the fixture's io_context; it runs at the next runOn().
  template <class T>
  std::future<T> spawn(Awaitable<T> call) {
    return boost::asio::co_spawn(io_, std::move(call), boost::asio::use_future);
  }
  // Runs everything spawned to completion on `threads` threads.
  void runOn(int threads) {
    io_.restart();
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back([this] { io_.run(); });
    for (auto& t : pool) t.join();
  }
  template <class T>
  std::vector<T> runAll(std::vector<Awaitable<T>> calls, int threads) {
    std::vector<std::future<T>> futures;
    for (auto& c : calls) futures.push_back(spawn(std::move(c)));
    runOn(threads);
    std::vector<T> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

  // An order with its authorizations, already in the store, in the given status.
  Order seedOrder(const std::string& id, OrderStatus status = OrderStatus::kPending,
                  std::int64_t created = 1'700'000'000) {
    Order o = makeOrder(id, "acct1", created);
    o.status = status;
    auto st = store_->insertOrder(o, authzsFor(o));
    EXPECT_TRUE(st) << st.error().detail;
    return o;
  }
  // A ready order whose authorizations are all valid (they expire at 1'700'086'400).
  Order seedReadyOrder(const std::string& id) {
    Order o = makeOrder(id, "acct1", 1'700'000'000);
    o.status = OrderStatus::kReady;
    auto authzs = authzsFor(o);
    for (auto& a : authzs) {
      a.status = AuthzStatus::kValid;
      a.challenges[0].status = ChallengeStatus::kValid;
      a.challenges[0].validated = at(1'700'000'100);
    }
    auto st = store_->insertOrder(o, authzs);
    EXPECT_TRUE(st) << st.error().detail;
    return o;
  }
  // The stored authorizations of `o`, in its order.
  std::vector<Authorization> storedAuthzs(const Order& o) {
    auto got = store_->getAuthorizations(o.authz_ids);
    EXPECT_TRUE(got) << got.error().detail;
    return got ? *got : std::vector<Authorization>{};
  }
  // Issues `cert` for the processing order `o`, which becomes valid.
  Order issue(const Order& o, const Certificate& cert) {
    Order valid = o;
    valid.status = OrderStatus::kValid;
    valid.certificate_id = cert.id;
    auto won = store_->insertCertificateForOrder(cert, valid);
    EXPECT_TRUE(won && *won) << (won ? "lost" : won.error().detail);
    return valid;
  }

  // io_ outlives the store (members are destroyed in reverse order).
  boost::asio::io_context io_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Store> owned_;
  // The store with every call run to completion on io_, so the contract reads as plain calls.
  std::optional<BlockingStore> store_;
};

// A count read past the store, where the backend allows it.
#define AKAMU_EXPECT_QUERY(sql, expected)         \
  do {                                            \
    if (auto akamu_got_ = backend_->query(sql)) { \
      EXPECT_EQ(*akamu_got_, expected) << (sql);  \
    }                                             \
  } while (false)

// ---- accounts -----------------------------------------------------------------------------

TEST_P(StoreContract, AccountRoundTripsAndMissingIsNullopt) {
  Account expected = makeAccount("acct1", "thumb1");
  auto got = store_->getAccount("acct1");
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(describe(**got), describe(expected));

  auto by_thumb = store_->findAccountByThumbprint("thumb1");
  ASSERT_TRUE(by_thumb && by_thumb->has_value());
  EXPECT_EQ(describe(**by_thumb), describe(expected));

  auto missing = store_->getAccount("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto missing_thumb = store_->findAccountByThumbprint("nope");
  ASSERT_TRUE(missing_thumb);
  EXPECT_FALSE(missing_thumb->has_value());
}

TEST_P(StoreContract, DuplicateAccountIdOrThumbprintIsConflict) {
  auto same_id = store_->insertAccount(makeAccount("acct1", "other-thumb"));
  ASSERT_FALSE(same_id);
  EXPECT_EQ(same_id.error().type, ProblemType::kConflict);
  // The message names the constraint, never the row's values.
  EXPECT_EQ(same_id.error().detail.find("other-thumb"), std::string::npos)
      << same_id.error().detail;

  auto same_thumb = store_->insertAccount(makeAccount("acct2", "thumb1"));
  ASSERT_FALSE(same_thumb);
  EXPECT_EQ(same_thumb.error().type, ProblemType::kConflict);

  auto acct2 = store_->getAccount("acct2");
  ASSERT_TRUE(acct2);
  EXPECT_FALSE(acct2->has_value());
  auto other = store_->findAccountByThumbprint("other-thumb");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_value());
}

TEST_P(StoreContract, UpdateAccountIfWritesFieldsAndRefusesTakenThumbprint) {
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  Account changed = makeAccount("acct1", "thumb1-rolled");
  changed.status = AccountStatus::kDeactivated;
  changed.contacts = {};
  changed.tos_agreed = false;
  changed.jwk_json = R"({"kty":"OKP"})";
  auto won = store_->updateAccountIf(changed, AccountStatus::kValid, "thumb1");
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);
  auto got = store_->getAccount("acct1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(changed));
  auto old_thumb = store_->findAccountByThumbprint("thumb1");
  ASSERT_TRUE(old_thumb);
  EXPECT_FALSE(old_thumb->has_value());

  // The expected state matches, but the thumbprint belongs to acct2.
  Account steal = changed;
  steal.thumbprint = "thumb2";
  steal.status = AccountStatus::kValid;
  auto st = store_->updateAccountIf(steal, AccountStatus::kDeactivated, "thumb1-rolled");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kConflict);
  got = store_->getAccount("acct1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(changed));

  // No such account: nothing matches, nothing is written.
  auto missing =
      store_->updateAccountIf(makeAccount("ghost", "ghost-thumb"), AccountStatus::kValid, "x");
  ASSERT_TRUE(missing) << missing.error().detail;
  EXPECT_FALSE(*missing);
  auto ghost = store_->getAccount("ghost");
  ASSERT_TRUE(ghost);
  EXPECT_FALSE(ghost->has_value());
}

TEST_P(StoreContract, UpdateAccountIfLosesToADeactivation) {
  const Account original = makeAccount("acct1", "thumb1");
  Account deactivated = original;
  deactivated.status = AccountStatus::kDeactivated;
  auto first = store_->updateAccountIf(deactivated, AccountStatus::kValid, "thumb1");
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);

  // A contact update decided while the account was valid.
  Account contacts = original;
  contacts.contacts = {"mailto:new@example.com"};
  auto late = store_->updateAccountIf(contacts, AccountStatus::kValid, "thumb1");
  ASSERT_TRUE(late) << late.error().detail;
  EXPECT_FALSE(*late);
  // A key change decided while the account was valid.
  Account rolled = original;
  rolled.thumbprint = "thumb1-new";
  rolled.jwk_json = R"({"kty":"OKP","x":"new"})";
  auto late_key = store_->updateAccountIf(rolled, AccountStatus::kValid, "thumb1");
  ASSERT_TRUE(late_key) << late_key.error().detail;
  EXPECT_FALSE(*late_key);

  auto got = store_->getAccount("acct1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(deactivated));
  auto new_thumb = store_->findAccountByThumbprint("thumb1-new");
  ASSERT_TRUE(new_thumb);
  EXPECT_FALSE(new_thumb->has_value());
}

TEST_P(StoreContract, UpdateAccountIfLosesToAKeyChange) {
  const Account original = makeAccount("acct1", "thumb1");
  Account rolled = original;
  rolled.thumbprint = "thumb1-new";
  rolled.jwk_json = R"({"kty":"OKP","x":"new"})";
  auto first = store_->updateAccountIf(rolled, AccountStatus::kValid, "thumb1");
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);

  // Decided from the old key: a contact update, a deactivation, a second key change.
  Account contacts = original;
  contacts.contacts = {"mailto:new@example.com"};
  Account deactivated = original;
  deactivated.status = AccountStatus::kDeactivated;
  Account rolled_again = original;
  rolled_again.thumbprint = "thumb1-other";
  for (const Account* stale : {&contacts, &deactivated, &rolled_again}) {
    auto lost = store_->updateAccountIf(*stale, AccountStatus::kValid, "thumb1");
    ASSERT_TRUE(lost) << lost.error().detail;
    EXPECT_FALSE(*lost) << describe(*stale);
  }
  auto got = store_->getAccount("acct1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(rolled));
  auto other = store_->findAccountByThumbprint("thumb1-other");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_value());

  // Decided from the new key, the same update goes through.
  contacts.thumbprint = rolled.thumbprint;
  contacts.jwk_json = rolled.jwk_json;
  auto fresh = store_->updateAccountIf(contacts, AccountStatus::kValid, "thumb1-new");
  ASSERT_TRUE(fresh) << fresh.error().detail;
  EXPECT_TRUE(*fresh);
  got = store_->getAccount("acct1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(contacts));
}

// ---- orders -------------------------------------------------------------------------------

TEST_P(StoreContract, OrderWithAuthorizationsAndChallengesRoundTrips) {
  Order o = makeOrder("o1", "acct1", 1'700'000'100);
  o.not_before = at(1'700'000'000);
  o.not_after = at(1'707'776'000);
  o.error = richProblem();
  o.error->algorithms = {"ES256", "EdDSA"};
  o.profile = "shortlived";
  o.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  o.replaces_serial = "87654321";
  auto authzs = authzsFor(o);
  authzs[1].wildcard = true;
  authzs[1].status = AuthzStatus::kValid;
  authzs[1].challenges[1].status = ChallengeStatus::kInvalid;
  authzs[1].challenges[1].validated = at(1'700'000'200);
  authzs[1].challenges[1].error = richProblem();
  // Non-ASCII and quoting survive the text protocol and the array literals.
  authzs[0].identifier.value = "xn--bcher-kva.example";
  authzs[0].challenges[0].token = "tok\"with\\quotes,{and}braces ünïcode";
  ASSERT_TRUE(store_->insertOrder(o, authzs));

  auto got = store_->getOrder("o1");
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(describe(**got), describe(o));

  for (const auto& expected : authzs) {
    auto a = store_->getAuthorization(expected.id);
    ASSERT_TRUE(a) << a.error().detail;
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ(describe(**a), describe(expected));
  }

  // An authorization without challenges reads back with none; an order without a profile or
  // a replaced certificate reads back without them.
  Order bare = makeOrder("bare", "acct1", 1'700'000'000);
  bare.profile.clear();
  Authorization lone = makeAuthz("lone", "acct1", "bare", "lone.example");
  lone.challenges.clear();
  ASSERT_TRUE(store_->insertOrder(bare, {lone}));
  auto got_bare = store_->getOrder("bare");
  ASSERT_TRUE(got_bare && got_bare->has_value());
  EXPECT_EQ(describe(**got_bare), describe(bare));
  auto got_lone = store_->getAuthorization("lone");
  ASSERT_TRUE(got_lone && got_lone->has_value());
  EXPECT_EQ(describe(**got_lone), describe(lone));

  auto missing = store_->getOrder("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto missing_authz = store_->getAuthorization("nope");
  ASSERT_TRUE(missing_authz);
  EXPECT_FALSE(missing_authz->has_value());
}

TEST_P(StoreContract, InsertOrderIsAllOrNothing) {
  seedOrder("o1");
  // Same authorization ids as o1: the order row goes in first and must be rolled back.
  Order o2 = makeOrder("o2", "acct1", 1'700'000'000);
  auto authzs = authzsFor(makeOrder("o1", "acct1", 1'700'000'000));
  for (auto& a : authzs) a.order_id = "o2";
  auto st = store_->insertOrder(o2, authzs);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kConflict);
  auto got = store_->getOrder("o2");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());

  // An unknown account violates a foreign key: a server error, and nothing written either.
  Order orphan = makeOrder("o3", "no-such-account", 1'700'000'000);
  auto orphan_st = store_->insertOrder(orphan, {});
  ASSERT_FALSE(orphan_st);
  EXPECT_EQ(orphan_st.error().type, ProblemType::kServerInternal);
  got = store_->getOrder("o3");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());

  // The failures left the store usable.
  EXPECT_TRUE(store_->getOrder("o1"));
}

TEST_P(StoreContract, ListOrderIdsOldestFirstWithPaging) {
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  // Inserted out of time order; "d" and "c" share a second and keep insertion order (not the
  // order of their ids).
  seedOrder("b", OrderStatus::kPending, 200);
  seedOrder("a", OrderStatus::kPending, 100);
  seedOrder("d", OrderStatus::kPending, 300);
  seedOrder("c", OrderStatus::kPending, 300);
  Order other = makeOrder("x", "acct2", 50);
  ASSERT_TRUE(store_->insertOrder(other, {}));

  using Ids = std::vector<std::string>;
  auto all = store_->listOrderIds("acct1", 0, 100);
  ASSERT_TRUE(all) << all.error().detail;
  EXPECT_EQ(*all, (Ids{"a", "b", "d", "c"}));
  auto page = store_->listOrderIds("acct1", 1, 2);
  ASSERT_TRUE(page);
  EXPECT_EQ(*page, (Ids{"b", "d"}));
  auto tail = store_->listOrderIds("acct1", 3, SIZE_MAX);
  ASSERT_TRUE(tail) << tail.error().detail;
  EXPECT_EQ(*tail, (Ids{"c"}));
  auto past_end = store_->listOrderIds("acct1", 10, 10);
  ASSERT_TRUE(past_end);
  EXPECT_TRUE(past_end->empty());
  auto far_past_end = store_->listOrderIds("acct1", SIZE_MAX, 10);
  ASSERT_TRUE(far_past_end) << far_past_end.error().detail;
  EXPECT_TRUE(far_past_end->empty());
  auto none = store_->listOrderIds("acct1", 0, 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto unknown = store_->listOrderIds("nobody", 0, 10);
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->empty());
}

TEST_P(StoreContract, UpdateOrderIfStatusIsCompareAndSet) {
  Order o = seedOrder("o1");
  Order ready = o;
  ready.status = OrderStatus::kReady;
  ready.not_before = at(1'700'000'000);
  auto first = store_->updateOrderIfStatus(ready, OrderStatus::kPending);
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);

  // A second request that also loaded the order while it was pending loses.
  Order stale = o;
  stale.status = OrderStatus::kInvalid;
  stale.error = core::malformed("late");
  auto second = store_->updateOrderIfStatus(stale, OrderStatus::kPending);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  auto got = store_->getOrder("o1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(ready));

  Order ghost = makeOrder("ghost", "acct1", 1);
  auto missing = store_->updateOrderIfStatus(ghost, OrderStatus::kPending);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

// ---- authorizations and challenges --------------------------------------------------------

TEST_P(StoreContract, GetAuthorizationsFollowsRequestedOrderAndSkipsMissing) {
  Order o = seedOrder("o1");
  auto authzs = authzsFor(o);  // ids "o1-az2", "o1-az1"
  auto got = store_->getAuthorizations({"o1-az1", "missing", "o1-az2", "x\"y{z}"});
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(describe((*got)[0]), describe(authzs[1]));
  EXPECT_EQ(describe((*got)[1]), describe(authzs[0]));
  ASSERT_EQ((*got)[0].challenges.size(), 3u);
  EXPECT_EQ((*got)[0].challenges[0].type, "http-01");
  EXPECT_EQ((*got)[0].challenges[2].type, "tls-alpn-01");

  // Asked twice, returned twice, as a loop over the ids would.
  auto twice = store_->getAuthorizations({"o1-az2", "o1-az2"});
  ASSERT_TRUE(twice);
  ASSERT_EQ(twice->size(), 2u);
  EXPECT_EQ(describe((*twice)[1]), describe(authzs[0]));

  auto empty = store_->getAuthorizations({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_P(StoreContract, UpdateAuthorizationIfStatusWritesStatusAndChallenges) {
  Order o = seedOrder("o1");
  Authorization a = authzsFor(o)[0];
  a.status = AuthzStatus::kInvalid;
  a.challenges[0].status = ChallengeStatus::kInvalid;
  a.challenges[0].validated = at(1'700'000'500);
  a.challenges[0].error = richProblem();
  a.challenges[2].status = ChallengeStatus::kProcessing;
  auto updated = store_->updateAuthorizationIfStatus(a, AuthzStatus::kPending);
  ASSERT_TRUE(updated) << updated.error().detail;
  EXPECT_TRUE(*updated);
  auto got = store_->getAuthorization(a.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(a));

  // The status matches but a challenge does not belong to it: the whole call fails and
  // writes nothing.
  Authorization bad = a;
  bad.status = AuthzStatus::kValid;
  bad.challenges[1].status = ChallengeStatus::kValid;
  bad.challenges.push_back(makeChallenge("foreign", a.id, "http-01"));
  auto st = store_->updateAuthorizationIfStatus(bad, AuthzStatus::kInvalid);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kServerInternal);
  got = store_->getAuthorization(a.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->status, AuthzStatus::kInvalid);
  EXPECT_EQ(describe(**got), describe(a));

  // No such authorization: nothing matches, nothing is written.
  Authorization ghost = makeAuthz("ghost", "acct1", "o1", "g.example");
  auto ghost_st = store_->updateAuthorizationIfStatus(ghost, AuthzStatus::kPending);
  ASSERT_TRUE(ghost_st) << ghost_st.error().detail;
  EXPECT_FALSE(*ghost_st);
  auto ghost_got = store_->getAuthorization("ghost");
  ASSERT_TRUE(ghost_got);
  EXPECT_FALSE(ghost_got->has_value());
}

TEST_P(StoreContract, UpdateAuthorizationIfStatusIsCompareAndSet) {
  Order o = seedOrder("o1");
  const Authorization pending = authzsFor(o)[0];
  Authorization validated = pending;
  validated.status = AuthzStatus::kValid;
  validated.challenges[0].status = ChallengeStatus::kValid;
  validated.challenges[0].validated = at(1'700'000'300);
  auto first = store_->updateAuthorizationIfStatus(validated, AuthzStatus::kPending);
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);

  // A second validation that also started from pending, and failed: it loses, and none of its
  // challenges are written.
  Authorization failed = pending;
  failed.status = AuthzStatus::kInvalid;
  failed.challenges[0].status = ChallengeStatus::kInvalid;
  failed.challenges[0].error = richProblem();
  failed.challenges[1].status = ChallengeStatus::kInvalid;
  auto second = store_->updateAuthorizationIfStatus(failed, AuthzStatus::kPending);
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_FALSE(*second);
  auto got = store_->getAuthorization(pending.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(validated));

  // From the state it now has, the next change goes through.
  Authorization expired = validated;
  expired.status = AuthzStatus::kExpired;
  auto third = store_->updateAuthorizationIfStatus(expired, AuthzStatus::kValid);
  ASSERT_TRUE(third) << third.error().detail;
  EXPECT_TRUE(*third);
  got = store_->getAuthorization(pending.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(expired));
  // The other authorization of the order was never touched.
  auto other = store_->getAuthorization(o.authz_ids[1]);
  ASSERT_TRUE(other && other->has_value());
  EXPECT_EQ(describe(**other), describe(authzsFor(o)[1]));
}

TEST_P(StoreContract, UpdateAuthorizationIfStatusLeavesADeactivatedAuthorizationAlone) {
  Order o = seedOrder("o1");
  Authorization processing = authzsFor(o)[0];
  processing.challenges[1].status = ChallengeStatus::kProcessing;
  ASSERT_TRUE(store_->updateChallengeIfStatus(processing.challenges[1], ChallengeStatus::kPending));

  // The client deactivates it while the validation runs.
  Authorization deactivated = processing;
  deactivated.status = AuthzStatus::kDeactivated;
  auto won = store_->updateAuthorizationIfStatus(deactivated, AuthzStatus::kPending);
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);

  // The validation finishes later, successfully or not, and an expiry pass comes by: all were
  // decided from a state the authorization no longer has.
  Authorization late_valid = processing;
  late_valid.status = AuthzStatus::kValid;
  late_valid.challenges[1].status = ChallengeStatus::kValid;
  late_valid.challenges[1].validated = at(1'700'000'400);
  Authorization late_invalid = processing;
  late_invalid.status = AuthzStatus::kInvalid;
  late_invalid.challenges[1].status = ChallengeStatus::kInvalid;
  late_invalid.challenges[1].error = richProblem();
  Authorization late_expired = late_valid;
  late_expired.status = AuthzStatus::kExpired;
  const std::pair<const Authorization*, AuthzStatus> late[] = {
      {&late_valid, AuthzStatus::kPending},
      {&late_invalid, AuthzStatus::kPending},
      {&late_expired, AuthzStatus::kValid}};
  for (const auto& [authz, expected] : late) {
    auto lost = store_->updateAuthorizationIfStatus(*authz, expected);
    ASSERT_TRUE(lost) << lost.error().detail;
    EXPECT_FALSE(*lost) << describe(*authz);
  }
  auto got = store_->getAuthorization(processing.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->status, AuthzStatus::kDeactivated);
  // Its challenges are as the deactivation left them.
  EXPECT_EQ(describe(**got), describe(deactivated));
}

TEST_P(StoreContract, UpdateChallengeIfStatusIsCompareAndSet) {
  Order o = seedOrder("o1");
  Challenge c = authzsFor(o)[0].challenges[1];
  c.status = ChallengeStatus::kProcessing;
  auto first = store_->updateChallengeIfStatus(c, ChallengeStatus::kPending);
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);

  Challenge stale = c;
  stale.status = ChallengeStatus::kInvalid;
  stale.error = richProblem();
  auto second = store_->updateChallengeIfStatus(stale, ChallengeStatus::kPending);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);

  Challenge done = c;
  done.status = ChallengeStatus::kValid;
  done.validated = at(1'700'000'900);
  auto third = store_->updateChallengeIfStatus(done, ChallengeStatus::kProcessing);
  ASSERT_TRUE(third);
  EXPECT_TRUE(*third);

  auto authz = store_->getAuthorization(c.authz_id);
  ASSERT_TRUE(authz && authz->has_value());
  ASSERT_EQ((*authz)->challenges.size(), 3u);
  EXPECT_EQ(describe((*authz)->challenges[1]), describe(done));
  EXPECT_EQ((*authz)->challenges[0].status, ChallengeStatus::kPending);

  auto ghost = store_->updateChallengeIfStatus(makeChallenge("ghost", "x", "http-01"),
                                               ChallengeStatus::kPending);
  ASSERT_TRUE(ghost);
  EXPECT_FALSE(*ghost);
}

TEST_P(StoreContract, HasValidAuthorizationsNeedsEveryIdentifierValidAndUnexpired) {
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  Order o = makeOrder("o1", "acct1", 1'700'000'000);
  auto authzs = authzsFor(o);  // a.o1.example, b.o1.example; expire at 1'700'086'400
  authzs[0].status = AuthzStatus::kValid;
  ASSERT_TRUE(store_->insertOrder(o, authzs));
  const core::Identifier a{"dns", "a.o1.example"};
  const core::Identifier b{"dns", "b.o1.example"};
  const TimePoint before = at(1'700'000'500);

  auto only_a = store_->hasValidAuthorizations("acct1", {a}, before);
  ASSERT_TRUE(only_a) << only_a.error().detail;
  EXPECT_TRUE(*only_a);
  auto both = store_->hasValidAuthorizations("acct1", {a, b}, before);
  ASSERT_TRUE(both);
  EXPECT_FALSE(*both);  // b is pending
  auto expired = store_->hasValidAuthorizations("acct1", {a}, at(1'700'086'400));
  ASSERT_TRUE(expired);
  EXPECT_FALSE(*expired);
  auto other_account = store_->hasValidAuthorizations("acct2", {a}, before);
  ASSERT_TRUE(other_account);
  EXPECT_FALSE(*other_account);
  auto other_type = store_->hasValidAuthorizations("acct1", {{"ip", a.value}}, before);
  ASSERT_TRUE(other_type);
  EXPECT_FALSE(*other_type);
  auto empty = store_->hasValidAuthorizations("acct1", {}, before);
  ASSERT_TRUE(empty);
  EXPECT_FALSE(*empty);

  Authorization b_valid = authzs[1];
  b_valid.status = AuthzStatus::kValid;
  auto validated = store_->updateAuthorizationIfStatus(b_valid, AuthzStatus::kPending);
  ASSERT_TRUE(validated && *validated);
  both = store_->hasValidAuthorizations("acct1", {a, b, a}, before);
  ASSERT_TRUE(both);
  EXPECT_TRUE(*both);
}

TEST_P(StoreContract, HasValidAuthorizationsMatchesWildcardsOnlyWithWildcardAuthorizations) {
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  // Order o1 is for a.o1.example and *.b.o1.example: the second authorization is the wildcard
  // one, stored under the base name.
  Order o = makeOrder("o1", "acct1", 1'700'000'000);
  auto authzs = authzsFor(o);
  for (auto& x : authzs) x.status = AuthzStatus::kValid;
  authzs[1].wildcard = true;
  ASSERT_TRUE(store_->insertOrder(o, authzs));
  const core::Identifier plain{"dns", "a.o1.example"};
  const core::Identifier plain_as_wildcard{"dns", "*.a.o1.example"};
  const core::Identifier wildcard{"dns", "*.b.o1.example"};
  const core::Identifier wildcard_base{"dns", "b.o1.example"};
  const TimePoint before = at(1'700'000'500);
  auto has = [&](const std::string& account, const std::vector<core::Identifier>& ids,
                 TimePoint now) {
    auto r = store_->hasValidAuthorizations(account, ids, now);
    EXPECT_TRUE(r) << r.error().detail;
    return r && *r;
  };

  EXPECT_TRUE(has("acct1", {wildcard}, before));
  EXPECT_TRUE(has("acct1", {plain}, before));
  EXPECT_TRUE(has("acct1", {wildcard, plain}, before));
  // A wildcard authorization does not cover the base name, nor a plain one the wildcard.
  EXPECT_FALSE(has("acct1", {wildcard_base}, before));
  EXPECT_FALSE(has("acct1", {plain_as_wildcard}, before));
  EXPECT_FALSE(has("acct1", {wildcard, wildcard_base}, before));
  // Expiry and the account apply to wildcards too.
  EXPECT_FALSE(has("acct1", {wildcard}, at(1'700'086'400)));
  EXPECT_FALSE(has("acct2", {wildcard}, before));

  // A deactivated wildcard authorization no longer counts.
  Authorization deactivated = authzs[1];
  deactivated.status = AuthzStatus::kDeactivated;
  auto won = store_->updateAuthorizationIfStatus(deactivated, AuthzStatus::kValid);
  ASSERT_TRUE(won && *won);
  EXPECT_FALSE(has("acct1", {wildcard}, before));

  // A plain authorization of the base name, from another order: the base name is covered
  // now, the wildcard still is not.
  Order o2 = makeOrder("o2", "acct1", 1'700'000'000);
  Authorization base = makeAuthz("o2-base", "acct1", "o2", "b.o1.example");
  base.status = AuthzStatus::kValid;
  ASSERT_TRUE(store_->insertOrder(o2, {base}));
  EXPECT_TRUE(has("acct1", {wildcard_base}, before));
  EXPECT_FALSE(has("acct1", {wildcard}, before));

  // And a valid wildcard authorization of another order covers the wildcard again.
  Order o3 = makeOrder("o3", "acct1", 1'700'000'000);
  Authorization wild = makeAuthz("o3-wild", "acct1", "o3", "b.o1.example");
  wild.status = AuthzStatus::kValid;
  wild.wildcard = true;
  ASSERT_TRUE(store_->insertOrder(o3, {wild}));
  EXPECT_TRUE(has("acct1", {wildcard, wildcard_base, plain}, before));
}

// ---- finalize's claim ---------------------------------------------------------------------

TEST_P(StoreContract, ClaimOrderForFinalizeWhenEveryAuthorizationIsValid) {
  Order o = seedReadyOrder("o1");
  const auto authzs_before = storedAuthzs(o);
  auto claimed = store_->claimOrderForFinalize("o1", at(1'700'000'500));
  ASSERT_TRUE(claimed) << claimed.error().detail;
  EXPECT_TRUE(*claimed);
  Order processing = o;
  processing.status = OrderStatus::kProcessing;
  auto got = store_->getOrder("o1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(processing));
  // The authorizations are only read.
  const auto authzs_after = storedAuthzs(o);
  ASSERT_EQ(authzs_after.size(), authzs_before.size());
  for (std::size_t i = 0; i < authzs_after.size(); ++i) {
    EXPECT_EQ(describe(authzs_after[i]), describe(authzs_before[i]));
  }

  // Claimed once: a second finalize finds it processing.
  auto again = store_->claimOrderForFinalize("o1", at(1'700'000'500));
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_FALSE(*again);
  got = store_->getOrder("o1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(processing));

  // The claimed order is the one issuance completes.
  Order valid = issue(processing, makeCert("cert1", "01", processing));
  got = store_->getOrder("o1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(valid));

  // "Expires after now" is strict: one second before the expiry is still in time.
  seedReadyOrder("edge");
  auto in_time = store_->claimOrderForFinalize("edge", at(1'700'086'399));
  ASSERT_TRUE(in_time) << in_time.error().detail;
  EXPECT_TRUE(*in_time);
}

TEST_P(StoreContract, ClaimOrderForFinalizeRefusedUnlessTheOrderIsReady) {
  for (OrderStatus status : {OrderStatus::kPending, OrderStatus::kProcessing, OrderStatus::kValid,
                             OrderStatus::kInvalid}) {
    const std::string id = std::string("o-") + acme::toString(status);
    Order o = seedReadyOrder(id);
    Order moved = o;
    moved.status = status;
    ASSERT_TRUE(store_->updateOrderIfStatus(moved, OrderStatus::kReady));
    auto claimed = store_->claimOrderForFinalize(id, at(1'700'000'500));
    ASSERT_TRUE(claimed) << claimed.error().detail;
    EXPECT_FALSE(*claimed) << id;
    auto got = store_->getOrder(id);
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ(describe(**got), describe(moved));
  }
  auto missing = store_->claimOrderForFinalize("ghost", at(1'700'000'500));
  ASSERT_TRUE(missing) << missing.error().detail;
  EXPECT_FALSE(*missing);
  auto ghost = store_->getOrder("ghost");
  ASSERT_TRUE(ghost);
  EXPECT_FALSE(ghost->has_value());
}

TEST_P(StoreContract, ClaimOrderForFinalizeRefusedWhenTheAccountIsNoLongerValid) {
  Order o = seedReadyOrder("o-acct");
  auto acct = store_->getAccount("acct1");
  ASSERT_TRUE(acct && acct->has_value());
  Account deactivated = **acct;
  deactivated.status = AccountStatus::kDeactivated;
  auto written =
      store_->updateAccountIf(deactivated, AccountStatus::kValid, deactivated.thumbprint);
  ASSERT_TRUE(written && *written);
  auto claimed = store_->claimOrderForFinalize(o.id, at(1'700'000'500));
  ASSERT_TRUE(claimed) << claimed.error().detail;
  EXPECT_FALSE(*claimed);
  auto got = store_->getOrder(o.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->status, OrderStatus::kReady);
}

TEST_P(StoreContract, ClaimOrderForFinalizeRefusedUnlessEveryAuthorizationIsValidAndUnexpired) {
  const TimePoint now = at(1'700'000'500);
  struct Case {
    std::string name;
    AuthzStatus status;
    std::int64_t expires;
  };
  const Case cases[] = {
      {"pending", AuthzStatus::kPending, 1'700'086'400},
      {"deactivated", AuthzStatus::kDeactivated, 1'700'086'400},
      {"invalid", AuthzStatus::kInvalid, 1'700'086'400},
      {"expired-status", AuthzStatus::kExpired, 1'700'086'400},
      {"revoked", AuthzStatus::kRevoked, 1'700'086'400},
      // Valid, but expiring exactly at `now` (not after it), or before.
      {"expires-now", AuthzStatus::kValid, 1'700'000'500},
      {"expired-before", AuthzStatus::kValid, 1'700'000'000},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string id = "o-" + c.name;
    Order o = makeOrder(id, "acct1", 1'700'000'000);
    o.status = OrderStatus::kReady;
    auto authzs = authzsFor(o);
    for (auto& a : authzs) a.status = AuthzStatus::kValid;
    // The first or the second of the order's authorizations is the bad one.
    Authorization& bad = authzs[n++ % 2];
    bad.status = c.status;
    bad.expires = at(c.expires);
    ASSERT_TRUE(store_->insertOrder(o, authzs));

    auto claimed = store_->claimOrderForFinalize(id, now);
    ASSERT_TRUE(claimed) << claimed.error().detail;
    EXPECT_FALSE(*claimed) << c.name;
    auto got = store_->getOrder(id);
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ(describe(**got), describe(o)) << c.name;
    const auto stored = storedAuthzs(o);
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(describe(stored[0]), describe(authzs[0])) << c.name;
    EXPECT_EQ(describe(stored[1]), describe(authzs[1])) << c.name;
  }

  // An order that lists an authorization the store does not have (here: every one of them),
  // and an order that lists none, are never claimed either.
  Order unlisted = makeOrder("o-unlisted", "acct1", 1'700'000'000);
  unlisted.status = OrderStatus::kReady;
  ASSERT_TRUE(store_->insertOrder(unlisted, {}));
  Order partial = makeOrder("o-partial", "acct1", 1'700'000'000);
  partial.status = OrderStatus::kReady;
  Authorization only = authzsFor(partial)[0];
  only.status = AuthzStatus::kValid;
  ASSERT_TRUE(store_->insertOrder(partial, {only}));
  Order empty = makeOrder("o-empty", "acct1", 1'700'000'000);
  empty.status = OrderStatus::kReady;
  empty.authz_ids.clear();
  ASSERT_TRUE(store_->insertOrder(empty, {}));
  for (const Order* o : {&unlisted, &partial, &empty}) {
    auto claimed = store_->claimOrderForFinalize(o->id, now);
    ASSERT_TRUE(claimed) << claimed.error().detail;
    EXPECT_FALSE(*claimed) << o->id;
    auto got = store_->getOrder(o->id);
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ(describe(**got), describe(*o));
  }

  // Once the bad authorization is valid again (a fresh order), the claim goes through: the
  // refusals above were about the authorizations, not the orders.
  seedReadyOrder("o-good");
  auto good = store_->claimOrderForFinalize("o-good", now);
  ASSERT_TRUE(good) << good.error().detail;
  EXPECT_TRUE(*good);
}

// Many finalize requests for one order at once: exactly one claims it.
TEST_P(StoreContract, ConcurrentClaimsHaveExactlyOneWinner) {
  seedReadyOrder("o1");
  constexpr int kCalls = 16;
  std::vector<Awaitable<Result<bool>>> calls;
  for (int i = 0; i < kCalls; ++i) calls.push_back(claimCopy(&async(), "o1", at(1'700'000'500)));
  int wins = 0;
  for (const auto& r : runAll(std::move(calls), 4)) {
    ASSERT_TRUE(r) << r.error().detail;
    if (*r) ++wins;
  }
  EXPECT_EQ(wins, 1);
  auto got = store_->getOrder("o1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->status, OrderStatus::kProcessing);
}

// Finalize's claim racing the deactivation of one of the order's authorizations. The two are
// serialised either way round: the claim first (both succeed: the certificate was decided
// from valid authorizations before the deactivation), or the deactivation first (the claim
// fails). What must never happen is a claim that succeeds after the deactivation committed.
// That is observable: the deactivating side reads the order right after its commit, and if it
// is still `ready` then, the claim had not committed yet and so must fail.
TEST_P(StoreContract, ClaimRacingADeactivationNeverWinsAfterIt) {
  constexpr int kOrders = 24;
  std::vector<Order> orders;
  std::vector<std::future<Result<bool>>> claims;
  std::vector<std::future<Result<DeactivationSeen>>> deactivations;
  for (int i = 0; i < kOrders; ++i) {
    orders.push_back(seedReadyOrder("race" + std::to_string(i)));
    Authorization deactivated = storedAuthzs(orders.back())[i % 2];
    deactivated.status = AuthzStatus::kDeactivated;
    // Alternate which of the two starts first.
    if (i % 2 == 0) {
      claims.push_back(spawn(claimCopy(&async(), orders.back().id, at(1'700'000'500))));
      deactivations.push_back(spawn(deactivateThenReadOrder(&async(), deactivated)));
    } else {
      deactivations.push_back(spawn(deactivateThenReadOrder(&async(), deactivated)));
      claims.push_back(spawn(claimCopy(&async(), orders.back().id, at(1'700'000'500))));
    }
  }
  runOn(4);
  int claimed = 0;
  for (int i = 0; i < kOrders; ++i) {
    const std::string& id = orders[i].id;
    auto claim = claims[i].get();
    auto seen = deactivations[i].get();
    ASSERT_TRUE(claim) << claim.error().detail;
    ASSERT_TRUE(seen) << seen.error().detail;
    // Nothing else changes the authorization: the deactivation always goes through.
    EXPECT_TRUE(seen->won) << id;
    EXPECT_FALSE(seen->order_ready_after && *claim) << id << ": claimed after a deactivation";
    auto got = store_->getOrder(id);
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ((*got)->status, *claim ? OrderStatus::kProcessing : OrderStatus::kReady) << id;
    auto authz = store_->getAuthorization(orders[i].authz_ids[i % 2]);
    ASSERT_TRUE(authz && authz->has_value());
    EXPECT_EQ((*authz)->status, AuthzStatus::kDeactivated) << id;
    if (*claim) ++claimed;
  }
  // Which side wins each race depends on scheduling; a later claim of any of them fails.
  RecordProperty("claims_won", claimed);
  for (const Order& o : orders) {
    auto late = store_->claimOrderForFinalize(o.id, at(1'700'000'500));
    ASSERT_TRUE(late) << late.error().detail;
    EXPECT_FALSE(*late) << o.id;
  }
}

// ---- certificates -------------------------------------------------------------------------

TEST_P(StoreContract, InsertCertificateForOrderOnlyWhileProcessing) {
  Order pending = seedOrder("pending-order");
  Order finished = pending;
  finished.status = OrderStatus::kValid;
  finished.certificate_id = "cert0";
  auto refused = store_->insertCertificateForOrder(makeCert("cert0", "0a", pending), finished);
  ASSERT_TRUE(refused) << refused.error().detail;
  EXPECT_FALSE(*refused);
  auto cert0 = store_->getCertificate("cert0");
  ASSERT_TRUE(cert0);
  EXPECT_FALSE(cert0->has_value());
  auto still_pending = store_->getOrder("pending-order");
  ASSERT_TRUE(still_pending && still_pending->has_value());
  EXPECT_EQ(describe(**still_pending), describe(pending));
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM certificates", "0");

  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "01ff", o);
  Order valid = o;
  valid.status = OrderStatus::kValid;
  valid.certificate_id = "cert1";
  auto won = store_->insertCertificateForOrder(cert, valid);
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);
  auto got_order = store_->getOrder("o1");
  ASSERT_TRUE(got_order && got_order->has_value());
  EXPECT_EQ(describe(**got_order), describe(valid));
  auto by_id = store_->getCertificate("cert1");
  ASSERT_TRUE(by_id && by_id->has_value());
  EXPECT_EQ(describe(**by_id), describe(cert));
  auto by_serial = store_->findCertificateBySerial("01ff");
  ASSERT_TRUE(by_serial && by_serial->has_value());
  EXPECT_EQ(describe(**by_serial), describe(cert));
  auto no_serial = store_->findCertificateBySerial("02");
  ASSERT_TRUE(no_serial);
  EXPECT_FALSE(no_serial->has_value());

  // A second finalize of the same order: the order is valid now, nothing more is written.
  Order again = valid;
  again.certificate_id = "cert2";
  auto lost = store_->insertCertificateForOrder(makeCert("cert2", "02", o), again);
  ASSERT_TRUE(lost);
  EXPECT_FALSE(*lost);
  auto cert2 = store_->getCertificate("cert2");
  ASSERT_TRUE(cert2);
  EXPECT_FALSE(cert2->has_value());
  got_order = store_->getOrder("o1");
  ASSERT_TRUE(got_order && got_order->has_value());
  EXPECT_EQ((*got_order)->certificate_id, "cert1");
}

TEST_P(StoreContract, CertificateChainKeepsEveryByte) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "00ff", o);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  cert.pem_chain += std::string("trailing \x01 bytes\0 and NUL", 25) + all_bytes;
  issue(o, cert);
  auto got = store_->getCertificate("cert1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->pem_chain.size(), cert.pem_chain.size());
  EXPECT_TRUE((*got)->pem_chain == cert.pem_chain);
}

TEST_P(StoreContract, DuplicateSerialIsConflictAndLeavesOrderProcessing) {
  Order first = seedOrder("o1", OrderStatus::kProcessing);
  issue(first, makeCert("cert1", "abcd", first));

  Order second = seedOrder("o2", OrderStatus::kProcessing);
  Order second_valid = second;
  second_valid.status = OrderStatus::kValid;
  second_valid.certificate_id = "cert2";
  auto dup = store_->insertCertificateForOrder(makeCert("cert2", "abcd", second), second_valid);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().type, ProblemType::kConflict);
  auto got = store_->getOrder("o2");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(second));
}

TEST_P(StoreContract, RevokeCertificateOnlyOnce) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  issue(o, makeCert("cert1", "01", o));

  auto first = store_->revokeCertificate("cert1", 1, at(1'700'001'000));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);
  auto second = store_->revokeCertificate("cert1", 4, at(1'700'002'000));
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);

  auto got = store_->findCertificateBySerial("01");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE((*got)->revoked);
  EXPECT_EQ((*got)->revocation_reason, 1);
  EXPECT_EQ(describe((*got)->revoked_at), describe(std::optional(at(1'700'001'000))));

  auto missing = store_->revokeCertificate("nope", 1, at(1));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(StoreContract, CertificateKeepsItsCrlShard) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "0123", o);
  cert.crl_shard = 37;
  issue(o, cert);
  auto got = store_->findCertificateBySerial("0123");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->crl_shard, 37);
  EXPECT_EQ(describe(**got), describe(cert));
}

// What a CRL of one shard lists: revoked certificates of that shard only, while their notAfter
// is at or after the cutoff (now - lookback); reasons and times as revoked.
TEST_P(StoreContract, ListRevokedCertificatesByShardAndExpiry) {
  struct Seed {
    const char* id;
    const char* serial;
    int shard;
    std::int64_t not_after;
    std::optional<int> reason;  // nullopt = not revoked
  };
  const Seed seeds[] = {
      {"c1", "0b", 1, 1'800'000'000, 1},   // listed
      {"c2", "0a", 1, 1'800'000'000, 0},   // listed, reason unspecified
      {"c3", "0c", 1, 1'800'000'000, {}},  // not revoked
      {"c4", "0d", 2, 1'800'000'000, 4},   // another shard
      {"c5", "0e", 1, 1'700'000'099, 5},   // expired before the cutoff
      {"c6", "0f", 1, 1'700'000'100, 9},   // expires exactly at the cutoff: still listed
  };
  for (const Seed& seed : seeds) {
    Order o = seedOrder(std::string("o-") + seed.id, OrderStatus::kProcessing);
    Certificate c = makeCert(seed.id, seed.serial, o);
    c.crl_shard = seed.shard;
    c.not_after = at(seed.not_after);
    issue(o, c);
    if (seed.reason) {
      auto r = store_->revokeCertificate(seed.id, *seed.reason, at(1'700'000'010));
      ASSERT_TRUE(r && *r) << seed.id;
    }
  }
  auto listed = store_->listRevokedCertificates(1, at(1'700'000'100));
  ASSERT_TRUE(listed) << listed.error().detail;
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].serial_hex, "0a");
  EXPECT_EQ((*listed)[0].reason, 0);
  EXPECT_EQ((*listed)[1].serial_hex, "0b");
  EXPECT_EQ((*listed)[1].reason, 1);
  EXPECT_EQ(describe((*listed)[1].revoked_at), describe(at(1'700'000'010)));
  EXPECT_EQ((*listed)[2].serial_hex, "0f");
  EXPECT_EQ((*listed)[2].reason, 9);

  auto other = store_->listRevokedCertificates(2, at(1'700'000'100));
  ASSERT_TRUE(other);
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].serial_hex, "0d");
  auto empty = store_->listRevokedCertificates(3, at(0));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_P(StoreContract, ConcurrentFinalizeHasExactlyOneWinner) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  constexpr int kCalls = 8;
  std::vector<Awaitable<Result<bool>>> calls;
  for (int t = 0; t < kCalls; ++t) {
    std::string id = "cert" + std::to_string(t);
    Order valid = o;
    valid.status = OrderStatus::kValid;
    valid.certificate_id = id;
    calls.push_back(
        finalizeCopy(&async(), makeCert(id, "serial" + std::to_string(t), o), std::move(valid)));
  }
  int wins = 0;
  for (const auto& r : runAll(std::move(calls), 4)) {
    ASSERT_TRUE(r) << r.error().detail;
    if (*r) ++wins;
  }
  EXPECT_EQ(wins, 1);
  auto got = store_->getOrder("o1");
  ASSERT_TRUE(got && got->has_value());
  ASSERT_TRUE((*got)->certificate_id.has_value());
  int stored = 0;
  for (int t = 0; t < kCalls; ++t) {
    auto cert = store_->getCertificate("cert" + std::to_string(t));
    ASSERT_TRUE(cert);
    if (cert->has_value()) {
      ++stored;
      EXPECT_EQ((*got)->certificate_id, (*cert)->id);
    }
  }
  EXPECT_EQ(stored, 1);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM certificates", "1");
  AKAMU_EXPECT_QUERY(
      "SELECT count(*) FROM orders WHERE id = 'o1' AND certificate_id = "
      "(SELECT id FROM certificates)",
      "1");
}

// ---- concurrency --------------------------------------------------------------------------

TEST_P(StoreContract, ConcurrentWritersAllLand) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 200;
  std::vector<Awaitable<int>> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.push_back(insertAndGetMany(&async(), "t" + std::to_string(t) + "-", kPerWriter));
  }
  for (int failures : runAll(std::move(writers), kWriters)) EXPECT_EQ(failures, 0);
  for (int t = 0; t < kWriters; ++t) {
    for (int i = 0; i < kPerWriter; ++i) {
      std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
      auto got = store_->findAccountByThumbprint("thumb-" + id);
      ASSERT_TRUE(got && got->has_value()) << id;
      EXPECT_EQ((*got)->id, id);
    }
  }
}

// Many coroutines on a multi-threaded event loop, as in the server: every write completes on
// its caller's executor, the ones that conflict fail alone, the others all land.
TEST_P(StoreContract, CoroutineWritesFromManyThreadsFailAlone) {
  constexpr int kCalls = 300;
  std::vector<Awaitable<Status>> calls;
  for (int i = 0; i < kCalls; ++i) {
    // Every tenth account reuses the thumbprint of the one before it.
    std::string id = "c" + std::to_string(i);
    std::string thumb = "thumb-c" + std::to_string(i % 10 == 9 ? i - 1 : i);
    calls.push_back(insertAccountCopy(&async(), makeAccount(id, thumb)));
  }
  int ok = 0;
  int conflicts = 0;
  int other = 0;
  for (const auto& st : runAll(std::move(calls), 3)) {
    if (st) {
      ++ok;
    } else if (st.error().type == ProblemType::kConflict) {
      ++conflicts;
    } else {
      ++other;
    }
  }
  EXPECT_EQ(ok, kCalls - kCalls / 10);
  EXPECT_EQ(conflicts, kCalls / 10);
  EXPECT_EQ(other, 0);
  // Which of two accounts sharing a thumbprint wins depends on scheduling; exactly one does.
  for (int i = 0; i < kCalls; ++i) {
    auto got = store_->getAccount("c" + std::to_string(i));
    ASSERT_TRUE(got);
    if (i % 10 == 8) {
      auto twin = store_->getAccount("c" + std::to_string(i + 1));
      ASSERT_TRUE(twin);
      EXPECT_NE(got->has_value(), twin->has_value()) << i;
    } else if (i % 10 != 9) {
      EXPECT_TRUE(got->has_value()) << i;
    }
  }
}

// ---- authorizations shared by orders (reuse, pre-authorization, RFC 9444) ---------------

TEST_P(StoreContract, AnOrderLinksItsNewAndItsReusedAuthorizations) {
  Order first = seedReadyOrder("o1");
  // A later order of the account that reuses one of them and brings a new one.
  Order second = makeOrder("o2", "acct1", 1'700'000'500);
  second.authz_ids = {"o2-new", first.authz_ids[1]};
  Authorization fresh = makeAuthz("o2-new", "acct1", "o2", "c.o2.example");
  ASSERT_TRUE(store_->insertOrder(second, {fresh}));
  auto got = store_->getOrder("o2");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->authz_ids, second.authz_ids);
  auto authzs = store_->getAuthorizations(second.authz_ids);
  ASSERT_TRUE(authzs);
  ASSERT_EQ(authzs->size(), 2u);
  EXPECT_EQ(describe((*authzs)[0]), describe(fresh));
  EXPECT_EQ((*authzs)[1].order_id, "o1");  // created for o1, listed by both

  auto shared = store_->listOrderIdsForAuthorization(first.authz_ids[1], 10);
  ASSERT_TRUE(shared) << shared.error().detail;
  EXPECT_EQ(*shared, (std::vector<std::string>{"o1", "o2"}));
  auto limited = store_->listOrderIdsForAuthorization(first.authz_ids[1], 1);
  ASSERT_TRUE(limited);
  EXPECT_EQ(*limited, std::vector<std::string>{"o1"});
  auto own = store_->listOrderIdsForAuthorization(first.authz_ids[0], 10);
  ASSERT_TRUE(own);
  EXPECT_EQ(*own, std::vector<std::string>{"o1"});
  auto none = store_->listOrderIdsForAuthorization("no-such-authz", 10);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM order_authorizations", "4");

  // An order that lists an authorization nobody stored (one pruned meanwhile) is stored as it
  // is, but links only what exists; it is never claimed.
  Order broken = makeOrder("o3", "acct1", 1'700'000'600);
  broken.status = OrderStatus::kReady;
  broken.authz_ids = {"o3-new", "ghost"};
  Authorization valid_new = makeAuthz("o3-new", "acct1", "o3", "d.o3.example");
  valid_new.status = AuthzStatus::kValid;
  ASSERT_TRUE(store_->insertOrder(broken, {valid_new}));
  auto o3 = store_->getOrder("o3");
  ASSERT_TRUE(o3 && o3->has_value());
  EXPECT_EQ((*o3)->authz_ids, broken.authz_ids);
  auto ghost = store_->listOrderIdsForAuthorization("ghost", 10);
  ASSERT_TRUE(ghost);
  EXPECT_TRUE(ghost->empty());
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM order_authorizations", "5");
  auto claimed = store_->claimOrderForFinalize("o3", at(1'700'000'700));
  ASSERT_TRUE(claimed);
  EXPECT_FALSE(*claimed);
}

TEST_P(StoreContract, APreAuthorizationBelongsToNoOrder) {
  Authorization pre = makeAuthz("pre1", "acct1", "", "pre.example");
  pre.subdomain_auth_allowed = true;
  pre.challenges.resize(2);  // dns-01 is the second
  ASSERT_TRUE(store_->insertAuthorization(pre));
  auto got = store_->getAuthorization("pre1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(pre));
  EXPECT_TRUE((*got)->order_id.empty());
  auto orders = store_->listOrderIdsForAuthorization("pre1", 10);
  ASSERT_TRUE(orders);
  EXPECT_TRUE(orders->empty());
  // A duplicate id is a conflict.
  auto again = store_->insertAuthorization(pre);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().type, ProblemType::kConflict);
  // An order can list it.
  Order o = makeOrder("o1", "acct1", 1'700'000'000);
  o.identifiers = {{"dns", "pre.example"}};
  o.authz_ids = {"pre1"};
  ASSERT_TRUE(store_->insertOrder(o, {}));
  orders = store_->listOrderIdsForAuthorization("pre1", 10);
  ASSERT_TRUE(orders);
  EXPECT_EQ(*orders, std::vector<std::string>{"o1"});
}

TEST_P(StoreContract, FindReusableAuthorizationRanksValidAncestorPending) {
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  auto put = [&](const std::string& id, const std::string& account, const std::string& name,
                 AuthzStatus status, std::int64_t expires, bool wildcard = false,
                 bool subdomain = false) {
    Authorization a = makeAuthz(id, account, "", name);
    a.status = status;
    a.expires = at(expires);
    a.wildcard = wildcard;
    a.subdomain_auth_allowed = subdomain;
    auto st = store_->insertAuthorization(a);
    EXPECT_TRUE(st) << st.error().detail;
  };
  auto find = [&](AuthzReuseQuery q) -> std::string {
    auto got = store_->findReusableAuthorization(q);
    EXPECT_TRUE(got) << got.error().detail;
    return got && got->has_value() ? (*got)->id : "none";
  };
  AuthzReuseQuery q;
  q.account_id = "acct1";
  q.identifier = {"dns", "x.ex.test"};
  q.expires_after = at(1'000);
  EXPECT_EQ(find(q), "none");

  put("pending", "acct1", "x.ex.test", AuthzStatus::kPending, 5'000);
  put("invalid", "acct1", "x.ex.test", AuthzStatus::kInvalid, 9'000);
  put("deact", "acct1", "x.ex.test", AuthzStatus::kDeactivated, 9'000);
  put("theirs", "acct2", "x.ex.test", AuthzStatus::kValid, 9'000);
  EXPECT_EQ(find(q), "none");  // pending only when asked for; never another account's
  q.include_pending = true;
  EXPECT_EQ(find(q), "pending");

  put("ancestor", "acct1", "ex.test", AuthzStatus::kValid, 6'000, false, true);
  put("plain-parent", "acct1", "ex.test", AuthzStatus::kValid, 8'000);
  EXPECT_EQ(find(q), "pending");  // no ancestors asked for
  q.ancestors = {"ex.test"};
  EXPECT_EQ(find(q), "ancestor");  // only the subdomainAuthAllowed one covers x.ex.test

  put("valid-soon", "acct1", "x.ex.test", AuthzStatus::kValid, 2'000);
  put("valid-later", "acct1", "x.ex.test", AuthzStatus::kValid, 3'000);
  EXPECT_EQ(find(q), "valid-later");  // the identifier itself first, the latest expiry
  q.expires_after = at(3'000);        // both expire too soon: then the ancestor
  EXPECT_EQ(find(q), "ancestor");
  q.expires_after = at(6'000);
  EXPECT_EQ(find(q), "none");  // ... and the pending one expires at 5'000
  q.expires_after = at(1'000);

  // Wildcards: only a wildcard authorization of the base name, or (RFC 9444) an ancestor.
  put("wild", "acct1", "x.ex.test", AuthzStatus::kValid, 4'000, true);
  AuthzReuseQuery w = q;
  w.wildcard = true;
  w.include_pending = false;
  w.ancestors = {};
  EXPECT_EQ(find(w), "wild");
  q.include_pending = false;
  EXPECT_EQ(find(q), "valid-later");  // the wildcard one never serves the plain name

  // An ancestorDomain names the identifier asked for: only subdomain authorizations of it.
  AuthzReuseQuery named;
  named.account_id = "acct1";
  named.identifier = {"dns", "ex.test"};
  named.expires_after = at(1'000);
  EXPECT_EQ(find(named), "plain-parent");
  named.require_subdomain_auth = true;
  EXPECT_EQ(find(named), "ancestor");
}

TEST_P(StoreContract, ClaimRechecksASharedAuthorizationForEveryOrder) {
  Order first = seedReadyOrder("o1");
  Order second = makeOrder("o2", "acct1", 1'700'000'500);
  second.status = OrderStatus::kReady;
  second.authz_ids = first.authz_ids;
  ASSERT_TRUE(store_->insertOrder(second, {}));
  auto authzs = storedAuthzs(first);
  ASSERT_EQ(authzs.size(), 2u);
  Authorization deactivated = authzs[1];
  deactivated.status = AuthzStatus::kDeactivated;
  auto won = store_->updateAuthorizationIfStatus(deactivated, AuthzStatus::kValid);
  ASSERT_TRUE(won && *won);
  for (const char* id : {"o1", "o2"}) {
    auto claimed = store_->claimOrderForFinalize(id, at(1'700'000'200));
    ASSERT_TRUE(claimed) << claimed.error().detail;
    EXPECT_FALSE(*claimed) << id;
  }
}

TEST_P(StoreContract, PruneKeepsAnAuthorizationAKeptOrderStillLists) {
  // "old" expires at 1'700'086'400 with its authorizations; "late", created much later and
  // not expired, still lists one of them (and a pre-authorization that expired long ago).
  Order old = seedOrder("old", OrderStatus::kPending, 1'700'000'000);
  Authorization pre = makeAuthz("pre", "acct1", "", "pre.example");
  ASSERT_TRUE(store_->insertAuthorization(pre));
  Authorization unused = makeAuthz("unused", "acct1", "", "unused.example");
  ASSERT_TRUE(store_->insertAuthorization(unused));
  Order late = makeOrder("late", "acct1", 1'800'000'000);
  late.authz_ids = {old.authz_ids[0], "pre"};
  ASSERT_TRUE(store_->insertOrder(late, {}));

  auto counts = store_->pruneExpired(at(1'700'200'000), 100);
  ASSERT_TRUE(counts) << counts.error().detail;
  EXPECT_EQ(counts->orders, 1u);
  EXPECT_EQ(counts->authorizations, 2u);  // old's unshared one, and the unused one
  auto gone = store_->getAuthorizations({old.authz_ids[1], "unused"});
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
  auto kept = store_->getAuthorizations(late.authz_ids);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->size(), 2u);
  auto links = store_->listOrderIdsForAuthorization(old.authz_ids[0], 10);
  ASSERT_TRUE(links);
  EXPECT_EQ(*links, std::vector<std::string>{"late"});

  // Once "late" expires too, they go with it.
  counts = store_->pruneExpired(at(1'900'000'000), 100);
  ASSERT_TRUE(counts) << counts.error().detail;
  EXPECT_EQ(counts->orders, 1u);
  EXPECT_EQ(counts->authorizations, 2u);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM authorizations", "0");
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM order_authorizations", "0");
}

// Rows as the schema before migration 8 held them (every authorization owned by its order, no
// link table), in SQL that both backends accept. The backends' migration tests write them
// after migrations 1..7 and check, after the upgrade, with expectRowsFromBeforeMigration8.
inline constexpr const char* kRowsBeforeMigration8 = R"sql(
INSERT INTO accounts(id, thumbprint, jwk_json, status, contacts, tos_agreed, created_at)
  VALUES ('old-acct', 'old-thumb', '{"kty":"EC"}', 'valid', '[]', '1', 1700000000);
INSERT INTO orders(id, account_id, status, expires, identifiers, authz_ids, created_at)
  VALUES ('old-order', 'old-acct', 'ready', 1700086400,
          '[{"type":"dns","value":"a.old.example"},{"type":"dns","value":"b.old.example"}]',
          '["old-az2","old-az1"]', 1700000000);
INSERT INTO authorizations(id, account_id, order_id, identifier_type, identifier_value, status,
                           expires, wildcard)
  VALUES ('old-az1', 'old-acct', 'old-order', 'dns', 'b.old.example', 'valid', 1700080000, '0'),
         ('old-az2', 'old-acct', 'old-order', 'dns', 'a.old.example', 'valid', 1700080000, '0');
INSERT INTO challenges(id, authz_id, position, type, token, status, validated)
  VALUES ('old-az1-http', 'old-az1', 0, 'http-01', 'tok1', 'valid', 1700000100),
         ('old-az2-http', 'old-az2', 0, 'http-01', 'tok2', 'valid', 1700000100);
)sql";

inline void expectRowsFromBeforeMigration8(BlockingStore& store) {
  auto order = store.getOrder("old-order");
  ASSERT_TRUE(order && order->has_value()) << (order ? "missing" : order.error().detail);
  EXPECT_EQ((*order)->status, OrderStatus::kReady);
  EXPECT_EQ((*order)->authz_ids, (std::vector<std::string>{"old-az2", "old-az1"}));
  auto authzs = store.getAuthorizations((*order)->authz_ids);
  ASSERT_TRUE(authzs) << authzs.error().detail;
  ASSERT_EQ(authzs->size(), 2u);
  for (const auto& a : *authzs) {
    EXPECT_EQ(a.order_id, "old-order");
    EXPECT_EQ(a.status, AuthzStatus::kValid);
    EXPECT_FALSE(a.subdomain_auth_allowed);
    EXPECT_EQ(a.challenges.size(), 1u);
    auto orders = store.listOrderIdsForAuthorization(a.id, 10);
    ASSERT_TRUE(orders) << orders.error().detail;
    EXPECT_EQ(*orders, std::vector<std::string>{"old-order"}) << a.id;
  }
  // Reusable by a new order of the account, which links to it as well.
  AuthzReuseQuery q;
  q.account_id = "old-acct";
  q.identifier = {"dns", "b.old.example"};
  q.expires_after = at(1'700'000'000);
  auto found = store.findReusableAuthorization(q);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->id, "old-az1");
  Order later = makeOrder("new-order", "old-acct", 1'700'000'500);
  later.identifiers = {{"dns", "b.old.example"}};
  later.authz_ids = {"old-az1"};
  ASSERT_TRUE(store.insertOrder(later, {}));
  auto orders = store.listOrderIdsForAuthorization("old-az1", 10);
  ASSERT_TRUE(orders);
  EXPECT_EQ(*orders, (std::vector<std::string>{"new-order", "old-order"}));
  // A pre-authorization fits the upgraded schema; the old order can still be finalized.
  ASSERT_TRUE(store.insertAuthorization(makeAuthz("pre", "old-acct", "", "p.old.example")));
  auto claimed = store.claimOrderForFinalize("old-order", at(1'700'000'200));
  ASSERT_TRUE(claimed) << claimed.error().detail;
  EXPECT_TRUE(*claimed);
}

// ---- retention ----------------------------------------------------------------------------

TEST_P(StoreContract, PruneRemovesExpiredUncertifiedOrdersAndKeepsCertificates) {
  // Orders expire at created + 1 day; authorizations at 1'700'086'400.
  Order old_pending = seedOrder("old-pending", OrderStatus::kPending, 1'700'000'000);
  Order old_invalid = seedOrder("old-invalid", OrderStatus::kInvalid, 1'700'000'000);
  Order issued = seedOrder("issued", OrderStatus::kProcessing, 1'700'000'000);
  Order fresh = seedOrder("fresh", OrderStatus::kPending, 1'800'000'000);
  Order valid = issue(issued, makeCert("cert-issued", "0a0b", issued));
  ASSERT_TRUE(store_->revokeCertificate("cert-issued", 4, at(1'700'000'100)));

  // Before anything expired: nothing to do.
  auto none = store_->pruneExpired(at(1'700'000'000), 100);
  ASSERT_TRUE(none) << none.error().detail;
  EXPECT_EQ(none->orders + none->authorizations + none->challenges, 0u);
  EXPECT_FALSE(none->more);

  const TimePoint cutoff = at(1'700'200'000);
  auto pruned = store_->pruneExpired(cutoff, 100);
  ASSERT_TRUE(pruned) << pruned.error().detail;
  EXPECT_EQ(pruned->orders, 2u);
  EXPECT_EQ(pruned->authorizations, 6u);  // two per order, three orders
  EXPECT_EQ(pruned->challenges, 18u);
  EXPECT_FALSE(pruned->more);

  for (const Order* gone : {&old_pending, &old_invalid}) {
    auto o = store_->getOrder(gone->id);
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->has_value()) << gone->id;
    auto a = store_->getAuthorization(gone->authz_ids[0]);
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->has_value()) << gone->id;
  }
  // The certified order and its certificate (with its revocation) stay; its authorizations,
  // expired, are gone.
  auto kept = store_->getOrder("issued");
  ASSERT_TRUE(kept && kept->has_value());
  EXPECT_EQ(describe(**kept), describe(valid));
  auto cert = store_->getCertificate("cert-issued");
  ASSERT_TRUE(cert && cert->has_value());
  EXPECT_TRUE((*cert)->revoked);
  EXPECT_EQ((*cert)->revocation_reason, 4);
  auto issued_authz = store_->getAuthorization(issued.authz_ids[0]);
  ASSERT_TRUE(issued_authz);
  EXPECT_FALSE(issued_authz->has_value());
  // The account and the order that has not expired are untouched.
  auto account = store_->getAccount("acct1");
  ASSERT_TRUE(account && account->has_value());
  auto f = store_->getOrder("fresh");
  ASSERT_TRUE(f && f->has_value());
  auto fa = store_->getAuthorizations(fresh.authz_ids);
  ASSERT_TRUE(fa);
  EXPECT_EQ(fa->size(), 2u);

  // A second pass finds nothing left.
  auto again = store_->pruneExpired(cutoff, 100);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->orders + again->authorizations + again->challenges, 0u);
}

TEST_P(StoreContract, PruneDeletesUncertifiedOrdersAndOldAuthorizationsOfKeptOnes) {
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
  ASSERT_TRUE(store_->insertOrder(stale, authzsExpiring(stale, cutoff - 10)));
  // Expired but certified: the order and certificate stay, its expired authorizations go.
  Order certified = withTimes(makeOrder("certified", "acct1", 100), cutoff - 10);
  certified.status = OrderStatus::kProcessing;
  ASSERT_TRUE(store_->insertOrder(certified, authzsExpiring(certified, cutoff - 10)));
  Order certified_valid = issue(certified, makeCert("cert1", "01", certified));
  // Certified with authorizations still valid after the cutoff: untouched.
  Order recent_cert = withTimes(makeOrder("recent-cert", "acct1", 100), cutoff - 10);
  recent_cert.status = OrderStatus::kProcessing;
  ASSERT_TRUE(store_->insertOrder(recent_cert, authzsExpiring(recent_cert, cutoff + 10)));
  issue(recent_cert, makeCert("cert2", "02", recent_cert));
  // Not expired: untouched.
  Order fresh = withTimes(makeOrder("fresh", "acct1", 100), cutoff + 10);
  ASSERT_TRUE(store_->insertOrder(fresh, authzsExpiring(fresh, cutoff + 10)));

  auto counts = store_->pruneExpired(at(cutoff), 100);
  ASSERT_TRUE(counts) << counts.error().detail;
  EXPECT_EQ(counts->orders, 1u);
  EXPECT_EQ(counts->authorizations, 4u);  // 2 of "stale", 2 of "certified"
  EXPECT_EQ(counts->challenges, 12u);
  EXPECT_FALSE(counts->more);

  auto gone = store_->getOrder("stale");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto kept = store_->getOrder("certified");
  ASSERT_TRUE(kept && kept->has_value());
  EXPECT_EQ(describe(**kept), describe(certified_valid));
  auto cert = store_->getCertificate("cert1");
  ASSERT_TRUE(cert && cert->has_value());
  auto old_authzs =
      store_->getAuthorizations({"stale-az1", "stale-az2", "certified-az1", "certified-az2"});
  ASSERT_TRUE(old_authzs);
  EXPECT_TRUE(old_authzs->empty());
  auto live_authzs =
      store_->getAuthorizations({"recent-cert-az1", "recent-cert-az2", "fresh-az1", "fresh-az2"});
  ASSERT_TRUE(live_authzs);
  EXPECT_EQ(live_authzs->size(), 4u);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM challenges", "12");
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM orders", "3");
  auto account = store_->getAccount("acct1");
  ASSERT_TRUE(account && account->has_value());

  // Nothing left to do.
  counts = store_->pruneExpired(at(cutoff), 100);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->orders + counts->authorizations + counts->challenges, 0u);
  EXPECT_FALSE(counts->more);
}

TEST_P(StoreContract, PruneDrainsABacklogInBoundedPasses) {
  // Five orders, one of them created in the same second as another.
  for (int i = 0; i < 5; ++i) {
    Order o = makeOrder("old" + std::to_string(i), "acct1", 100 + std::min(i, 3));
    ASSERT_TRUE(store_->insertOrder(o, authzsFor(o)));
  }
  std::vector<std::size_t> passes;
  std::size_t orders = 0;
  for (int pass = 0; pass < 10; ++pass) {
    auto counts = store_->pruneExpired(at(1'900'000'000), 2);
    ASSERT_TRUE(counts) << counts.error().detail;
    ASSERT_LE(counts->orders, 2u);
    passes.push_back(counts->orders);
    orders += counts->orders;
    EXPECT_EQ(counts->authorizations, 2 * counts->orders);
    EXPECT_EQ(counts->challenges, 6 * counts->orders);
    if (!counts->more) break;
  }
  EXPECT_EQ(passes, (std::vector<std::size_t>{2, 2, 1}));  // 2 + 2 + 1
  EXPECT_EQ(orders, 5u);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM orders", "0");
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM authorizations", "0");
  for (int i = 0; i < 5; ++i) {
    auto o = store_->getOrder("old" + std::to_string(i));
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->has_value()) << i;
  }

  // A limit of zero deletes nothing and so reaches no limit.
  auto zero = store_->pruneExpired(at(1'900'000'000), 0);
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->orders + zero->authorizations + zero->challenges, 0u);
  EXPECT_FALSE(zero->more);
}

// ---- ARI: replacement orders, renewal windows, incidents ------------------------------------

// An order that replaces the certificate with serial `serial`, created at `created` (it expires
// a day later), not yet in the store.
inline Order replacementOrder(const std::string& id, const std::string& serial,
                              std::int64_t created = 1'700'000'000) {
  Order o = makeOrder(id, "acct1", created);
  o.replaces = "certid-of-" + serial;
  o.replaces_serial = serial;
  return o;
}

TEST_P(StoreContract, ReplacementOrderRoundTripsAndKeepsItsFieldsThroughUpdates) {
  Order o = replacementOrder("r1", "0a0b");
  o.profile = "shortlived";
  auto won = store_->insertReplacementOrder(o, authzsFor(o), at(1'700'000'100));
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);
  auto got = store_->getOrder("r1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(o));
  auto authzs = store_->getAuthorizations(o.authz_ids);
  ASSERT_TRUE(authzs);
  ASSERT_EQ(authzs->size(), 2u);
  EXPECT_EQ(describe((*authzs)[0]), describe(authzsFor(o)[0]));
  AKAMU_EXPECT_QUERY("SELECT order_id FROM replacements WHERE replaced_serial = '0a0b'", "r1");

  // The profile and the replaced certificate stay through every later write of the order.
  Order processing = o;
  processing.status = OrderStatus::kProcessing;
  ASSERT_TRUE(store_->updateOrderIfStatus(processing, OrderStatus::kPending));
  Order valid = issue(processing, makeCert("cert-r1", "0c0d", processing));
  got = store_->getOrder("r1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(valid));
  EXPECT_EQ((*got)->profile, "shortlived");
  EXPECT_EQ((*got)->replaces_serial, "0a0b");
  auto cert = store_->getCertificate("cert-r1");
  ASSERT_TRUE(cert && cert->has_value());
  EXPECT_EQ((*cert)->profile, "shortlived");
}

TEST_P(StoreContract, ReplacementOrderWithoutReplacedSerialIsRefused) {
  Order o = makeOrder("r1", "acct1", 1'700'000'000);
  auto refused = store_->insertReplacementOrder(o, authzsFor(o), at(1'700'000'100));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, ProblemType::kServerInternal);
  auto got = store_->getOrder("r1");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
}

// One live replacement per certificate: a second is refused with nothing written, until the
// first becomes invalid, or expires unfinished; processing and valid keep the claim for good.
TEST_P(StoreContract, OnlyOneLiveReplacementPerCertificate) {
  const TimePoint now = at(1'700'000'100);
  Order first = replacementOrder("r1", "0a0b");
  auto won = store_->insertReplacementOrder(first, authzsFor(first), now);
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);

  Order second = replacementOrder("r2", "0a0b");
  auto lost = store_->insertReplacementOrder(second, authzsFor(second), now);
  ASSERT_TRUE(lost) << lost.error().detail;
  EXPECT_FALSE(*lost);
  auto got = store_->getOrder("r2");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
  auto authzs = store_->getAuthorizations(second.authz_ids);
  ASSERT_TRUE(authzs);
  EXPECT_TRUE(authzs->empty());
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM orders", "1");
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM challenges", "6");
  // Another certificate is replaced independently.
  Order other = replacementOrder("r-other", "0e0f");
  auto other_won = store_->insertReplacementOrder(other, authzsFor(other), now);
  ASSERT_TRUE(other_won && *other_won);

  // Ready is still live.
  Order ready = first;
  ready.status = OrderStatus::kReady;
  ASSERT_TRUE(store_->updateOrderIfStatus(ready, OrderStatus::kPending));
  lost = store_->insertReplacementOrder(second, authzsFor(second), now);
  ASSERT_TRUE(lost && !*lost);

  // Invalid releases it.
  Order invalid = ready;
  invalid.status = OrderStatus::kInvalid;
  ASSERT_TRUE(store_->updateOrderIfStatus(invalid, OrderStatus::kReady));
  won = store_->insertReplacementOrder(second, authzsFor(second), now);
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);
  AKAMU_EXPECT_QUERY("SELECT order_id FROM replacements WHERE replaced_serial = '0a0b'", "r2");

  // Pending past its expiry (a day after creation) releases it too.
  const TimePoint after_expiry = at(1'700'000'000 + 86400);
  Order third = replacementOrder("r3", "0a0b", 1'700'086'400);
  lost = store_->insertReplacementOrder(third, authzsFor(third), at(1'700'086'399));
  ASSERT_TRUE(lost && !*lost);
  won = store_->insertReplacementOrder(third, authzsFor(third), after_expiry);
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);

  // Processing and valid hold it whatever the time: the certificate is being or was replaced.
  Order processing = third;
  processing.status = OrderStatus::kProcessing;
  ASSERT_TRUE(store_->updateOrderIfStatus(processing, OrderStatus::kPending));
  Order fourth = replacementOrder("r4", "0a0b", 1'800'000'000);
  lost = store_->insertReplacementOrder(fourth, authzsFor(fourth), at(1'800'000'000));
  ASSERT_TRUE(lost && !*lost);
  issue(processing, makeCert("cert-r3", "1234", processing));
  lost = store_->insertReplacementOrder(fourth, authzsFor(fourth), at(1'800'000'000));
  ASSERT_TRUE(lost && !*lost);
  got = store_->getOrder("r4");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
}

TEST_P(StoreContract, PrunedReplacementOrderReleasesItsClaim) {
  Order first = replacementOrder("r1", "0a0b");
  ASSERT_TRUE(store_->insertReplacementOrder(first, authzsFor(first), at(1'700'000'100)));
  auto pruned = store_->pruneExpired(at(1'700'200'000), 100);
  ASSERT_TRUE(pruned) << pruned.error().detail;
  EXPECT_EQ(pruned->orders, 1u);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM replacements", "0");

  // Claimed at a time when the pruned order would still have been live: only its absence
  // releases the claim.
  Order second = replacementOrder("r2", "0a0b");
  auto won = store_->insertReplacementOrder(second, authzsFor(second), at(1'700'000'100));
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);
}

// A uniqueness violation other than the claim's (here a duplicate order id) is kConflict, not
// a lost claim, and leaves no claim behind.
TEST_P(StoreContract, ReplacementOrderWithATakenOrderIdIsConflict) {
  seedOrder("o1");
  Order dup = replacementOrder("o1", "0a0b");
  auto r = store_->insertReplacementOrder(dup, authzsFor(dup), at(1'700'000'100));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, ProblemType::kConflict);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM replacements", "0");
  Order fresh = replacementOrder("r1", "0a0b");
  auto won = store_->insertReplacementOrder(fresh, authzsFor(fresh), at(1'700'000'100));
  ASSERT_TRUE(won) << won.error().detail;
  EXPECT_TRUE(*won);
}

// Many clients replacing one certificate at once: exactly one order is created. The second
// round starts from a dead claim (an invalid order), which every call tries to release.
TEST_P(StoreContract, ConcurrentReplacementsHaveExactlyOneWinner) {
  constexpr int kCalls = 16;
  for (int round = 0; round < 2; ++round) {
    std::vector<Awaitable<Result<bool>>> calls;
    for (int i = 0; i < kCalls; ++i) {
      Order o = replacementOrder("r" + std::to_string(round) + "-" + std::to_string(i), "0a0b");
      calls.push_back(replaceCopy(&async(), o, authzsFor(o), at(1'700'000'100)));
    }
    std::string winner;
    int wins = 0;
    auto results = runAll(std::move(calls), 4);
    for (int i = 0; i < kCalls; ++i) {
      ASSERT_TRUE(results[i]) << results[i].error().detail;
      if (*results[i]) {
        ++wins;
        winner = "r" + std::to_string(round) + "-" + std::to_string(i);
      }
    }
    ASSERT_EQ(wins, 1) << "round " << round;
    for (int i = 0; i < kCalls; ++i) {
      const std::string id = "r" + std::to_string(round) + "-" + std::to_string(i);
      auto got = store_->getOrder(id);
      ASSERT_TRUE(got);
      EXPECT_EQ(got->has_value(), id == winner) << id;
    }
    AKAMU_EXPECT_QUERY("SELECT order_id FROM replacements", winner);
    AKAMU_EXPECT_QUERY("SELECT count(*) FROM orders", std::to_string(round + 1));
    // The winner becomes invalid: its claim is dead for the next round.
    auto stored = store_->getOrder(winner);
    ASSERT_TRUE(stored && stored->has_value());
    Order invalid = **stored;
    invalid.status = OrderStatus::kInvalid;
    ASSERT_TRUE(store_->updateOrderIfStatus(invalid, OrderStatus::kPending));
  }
}

TEST_P(StoreContract, CertificateProfileIssuedAtAndRenewalWindowRoundTrip) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "01", o);
  issue(o, cert);
  auto got = store_->getCertificate("cert1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(cert));

  // Without a window (both ends at the epoch) it reads back with the default rule's window,
  // as certificates stored before ARI do.
  Order o2 = seedOrder("o2", OrderStatus::kProcessing);
  Certificate bare = makeCert("cert2", "02", o2);
  bare.renewal_start = TimePoint{};
  bare.renewal_end = TimePoint{};
  issue(o2, bare);
  got = store_->findCertificateBySerial("02");
  ASSERT_TRUE(got && got->has_value());
  const auto window = acme::renewalWindowFor(bare.not_before, bare.not_after);
  EXPECT_EQ(describe((*got)->renewal_start), describe(window.start));
  EXPECT_EQ(describe((*got)->renewal_end), describe(window.end));
  EXPECT_LT((*got)->renewal_start, (*got)->renewal_end);
  EXPECT_EQ(describe((*got)->issued_at), describe(bare.issued_at));
}

TEST_P(StoreContract, IncidentsListOldestFirstDeleteOnceAndRefuseDuplicateIds) {
  auto empty = store_->listIncidents();
  ASSERT_TRUE(empty) << empty.error().detail;
  EXPECT_TRUE(empty->empty());

  const auto serial = makeIncident("i-serial", acme::IncidentScope::kSerial, "0a0b", 300);
  const auto account = makeIncident("i-account", acme::IncidentScope::kAccount, "acct1", 100);
  const auto profile = makeIncident("i-profile", acme::IncidentScope::kProfile, "tlsserver", 200);
  for (const auto* i : {&serial, &account, &profile}) {
    auto st = store_->insertIncident(*i);
    ASSERT_TRUE(st) << st.error().detail;
  }
  auto dup =
      store_->insertIncident(makeIncident("i-serial", acme::IncidentScope::kAccount, "x", 1));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().type, ProblemType::kConflict);

  auto all = store_->listIncidents();
  ASSERT_TRUE(all) << all.error().detail;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(describe((*all)[0]), describe(account));
  EXPECT_EQ(describe((*all)[1]), describe(profile));
  EXPECT_EQ(describe((*all)[2]), describe(serial));

  auto deleted = store_->deleteIncident("i-profile");
  ASSERT_TRUE(deleted) << deleted.error().detail;
  EXPECT_TRUE(*deleted);
  auto again = store_->deleteIncident("i-profile");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto missing = store_->deleteIncident("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  all = store_->listIncidents();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "i-account");
  EXPECT_EQ((*all)[1].id, "i-serial");
}

// A serial incident matches its certificate whenever it was declared; an account or profile
// incident only certificates issued before it; the oldest match wins. Served by the read-only
// view too (the ARI read path).
TEST_P(StoreContract, FindIncidentForMatchesBySerialAccountOrProfile) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "0a0b", o);  // acct1, "tlsserver"
  const std::int64_t issued = core::toUnixSeconds(cert.issued_at);
  issue(o, cert);
  auto find = [&](Store& store) {
    auto found = BlockingStore(store, &io_).findIncidentFor(cert);
    EXPECT_TRUE(found) << found.error().detail;
    return found ? *found : std::nullopt;
  };
  auto add = [&](const acme::Incident& i) {
    auto st = store_->insertIncident(i);
    ASSERT_TRUE(st) << st.error().detail;
  };
  using acme::IncidentScope;
  EXPECT_EQ(describe(find(async())), "nullopt");

  // Others' incidents, and account or profile incidents declared before (or as) it was issued.
  add(makeIncident("other-serial", IncidentScope::kSerial, "0a0c", issued - 500));
  add(makeIncident("other-account", IncidentScope::kAccount, "acct2", issued + 10));
  add(makeIncident("other-profile", IncidentScope::kProfile, "shortlived", issued + 10));
  add(makeIncident("old-account", IncidentScope::kAccount, "acct1", issued - 10));
  add(makeIncident("old-profile", IncidentScope::kProfile, "tlsserver", issued));
  EXPECT_EQ(describe(find(async())), "nullopt");

  const auto profile = makeIncident("profile", IncidentScope::kProfile, "tlsserver", issued + 30);
  add(profile);
  EXPECT_EQ(describe(find(async())), describe(profile));
  const auto account = makeIncident("account", IncidentScope::kAccount, "acct1", issued + 20);
  add(account);
  EXPECT_EQ(describe(find(async())), describe(account));
  // A serial incident counts even when declared before the certificate was issued, and here it
  // is the oldest.
  const auto serial = makeIncident("serial", IncidentScope::kSerial, "0a0b", issued - 100);
  add(serial);
  EXPECT_EQ(describe(find(async())), describe(serial));
  EXPECT_EQ(describe(find(async().readOnly())), describe(serial));

  ASSERT_TRUE(store_->deleteIncident("serial"));
  EXPECT_EQ(describe(find(async())), describe(account));
  ASSERT_TRUE(store_->deleteIncident("account"));
  EXPECT_EQ(describe(find(async().readOnly())), describe(profile));
}

// ---- external account binding -------------------------------------------------------------

inline Awaitable<Result<bool>> insertWithEabCopy(Store* store, Account account, TimePoint now) {
  co_return co_await store->insertAccountWithEab(account, now);
}

inline Account eabAccount(const std::string& id, const std::string& key_id) {
  Account a = makeAccount(id, "thumb-" + id);
  a.eab_key_id = key_id;
  return a;
}

TEST_P(StoreContract, EabCredentialRoundTripsAndListsOldestFirst) {
  acme::EabCredential scoped = makeEab("kid-b");
  scoped.created_at = at(1'700'000'100);
  scoped.expires = at(1'700'086'400);
  scoped.max_uses.reset();  // unlimited
  scoped.allowed_profiles = {"default", "short\"lived"};
  scoped.identifier_patterns = {"example.com", "*.example.org", "192.0.2.1"};
  ASSERT_TRUE(store_->insertEabCredential(scoped));
  acme::EabCredential plain = makeEab("kid-a");
  plain.max_uses = 5;
  ASSERT_TRUE(store_->insertEabCredential(plain));

  auto got = store_->getEabCredential("kid-b");
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(describe(**got), describe(scoped));
  auto missing = store_->getEabCredential("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  auto all = store_->listEabCredentials();
  ASSERT_TRUE(all) << all.error().detail;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(describe((*all)[0]), describe(plain));  // created first
  EXPECT_EQ(describe((*all)[1]), describe(scoped));

  auto dup = store_->insertEabCredential(makeEab("kid-a"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().type, ProblemType::kConflict);
}

TEST_P(StoreContract, InsertAccountWithEabConsumesOneUseAndRecordsTheBinding) {
  acme::EabCredential two = makeEab("kid2");
  two.max_uses = 2;
  ASSERT_TRUE(store_->insertEabCredential(two));

  auto first = store_->insertAccountWithEab(eabAccount("e1", "kid2"), at(1'700'000'500));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);
  auto after_one = store_->getEabCredential("kid2");
  ASSERT_TRUE(after_one && after_one->has_value());
  EXPECT_EQ((*after_one)->uses, 1u);
  EXPECT_EQ((*after_one)->state, acme::EabState::kBound);

  auto second = store_->insertAccountWithEab(eabAccount("e2", "kid2"), at(1'700'000'600));
  ASSERT_TRUE(second && *second);
  // Used up: refused, nothing written.
  auto third = store_->insertAccountWithEab(eabAccount("e3", "kid2"), at(1'700'000'700));
  ASSERT_TRUE(third) << third.error().detail;
  EXPECT_FALSE(*third);
  auto e3 = store_->getAccount("e3");
  ASSERT_TRUE(e3);
  EXPECT_FALSE(e3->has_value());

  auto e1 = store_->getAccount("e1");
  ASSERT_TRUE(e1 && e1->has_value());
  EXPECT_EQ(describe(**e1), describe(eabAccount("e1", "kid2")));
  auto bound = store_->listEabBoundAccountIds("kid2");
  ASSERT_TRUE(bound) << bound.error().detail;
  EXPECT_EQ(*bound, (std::vector<std::string>{"e1", "e2"}));
  auto none = store_->listEabBoundAccountIds("kid-unknown");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto used = store_->getEabCredential("kid2");
  ASSERT_TRUE(used && used->has_value());
  EXPECT_EQ((*used)->uses, 2u);
}

TEST_P(StoreContract, InsertAccountWithEabRefusesUnknownRevokedAndExpiredCredentials) {
  auto unknown = store_->insertAccountWithEab(eabAccount("u1", "kid-unknown"), at(1'700'000'500));
  ASSERT_TRUE(unknown) << unknown.error().detail;
  EXPECT_FALSE(*unknown);

  acme::EabCredential expiring = makeEab("kid-exp");
  expiring.expires = at(1'700'001'000);
  expiring.max_uses.reset();
  ASSERT_TRUE(store_->insertEabCredential(expiring));
  // Expired at exactly `expires`.
  auto late = store_->insertAccountWithEab(eabAccount("x1", "kid-exp"), at(1'700'001'000));
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  auto early = store_->insertAccountWithEab(eabAccount("x2", "kid-exp"), at(1'700'000'999));
  ASSERT_TRUE(early);
  EXPECT_TRUE(*early);

  ASSERT_TRUE(store_->insertEabCredential(makeEab("kid-rev")));
  auto revoked = store_->revokeEabCredential("kid-rev", at(1'700'000'300));
  ASSERT_TRUE(revoked) << revoked.error().detail;
  EXPECT_TRUE(*revoked);
  auto again = store_->revokeEabCredential("kid-rev", at(1'700'000'400));
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // compare-and-set: only once
  auto absent = store_->revokeEabCredential("kid-unknown", at(1'700'000'400));
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
  auto stored = store_->getEabCredential("kid-rev");
  ASSERT_TRUE(stored && stored->has_value());
  EXPECT_EQ((*stored)->state, acme::EabState::kRevoked);
  EXPECT_EQ(describe((*stored)->revoked_at), "1700000300");
  auto refused = store_->insertAccountWithEab(eabAccount("r1", "kid-rev"), at(1'700'000'500));
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
  EXPECT_EQ((*store_->getEabCredential("kid-rev"))->uses, 0u);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM accounts", "2");  // acct1 and x2
}

TEST_P(StoreContract, InsertAccountWithEabConflictConsumesNothing) {
  ASSERT_TRUE(store_->insertEabCredential(makeEab("kid1")));
  Account taken = eabAccount("c1", "kid1");
  taken.thumbprint = "thumb1";  // acct1's
  auto r = store_->insertAccountWithEab(taken, at(1'700'000'500));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, ProblemType::kConflict);
  auto c = store_->getEabCredential("kid1");
  ASSERT_TRUE(c && c->has_value());
  EXPECT_EQ((*c)->uses, 0u);
  EXPECT_EQ((*c)->state, acme::EabState::kUnused);
  // The use is still there for a good request.
  auto ok = store_->insertAccountWithEab(eabAccount("c2", "kid1"), at(1'700'000'500));
  ASSERT_TRUE(ok && *ok);
}

TEST_P(StoreContract, ConcurrentConsumersOfASingleUseCredentialHaveExactlyOneWinner) {
  ASSERT_TRUE(store_->insertEabCredential(makeEab("kid-once")));
  std::vector<Awaitable<Result<bool>>> calls;
  constexpr int kRacers = 8;
  for (int i = 0; i < kRacers; ++i) {
    calls.push_back(insertWithEabCopy(&async(), eabAccount("race" + std::to_string(i), "kid-once"),
                                      at(1'700'000'500)));
  }
  auto results = runAll(std::move(calls), 4);
  int winners = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().detail;
    if (*r) ++winners;
  }
  EXPECT_EQ(winners, 1);
  auto c = store_->getEabCredential("kid-once");
  ASSERT_TRUE(c && c->has_value());
  EXPECT_EQ((*c)->uses, 1u);
  auto bound = store_->listEabBoundAccountIds("kid-once");
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->size(), 1u);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM accounts WHERE eab_key_id = 'kid-once'", "1");
}

}  // namespace akamu::store::contract

namespace akamu::store::contract {

// ---- STAR (RFC 8739) --------------------------------------------------------------------

// A STAR order claimed by finalize (processing), its CSR stored, starting at 1'700'000'000.
inline Order starOrder(const std::string& id) {
  Order o = makeOrder(id, "acct1", 1'700'000'000);
  o.status = OrderStatus::kProcessing;
  acme::AutoRenewal r;
  r.end_date = at(1'700'864'000);
  r.lifetime = std::chrono::seconds(86400);
  r.lifetime_adjust = std::chrono::seconds(3600);
  r.allow_certificate_get = true;
  o.auto_renewal = r;
  return o;
}

TEST_P(StoreContract, StarOrderRoundTripsAndBeginsOnce) {
  Order o = starOrder("star1");
  ASSERT_TRUE(store_->insertOrder(o, authzsFor(o)));
  auto got = store_->getOrder("star1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(o));
  EXPECT_FALSE((*got)->auto_renewal->start_date.has_value());

  const std::vector<std::uint8_t> csr{0x30, 0x00, 0xff, 0x01};
  auto begun = store_->beginStarOrder("star1", csr, at(1'700'000'500), at(1'700'864'000));
  ASSERT_TRUE(begun) << begun.error().detail;
  EXPECT_TRUE(*begun);
  // Once: a second finalize (or a retry) does not replace the CSR.
  auto again = store_->beginStarOrder("star1", {0x01}, at(1'700'000'600), at(1'700'864'000));
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  got = store_->getOrder("star1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->star_csr_der, csr);
  EXPECT_EQ((*got)->auto_renewal->start_date, at(1'700'000'500));
  EXPECT_EQ((*got)->expires, at(1'700'864'000));
  EXPECT_FALSE((*got)->star_period.has_value());

  // Not a STAR order, or not processing: refused.
  Order plain = seedOrder("plain", OrderStatus::kProcessing);
  auto refused = store_->beginStarOrder("plain", csr, at(1'700'000'500), at(1'700'864'000));
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
}

TEST_P(StoreContract, StarCertificatesAreOnePerPeriodAndOnlyMoveForward) {
  Order o = starOrder("star1");
  ASSERT_TRUE(store_->insertOrder(o, authzsFor(o)));
  ASSERT_TRUE(store_->beginStarOrder("star1", {0x30}, at(1'700'000'000), at(1'700'864'000)));

  Order valid = o;
  valid.status = OrderStatus::kValid;
  // Period 0 from processing.
  auto first =
      store_->insertStarCertificate(makeCert("c0", "a0", o), valid, 0, OrderStatus::kProcessing);
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(*first);
  // Period 0 again (another node, a retry): refused, nothing stored.
  auto dup =
      store_->insertStarCertificate(makeCert("c0b", "a0b", o), valid, 0, OrderStatus::kValid);
  ASSERT_TRUE(dup) << dup.error().detail;
  EXPECT_FALSE(*dup);
  // Period 1 decided from `processing` (a stale read): refused.
  auto stale =
      store_->insertStarCertificate(makeCert("c1x", "a1x", o), valid, 1, OrderStatus::kProcessing);
  ASSERT_TRUE(stale);
  EXPECT_FALSE(*stale);
  // Period 2 (period 1 skipped), then period 1 late: the order never goes back.
  auto p2 = store_->insertStarCertificate(makeCert("c2", "a2", o), valid, 2, OrderStatus::kValid);
  ASSERT_TRUE(p2 && *p2);
  auto p1 = store_->insertStarCertificate(makeCert("c1", "a1", o), valid, 1, OrderStatus::kValid);
  ASSERT_TRUE(p1);
  EXPECT_FALSE(*p1);

  auto got = store_->getOrder("star1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->status, OrderStatus::kValid);
  EXPECT_EQ((*got)->certificate_id, "c2");
  EXPECT_EQ((*got)->star_period, 2);
  for (const char* absent : {"c0b", "c1x", "c1"}) {
    auto cert = store_->getCertificate(absent);
    ASSERT_TRUE(cert);
    EXPECT_FALSE(cert->has_value()) << absent;
  }
  auto c0 = store_->getCertificate("c0");
  ASSERT_TRUE(c0 && c0->has_value());
  EXPECT_EQ((*c0)->order_id, "star1");
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM certificates WHERE order_id = 'star1'", "2");
  AKAMU_EXPECT_QUERY("SELECT star_period FROM certificates WHERE id = 'c2'", "2");
}

TEST_P(StoreContract, StarCertificateRefusedForAnInvalidAccountOrACanceledOrder) {
  Order o = starOrder("star1");
  ASSERT_TRUE(store_->insertOrder(o, authzsFor(o)));
  ASSERT_TRUE(store_->beginStarOrder("star1", {0x30}, at(1'700'000'000), at(1'700'864'000)));
  Order valid = o;
  valid.status = OrderStatus::kValid;
  ASSERT_TRUE(
      store_->insertStarCertificate(makeCert("c0", "a0", o), valid, 0, OrderStatus::kProcessing));
  // Canceled (the cancellation is an ordinary compare-and-set on `valid`).
  auto fresh = store_->getOrder("star1");
  ASSERT_TRUE(fresh && fresh->has_value());
  Order canceled = **fresh;
  canceled.status = OrderStatus::kCanceled;
  auto cancel = store_->updateOrderIfStatus(canceled, OrderStatus::kValid);
  ASSERT_TRUE(cancel && *cancel);
  auto after_cancel =
      store_->insertStarCertificate(makeCert("c1", "a1", o), valid, 1, OrderStatus::kValid);
  ASSERT_TRUE(after_cancel);
  EXPECT_FALSE(*after_cancel);
  fresh = store_->getOrder("star1");
  ASSERT_TRUE(fresh && fresh->has_value());
  EXPECT_EQ((*fresh)->status, OrderStatus::kCanceled);
  EXPECT_TRUE((*fresh)->auto_renewal.has_value());  // the cancellation keeps the parameters

  // A deactivated account's order gets no more certificates.
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  Order other = starOrder("star2");
  other.account_id = "acct2";
  ASSERT_TRUE(store_->insertOrder(other, authzsFor(other)));
  ASSERT_TRUE(store_->beginStarOrder("star2", {0x30}, at(1'700'000'000), at(1'700'864'000)));
  Account gone = makeAccount("acct2", "thumb2");
  gone.status = AccountStatus::kDeactivated;
  ASSERT_TRUE(store_->updateAccountIf(gone, AccountStatus::kValid, "thumb2"));
  Order other_valid = other;
  other_valid.status = OrderStatus::kValid;
  auto refused = store_->insertStarCertificate(makeCert("d0", "d0", other), other_valid, 0,
                                               OrderStatus::kProcessing);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
}

TEST_P(StoreContract, ListStarOrdersPagesLiveOrdersUntilTheirEnd) {
  for (const char* id : {"s1", "s2", "s3"}) {
    Order o = starOrder(id);
    ASSERT_TRUE(store_->insertOrder(o, authzsFor(o)));
    ASSERT_TRUE(store_->beginStarOrder(id, {0x30}, at(1'700'000'000), at(1'700'864'000)));
  }
  // Not listed: a STAR order without its CSR yet, and an ordinary order.
  Order no_csr = starOrder("s0");
  ASSERT_TRUE(store_->insertOrder(no_csr, authzsFor(no_csr)));
  seedOrder("plain", OrderStatus::kValid);
  // Nor a canceled one.
  auto s3 = store_->getOrder("s3");
  ASSERT_TRUE(s3 && s3->has_value());
  Order canceled = **s3;
  canceled.status = OrderStatus::kCanceled;
  ASSERT_TRUE(store_->updateOrderIfStatus(canceled, OrderStatus::kProcessing));

  auto page = store_->listStarOrders(at(1'700'100'000), "", 1);
  ASSERT_TRUE(page) << page.error().detail;
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "s1");
  EXPECT_EQ((*page)[0].star_csr_der, std::vector<std::uint8_t>{0x30});
  page = store_->listStarOrders(at(1'700'100'000), "s1", 10);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "s2");
  // From end-date on, none.
  page = store_->listStarOrders(at(1'700'864'000), "", 10);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->empty());
}

TEST_P(StoreContract, ConcurrentReissuesOfOnePeriodStoreOneCertificate) {
  Order o = starOrder("star1");
  ASSERT_TRUE(store_->insertOrder(o, authzsFor(o)));
  ASSERT_TRUE(store_->beginStarOrder("star1", {0x30}, at(1'700'000'000), at(1'700'864'000)));
  Order valid = o;
  valid.status = OrderStatus::kValid;
  ASSERT_TRUE(
      store_->insertStarCertificate(makeCert("c0", "a0", o), valid, 0, OrderStatus::kProcessing));
  constexpr int kCalls = 8;
  std::vector<Awaitable<Result<bool>>> calls;
  for (int t = 0; t < kCalls; ++t) {
    const std::string id = "p1-" + std::to_string(t);
    calls.push_back(starIssueCopy(&async(), makeCert(id, "b" + std::to_string(t), o), valid, 1,
                                  OrderStatus::kValid));
  }
  int wins = 0;
  for (const auto& r : runAll(std::move(calls), 4)) {
    ASSERT_TRUE(r) << r.error().detail;
    if (*r) ++wins;
  }
  EXPECT_EQ(wins, 1);
  auto got = store_->getOrder("star1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->star_period, 1);
  int stored = 0;
  for (int t = 0; t < kCalls; ++t) {
    auto cert = store_->getCertificate("p1-" + std::to_string(t));
    ASSERT_TRUE(cert);
    if (cert->has_value()) {
      ++stored;
      EXPECT_EQ((*got)->certificate_id, (*cert)->id);
    }
  }
  EXPECT_EQ(stored, 1);
  AKAMU_EXPECT_QUERY("SELECT count(*) FROM certificates WHERE order_id = 'star1'", "2");
}

// ---- rate limits ----------------------------------------------------------------------------

TEST_P(StoreContract, RateLimitOverridesAreSetReplacedListedAndRemoved) {
  auto run = [&](auto call) { return runBlocking(std::move(call), &io_); };
  RateLimitOverride a{"acct1", "NewOrdersPerAccount", 10, 20, 3600, at(1'700'000'000)};
  RateLimitOverride b{"acct0", "CertificatesPerDomain", 5, 5, 60, at(1'700'000'001)};
  ASSERT_TRUE(run(async().setRateLimitOverride(a)));
  ASSERT_TRUE(run(async().setRateLimitOverride(b)));
  a.count = 30;  // set again: replaced, not duplicated
  ASSERT_TRUE(run(async().setRateLimitOverride(a)));
  auto all = run(async().listRateLimitOverrides());
  ASSERT_TRUE(all) << all.error().detail;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].account_id, "acct0");
  EXPECT_EQ((*all)[1].limit, "NewOrdersPerAccount");
  EXPECT_EQ((*all)[1].burst, 10);
  EXPECT_EQ((*all)[1].count, 30);
  EXPECT_EQ((*all)[1].period_secs, 3600);
  EXPECT_EQ((*all)[1].updated_at, at(1'700'000'000));
  auto removed = run(async().removeRateLimitOverride("acct1", "NewOrdersPerAccount"));
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  removed = run(async().removeRateLimitOverride("acct1", "NewOrdersPerAccount"));
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed);
  EXPECT_EQ(run(async().listRateLimitOverrides())->size(), 1u);
}

TEST_P(StoreContract, RateLimitPausesAreIdempotentPerAccountAndRemovable) {
  auto run = [&](auto call) { return runBlocking(std::move(call), &io_); };
  RateLimitPause p{"acct1", "dns:example.com", at(1'700'000'000)};
  ASSERT_TRUE(run(async().insertRateLimitPause(p)));
  ASSERT_TRUE(run(async().insertRateLimitPause(p)));  // paused again: no error, no duplicate
  ASSERT_TRUE(run(async().insertRateLimitPause({"acct2", "ip:192.0.2.1", at(1'700'000'005)})));
  auto mine = run(async().listRateLimitPauses("acct1"));
  ASSERT_TRUE(mine) << mine.error().detail;
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].identifier, "dns:example.com");
  EXPECT_EQ((*mine)[0].paused_at, at(1'700'000'000));
  EXPECT_EQ(run(async().listRateLimitPauses(""))->size(), 2u);
  auto removed = run(async().removeRateLimitPause("acct1", "dns:example.com"));
  ASSERT_TRUE(removed && *removed);
  removed = run(async().removeRateLimitPause("acct1", "dns:example.com"));
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed);
  EXPECT_TRUE(run(async().listRateLimitPauses("acct1"))->empty());
}

TEST_P(StoreContract, PendingAuthorizationsAreCountedUntilTheyExpire) {
  auto run = [&](auto call) { return runBlocking(std::move(call), &io_); };
  seedOrder("o1");  // two pending authorizations, expiring at 1'700'086'400
  auto n = run(async().countPendingAuthorizations("acct1", at(1'700'000'000)));
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(*run(async().countPendingAuthorizations("acct1", at(1'700'086'400))), 0);
  EXPECT_EQ(*run(async().countPendingAuthorizations("acct2", at(1'700'000'000))), 0);
}

TEST_P(StoreContract, CertificatesAreFoundByTheirFqdnSetHash) {
  auto run = [&](auto call) { return runBlocking(std::move(call), &io_); };
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Certificate cert = makeCert("cert1", "0a0b", o);  // issued at 1'700'000'060
  cert.fqdn_set_hash = acme::fqdnSetHash(o.identifiers);
  issue(o, cert);
  auto found = run(async().hasCertificateForFqdnSet(cert.fqdn_set_hash, at(1'700'000'060)));
  ASSERT_TRUE(found) << found.error().detail;
  EXPECT_TRUE(*found);
  EXPECT_FALSE(*run(async().hasCertificateForFqdnSet(cert.fqdn_set_hash, at(1'700'000'061))));
  EXPECT_FALSE(
      *run(async().hasCertificateForFqdnSet(acme::fqdnSetHash({{"dns", "other.example"}}), at(0))));
}

// The buckets of the backend (PostgreSQL's table), or the memory ones a SQLite server uses.
class Buckets {
 public:
  explicit Buckets(Store& store) : shared_(store.sharedBuckets()) {}
  BucketStore& get() { return shared_ != nullptr ? *shared_ : memory_; }

 private:
  BucketStore* shared_;
  MemoryBucketStore memory_;
};

TEST_P(StoreContract, BucketsSpendCheckAndRefund) {
  auto run = [&](auto call) { return runBlocking(std::move(call), &io_); };
  Buckets b(async());
  const acme::gcra::Limit limit{2, 2, std::chrono::seconds(20)};  // 1 per 10 s, burst 2
  const TimePoint now = at(1'700'000'000);
  const std::string key = "NewOrdersPerAccount:" + GetParam().name;
  EXPECT_TRUE(run(b.get().spend(key, limit, 1, now))->allowed);
  auto checked = run(b.get().check(key, limit, 1, now));
  ASSERT_TRUE(checked) << checked.error().detail;
  EXPECT_TRUE(checked->allowed);
  EXPECT_TRUE(run(b.get().spend(key, limit, 1, now))->allowed);
  auto denied = run(b.get().spend(key, limit, 1, now));
  ASSERT_TRUE(denied);
  EXPECT_FALSE(denied->allowed);
  EXPECT_EQ(denied->retry_after, 10'000'000'000);
  EXPECT_FALSE(run(b.get().check(key, limit, 1, now))->allowed);
  ASSERT_TRUE(run(b.get().refund(key, limit, 1, now)));
  EXPECT_TRUE(run(b.get().spend(key, limit, 1, now))->allowed);
  EXPECT_FALSE(run(b.get().spend(key, limit, 1, now))->allowed);
  // Ten seconds later one request is back; a cost above the burst never passes.
  EXPECT_TRUE(run(b.get().spend(key, limit, 1, now + std::chrono::seconds(10)))->allowed);
  EXPECT_FALSE(run(b.get().spend(key + "x", limit, 3, now))->allowed);
  EXPECT_TRUE(run(b.get().spend(key + "x", limit, 2, now))->allowed);
}

TEST_P(StoreContract, OfTwoConcurrentSpendsOfTheLastRequestExactlyOneWins) {
  Buckets b(async());
  const acme::gcra::Limit limit{1, 1, std::chrono::seconds(3600)};
  const TimePoint now = at(1'700'000'000);
  for (int round = 0; round < 20; ++round) {
    const std::string key = "race:" + std::to_string(round);
    std::vector<Awaitable<Result<acme::gcra::Decision>>> calls;
    calls.push_back(spendCopy(&b.get(), key, limit, now));
    calls.push_back(spendCopy(&b.get(), key, limit, now));
    auto results = runAll(std::move(calls), 2);
    int allowed = 0;
    for (const auto& r : results) {
      ASSERT_TRUE(r) << r.error().detail;
      allowed += r->allowed ? 1 : 0;
    }
    EXPECT_EQ(allowed, 1) << "round " << round;
  }
}

// ---- operator queries (admin API) ----------------------------------------------------------

// Certificates for the operator-query tests: c1..c4 on acct1, c5 on acct2; issued one minute
// apart, so newest first is c5, c4, c3, c2, c1.
inline void seedOperatorCertificates(BlockingStore& store) {
  ASSERT_TRUE(store.insertAccount(makeAccount("acct2", "thumb2")));
  struct Seed {
    const char* id;
    const char* serial;
    const char* account;
    std::int64_t not_after;
  };
  const Seed seeds[] = {{"c1", "1a", "acct1", 1'800'000'000},
                        {"c2", "2b", "acct1", 1'700'000'500},
                        {"c3", "3c", "acct1", 1'800'000'000},
                        {"c4", "4d", "acct1", 1'900'000'000},
                        {"c5", "5e", "acct2", 1'800'000'000}};
  std::int64_t issued = 1'700'000'000;
  for (const Seed& seed : seeds) {
    Order o = makeOrder(std::string("o-") + seed.id, seed.account, issued);
    o.status = OrderStatus::kProcessing;
    ASSERT_TRUE(store.insertOrder(o, authzsFor(o)));
    Certificate c = makeCert(seed.id, seed.serial, o);
    c.not_after = at(seed.not_after);
    c.issued_at = at(issued);
    Order valid = o;
    valid.status = OrderStatus::kValid;
    valid.certificate_id = c.id;
    auto won = store.insertCertificateForOrder(c, valid);
    ASSERT_TRUE(won && *won) << seed.id;
    issued += 60;
  }
}

using Ids = std::vector<std::string>;
inline Ids searchIds(BlockingStore& store, const CertificateFilter& filter) {
  auto got = store.searchCertificates(filter);
  EXPECT_TRUE(got) << (got ? "" : got.error().detail);
  Ids out;
  if (got) {
    for (const auto& l : *got) out.push_back(l.certificate.id);
  }
  return out;
}

TEST_P(StoreContract, SearchCertificatesNewestFirstWithEveryFilter) {
  seedOperatorCertificates(*store_);
  EXPECT_EQ(searchIds(*store_, {}), (Ids{"c5", "c4", "c3", "c2", "c1"}));

  CertificateFilter by_account;
  by_account.account_id = "acct2";
  EXPECT_EQ(searchIds(*store_, by_account), (Ids{"c5"}));

  CertificateFilter by_serial;
  by_serial.serial_hex = "3c";
  auto one = store_->searchCertificates(by_serial);
  ASSERT_TRUE(one) << one.error().detail;
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(describe((*one)[0].certificate), describe(*store_->getCertificate("c3").value()));
  ASSERT_EQ((*one)[0].identifiers.size(), 2u);
  EXPECT_EQ((*one)[0].identifiers[0].value, "a.o-c3.example");
  EXPECT_EQ((*one)[0].identifiers[1].value, "*.b.o-c3.example");

  // Exact names (compared in lower case), and "*.suffix" for every name under it.
  CertificateFilter exact;
  exact.name = "A.O-C2.EXAMPLE";
  EXPECT_EQ(searchIds(*store_, exact), (Ids{"c2"}));
  exact.name = "o-c2.example";  // only a suffix of the names: no exact match
  EXPECT_EQ(searchIds(*store_, exact), Ids{});
  CertificateFilter suffix;
  suffix.name = "*.o-c4.example";
  EXPECT_EQ(searchIds(*store_, suffix), (Ids{"c4"}));
  suffix.name = "*.example";
  EXPECT_EQ(searchIds(*store_, suffix).size(), 5u);
  suffix.name = "*.c4.example";  // "o-c4.example" does not end in ".c4.example"
  EXPECT_EQ(searchIds(*store_, suffix), Ids{});

  CertificateFilter expiring;
  expiring.expires_before = at(1'800'000'000);
  EXPECT_EQ(searchIds(*store_, expiring), (Ids{"c2"}));
  CertificateFilter later;
  later.expires_after = at(1'800'000'000);  // at or after
  EXPECT_EQ(searchIds(*store_, later), (Ids{"c5", "c4", "c3", "c1"}));
  later.expires_before = at(1'850'000'000);
  later.account_id = "acct1";
  EXPECT_EQ(searchIds(*store_, later), (Ids{"c3", "c1"}));

  ASSERT_TRUE(store_->revokeCertificate("c3", 1, at(1'700'001'000)));
  CertificateFilter revoked;
  revoked.revoked = true;
  EXPECT_EQ(searchIds(*store_, revoked), (Ids{"c3"}));
  revoked.revoked = false;
  EXPECT_EQ(searchIds(*store_, revoked), (Ids{"c5", "c4", "c2", "c1"}));
}

TEST_P(StoreContract, SearchCertificatesPages) {
  seedOperatorCertificates(*store_);
  CertificateFilter page;
  page.limit = 2;
  EXPECT_EQ(searchIds(*store_, page), (Ids{"c5", "c4"}));
  page.offset = 2;
  EXPECT_EQ(searchIds(*store_, page), (Ids{"c3", "c2"}));
  page.offset = 4;
  EXPECT_EQ(searchIds(*store_, page), (Ids{"c1"}));
  page.offset = 5;
  EXPECT_EQ(searchIds(*store_, page), Ids{});
  page.offset = 0;
  page.limit = 0;
  EXPECT_EQ(searchIds(*store_, page), Ids{});
}

TEST_P(StoreContract, CountAllCountsEachState) {
  seedOperatorCertificates(*store_);
  // c2 expired at 1'700'000'500; c3 revoked.
  ASSERT_TRUE(store_->revokeCertificate("c3", 4, at(1'700'001'000)));
  Account gone = makeAccount("acct3", "thumb3");
  ASSERT_TRUE(store_->insertAccount(gone));
  Account deactivated = gone;
  deactivated.status = AccountStatus::kDeactivated;
  ASSERT_TRUE(*store_->updateAccountIf(deactivated, AccountStatus::kValid, "thumb3"));
  seedOrder("pending1");
  seedOrder("pending2");
  seedOrder("ready1", OrderStatus::kReady);
  seedOrder("invalid1", OrderStatus::kInvalid);

  auto c = store_->countAll(at(1'700'001'000), at(1'700'000'120));
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->accounts_valid, 2);
  EXPECT_EQ(c->accounts_deactivated, 1);
  EXPECT_EQ(c->accounts_revoked, 0);
  EXPECT_EQ(c->orders_pending, 2);
  EXPECT_EQ(c->orders_ready, 1);
  EXPECT_EQ(c->orders_processing, 0);
  EXPECT_EQ(c->orders_valid, 5);
  EXPECT_EQ(c->orders_invalid, 1);
  EXPECT_EQ(c->orders_canceled, 0);
  EXPECT_EQ(c->certificates_valid, 3);         // c1, c4, c5
  EXPECT_EQ(c->certificates_revoked, 1);       // c3
  EXPECT_EQ(c->certificates_expired, 1);       // c2
  EXPECT_EQ(c->certificates_issued_since, 3);  // c3, c4, c5 (issued at +120, +180, +240)
}

}  // namespace akamu::store::contract
