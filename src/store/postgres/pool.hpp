#pragma once
// A fixed number of connection slots shared by every thread of the event loop. A call checks
// a slot out, waiting asynchronously (never spinning, never blocking a thread) when all are in
// use, and gives it back when done. A slot whose connection broke, timed out or was left
// inside a transaction comes back empty and is reconnected by the next call that takes it.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "store/postgres/connection.hpp"

namespace akamu::store::postgres {

// Always owned by a shared_ptr: a Lease keeps its pool alive, so a call still suspended in an
// event loop that is torn down after the store gives its slot back to a pool that still exists.
class Pool : public std::enable_shared_from_this<Pool> {
 public:
  class Lease {
   public:
    Lease(std::shared_ptr<Pool> pool, std::size_t slot) : pool_(std::move(pool)), slot_(slot) {}
    Lease(Lease&& other) noexcept
        : pool_(std::move(other.pool_)), slot_(other.slot_), keep_(other.keep_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    // Gives the slot back; its connection too when keep() was called, otherwise it is closed.
    ~Lease();

    Connection& connection() { return *pool_->slots_[slot_]; }
    // The connection is known to be idle and healthy: the next call may use it.
    void keep() { keep_ = true; }

   private:
    std::shared_ptr<Pool> pool_;
    std::size_t slot_;
    bool keep_ = false;
  };

  // `init_sql` runs once on each new connection (see connectBlocking).
  Pool(boost::asio::any_io_executor executor, std::shared_ptr<const ConnectConfig> config,
       const char* init_sql, std::span<const Statement> catalog, std::size_t size);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Start-up: fills the slots with already connected connections, then opens the pool.
  void open(std::vector<std::unique_ptr<Connection>> connections);

  // A slot with a live connection, reconnecting it when needed; fails when none frees up (or
  // no connection can be made) before `deadline`.
  boost::asio::awaitable<core::Result<Lease>> acquire(Deadline deadline);

  std::size_t size() const { return slots_.size(); }
  // Calls waiting for a free connection now, for metrics.
  std::size_t waiters() const;

 private:
  using Handler = boost::asio::any_completion_handler<void(std::optional<std::size_t>)>;
  struct Waiter;

  void release(std::size_t slot, bool keep);
  // Completes with a free slot's index, as soon as there is one; with nullopt when cancelled.
  // Supports per-operation cancellation, so it can race a timer in a parallel group.
  template <class Token>
  auto asyncTake(Token&& token);
  void initiateTake(Handler handler);
  void cancelWaiter(const std::weak_ptr<Waiter>& waiter);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<const ConnectConfig> config_;
  const char* init_sql_;
  std::span<const Statement> catalog_;
  // Owned by whoever holds the slot's index: the free list below, or one Lease.
  std::vector<std::unique_ptr<Connection>> slots_;

  // Guards the free list and the waiters; never held across an await or a completion.
  mutable std::mutex mutex_;
  std::vector<std::size_t> free_;
  // Calls waiting for a slot, first come first served; a released slot goes straight to the
  // oldest one.
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace akamu::store::postgres
