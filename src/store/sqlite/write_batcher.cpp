#include "store/sqlite/write_batcher.hpp"

#include <utility>

namespace akamu::store::sqlite {

WriteBatcher::WriteBatcher(Database& db, std::mutex& db_mutex, std::size_t max_batch)
    : db_(db), db_mutex_(db_mutex), max_batch_(max_batch == 0 ? 1 : max_batch) {
  thread_ = std::thread([this] { loop(); });
}

WriteBatcher::~WriteBatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  // The loop drains the queue before it exits; anything submitted after that is refused here.
  for (auto& job : queue_) {
    job->fail(core::serverInternal("sqlite store: closed before the write ran"));
    job->complete();
  }
}

void WriteBatcher::submit(std::unique_ptr<WriteJob> job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.fetch_add(1, std::memory_order_acq_rel);
      queue_.push_back(std::move(job));
      job = nullptr;
    }
  }
  if (job) {
    job->fail(core::serverInternal("sqlite store: closed"));
    job->complete();
    return;
  }
  wake_.notify_one();
}

std::size_t WriteBatcher::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

std::size_t WriteBatcher::jobs() const {
  std::lock_guard lock(mutex_);
  return jobs_;
}

void WriteBatcher::loop() {
  std::deque<std::unique_ptr<WriteJob>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to write
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    runBatch(batch);
    {
      std::lock_guard lock(mutex_);
      ++batches_;
      jobs_ += batch.size();
    }
    // Answer only now: every job's outcome is durable (or failed) at this point.
    const std::size_t done = batch.size();
    for (auto& job : batch) job->complete();
    batch.clear();
    pending_.fetch_sub(done, std::memory_order_acq_rel);
  }
}

void WriteBatcher::runBatch(std::deque<std::unique_ptr<WriteJob>>& batch) {
  std::lock_guard db_lock(db_mutex_);
  auto tx = Transaction::begin(db_, Transaction::Mode::kImmediate);
  if (!tx) {
    for (auto& job : batch) job->fail(tx.error());
    return;
  }
  for (auto& job : batch) {
    auto savepoint = db_.prepare("SAVEPOINT job");
    if (!savepoint || !savepoint->run()) {
      job->fail(savepoint ? core::serverInternal("sqlite store: cannot open a savepoint")
                          : savepoint.error());
      continue;
    }
    if (!job->run(db_)) {
      if (auto undo = db_.prepare("ROLLBACK TO job"); !undo || !undo->run()) {
        // The transaction is in an unknown state: nothing in this batch may be committed.
        auto problem = core::serverInternal("sqlite store: cannot roll back a failed write");
        for (auto& j : batch) j->fail(problem);
        return;  // ~Transaction rolls everything back
      }
    }
    if (auto release = db_.prepare("RELEASE job"); !release || !release->run()) {
      auto problem = core::serverInternal("sqlite store: cannot release a savepoint");
      for (auto& j : batch) j->fail(problem);
      return;
    }
  }
  if (auto st = tx->commit(); !st) {
    for (auto& job : batch) job->fail(st.error());
  }
}

}  // namespace akamu::store::sqlite
