#include "ra/validation_signal.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace akamu::ra {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

void ValidationSignal::notify() {
  finished_.store(true, std::memory_order_release);
  channel_.try_send(boost::system::error_code{});
}

asio::awaitable<void> ValidationSignal::waitFor(std::chrono::milliseconds limit) {
  if (finished()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, limit);
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  co_await (channel_.async_receive(kTuple) || timer.async_wait(kTuple));
}

}  // namespace akamu::ra
