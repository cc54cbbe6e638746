#include "server/nonce_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/random.hpp"

using akamu::server::NoncePool;

namespace {

bool isBase64url(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::vector<std::string> issueMany(NoncePool& pool, std::size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(pool.issue());
  return out;
}

}  // namespace

TEST(NoncePool, EachNonceIsAcceptedOnce) {
  NoncePool pool(1000);
  auto n = pool.issue();
  EXPECT_TRUE(pool.consume(n));
  EXPECT_FALSE(pool.consume(n));
  EXPECT_FALSE(pool.consume("never-issued"));
  EXPECT_FALSE(pool.consume(""));
}

TEST(NoncePool, NoncesAreDistinctShortAndBase64url) {
  NoncePool pool(100000);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto n = pool.issue();
    EXPECT_EQ(n.size(), 22u);  // RFC 8555 §6.5.1: base64url, no padding; ours are 128 bits
    EXPECT_TRUE(isBase64url(n)) << n;
    EXPECT_TRUE(seen.insert(n).second);
  }
}

TEST(NoncePool, FloodOfUnusedNoncesDoesNotInvalidateAnEarlierOne) {
  constexpr std::size_t kMaxUsed = 1000;
  NoncePool pool(kMaxUsed);
  auto before = pool.issue();
  auto flood = issueMany(pool, 10 * kMaxUsed);  // HEAD /acme/new-nonce in a loop
  EXPECT_TRUE(pool.consume(before));
  EXPECT_TRUE(pool.consume(flood.front()));
  EXPECT_TRUE(pool.consume(flood.back()));
}

TEST(NoncePool, MalformedForgedAndTamperedNoncesAreRefused) {
  NoncePool pool(1000);
  const std::string good = pool.issue();
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // Every one-character change, at every position.
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (char c : kAlphabet) {
      if (c == good[i]) continue;
      std::string t = good;
      t[i] = c;
      EXPECT_FALSE(pool.consume(t)) << t;
    }
  }
  // Every truncation, and overlong forms.
  for (std::size_t len = 0; len < good.size(); ++len)
    EXPECT_FALSE(pool.consume(good.substr(0, len)));
  EXPECT_FALSE(pool.consume(good + "A"));
  EXPECT_FALSE(pool.consume(good + "=="));
  EXPECT_FALSE(pool.consume(good + good));
  EXPECT_FALSE(pool.consume(std::string(100000, 'A')));
  // Garbage of the right length and of other lengths.
  EXPECT_FALSE(pool.consume(std::string(22, 'A')));  // the all-zero block
  EXPECT_FALSE(pool.consume(std::string(22, '\0')));
  EXPECT_FALSE(pool.consume(std::string(22, '\xff')));
  EXPECT_FALSE(pool.consume(std::string(21, 'A') + "="));
  EXPECT_FALSE(pool.consume(std::string(11, 'A') + " " + std::string(10, 'A')));
  EXPECT_FALSE(pool.consume("+/+/+/+/+/+/+/+/+/+/+/"));
  for (int i = 0; i < 10000; ++i) EXPECT_FALSE(pool.consume(akamu::core::randomToken(16)));
  // None of this spent the real nonce.
  EXPECT_TRUE(pool.consume(good));
}

TEST(NoncePool, NonceFromAnotherPoolIsRefused) {
  NoncePool a(1000);
  NoncePool b(1000);
  auto from_a = a.issue();
  auto from_b = b.issue();
  EXPECT_FALSE(b.consume(from_a));
  EXPECT_FALSE(a.consume(from_b));
  EXPECT_TRUE(a.consume(from_a));
  EXPECT_TRUE(b.consume(from_b));
}

TEST(NoncePool, OldUnredeemedNonceSurvivesWhileTheRedeemedSetHasRoom) {
  NoncePool pool(1000);
  auto old = pool.issue();
  for (auto& n : issueMany(pool, 999)) EXPECT_TRUE(pool.consume(n));
  EXPECT_TRUE(pool.consume(old));  // the 1000th redeemed: the set is full, nothing dropped yet
}

// The documented trade-off: once more than max_used nonces have been redeemed after it was
// issued, an unredeemed nonce is below the floor and refused.
TEST(NoncePool, RedeemedSetOverflowRaisesTheFloor) {
  constexpr std::size_t kMaxUsed = 100;
  NoncePool pool(kMaxUsed);
  auto old = pool.issue();
  auto batch = issueMany(pool, 3 * kMaxUsed);
  for (std::size_t i = 0; i < 2 * kMaxUsed; ++i) EXPECT_TRUE(pool.consume(batch[i]));
  // The 100 oldest redeemed were dropped from the set; the floor is now the 100th's counter.
  EXPECT_FALSE(pool.consume(old));  // never redeemed, but below the floor
  for (std::size_t i = 0; i < 2 * kMaxUsed; ++i) EXPECT_FALSE(pool.consume(batch[i])) << i;
  // Unredeemed nonces above the floor, and new ones, are still good.
  for (std::size_t i = 2 * kMaxUsed; i < 3 * kMaxUsed; ++i) EXPECT_TRUE(pool.consume(batch[i]));
  auto fresh = pool.issue();
  EXPECT_TRUE(pool.consume(fresh));
  EXPECT_FALSE(pool.consume(fresh));
}

TEST(NoncePool, ZeroMaxUsedStillRemembersOne) {
  NoncePool pool(0);
  auto a = pool.issue();
  auto b = pool.issue();
  EXPECT_TRUE(pool.consume(b));
  EXPECT_FALSE(pool.consume(b));
  // Older than the one remembered: accepting it drops it at once and makes it the floor.
  EXPECT_TRUE(pool.consume(a));
  EXPECT_FALSE(pool.consume(a));
  EXPECT_FALSE(pool.consume(b));
}

// Against a plain model of the rule (insert, and when over max_used drop the smallest and make
// it the floor), in a random order with repeats and a small set that overflows constantly.
TEST(NoncePool, MatchesTheModelInAnyOrder) {
  constexpr std::size_t kMaxUsed = 8;
  constexpr std::size_t kNonces = 500;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < kNonces; ++i) order.insert(order.end(), 3, i);
  std::mt19937 rng(12345);
  // Mostly ascending with local disorder, like clients using recent nonces at their own pace.
  std::vector<std::size_t> jittered = order;
  for (std::size_t i = 0; i + 1 < jittered.size(); ++i) {
    std::size_t j = std::min(jittered.size() - 1, i + rng() % 40);
    std::swap(jittered[i], jittered[j]);
  }
  std::shuffle(order.begin(), order.end(), rng);
  for (const auto& sequence : {jittered, order}) {
    NoncePool p(kMaxUsed);
    auto ns = issueMany(p, kNonces);
    std::uint64_t floor = 0;
    std::set<std::uint64_t> used;
    std::vector<int> accepted(ns.size(), 0);
    std::size_t total = 0;
    for (std::size_t i : sequence) {
      const std::uint64_t counter = i + 1;  // the pool's first nonce carries 1
      bool expect = counter > floor && !used.contains(counter);
      if (expect) {
        used.insert(counter);
        if (used.size() > kMaxUsed) {
          floor = *used.begin();
          used.erase(used.begin());
        }
      }
      bool got = p.consume(ns[i]);
      ASSERT_EQ(got, expect) << "nonce " << i;
      accepted[i] += got;
      total += got;
    }
    EXPECT_TRUE(std::all_of(accepted.begin(), accepted.end(), [](int a) { return a <= 1; }));
    EXPECT_GT(total, kMaxUsed);
  }
}

TEST(NoncePool, ConcurrentConsumeAcceptsEachNonceExactlyOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  NoncePool pool(kThreads * kPerThread);
  // Issue from every thread at once.
  std::vector<std::vector<std::string>> issued(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { issued[t] = issueMany(pool, kPerThread); });
    }
    for (auto& th : threads) th.join();
  }
  std::vector<std::string> all;
  for (auto& v : issued) all.insert(all.end(), v.begin(), v.end());
  ASSERT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  // Every thread tries every nonce, each starting at a different place, while another thread
  // keeps issuing.
  std::vector<std::atomic<int>> accepted(all.size());
  std::atomic<bool> stop{false};
  std::thread issuer([&] {
    while (!stop.load()) (void)pool.issue();
  });
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t k = 0; k < all.size(); ++k) {
          std::size_t i = (k + t * all.size() / kThreads) % all.size();
          if (pool.consume(all[i])) accepted[i].fetch_add(1);
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  stop = true;
  issuer.join();
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(accepted[i].load(), 1) << i;
}

TEST(NoncePool, ConcurrentConsumeUnderOverflowNeverAcceptsTwice) {
  constexpr int kThreads = 4;
  NoncePool pool(64);  // far fewer than in flight: the floor moves all the time
  auto all = issueMany(pool, 20000);
  std::vector<std::atomic<int>> accepted(all.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t k = 0; k < all.size(); ++k) {
        std::size_t i = (k + t * 7) % all.size();  // the threads chase each other
        if (pool.consume(all[i])) accepted[i].fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_LE(accepted[i].load(), 1) << i;
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
