#pragma once
// Lets a challenge request wait briefly for the validation it started. Most validations on a
// local network finish in well under a millisecond; answering the challenge POST with its
// final status then saves the client a polling round (the "synchronous fast path").
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <chrono>

namespace akamu::ra {

class ValidationSignal {
 public:
  explicit ValidationSignal(boost::asio::any_io_executor executor) : channel_(executor, 1) {}
  // Called once, from whichever thread finished the validation, after its result is stored.
  void notify();
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Returns when notify() was called or `limit` passed, whichever comes first.
  boost::asio::awaitable<void> waitFor(std::chrono::milliseconds limit);

 private:
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> channel_;
  std::atomic<bool> finished_{false};
};

}  // namespace akamu::ra
