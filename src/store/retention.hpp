#pragma once
// Retention: expired orders, authorizations and challenges are deleted on a schedule so that
// the database does not grow without bound. Certificates, revocation records and accounts are
// kept for ever (see Store::pruneExpired for exactly what goes).
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace akamu::store {

struct RetentionSettings {
  std::chrono::seconds interval{3600};       // between passes; zero disables the schedule
  std::chrono::seconds after_expiry{86400};  // how long expired state is kept
  std::size_t batch = 500;                   // orders per transaction
};

// One pass: everything that expired more than `after_expiry` before `clock.now()`, drained in
// transactions of at most `batch` orders. Returns the totals.
Awaitable<Result<PruneCounts>> pruneOnce(Store& store, const core::Clock& clock,
                                         RetentionSettings settings);

// Runs pruneOnce every `interval` on `executor` until stop() or destruction. `report` is told
// the outcome of every pass (for logging). The store and clock must outlive the executor's
// event loop.
class RetentionSchedule {
 public:
  using Report = std::function<void(const Result<PruneCounts>&)>;
  RetentionSchedule(boost::asio::any_io_executor executor, Store& store, const core::Clock& clock,
                    RetentionSettings settings, Report report);
  ~RetentionSchedule();
  RetentionSchedule(const RetentionSchedule&) = delete;
  RetentionSchedule& operator=(const RetentionSchedule&) = delete;

  void start();
  void stop();

  struct State;  // shared with the running loop

 private:
  std::shared_ptr<State> state_;
};

}  // namespace akamu::store
