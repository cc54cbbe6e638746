#include "server/in_flight.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace akamu::server {
namespace {

using Clock = std::chrono::steady_clock;

TEST(InFlightRequests, IdleAtOnceWhenNothingRuns) {
  InFlightRequests in_flight;
  EXPECT_EQ(in_flight.count(), 0u);
  EXPECT_TRUE(in_flight.waitIdle(Clock::now()));
}

TEST(InFlightRequests, DeadlinePassesWhileARequestRuns) {
  InFlightRequests in_flight;
  auto guard = in_flight.enter();
  EXPECT_EQ(in_flight.count(), 1u);
  EXPECT_FALSE(in_flight.waitIdle(Clock::now()));
}

TEST(InFlightRequests, WaiterWakesWhenTheLastRequestEnds) {
  InFlightRequests in_flight;
  std::promise<void> release;
  std::promise<void> entered;
  std::thread request([&] {
    auto guard = in_flight.enter();
    auto second = in_flight.enter();
    entered.set_value();
    release.get_future().wait();
  });
  entered.get_future().wait();
  EXPECT_EQ(in_flight.count(), 2u);
  // Released from another thread once the waiter is (about to be) blocked; a generous deadline
  // that is never reached when the wake-up works.
  std::thread releaser([&] { release.set_value(); });
  EXPECT_TRUE(in_flight.waitIdle(Clock::now() + std::chrono::minutes(5)));
  EXPECT_EQ(in_flight.count(), 0u);
  request.join();
  releaser.join();
}

TEST(InFlightRequests, MovedGuardCountsOnce) {
  InFlightRequests in_flight;
  {
    auto a = in_flight.enter();
    auto b = std::move(a);
    EXPECT_EQ(in_flight.count(), 1u);
  }
  EXPECT_EQ(in_flight.count(), 0u);
}

}  // namespace
}  // namespace akamu::server
