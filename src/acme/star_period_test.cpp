#include "acme/star_period.hpp"

#include <gtest/gtest.h>

namespace akamu::acme {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

core::TimePoint at(const char* rfc3339) {
  core::TimePoint t;
  EXPECT_TRUE(core::parseRfc3339(rfc3339, t)) << rfc3339;
  return t;
}

// RFC 8739 §3.5.1's example: 4-day lifetime, 3-day adjustment, ten days.
TEST(StarPeriod, RfcExample) {
  AutoRenewal r;
  r.start_date = at("2016-01-10T00:00:00Z");
  r.end_date = at("2016-01-20T00:00:00Z");
  r.lifetime = seconds(345600);
  r.lifetime_adjust = seconds(259200);
  EXPECT_EQ(starAdjustment(r), seconds(259200));
  ASSERT_EQ(starPeriodCount(r), 3);
  const char* expected[3][2] = {{"2016-01-10T00:00:00Z", "2016-01-14T00:00:00Z"},
                                {"2016-01-11T00:00:00Z", "2016-01-18T00:00:00Z"},
                                {"2016-01-15T00:00:00Z", "2016-01-20T00:00:00Z"}};
  for (int i = 0; i < 3; ++i) {
    auto p = starPeriod(r, i);
    ASSERT_TRUE(p);
    EXPECT_EQ(core::formatRfc3339(p->not_before), expected[i][0]) << i;
    EXPECT_EQ(core::formatRfc3339(p->not_after), expected[i][1]) << i;
  }
  EXPECT_FALSE(starPeriod(r, 3));
  EXPECT_FALSE(starPeriod(r, -1));
}

TEST(StarPeriod, AdjustmentIsAtLeastHalfTheLifetimeAndAtMostAll) {
  AutoRenewal r;
  r.lifetime = hours(24);
  r.lifetime_adjust = seconds(0);
  EXPECT_EQ(starAdjustment(r), hours(12));
  r.lifetime_adjust = hours(48);
  EXPECT_EQ(starAdjustment(r), hours(24));
}

TEST(StarPeriod, DuePeriodFollowsTheNotBefores) {
  AutoRenewal r;
  r.start_date = at("2030-01-01T00:00:00Z");
  r.end_date = at("2030-01-04T06:00:00Z");  // 3.25 days: four periods, the last cut short
  r.lifetime = hours(24);
  ASSERT_EQ(starPeriodCount(r), 4);
  EXPECT_FALSE(starDuePeriod(r, at("2029-12-31T23:59:59Z")));
  EXPECT_EQ(starDuePeriod(r, at("2030-01-01T00:00:00Z"))->index, 0);
  EXPECT_EQ(starDuePeriod(r, at("2030-01-01T11:59:59Z"))->index, 0);
  // Period 1 (nominal 01-02) is due 12 hours early, halfway through period 0.
  EXPECT_EQ(starDuePeriod(r, at("2030-01-01T12:00:00Z"))->index, 1);
  EXPECT_EQ(starDuePeriod(r, at("2030-01-03T13:00:00Z"))->index, 3);
  EXPECT_EQ(core::formatRfc3339(starPeriod(r, 3)->not_after), "2030-01-04T06:00:00Z");
  EXPECT_EQ(starDuePeriod(r, at("2030-01-04T05:59:59Z"))->index, 3);
  EXPECT_FALSE(starDuePeriod(r, at("2030-01-04T06:00:00Z")));
}

TEST(StarPeriod, NoPeriodsWithoutAStartOrWithAnEmptySpan) {
  AutoRenewal r;
  r.end_date = at("2030-01-04T00:00:00Z");
  r.lifetime = hours(24);
  EXPECT_EQ(starPeriodCount(r), 0);
  r.start_date = r.end_date;
  EXPECT_EQ(starPeriodCount(r), 0);
  EXPECT_FALSE(starDuePeriod(r, r.end_date - hours(1)));
}

}  // namespace
}  // namespace akamu::acme
