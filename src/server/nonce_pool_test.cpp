#include "server/nonce_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

using akamu::server::NoncePool;

TEST(NoncePool, EachNonceIsAcceptedOnce) {
  NoncePool pool(1000);
  auto n = pool.issue();
  EXPECT_GE(n.size(), 22u);
  EXPECT_TRUE(pool.consume(n));
  EXPECT_FALSE(pool.consume(n));
  EXPECT_FALSE(pool.consume("never-issued"));
  EXPECT_FALSE(pool.consume(""));
}

TEST(NoncePool, NoncesAreDistinct) {
  NoncePool pool(100000);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(seen.insert(pool.issue()).second);
}

TEST(NoncePool, MemoryIsBoundedOldestForgotten) {
  NoncePool pool(160);  // 10 per shard
  auto first = pool.issue();
  std::vector<std::string> later;
  for (int i = 0; i < 5000; ++i) later.push_back(pool.issue());
  EXPECT_FALSE(pool.consume(first));
  EXPECT_TRUE(pool.consume(later.back()));
}

TEST(NoncePool, ConcurrentIssueAndConsume) {
  NoncePool pool(100000);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto n = pool.issue();
        if (pool.consume(n)) ++accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 8000);
}
