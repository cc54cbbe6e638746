#include "store/retention.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace akamu::store {

Awaitable<Result<PruneCounts>> pruneOnce(Store& store, const core::Clock& clock,
                                         RetentionSettings settings) {
  const core::TimePoint cutoff = clock.now() - settings.after_expiry;
  PruneCounts total;
  // Each pass is its own short transaction so that issuance is never held up for long; the
  // bound on passes keeps a store that always reports `more` from looping for ever.
  for (int pass = 0; pass < 10'000; ++pass) {
    auto counts = co_await store.pruneExpired(cutoff, settings.batch);
    if (!counts) co_return core::fail(counts.error());
    total.orders += counts->orders;
    total.authorizations += counts->authorizations;
    total.challenges += counts->challenges;
    if (!counts->more) co_return total;
  }
  total.more = true;
  co_return total;
}

struct RetentionSchedule::State {
  State(boost::asio::any_io_executor ex, Store& s, const core::Clock& c, RetentionSettings rs,
        Report r)
      : strand(boost::asio::make_strand(ex)),
        timer(strand),
        store(s),
        clock(c),
        settings(rs),
        report(std::move(r)) {}
  // The loop runs on this strand and stop() cancels the timer through it: an asio timer must
  // not be touched from two threads at once, and the event loop may have several.
  boost::asio::strand<boost::asio::any_io_executor> strand;
  boost::asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  Store& store;
  const core::Clock& clock;
  RetentionSettings settings;
  Report report;
};

namespace {

Awaitable<void> retentionLoop(std::shared_ptr<RetentionSchedule::State> state);

}  // namespace

RetentionSchedule::RetentionSchedule(boost::asio::any_io_executor executor, Store& store,
                                     const core::Clock& clock, RetentionSettings settings,
                                     Report report)
    : state_(std::make_shared<State>(std::move(executor), store, clock, settings,
                                     std::move(report))) {}

RetentionSchedule::~RetentionSchedule() { stop(); }

void RetentionSchedule::start() {
  if (state_->settings.interval.count() <= 0) return;
  boost::asio::co_spawn(state_->strand, retentionLoop(state_), boost::asio::detached);
}

void RetentionSchedule::stop() {
  state_->stopped = true;
  boost::asio::post(state_->strand, [state = state_] { state->timer.cancel(); });
}

namespace {

Awaitable<void> retentionLoop(std::shared_ptr<RetentionSchedule::State> state) {
  for (;;) {
    if (state->stopped) co_return;
    state->timer.expires_after(state->settings.interval);
    auto [ec] = co_await state->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec || state->stopped) co_return;
    auto counts = co_await pruneOnce(state->store, state->clock, state->settings);
    if (state->report) state->report(counts);
  }
}

}  // namespace
}  // namespace akamu::store
