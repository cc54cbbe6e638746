#include "store/retention.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

#include "store/blocking_store.hpp"
#include "store/open_store.hpp"

namespace akamu::store {
namespace {

using core::fromUnixSeconds;

constexpr std::int64_t kExpires = 1'700'000'000;

std::unique_ptr<Store> seeded(int orders) {
  auto opened = openStore("sqlite::memory:");
  EXPECT_TRUE(opened);
  BlockingStore store(**opened);
  acme::Account account;
  account.id = "acct";
  account.thumbprint = "thumb";
  EXPECT_TRUE(store.insertAccount(account));
  for (int i = 0; i < orders; ++i) {
    acme::Order o;
    o.id = "o" + std::to_string(i);
    o.account_id = "acct";
    o.expires = fromUnixSeconds(kExpires);
    o.identifiers = {{"dns", o.id + ".example"}};
    o.authz_ids = {o.id + "-az"};
    acme::Authorization a;
    a.id = o.authz_ids[0];
    a.account_id = "acct";
    a.order_id = o.id;
    a.identifier = o.identifiers[0];
    a.expires = fromUnixSeconds(kExpires);
    acme::Challenge c;
    c.id = a.id + "-c";
    c.authz_id = a.id;
    c.type = "http-01";
    c.token = "tok";
    a.challenges = {c};
    EXPECT_TRUE(store.insertOrder(o, {a}));
  }
  return std::move(*opened);
}

TEST(Retention, KeepsExpiredStateForTheGracePeriodThenDrainsItAll) {
  auto store = seeded(7);
  core::FakeClock clock(fromUnixSeconds(kExpires));
  RetentionSettings settings{std::chrono::seconds(0), std::chrono::seconds(3600), 3};

  clock.advance(std::chrono::seconds(3600));  // expired exactly an hour ago: not yet
  auto early = runBlocking(pruneOnce(*store, clock, settings));
  ASSERT_TRUE(early) << early.error().detail;
  EXPECT_EQ(early->orders, 0u);

  clock.advance(std::chrono::seconds(2));
  auto pruned = runBlocking(pruneOnce(*store, clock, settings));
  ASSERT_TRUE(pruned) << pruned.error().detail;
  EXPECT_EQ(pruned->orders, 7u);  // in passes of 3, 3 and 1
  EXPECT_EQ(pruned->authorizations, 7u);
  EXPECT_EQ(pruned->challenges, 7u);
  EXPECT_FALSE(pruned->more);
  auto gone = runBlocking(store->getOrder("o0"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TEST(Retention, ScheduleRunsPassesUntilStopped) {
  auto store = seeded(2);
  core::FakeClock clock(fromUnixSeconds(kExpires + 10));
  boost::asio::io_context io;
  std::promise<Result<PruneCounts>> first;
  int passes = 0;
  RetentionSchedule schedule(io.get_executor(), *store, clock,
                             {std::chrono::seconds(1), std::chrono::seconds(0), 500},
                             [&](const Result<PruneCounts>& r) {
                               if (++passes == 1) first.set_value(r);
                               if (passes == 2) io.stop();
                             });
  schedule.start();
  std::thread loop([&] { io.run(); });
  auto r = first.get_future().get();
  loop.join();  // the second pass stopped the loop
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->orders, 2u);
  EXPECT_EQ(passes, 2);
}

TEST(Retention, ZeroIntervalNeverRuns) {
  auto store = seeded(1);
  core::FakeClock clock(fromUnixSeconds(kExpires + 10));
  boost::asio::io_context io;
  int passes = 0;
  RetentionSchedule schedule(io.get_executor(), *store, clock,
                             {std::chrono::seconds(0), std::chrono::seconds(0), 500},
                             [&](const Result<PruneCounts>&) { ++passes; });
  schedule.start();
  io.run();  // nothing was scheduled, so this returns at once
  EXPECT_EQ(passes, 0);
  auto kept = runBlocking(store->getOrder("o0"));
  ASSERT_TRUE(kept && kept->has_value());
}

}  // namespace
}  // namespace akamu::store
