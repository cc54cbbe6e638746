#include "acme/gcra.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace akamu::acme::gcra {
namespace {

using std::chrono::seconds;

Nanos nanos(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
constexpr Nanos kSecond = 1000000000;

// Spends one request on `tat` at the clock's time; returns the decision.
Decision spend(const Limit& limit, std::optional<Nanos>& tat, const core::FakeClock& clock,
               std::int64_t cost = 1) {
  auto d = decide(limit, tat, cost, nanos(clock.now()));
  if (d.allowed) tat = d.new_tat;
  return d;
}

TEST(Gcra, BurstIsAllowedAtOnceThenDenied) {
  core::FakeClock clock(core::fromUnixSeconds(1700000000));
  const Limit limit{3, 3, seconds(30)};  // 1 per 10 s, burst 3
  std::optional<Nanos> tat;
  for (int i = 0; i < 3; ++i) {
    auto d = spend(limit, tat, clock);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 2 - i);
  }
  auto denied = spend(limit, tat, clock);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, 10 * kSecond);
  EXPECT_EQ(denied.remaining, 0);
}

TEST(Gcra, SteadyRateRefillsOneRequestPerInterval) {
  core::FakeClock clock(core::fromUnixSeconds(1700000000));
  const Limit limit{1, 6, seconds(60)};  // 1 per 10 s, no burst
  std::optional<Nanos> tat;
  EXPECT_TRUE(spend(limit, tat, clock).allowed);
  clock.advance(seconds(9));
  auto early = spend(limit, tat, clock);
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.retry_after, 1 * kSecond);
  clock.advance(seconds(1));
  EXPECT_TRUE(spend(limit, tat, clock).allowed);
  // Twenty idle intervals refill only up to the burst.
  clock.advance(seconds(200));
  EXPECT_TRUE(spend(limit, tat, clock).allowed);
  EXPECT_FALSE(spend(limit, tat, clock).allowed);
}

TEST(Gcra, RetryAfterRoundsUpToWholeSeconds) {
  EXPECT_EQ(ceilSeconds(0), 0);
  EXPECT_EQ(ceilSeconds(1), 1);
  EXPECT_EQ(ceilSeconds(kSecond), 1);
  EXPECT_EQ(ceilSeconds(kSecond + 1), 2);
  core::FakeClock clock(core::fromUnixSeconds(1700000000));
  const Limit limit{1, 3, seconds(10)};  // interval 3.333 s
  std::optional<Nanos> tat;
  EXPECT_TRUE(spend(limit, tat, clock).allowed);
  auto d = spend(limit, tat, clock);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(ceilSeconds(d.retry_after), 4);
}

TEST(Gcra, CostAboveBurstIsNeverAllowed) {
  core::FakeClock clock(core::fromUnixSeconds(1700000000));
  const Limit limit{2, 2, seconds(20)};
  std::optional<Nanos> tat;
  auto d = spend(limit, tat, clock, 3);
  EXPECT_FALSE(d.allowed);
  EXPECT_GT(d.retry_after, 0);
  EXPECT_FALSE(tat.has_value());
  EXPECT_TRUE(spend(limit, tat, clock, 2).allowed);
}

TEST(Gcra, RefundGivesBackTheSpendButNotMoreThanTheBurst) {
  core::FakeClock clock(core::fromUnixSeconds(1700000000));
  const Limit limit{1, 1, seconds(60)};
  std::optional<Nanos> tat;
  ASSERT_TRUE(spend(limit, tat, clock).allowed);
  ASSERT_FALSE(spend(limit, tat, clock).allowed);
  const Nanos now = nanos(clock.now());
  tat = refund(limit, *tat, 1, now);
  EXPECT_EQ(*tat, now);
  EXPECT_TRUE(isFull(*tat, now));
  // A second refund cannot push the bucket beyond full.
  EXPECT_EQ(refund(limit, *tat, 1, now), now);
  EXPECT_TRUE(spend(limit, tat, clock).allowed);
  EXPECT_FALSE(spend(limit, tat, clock).allowed);
}

TEST(Gcra, CheckDoesNotSpend) {
  core::FakeClock clock(core::fromUnixSeconds(1700000000));
  const Limit limit{1, 1, seconds(60)};
  std::optional<Nanos> tat;
  // decide() alone is a check: the caller stores new_tat only to spend.
  EXPECT_TRUE(decide(limit, tat, 1, nanos(clock.now())).allowed);
  EXPECT_TRUE(decide(limit, tat, 1, nanos(clock.now())).allowed);
  EXPECT_TRUE(spend(limit, tat, clock).allowed);
  EXPECT_FALSE(decide(limit, tat, 1, nanos(clock.now())).allowed);
}

}  // namespace
}  // namespace akamu::acme::gcra
