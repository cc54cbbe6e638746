#include "server/nonce_pool.hpp"

#include <functional>

#include "core/random.hpp"

namespace akamu::server {

NoncePool::NoncePool(std::size_t capacity)
    : per_shard_capacity_(capacity / kShards > 0 ? capacity / kShards : 1) {}

NoncePool::Shard& NoncePool::shardFor(std::string_view nonce) {
  return shards_[std::hash<std::string_view>{}(nonce) % kShards];
}

std::string NoncePool::issue() {
  std::string nonce = core::randomToken(16);
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

bool NoncePool::consume(std::string_view nonce) {
  if (nonce.empty() || nonce.size() > 64) return false;
  Shard& shard = shardFor(nonce);
  std::lock_guard lock(shard.mutex);
  auto it = shard.live.find(std::string(nonce));
  if (it == shard.live.end()) return false;
  shard.live.erase(it);  // its entry in `order` expires harmlessly later
  return true;
}

}  // namespace akamu::server
