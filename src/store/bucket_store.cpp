#include "store/bucket_store.hpp"

#include <optional>

namespace akamu::store {

acme::gcra::Nanos toNanos(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

core::Result<acme::gcra::Decision> MemoryBucketStore::spendLocked(const std::string& key,
                                                                  const acme::gcra::Limit& limit,
                                                                  std::int64_t cost,
                                                                  acme::gcra::Nanos now) {
  auto it = tats_.find(key);
  std::optional<acme::gcra::Nanos> tat;
  if (it != tats_.end()) tat = it->second;
  auto d = acme::gcra::decide(limit, tat, cost, now);
  if (!d.allowed) return d;
  if (it != tats_.end()) {
    it->second = d.new_tat;
    return d;
  }
  if (tats_.size() >= max_buckets_) {
    std::erase_if(tats_, [now](const auto& kv) { return acme::gcra::isFull(kv.second, now); });
    if (tats_.size() >= max_buckets_) {
      return core::fail(core::serverInternal("rate limit buckets: more than " +
                                             std::to_string(max_buckets_) + " active buckets"));
    }
  }
  tats_.emplace(key, d.new_tat);
  return d;
}

boost::asio::awaitable<core::Result<acme::gcra::Decision>> MemoryBucketStore::spend(
    const std::string& key, const acme::gcra::Limit& limit, std::int64_t cost,
    core::TimePoint now) {
  std::lock_guard lock(mutex_);
  co_return spendLocked(key, limit, cost, toNanos(now));
}

boost::asio::awaitable<core::Result<acme::gcra::Decision>> MemoryBucketStore::check(
    const std::string& key, const acme::gcra::Limit& limit, std::int64_t cost,
    core::TimePoint now) {
  std::optional<acme::gcra::Nanos> tat;
  {
    std::lock_guard lock(mutex_);
    if (auto it = tats_.find(key); it != tats_.end()) tat = it->second;
  }
  co_return acme::gcra::decide(limit, tat, cost, toNanos(now));
}

boost::asio::awaitable<core::Status> MemoryBucketStore::refund(const std::string& key,
                                                               const acme::gcra::Limit& limit,
                                                               std::int64_t cost,
                                                               core::TimePoint now) {
  std::lock_guard lock(mutex_);
  if (auto it = tats_.find(key); it != tats_.end()) {
    const auto n = toNanos(now);
    it->second = acme::gcra::refund(limit, it->second, cost, n);
    if (acme::gcra::isFull(it->second, n)) tats_.erase(it);
  }
  co_return core::Status{};
}

std::size_t MemoryBucketStore::size() const {
  std::lock_guard lock(mutex_);
  return tats_.size();
}

}  // namespace akamu::store
