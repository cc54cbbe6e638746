#pragma once
// CRL generation (RFC 5280 §5): one CRL per shard, generated from the store, signed by the CA,
// held in memory and swapped whole, and a schedule that regenerates a shard within moments of a
// revocation in it and at half of its validity.
//
// The unit of work is CrlGenerator::runOnce(shard). Today one process runs every shard; a
// cluster can put a per-shard lease in the database around runOnce (take the lease, generate,
// publish to a shared place, release) without changing the generation itself.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "ca/certificate_authority.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace akamu::ra {

struct CrlSettings {
  int shards = 1;
  std::chrono::seconds next_update{86400};  // nextUpdate - thisUpdate
  std::chrono::seconds lookback{86400};     // expired revoked certificates stay this long
};

// One generated CRL, immutable once published.
struct PublishedCrl {
  int shard = 0;
  std::vector<std::uint8_t> der;
  core::TimePoint this_update{};
  core::TimePoint next_update{};
  std::uint64_t number = 0;
  std::size_t entries = 0;
};

class CrlGenerator {
 public:
  CrlGenerator(store::Store& store, const ca::CertificateAuthority& ca, const core::Clock& clock,
               CrlSettings settings);

  // Lists the shard's revoked certificates (not expired longer than the lookback), signs a CRL
  // with thisUpdate = now and publishes it. Safe to call concurrently for any shards.
  boost::asio::awaitable<core::Status> runOnce(int shard);

  // The CRL being served for `shard`; null before its first generation or out of range.
  std::shared_ptr<const PublishedCrl> published(int shard) const;
  // When `shard` should be generated again: half-way through the published CRL's validity (so
  // a failed attempt has the other half to succeed), or the distant past if it has none.
  core::TimePoint dueAt(int shard) const;
  int shards() const { return settings_.shards; }

 private:
  // Time-derived like Boulder's (no stored state): the unix time of thisUpdate in nanoseconds,
  // raised above the last number this process used so that it is strictly increasing even when
  // two CRLs share a nanosecond or the clock steps back.
  std::uint64_t nextNumber(core::TimePoint this_update);

  store::Store& store_;
  const ca::CertificateAuthority& ca_;
  const core::Clock& clock_;
  CrlSettings settings_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const PublishedCrl>> published_;
  std::uint64_t last_number_ = 0;
};

// Runs the generator: every shard when it is due (CrlGenerator::dueAt) and a shard at once when
// shardChanged() says a certificate in it was revoked. Waits for the earliest due time, at most
// kMaxSleep of real time (so that a clock that jumps, or a fake clock in a test, is noticed),
// and retries a failed shard after kRetryAfter.
class CrlSchedule {
 public:
  using Report = std::function<void(int shard, const core::Status&)>;
  static constexpr std::chrono::seconds kMaxSleep{60};
  static constexpr std::chrono::seconds kRetryAfter{5};

  CrlSchedule(boost::asio::any_io_executor executor, CrlGenerator& generator,
              const core::Clock& clock, Report report);
  ~CrlSchedule();
  CrlSchedule(const CrlSchedule&) = delete;
  CrlSchedule& operator=(const CrlSchedule&) = delete;

  void start();
  void stop();
  // From any thread, never blocks: `shard` is regenerated as soon as the schedule gets to it.
  void shardChanged(int shard);
  // From any thread: look at the clock again now (after a fake clock moved, or an operator's
  // request), regenerating what is due.
  void poke();

  struct State;  // shared with the running loop

 private:
  std::shared_ptr<State> state_;
};

}  // namespace akamu::ra
