#include "store/sqlite/write_batcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

namespace akamu::store::sqlite {
namespace {

std::unique_ptr<Database> memoryDb() {
  auto db = Database::open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(db);
  EXPECT_TRUE((*db)->exec("CREATE TABLE t(v TEXT UNIQUE)"));
  return std::move(*db);
}

// Inserts one value; `gate`, when set, holds the job (and with it the writer) until released.
class InsertJob final : public WriteJob {
 public:
  InsertJob(std::string value, std::promise<bool> done, std::shared_future<void> gate = {},
            std::promise<void>* started = nullptr)
      : value_(std::move(value)), done_(std::move(done)), gate_(gate), started_(started) {}
  bool run(Database& db) noexcept override {
    if (started_) started_->set_value();
    if (gate_.valid()) gate_.wait();
    auto s = db.prepare("INSERT INTO t(v) VALUES (?1)");
    ok_ = s && s->bindText(1, value_).run().has_value();
    return ok_;
  }
  void fail(const core::Problem&) noexcept override { ok_ = false; }
  void complete() noexcept override { done_.set_value(ok_); }

 private:
  std::string value_;
  std::promise<bool> done_;
  std::shared_future<void> gate_;
  std::promise<void>* started_;
  bool ok_ = false;
};

int rows(Database& db) {
  auto s = db.prepare("SELECT count(*) FROM t");
  EXPECT_TRUE(s && s->step());
  return static_cast<int>(s->columnInt(0));
}

TEST(WriteBatcher, JobsQueuedDuringACommitShareTheNextTransaction) {
  auto db = memoryDb();
  std::mutex db_mutex;
  WriteBatcher batcher(*db, db_mutex);
  std::promise<void> release;
  std::promise<void> started;
  std::promise<bool> first_done;
  auto first = first_done.get_future();
  batcher.submit(std::make_unique<InsertJob>("first", std::move(first_done),
                                             release.get_future().share(), &started));
  started.get_future().wait();  // the writer is now inside batch 1

  std::vector<std::future<bool>> rest;
  for (int i = 0; i < 50; ++i) {
    std::promise<bool> p;
    rest.push_back(p.get_future());
    // "v7" twice: the second one violates UNIQUE and must fail without taking the others down.
    batcher.submit(
        std::make_unique<InsertJob>(i == 8 ? "v7" : "v" + std::to_string(i), std::move(p)));
  }
  release.set_value();
  EXPECT_TRUE(first.get());
  int ok = 0;
  for (int i = 0; i < 50; ++i) ok += rest[i].get() ? 1 : 0;
  EXPECT_EQ(ok, 49);
  EXPECT_EQ(batcher.batches(), 2u);  // the first job alone, then all 50 together
  EXPECT_EQ(batcher.jobs(), 51u);
  std::lock_guard lock(db_mutex);
  EXPECT_EQ(rows(*db), 50);
}

TEST(WriteBatcher, ABatchIsBoundedInSize) {
  auto db = memoryDb();
  std::mutex db_mutex;
  WriteBatcher batcher(*db, db_mutex, 4);
  std::promise<void> release;
  std::promise<void> started;
  std::promise<bool> first_done;
  auto first = first_done.get_future();
  batcher.submit(std::make_unique<InsertJob>("first", std::move(first_done),
                                             release.get_future().share(), &started));
  started.get_future().wait();
  std::vector<std::future<bool>> rest;
  for (int i = 0; i < 10; ++i) {
    std::promise<bool> p;
    rest.push_back(p.get_future());
    batcher.submit(std::make_unique<InsertJob>("v" + std::to_string(i), std::move(p)));
  }
  release.set_value();
  EXPECT_TRUE(first.get());
  for (auto& f : rest) EXPECT_TRUE(f.get());
  EXPECT_EQ(batcher.batches(), 4u);  // 1, then 4 + 4 + 2
}

TEST(WriteBatcher, EveryQueuedJobIsAnsweredAtShutdown) {
  auto db = memoryDb();
  std::mutex db_mutex;
  std::vector<std::future<bool>> results;
  {
    WriteBatcher batcher(*db, db_mutex);
    for (int i = 0; i < 100; ++i) {
      std::promise<bool> p;
      results.push_back(p.get_future());
      batcher.submit(std::make_unique<InsertJob>("v" + std::to_string(i), std::move(p)));
    }
  }
  // Queued before the stop: each ran and committed; none is left without an answer.
  int ok = 0;
  for (auto& f : results) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    ok += f.get() ? 1 : 0;
  }
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(rows(*db), 100);
}

}  // namespace
}  // namespace akamu::store::sqlite
