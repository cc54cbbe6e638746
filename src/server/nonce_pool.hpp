#pragma once
// Replay nonces (RFC 8555 §6.5): each is accepted at most once. Memory is bounded: past
// `capacity` outstanding nonces the oldest are forgotten (a client holding one gets badNonce
// and retries with the fresh nonce that comes with the error).
#include <array>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace akamu::server {

class NoncePool {
 public:
  explicit NoncePool(std::size_t capacity);
  std::string issue();
  // True exactly once per issued nonce that is still remembered.
  bool consume(std::string_view nonce);

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mutex;
    std::unordered_set<std::string> live;
    std::deque<std::string> order;
  };
  Shard& shardFor(std::string_view nonce);

  std::size_t per_shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace akamu::server
