// Cost of NoncePool::issue() + consume(), against the pool it replaced (kept below as
// LegacyNoncePool, only for this comparison), from 1 and 2 threads in the same run.
//
// No CMake target builds *_bench.cpp yet; by hand, from the source root (one command):
//   g++ -std=c++20 -O2 -DNDEBUG -Isrc src/server/nonce_pool_bench.cpp src/server/nonce_pool.cpp
//     src/core/base64url.cpp src/core/random.cpp -lbenchmark -lcrypto -lpthread -o /tmp/nb
//   /tmp/nb --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <array>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/random.hpp"
#include "server/nonce_pool.hpp"

namespace {

// The previous design: random tokens remembered on issue in 16 bounded shards.
class LegacyNoncePool {
 public:
  explicit LegacyNoncePool(std::size_t capacity)
      : per_shard_capacity_(capacity / kShards > 0 ? capacity / kShards : 1) {}
  std::string issue() {
    std::string nonce = akamu::core::randomToken(16);
    Shard& shard = shardFor(nonce);
    std::lock_guard lock(shard.mutex);
    while (shard.order.size() >= per_shard_capacity_) {
      shard.live.erase(shard.order.front());
      shard.order.pop_front();
    }
    shard.live.insert(nonce);
    shard.order.push_back(nonce);
    return nonce;
  }
  bool consume(std::string_view nonce) {
    if (nonce.empty() || nonce.size() > 64) return false;
    Shard& shard = shardFor(nonce);
    std::lock_guard lock(shard.mutex);
    auto it = shard.live.find(std::string(nonce));
    if (it == shard.live.end()) return false;
    shard.live.erase(it);
    return true;
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mutex;
    std::unordered_set<std::string> live;
    std::deque<std::string> order;
  };
  Shard& shardFor(std::string_view nonce) {
    return shards_[std::hash<std::string_view>{}(nonce) % kShards];
  }
  std::size_t per_shard_capacity_;
  std::array<Shard, kShards> shards_;
};

constexpr std::size_t kCapacity = 100000;  // the configuration default (nonce_capacity)

template <class Pool>
void issueAndConsume(benchmark::State& state) {
  static Pool* pool = nullptr;
  if (state.thread_index() == 0) pool = new Pool(kCapacity);
  // Google Benchmark starts the timed loop of all threads together, after thread 0's setup.
  for (auto _ : state) {
    std::string n = pool->issue();
    bool ok = pool->consume(n);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("nonce refused");
  }
  if (state.thread_index() == 0) {  // every thread has left the loop (its end is a barrier)
    delete pool;
    pool = nullptr;
  }
}

template <class Pool>
void issueOnly(benchmark::State& state) {
  Pool pool(kCapacity);
  for (auto _ : state) benchmark::DoNotOptimize(pool.issue());
}

void legacyIssueAndConsume(benchmark::State& s) { issueAndConsume<LegacyNoncePool>(s); }
void noncePoolIssueAndConsume(benchmark::State& s) { issueAndConsume<akamu::server::NoncePool>(s); }
void legacyIssue(benchmark::State& s) { issueOnly<LegacyNoncePool>(s); }
void noncePoolIssue(benchmark::State& s) { issueOnly<akamu::server::NoncePool>(s); }

BENCHMARK(legacyIssueAndConsume)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(noncePoolIssueAndConsume)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(legacyIssue);
BENCHMARK(noncePoolIssue);

}  // namespace

BENCHMARK_MAIN();
