// The Store contract, run against the SQLite backend on ":memory:" and on a file.
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
#include "store/sqlite/migrations.hpp"
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

// ---- the contract on both kinds of database -----------------------------------------------

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto store = openBlocking(GetParam() == "memory" ? "sqlite::memory:" : file_.url());
    ASSERT_TRUE(store) << store.error().detail;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->insertAccount(makeAccount("acct1", "thumb1")));
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

  TempDatabase file_;
  std::unique_ptr<OwnedStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("memory", "file"),
                         [](const auto& info) { return info.param; });

TEST_P(StoreTest, AccountRoundTripsAndMissingIsNullopt) {
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

TEST_P(StoreTest, DuplicateAccountIdOrThumbprintIsConflict) {
  auto same_id = store_->insertAccount(makeAccount("acct1", "other-thumb"));
  ASSERT_FALSE(same_id);
  EXPECT_EQ(same_id.error().type, ProblemType::kConflict);

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

TEST_P(StoreTest, UpdateAccountWritesFieldsAndRefusesTakenThumbprint) {
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  Account changed = makeAccount("acct1", "thumb1-rolled");
  changed.status = AccountStatus::kDeactivated;
  changed.contacts = {};
  changed.tos_agreed = false;
  changed.jwk_json = R"({"kty":"OKP"})";
  ASSERT_TRUE(store_->updateAccount(changed));
  auto got = store_->getAccount("acct1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(changed));
  auto old_thumb = store_->findAccountByThumbprint("thumb1");
  ASSERT_TRUE(old_thumb);
  EXPECT_FALSE(old_thumb->has_value());

  Account steal = changed;
  steal.thumbprint = "thumb2";
  steal.status = AccountStatus::kValid;
  auto st = store_->updateAccount(steal);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().type, ProblemType::kConflict);
  got = store_->getAccount("acct1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(changed));

  auto missing = store_->updateAccount(makeAccount("ghost", "ghost-thumb"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().type, ProblemType::kServerInternal);
}

TEST_P(StoreTest, OrderWithAuthorizationsAndChallengesRoundTrips) {
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

  auto missing = store_->getOrder("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto missing_authz = store_->getAuthorization("nope");
  ASSERT_TRUE(missing_authz);
  EXPECT_FALSE(missing_authz->has_value());
}

TEST_P(StoreTest, InsertOrderIsAllOrNothing) {
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
}

TEST_P(StoreTest, ListOrderIdsOldestFirstWithPaging) {
  ASSERT_TRUE(store_->insertAccount(makeAccount("acct2", "thumb2")));
  // Inserted out of time order; "c" and "d" share a second and keep insertion order.
  seedOrder("b", OrderStatus::kPending, 200);
  seedOrder("a", OrderStatus::kPending, 100);
  seedOrder("c", OrderStatus::kPending, 300);
  seedOrder("d", OrderStatus::kPending, 300);
  Order other = makeOrder("x", "acct2", 50);
  ASSERT_TRUE(store_->insertOrder(other, {}));

  using Ids = std::vector<std::string>;
  auto all = store_->listOrderIds("acct1", 0, 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (Ids{"a", "b", "c", "d"}));
  auto page = store_->listOrderIds("acct1", 1, 2);
  ASSERT_TRUE(page);
  EXPECT_EQ(*page, (Ids{"b", "c"}));
  auto tail = store_->listOrderIds("acct1", 3, SIZE_MAX);
  ASSERT_TRUE(tail);
  EXPECT_EQ(*tail, (Ids{"d"}));
  auto past_end = store_->listOrderIds("acct1", 10, 10);
  ASSERT_TRUE(past_end);
  EXPECT_TRUE(past_end->empty());
  auto none = store_->listOrderIds("acct1", 0, 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto unknown = store_->listOrderIds("nobody", 0, 10);
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->empty());
}

TEST_P(StoreTest, UpdateOrderIfStatusIsCompareAndSet) {
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

TEST_P(StoreTest, GetAuthorizationsFollowsRequestedOrderAndSkipsMissing) {
  Order o = seedOrder("o1");
  auto authzs = authzsFor(o);  // ids "o1-az2", "o1-az1"
  auto got = store_->getAuthorizations({"o1-az1", "missing", "o1-az2"});
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(describe((*got)[0]), describe(authzs[1]));
  EXPECT_EQ(describe((*got)[1]), describe(authzs[0]));
  ASSERT_EQ((*got)[0].challenges.size(), 3u);
  EXPECT_EQ((*got)[0].challenges[0].type, "http-01");
  EXPECT_EQ((*got)[0].challenges[2].type, "tls-alpn-01");

  auto empty = store_->getAuthorizations({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_P(StoreTest, UpdateAuthorizationWritesStatusAndChallenges) {
  Order o = seedOrder("o1");
  Authorization a = authzsFor(o)[0];
  a.status = AuthzStatus::kInvalid;
  a.challenges[0].status = ChallengeStatus::kInvalid;
  a.challenges[0].validated = at(1'700'000'500);
  a.challenges[0].error = richProblem();
  a.challenges[2].status = ChallengeStatus::kProcessing;
  ASSERT_TRUE(store_->updateAuthorization(a));
  auto got = store_->getAuthorization(a.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(describe(**got), describe(a));

  // A challenge that does not belong to it: the whole call fails and writes nothing.
  Authorization bad = a;
  bad.status = AuthzStatus::kValid;
  bad.challenges.push_back(makeChallenge("foreign", a.id, "http-01"));
  auto st = store_->updateAuthorization(bad);
  ASSERT_FALSE(st);
  got = store_->getAuthorization(a.id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->status, AuthzStatus::kInvalid);

  Authorization ghost = makeAuthz("ghost", "acct1", "o1", "g.example");
  EXPECT_FALSE(store_->updateAuthorization(ghost));
}

TEST_P(StoreTest, UpdateChallengeIfStatusIsCompareAndSet) {
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
}

TEST_P(StoreTest, InsertCertificateForOrderOnlyWhileProcessing) {
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

TEST_P(StoreTest, DuplicateSerialIsConflictAndLeavesOrderProcessing) {
  Order first = seedOrder("o1", OrderStatus::kProcessing);
  Order first_valid = first;
  first_valid.status = OrderStatus::kValid;
  first_valid.certificate_id = "cert1";
  ASSERT_TRUE(store_->insertCertificateForOrder(makeCert("cert1", "abcd", first), first_valid));

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

TEST_P(StoreTest, RevokeCertificateOnlyOnce) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  Order valid = o;
  valid.status = OrderStatus::kValid;
  valid.certificate_id = "cert1";
  ASSERT_TRUE(store_->insertCertificateForOrder(makeCert("cert1", "01", o), valid));

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

TEST_P(StoreTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!store_->insertAccount(makeAccount(id, "thumb-" + id))) ++failures;
        // Interleave lookups so readers and the writer really run side by side.
        auto got = store_->getAccount(id);
        if (!got || !got->has_value()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
      auto got = store_->findAccountByThumbprint("thumb-" + id);
      ASSERT_TRUE(got && got->has_value()) << id;
      EXPECT_EQ((*got)->id, id);
    }
  }
}

// Many coroutines on a multi-threaded event loop, as in the server: every write completes on
// its caller's executor, the ones that conflict fail alone, the others all land.
TEST_P(StoreTest, CoroutineWritesFromManyThreadsFailAlone) {
  constexpr int kCalls = 300;
  boost::asio::io_context io;
  std::atomic<int> ok{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> other{0};
  Store& async = store_->async();
  for (int i = 0; i < kCalls; ++i) {
    // Every tenth account reuses the thumbprint of the one before it.
    std::string id = "c" + std::to_string(i);
    std::string thumb = "thumb-c" + std::to_string(i % 10 == 9 ? i - 1 : i);
    boost::asio::co_spawn(
        io,
        [](Store* store, Account account, std::atomic<int>* ok, std::atomic<int>* conflicts,
           std::atomic<int>* other) -> boost::asio::awaitable<void> {
          auto st = co_await store->insertAccount(account);
          if (st) {
            ++*ok;
          } else if (st.error().type == ProblemType::kConflict) {
            ++*conflicts;
          } else {
            ++*other;
          }
        }(&async, makeAccount(id, thumb), &ok, &conflicts, &other),
        boost::asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back([&io] { io.run(); });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kCalls - kCalls / 10);
  EXPECT_EQ(conflicts.load(), kCalls / 10);
  EXPECT_EQ(other.load(), 0);
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

TEST_P(StoreTest, PruneRemovesExpiredUncertifiedOrdersAndKeepsCertificates) {
  // Orders expire at created + 1 day; authorizations at 1'700'086'400.
  Order old_pending = seedOrder("old-pending", OrderStatus::kPending, 1'700'000'000);
  Order old_invalid = seedOrder("old-invalid", OrderStatus::kInvalid, 1'700'000'000);
  Order issued = seedOrder("issued", OrderStatus::kProcessing, 1'700'000'000);
  Order fresh = seedOrder("fresh", OrderStatus::kPending, 1'800'000'000);
  Order valid = issued;
  valid.status = OrderStatus::kValid;
  valid.certificate_id = "cert-issued";
  auto won = store_->insertCertificateForOrder(makeCert("cert-issued", "0a0b", issued), valid);
  ASSERT_TRUE(won && *won);
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

TEST_P(StoreTest, PruneDrainsABacklogInBoundedPasses) {
  for (int i = 0; i < 5; ++i) seedOrder("old" + std::to_string(i));
  std::size_t orders = 0;
  int passes = 0;
  for (;;) {
    auto pruned = store_->pruneExpired(at(1'800'000'000), 2);
    ASSERT_TRUE(pruned) << pruned.error().detail;
    ASSERT_LE(pruned->orders, 2u);
    orders += pruned->orders;
    ++passes;
    if (!pruned->more) break;
    ASSERT_LT(passes, 10);
  }
  EXPECT_EQ(orders, 5u);
  EXPECT_EQ(passes, 3);  // 2 + 2 + 1
}

TEST_P(StoreTest, ConcurrentFinalizeHasExactlyOneWinner) {
  Order o = seedOrder("o1", OrderStatus::kProcessing);
  constexpr int kThreads = 8;
  std::atomic<int> wins{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string id = "cert" + std::to_string(t);
      Order valid = o;
      valid.status = OrderStatus::kValid;
      valid.certificate_id = id;
      auto r =
          store_->insertCertificateForOrder(makeCert(id, "serial" + std::to_string(t), o), valid);
      if (!r)
        ++errors;
      else if (*r)
        ++wins;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wins.load(), 1);
  auto got = store_->getOrder("o1");
  ASSERT_TRUE(got && got->has_value());
  ASSERT_TRUE((*got)->certificate_id.has_value());
  int stored = 0;
  for (int t = 0; t < kThreads; ++t) {
    auto cert = store_->getCertificate("cert" + std::to_string(t));
    ASSERT_TRUE(cert);
    if (cert->has_value()) {
      ++stored;
      EXPECT_EQ((*got)->certificate_id, (*cert)->id);
    }
  }
  EXPECT_EQ(stored, 1);
}

// ---- file databases only ------------------------------------------------------------------

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
    ASSERT_TRUE(store.updateAccount(account));
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
