#include "store/bucket_store.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "store/blocking_store.hpp"

namespace akamu::store {
namespace {

const acme::gcra::Limit kLimit{1, 1, std::chrono::seconds(60)};

TEST(MemoryBucketStore, IsBoundedAndDropsFullBuckets) {
  MemoryBucketStore buckets(2);
  const auto now = core::fromUnixSeconds(1'700'000'000);
  EXPECT_TRUE(runBlocking(buckets.spend("a", kLimit, 1, now))->allowed);
  EXPECT_TRUE(runBlocking(buckets.spend("b", kLimit, 1, now))->allowed);
  // Both buckets still hold spends: a third key is refused rather than grown into.
  auto refused = runBlocking(buckets.spend("c", kLimit, 1, now));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, core::ProblemType::kServerInternal);
  // Once their TATs have passed they are full, the same as absent, and make room.
  const auto later = now + std::chrono::seconds(60);
  EXPECT_TRUE(runBlocking(buckets.spend("c", kLimit, 1, later))->allowed);
  EXPECT_EQ(buckets.size(), 1u);
  // A refund that fills a bucket drops it too.
  ASSERT_TRUE(runBlocking(buckets.refund("c", kLimit, 1, later)));
  EXPECT_EQ(buckets.size(), 0u);
}

TEST(MemoryBucketStore, ConcurrentSpendsOfTheLastRequest) {
  MemoryBucketStore buckets;
  const auto now = core::fromUnixSeconds(1'700'000'000);
  for (int round = 0; round < 50; ++round) {
    const std::string key = "k" + std::to_string(round);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        if (runBlocking(buckets.spend(key, kLimit, 1, now))->allowed) ++allowed;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(allowed.load(), 1) << round;
  }
}

}  // namespace
}  // namespace akamu::store
