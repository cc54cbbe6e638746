#pragma once
// STAR (RFC 8739) reissue schedule: every `interval` (and once right at start, so that a
// restarted server catches up at once) it runs RegistrationAuthority::renewStarOrders. All its
// state is in the database: which period each order has is stored with the order, and the
// store issues a period at most once, so several nodes may run the schedule at the same time.
// Time comes from the RA's clock (a FakeClock in tests); the interval itself is real time.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "ra/registration_authority.hpp"

namespace akamu::ra {

class StarSchedule {
 public:
  using Report = std::function<void(const core::Result<StarPassCounts>&)>;
  // `interval` zero or less: start() does nothing (passes run only when called directly).
  StarSchedule(boost::asio::any_io_executor executor, RegistrationAuthority& ra,
               std::chrono::seconds interval, Report report);
  ~StarSchedule();
  StarSchedule(const StarSchedule&) = delete;
  StarSchedule& operator=(const StarSchedule&) = delete;

  void start();
  void stop();

  struct State;  // shared with the running loop

 private:
  std::shared_ptr<State> state_;
};

}  // namespace akamu::ra
