#include "ra/star_schedule.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace akamu::ra {

struct StarSchedule::State {
  State(boost::asio::any_io_executor ex, RegistrationAuthority& r, std::chrono::seconds i,
        Report rep)
      : strand(boost::asio::make_strand(ex)),
        timer(strand),
        ra(r),
        interval(i),
        report(std::move(rep)) {}
  // The loop runs on this strand and stop() cancels the timer through it (an asio timer must
  // not be touched from two threads at once).
  boost::asio::strand<boost::asio::any_io_executor> strand;
  boost::asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  RegistrationAuthority& ra;
  std::chrono::seconds interval;
  Report report;
};

namespace {

boost::asio::awaitable<void> starLoop(std::shared_ptr<StarSchedule::State> state) {
  for (;;) {
    if (state->stopped) co_return;
    auto counts = co_await state->ra.renewStarOrders();
    if (state->report) state->report(counts);
    state->timer.expires_after(state->interval);
    auto [ec] = co_await state->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec || state->stopped) co_return;
  }
}

}  // namespace

StarSchedule::StarSchedule(boost::asio::any_io_executor executor, RegistrationAuthority& ra,
                           std::chrono::seconds interval, Report report)
    : state_(std::make_shared<State>(std::move(executor), ra, interval, std::move(report))) {}

StarSchedule::~StarSchedule() { stop(); }

void StarSchedule::start() {
  if (state_->interval.count() <= 0) return;
  boost::asio::co_spawn(state_->strand, starLoop(state_), boost::asio::detached);
}

void StarSchedule::stop() {
  state_->stopped = true;
  boost::asio::post(state_->strand, [state = state_] { state->timer.cancel(); });
}

}  // namespace akamu::ra
