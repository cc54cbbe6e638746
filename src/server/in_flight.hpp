#pragma once
// Counts the requests being handled, so that a stopping server can wait for them (graceful
// shutdown) instead of cutting them off. Entering and leaving is one atomic add each; only a
// request that leaves while someone waits takes the lock.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace akamu::server {

class InFlightRequests {
 public:
  // Held for the life of one request.
  class Guard {
   public:
    explicit Guard(InFlightRequests& owner) : owner_(&owner) { owner_->count_.fetch_add(1); }
    Guard(Guard&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (owner_ != nullptr) owner_->leave();
    }

   private:
    InFlightRequests* owner_;
  };

  Guard enter() { return Guard(*this); }
  std::size_t count() const { return count_.load(); }

  // Blocks until no request is in flight or `deadline` passes; true when none is left. Must
  // not be called from a thread that runs requests (they could not finish meanwhile).
  bool waitIdle(std::chrono::steady_clock::time_point deadline) {
    waiting_.store(true);
    std::unique_lock lock(mutex_);
    return idle_.wait_until(lock, deadline, [this] { return count_.load() == 0; });
  }

 private:
  void leave() {
    // seq_cst on both atomics: a waiter that set waiting_ before this decrement is seen here,
    // and one that sets it after sees the count at zero when it checks under the lock.
    if (count_.fetch_sub(1) == 1 && waiting_.load()) {
      std::lock_guard lock(mutex_);
      idle_.notify_all();
    }
  }

  std::atomic<std::size_t> count_{0};
  std::atomic<bool> waiting_{false};
  std::mutex mutex_;
  std::condition_variable idle_;
};

}  // namespace akamu::server
