#include "report.hpp"

#include <gtest/gtest.h>

namespace akamu::bench {
namespace {

TEST(Percentile, FollowsTheReferenceFormula) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(percentile(v, 50), 50);
  EXPECT_EQ(percentile(v, 95), 95);
  EXPECT_EQ(percentile(v, 99), 99);
  EXPECT_EQ(percentile(v, 100), 100);
  // n = 10, p = 95: ceil(9.5) - 1 = index 9.
  std::vector<double> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(percentile(ten, 95), 10);
  EXPECT_EQ(percentile(ten, 50), 5);
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_EQ(percentile({7}, 99), 7);
  EXPECT_EQ(percentile({7, 8}, 0), 7);
}

TEST(LatencyStats, MeanMinMax) {
  auto s = latencyStats({3, 1, 2});
  EXPECT_DOUBLE_EQ(s.mean, 2);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 3);
  EXPECT_EQ(s.p50, 2);
}

TEST(GroupErrors, UrlsDoNotSplitGroups) {
  auto groups = groupErrors(
      {"serverInternal: order http://127.0.0.1:1/acme/order/1 still 'pending'",
       "serverInternal: order http://127.0.0.1:1/acme/order/2 still 'pending'", "badNonce: x"});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].count, 2u);
  EXPECT_EQ(groups[0].message, "serverInternal: order <url> still 'pending'");
  EXPECT_EQ(groups[1].message, "badNonce: x");
}

TEST(Summarize, WarmupExcludedAndThroughputOverMeasuredWindow) {
  Options o;
  o.warmup = 1;
  o.requests = 3;
  RunResult run;
  run.issuances.resize(4);
  run.issuances[0] = {0, false, true, 0, 5'000'000'000, 1000};  // warmup: ignored
  run.issuances[1] = {1, true, true, 1'000'000'000, 1'500'000'000, 500};
  run.issuances[2] = {2, true, true, 1'200'000'000, 2'000'000'000, 800};
  run.issuances[3] = {3, true, false, 1'300'000'000, 1'400'000'000, 100};
  run.issuances[3].error = "malformed: nope";
  auto r = summarize(o, run, {});
  EXPECT_EQ(r.ok, 2u);
  EXPECT_EQ(r.err, 1u);
  EXPECT_EQ(r.total, 3u);
  EXPECT_DOUBLE_EQ(r.wall_sec, 1.0);
  EXPECT_DOUBLE_EQ(r.throughput_per_sec, 2.0);
  EXPECT_DOUBLE_EQ(r.latency.mean, 650);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.window_issuances, 4u);
}

}  // namespace
}  // namespace akamu::bench
