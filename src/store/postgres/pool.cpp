#include "store/postgres/pool.hpp"

#include <algorithm>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <utility>

namespace akamu::store::postgres {
namespace asio = boost::asio;

Pool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(slot_, keep_);
}

struct Pool::Waiter {
  Handler handler;
};

Pool::Pool(asio::any_io_executor executor, std::shared_ptr<const ConnectConfig> config,
           const char* init_sql, std::span<const Statement> catalog, std::size_t size)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      init_sql_(init_sql),
      catalog_(catalog),
      slots_(size) {}

void Pool::open(std::vector<std::unique_ptr<Connection>> connections) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (i < connections.size()) slots_[i] = std::move(connections[i]);
    free_.push_back(i);
  }
}

namespace {

// Completions run on the waiter's own executor (post then dispatches to the handler's
// associated executor), never inside release() or a cancellation.
template <class Handler>
void complete(Handler handler, std::optional<std::size_t> slot,
              const asio::any_io_executor& executor) {
  asio::post(executor, asio::append(std::move(handler), slot));
}

}  // namespace

std::size_t Pool::waiters() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

void Pool::release(std::size_t slot, bool keep) {
  if (!keep) slots_[slot].reset();
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mutex_);
    if (waiters_.empty()) {
      free_.push_back(slot);
      return;
    }
    waiter = std::move(waiters_.front());
    waiters_.pop_front();
  }
  complete(std::move(waiter->handler), slot, executor_);
}

void Pool::initiateTake(Handler handler) {
  std::unique_lock lock(mutex_);
  if (!free_.empty()) {
    // Most recently used first: its prepared statements and caches are warm.
    const std::size_t slot = free_.back();
    free_.pop_back();
    lock.unlock();
    complete(std::move(handler), slot, executor_);
    return;
  }
  auto cancellation = asio::get_associated_cancellation_slot(handler);
  auto waiter = std::make_shared<Waiter>(Waiter{std::move(handler)});
  waiters_.push_back(waiter);
  if (cancellation.is_connected()) {
    cancellation.assign([this, weak = std::weak_ptr<Waiter>(waiter)](asio::cancellation_type) {
      cancelWaiter(weak);
    });
  }
}

void Pool::cancelWaiter(const std::weak_ptr<Waiter>& weak) {
  std::shared_ptr<Waiter> waiter = weak.lock();
  if (!waiter) return;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find(waiters_.begin(), waiters_.end(), waiter);
    // Already handed a slot by release(): that completion stands.
    if (it == waiters_.end()) return;
    waiters_.erase(it);
  }
  complete(std::move(waiter->handler), std::nullopt, executor_);
}

template <class Token>
auto Pool::asyncTake(Token&& token) {
  return asio::async_initiate<Token, void(std::optional<std::size_t>)>(
      [this](auto handler) { initiateTake(Handler(std::move(handler))); }, token);
}

asio::awaitable<core::Result<Pool::Lease>> Pool::acquire(Deadline deadline) {
  std::optional<std::size_t> slot;
  {
    // Fast path, without a timer. A free slot means nobody is waiting: release() hands slots
    // to waiters directly.
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    }
  }
  if (!slot) {
    asio::steady_timer timer(executor_, deadline);
    // Whichever ends first cancels the other; a slot handed over at the last moment still
    // counts (and is given back by the lease if the call then fails).
    auto r = co_await asio::experimental::make_parallel_group(asyncTake(asio::deferred),
                                                              timer.async_wait(asio::deferred))
                 .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    slot = std::get<1>(r);
  }
  if (!slot) {
    co_return core::fail(
        core::serverInternal("postgres: all " + std::to_string(slots_.size()) +
                             " database connections stayed busy until the query deadline"));
  }
  Lease lease(shared_from_this(), *slot);
  auto& conn = slots_[*slot];
  // A server restart or pg_terminate_backend() shows up here, before anything is sent, so the
  // call can go ahead on a new connection instead of failing.
  if (conn && !conn->stillAlive()) conn.reset();
  if (!conn) {
    const Deadline connect_deadline = std::min(deadline, Clock::now() + config_->connectTimeout());
    auto fresh =
        co_await connectAsync(*config_, init_sql_, executor_, catalog_.size(), connect_deadline);
    if (!fresh) co_return core::fail(fresh.error());
    conn = std::move(*fresh);
  }
  co_return std::move(lease);
}

}  // namespace akamu::store::postgres
