#include "acme/renewal_window.hpp"

#include <gtest/gtest.h>

namespace akamu::acme {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const core::TimePoint kStart = core::TimePoint{} + hours(24 * 365 * 50);

TEST(RenewalWindow, NinetyDaysIsCentredAtTwoThirdsAndTwoPercentWide) {
  const auto na = kStart + hours(24 * 90);
  auto w = renewalWindowFor(kStart, na);
  const auto centre = kStart + hours(24 * 60);
  const auto half = seconds(static_cast<long>(0.01 * 90 * 86400));
  EXPECT_EQ(w.start, centre - half);
  EXPECT_EQ(w.end, centre + half);
}

TEST(RenewalWindow, ShortLifetimesRenewAtHalf) {
  const auto na = kStart + hours(24 * 7);
  auto w = renewalWindowFor(kStart, na);
  EXPECT_LT(w.start, kStart + hours(84));
  EXPECT_GT(w.end, kStart + hours(84));
  // Ten days exactly is not "under ten days".
  auto ten = renewalWindowFor(kStart, kStart + hours(240));
  EXPECT_GT(ten.start, kStart + hours(150));
}

TEST(RenewalWindow, TheProfileRuleDecides) {
  auto w = renewalWindowFor(kStart, kStart + hours(100), RenewalRule{0.25, 0.1});
  EXPECT_EQ(w.start, kStart + hours(20));
  EXPECT_EQ(w.end, kStart + hours(30));
}

TEST(RenewalWindow, AlwaysNonEmptyAndInsideTheValidity) {
  for (auto validity : {seconds(1), seconds(2), seconds(59), seconds(3600)}) {
    for (double point : {0.0, 0.5, 1.0}) {
      auto w = renewalWindowFor(kStart, kStart + validity, RenewalRule{point, 0.0});
      EXPECT_LT(w.start, w.end) << validity.count() << " " << point;
      EXPECT_GE(w.start, kStart);
      EXPECT_LE(w.end, kStart + std::max(validity, seconds(2)));
    }
  }
}

}  // namespace
}  // namespace akamu::acme
