#pragma once
// The rate limiter's buckets (acme/gcra.hpp): one TAT per key (limit name + bucket key).
// PostgreSQL keeps them in a table, so every node on one database spends from the same
// buckets; SQLite deployments are one process and keep them in memory (MemoryBucketStore).
//
// Each spend is atomic on its bucket: of two concurrent spends of the last request exactly
// one is allowed. `now` is the caller's clock (the server's injected clock), passed the same
// way to every backend: the database's clock is not consulted.
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "acme/gcra.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace akamu::store {

class BucketStore {
 public:
  virtual ~BucketStore() = default;
  // Spends `cost` when allowed (the new TAT stored); nothing stored when denied.
  virtual boost::asio::awaitable<core::Result<acme::gcra::Decision>> spend(
      const std::string& key, const acme::gcra::Limit& limit, std::int64_t cost,
      core::TimePoint now) = 0;
  // What spend would decide, without spending.
  virtual boost::asio::awaitable<core::Result<acme::gcra::Decision>> check(
      const std::string& key, const acme::gcra::Limit& limit, std::int64_t cost,
      core::TimePoint now) = 0;
  // Gives back a spend (acme::gcra::refund); a missing bucket is full already.
  virtual boost::asio::awaitable<core::Status> refund(const std::string& key,
                                                      const acme::gcra::Limit& limit,
                                                      std::int64_t cost, core::TimePoint now) = 0;
};

acme::gcra::Nanos toNanos(core::TimePoint t);

// A mutex-protected map. Bounded: when it holds more than `max_buckets` it drops every bucket
// whose TAT has passed (a full bucket is the same as none); a map still over the bound after
// that refuses new keys with serverInternal rather than growing without limit.
class MemoryBucketStore final : public BucketStore {
 public:
  explicit MemoryBucketStore(std::size_t max_buckets = 1000000) : max_buckets_(max_buckets) {}
  boost::asio::awaitable<core::Result<acme::gcra::Decision>> spend(const std::string& key,
                                                                   const acme::gcra::Limit& limit,
                                                                   std::int64_t cost,
                                                                   core::TimePoint now) override;
  boost::asio::awaitable<core::Result<acme::gcra::Decision>> check(const std::string& key,
                                                                   const acme::gcra::Limit& limit,
                                                                   std::int64_t cost,
                                                                   core::TimePoint now) override;
  boost::asio::awaitable<core::Status> refund(const std::string& key,
                                              const acme::gcra::Limit& limit, std::int64_t cost,
                                              core::TimePoint now) override;
  std::size_t size() const;

 private:
  core::Result<acme::gcra::Decision> spendLocked(const std::string& key,
                                                 const acme::gcra::Limit& limit, std::int64_t cost,
                                                 acme::gcra::Nanos now);
  mutable std::mutex mutex_;
  std::unordered_map<std::string, acme::gcra::Nanos> tats_;
  std::size_t max_buckets_;
};

}  // namespace akamu::store
