#pragma once
// The single SQLite writer. Callers queue write jobs from any thread; one thread takes
// everything queued (up to a bound), runs it in one IMMEDIATE transaction with a savepoint per
// job (a failing job rolls back to its savepoint and the others stand), commits once, and only
// then completes each job. One commit — one WAL fsync with synchronous=FULL — is thus shared by
// every write that arrived while the previous batch was committing, and nobody waits for
// BEGIN IMMEDIATE on a busy lock.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "core/problem.hpp"
#include "store/sqlite/database.hpp"

namespace akamu::store::sqlite {

class WriteJob {
 public:
  virtual ~WriteJob() = default;
  // Runs the job's statements inside its savepoint; false means "roll my savepoint back".
  // Must not throw.
  virtual bool run(Database& db) noexcept = 0;
  // Replaces the job's outcome with a failure (begin/savepoint/commit failed, or shutdown).
  virtual void fail(const core::Problem& problem) noexcept = 0;
  // Hands the outcome to the waiting caller. Called once, after the batch's commit.
  virtual void complete() noexcept = 0;
};

class WriteBatcher {
 public:
  // `db` is the writer connection; `db_mutex` is held while a batch runs, for backends whose
  // readers share that connection (":memory:"). `max_batch` bounds one transaction.
  WriteBatcher(Database& db, std::mutex& db_mutex, std::size_t max_batch = 256);
  ~WriteBatcher();  // fails whatever is still queued, then joins the thread
  WriteBatcher(const WriteBatcher&) = delete;
  WriteBatcher& operator=(const WriteBatcher&) = delete;

  void submit(std::unique_ptr<WriteJob> job);
  // Nothing queued and no batch running: a caller may write directly under the connection's
  // mutex instead (see SqliteStore::write).
  bool idle() const { return pending_.load(std::memory_order_acquire) == 0; }
  // Jobs submitted and not yet completed (the queue and the batch running), for metrics.
  std::size_t pending() const { return pending_.load(std::memory_order_relaxed); }

  // Counters for tests and metrics: transactions committed and jobs run.
  std::size_t batches() const;
  std::size_t jobs() const;

 private:
  void loop();
  void runBatch(std::deque<std::unique_ptr<WriteJob>>& batch);

  Database& db_;
  std::mutex& db_mutex_;
  const std::size_t max_batch_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<WriteJob>> queue_;
  bool stopping_ = false;
  // Jobs submitted and not yet completed.
  std::atomic<std::size_t> pending_{0};
  std::size_t batches_ = 0;
  std::size_t jobs_ = 0;
  std::thread thread_;  // last: started after everything above exists
};

}  // namespace akamu::store::sqlite
