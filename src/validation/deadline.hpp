#pragma once
// Bounding an awaitable by a point in time: the validation's deadline. The work is cancelled
// when the deadline comes first (Asio per-operation cancellation; every await in the validators
// and every Resolver honours it), so nothing outlives the validation.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>

namespace akamu::validation {

using Deadline = std::chrono::steady_clock::time_point;

namespace detail {
// `work`'s exception as a value: `||` counts a throwing operand as "not done" and would wait
// for the deadline before reporting it.
template <class T>
boost::asio::awaitable<std::pair<std::optional<T>, std::exception_ptr>> captured(
    boost::asio::awaitable<T> work) {
  std::exception_ptr error;
  try {
    T value = co_await std::move(work);
    co_return std::make_pair(std::optional<T>(std::move(value)), std::exception_ptr());
  } catch (...) {
    error = std::current_exception();
  }
  co_return std::make_pair(std::optional<T>(), error);
}
}  // namespace detail

// `work`'s result, or nullopt when `deadline` comes first (the work is then cancelled and has
// finished when this returns). An exception from `work` is rethrown as soon as it happens.
template <class T>
boost::asio::awaitable<std::optional<T>> untilDeadline(boost::asio::awaitable<T> work,
                                                       Deadline deadline) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
  // Named operands, not temporaries, inside co_await (GCC 12 coroutine temporaries).
  auto guarded = detail::captured(std::move(work));
  auto wait = timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  auto raced = co_await (std::move(guarded) || std::move(wait));
  if (raced.index() == 1) co_return std::nullopt;
  auto& [value, error] = std::get<0>(raced);
  if (error) std::rethrow_exception(error);
  co_return std::move(value);
}

}  // namespace akamu::validation
