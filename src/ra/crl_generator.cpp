#include "ra/crl_generator.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace akamu::ra {

CrlGenerator::CrlGenerator(store::Store& store, const ca::CertificateAuthority& ca,
                           const core::Clock& clock, CrlSettings settings)
    : store_(store),
      ca_(ca),
      clock_(clock),
      settings_(settings),
      published_(static_cast<std::size_t>(std::max(settings.shards, 1))) {}

std::uint64_t CrlGenerator::nextNumber(core::TimePoint this_update) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(this_update.time_since_epoch()).count();
  std::lock_guard lock(mutex_);
  last_number_ = std::max(last_number_ + 1, static_cast<std::uint64_t>(std::max<long long>(ns, 1)));
  return last_number_;
}

boost::asio::awaitable<core::Status> CrlGenerator::runOnce(int shard) {
  if (shard < 0 || shard >= settings_.shards) {
    co_return core::fail(core::serverInternal("no CRL shard " + std::to_string(shard)));
  }
  const core::TimePoint now = clock_.now();
  // The main store, not the read-only pool: a regeneration right after a revocation must see
  // it.
  auto revoked = co_await store_.listRevokedCertificates(shard, now - settings_.lookback);
  if (!revoked) co_return core::fail(revoked.error());
  std::vector<crypto::CrlEntry> entries;
  entries.reserve(revoked->size());
  for (auto& r : *revoked) entries.push_back({std::move(r.serial_hex), r.revoked_at, r.reason});
  auto crl = std::make_shared<PublishedCrl>();
  crl->shard = shard;
  crl->this_update = now;
  crl->next_update = now + settings_.next_update;
  crl->number = nextNumber(now);
  crl->entries = entries.size();
  auto der =
      ca_.signCrl(shard, crl->this_update, crl->next_update, crl->number, std::move(entries));
  if (!der) co_return core::fail(der.error());
  crl->der = std::move(*der);
  std::lock_guard lock(mutex_);
  auto& slot = published_[static_cast<std::size_t>(shard)];
  // Two generations of one shard may finish out of order: the newer number stays.
  if (!slot || slot->number < crl->number) slot = std::move(crl);
  co_return core::Status{};
}

std::shared_ptr<const PublishedCrl> CrlGenerator::published(int shard) const {
  if (shard < 0 || shard >= settings_.shards) return nullptr;
  std::lock_guard lock(mutex_);
  return published_[static_cast<std::size_t>(shard)];
}

core::TimePoint CrlGenerator::dueAt(int shard) const {
  auto crl = published(shard);
  if (!crl) return core::TimePoint{};
  return crl->this_update + (crl->next_update - crl->this_update) / 2;
}

// ---------------------------------------------------------------------------------------------

struct CrlSchedule::State {
  State(boost::asio::any_io_executor ex, CrlGenerator& g, const core::Clock& c, Report r)
      : strand(boost::asio::make_strand(ex)),
        timer(strand),
        generator(g),
        clock(c),
        report(std::move(r)),
        changed(static_cast<std::size_t>(g.shards()), false),
        failed(static_cast<std::size_t>(g.shards()), false) {}
  // The loop runs on this strand; shardChanged/poke/stop reach it through the strand too, so
  // the timer and the flags below are only ever touched from one thread at a time.
  boost::asio::strand<boost::asio::any_io_executor> strand;
  boost::asio::steady_timer timer;
  CrlGenerator& generator;
  const core::Clock& clock;
  Report report;
  std::vector<bool> changed;  // a revocation in the shard since its last generation started
  std::vector<bool> failed;   // its last generation failed: retried after kRetryAfter
  bool poked = false;
  std::atomic<bool> stopped{false};
};

namespace {

boost::asio::awaitable<void> crlLoop(std::shared_ptr<CrlSchedule::State> state) {
  const int shards = state->generator.shards();
  for (;;) {
    if (state->stopped) co_return;
    state->poked = false;
    bool any_failed = false;
    for (int shard = 0; shard < shards; ++shard) {
      const auto i = static_cast<std::size_t>(shard);
      const bool due = state->clock.now() >= state->generator.dueAt(shard);
      if (!state->changed[i] && !state->failed[i] && !due) continue;
      state->changed[i] = false;  // a revocation from now on needs another run
      auto st = co_await state->generator.runOnce(shard);
      if (state->stopped) co_return;
      state->failed[i] = !st;
      any_failed = any_failed || !st;
      if (state->report) state->report(shard, st);
    }
    // Revocations that arrived while generating: go round again at once.
    if (state->poked ||
        std::find(state->changed.begin(), state->changed.end(), true) != state->changed.end()) {
      continue;
    }
    auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::seconds(CrlSchedule::kMaxSleep));
    const auto now = state->clock.now();
    for (int shard = 0; shard < shards; ++shard) {
      const auto until = state->generator.dueAt(shard) - now;
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::max(until, core::TimePoint::duration::zero())));
    }
    if (any_failed)
      wait = std::min<std::chrono::steady_clock::duration>(wait, CrlSchedule::kRetryAfter);
    state->timer.expires_after(wait);
    // Cancelled by shardChanged/poke/stop: the loop looks again.
    (void)co_await state->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

}  // namespace

CrlSchedule::CrlSchedule(boost::asio::any_io_executor executor, CrlGenerator& generator,
                         const core::Clock& clock, Report report)
    : state_(std::make_shared<State>(std::move(executor), generator, clock, std::move(report))) {}

CrlSchedule::~CrlSchedule() { stop(); }

void CrlSchedule::start() {
  boost::asio::co_spawn(state_->strand, crlLoop(state_), boost::asio::detached);
}

void CrlSchedule::stop() {
  state_->stopped = true;
  boost::asio::post(state_->strand, [state = state_] { state->timer.cancel(); });
}

void CrlSchedule::shardChanged(int shard) {
  boost::asio::post(state_->strand, [state = state_, shard] {
    if (shard >= 0 && static_cast<std::size_t>(shard) < state->changed.size()) {
      state->changed[static_cast<std::size_t>(shard)] = true;
    }
    state->timer.cancel();
  });
}

void CrlSchedule::poke() {
  boost::asio::post(state_->strand, [state = state_] {
    state->poked = true;
    state->timer.cancel();
  });
}

}  // namespace akamu::ra
