#include "core/clock.hpp"

#include <gtest/gtest.h>

using namespace akamu::core;

TEST(Clock, Rfc3339RoundTrip) {
  TimePoint t = fromUnixSeconds(1767322245);  // 2026-01-02T02:50:45Z
  EXPECT_EQ(formatRfc3339(t), "2026-01-02T02:50:45Z");
  TimePoint back;
  ASSERT_TRUE(parseRfc3339(formatRfc3339(t), back));
  EXPECT_EQ(back, t);
}

TEST(Clock, ParsesOffsetsAndFractions) {
  TimePoint a, b;
  ASSERT_TRUE(parseRfc3339("2026-01-02T03:04:05Z", a));
  ASSERT_TRUE(parseRfc3339("2026-01-02T05:04:05.123+02:00", b));
  EXPECT_EQ(a, b);
}

TEST(Clock, RejectsMalformed) {
  TimePoint t;
  EXPECT_FALSE(parseRfc3339("2026-01-02 03:04:05Z", t));
  EXPECT_FALSE(parseRfc3339("2026-13-02T03:04:05Z", t));
  EXPECT_FALSE(parseRfc3339("2026-01-02T03:04:05", t));
  EXPECT_FALSE(parseRfc3339("2026-01-02T03:04:05Zjunk", t));
}

TEST(Clock, FakeClockAdvances) {
  FakeClock c(fromUnixSeconds(1000));
  c.advance(std::chrono::seconds(5));
  EXPECT_EQ(toUnixSeconds(c.now()), 1005);
}
