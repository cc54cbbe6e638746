#include "ra/audit_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace akamu;

TEST(AuditLog, WritesOneJsonLinePerEventWithMode0600) {
  auto dir = std::filesystem::temp_directory_path() / ("audit-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "sub" / "audit.log").string();
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  {
    auto log = ra::AuditLog::open(path, clock);
    ASSERT_TRUE(log.has_value()) << log.error().detail;
    ASSERT_TRUE((*log)->record({"cert.issue", true, "cert/1", "acme:abc", "serial 01"}));
    ASSERT_TRUE((*log)->record({"auth.jws.fail", false, "/acme/new-order", "acme:x", "bad"}));
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(path);
  std::string line;
  std::vector<boost::json::object> lines;
  while (std::getline(in, line)) lines.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("event_type").as_string(), "cert.issue");
  EXPECT_EQ(lines[0].at("outcome").as_string(), "success");
  EXPECT_EQ(lines[0].at("occurred_at").as_string(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(lines[0].at("principal").as_string(), "acme:abc");
  EXPECT_EQ(lines[1].at("outcome").as_string(), "failure");
  std::filesystem::remove_all(dir);
}

TEST(AuditLog, UnwritableLogIsAnErrorNotSilence) {
  core::FakeClock clock(core::fromUnixSeconds(0));
  // /dev/full accepts open() but every write fails with ENOSPC.
  auto log = ra::AuditLog::open("/dev/full", clock);
  ASSERT_TRUE(log.has_value());
  auto r = (*log)->record({"cert.issue", true, "", "", ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, core::ProblemType::kServiceUnavailable);
  EXPECT_EQ(core::problemHttpStatus(r.error().type), 503);
}

TEST(AuditLog, UnopenableLogFailsAtStart) {
  core::FakeClock clock(core::fromUnixSeconds(0));
  EXPECT_FALSE(ra::AuditLog::open("/proc/nonexistent-dir/audit.log", clock).has_value());
}

// logrotate's default: the file is renamed, SIGHUP makes the server reopen the path. Lines
// before the reopen stay in the renamed file, later ones go to the new file at the path.
TEST(AuditLog, ReopenAfterRenameWritesToTheNewFile) {
  auto dir =
      std::filesystem::temp_directory_path() / ("audit-reopen-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "audit.log").string();
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  auto log = ra::AuditLog::open(path, clock);
  ASSERT_TRUE(log.has_value()) << log.error().detail;
  ASSERT_TRUE((*log)->record({"before", true, "", "", ""}));
  std::filesystem::rename(path, path + ".1");
  ASSERT_TRUE((*log)->record({"between", true, "", "", ""}));  // still the renamed file
  ASSERT_TRUE((*log)->reopen());
  ASSERT_TRUE((*log)->record({"after", true, "", "", ""}));
  auto types = [](const std::string& file) {
    std::vector<std::string> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      out.emplace_back(boost::json::parse(line).as_object().at("event_type").as_string());
    }
    return out;
  };
  EXPECT_EQ(types(path + ".1"), (std::vector<std::string>{"before", "between"}));
  EXPECT_EQ(types(path), (std::vector<std::string>{"after"}));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::filesystem::remove_all(dir);
}

TEST(AuditLog, FailedReopenKeepsTheOldFile) {
  auto dir =
      std::filesystem::temp_directory_path() / ("audit-reopen-fail-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sub");
  const std::string path = (dir / "sub" / "audit.log").string();
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  auto log = ra::AuditLog::open(path, clock);
  ASSERT_TRUE(log.has_value()) << log.error().detail;
  // The path now names a directory: open() of it for writing fails.
  std::filesystem::rename(path, dir / "moved.log");
  std::filesystem::create_directories(path);
  auto r = (*log)->reopen();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().detail.find("cannot open audit log"), std::string::npos);
  ASSERT_TRUE((*log)->record({"still", true, "", "", ""}));
  std::ifstream in(dir / "moved.log");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("\"still\""), std::string::npos);
  std::filesystem::remove_all(dir);
}

namespace {

using Clock = std::chrono::steady_clock;

// A fresh directory per test, removed afterwards.
struct TempLog {
  explicit TempLog(const std::string& name)
      : dir(std::filesystem::temp_directory_path() /
            ("audit-test-" + name + "-" + std::to_string(::getpid()))),
        path((dir / "audit.log").string()) {
    std::filesystem::remove_all(dir);
  }
  ~TempLog() { std::filesystem::remove_all(dir); }
  std::vector<boost::json::object> lines() const {
    std::ifstream in(path);
    std::string line;
    std::vector<boost::json::object> out;
    while (std::getline(in, line)) out.push_back(boost::json::parse(line).as_object());
    return out;
  }
  std::filesystem::path dir;
  std::string path;
};

ra::AuditEvent jwsFail(int i = 0) {
  return {"auth.jws.fail", false, "/acme/new-order", "acme:t" + std::to_string(i), "bad"};
}

bool isSummary(const boost::json::object& line) {
  return line.at("event_type").as_string() == "audit.suppressed";
}

// Events of `type` accounted for: lines written plus the counts in its summaries.
std::uint64_t accounted(const std::vector<boost::json::object>& lines, std::string_view type) {
  std::uint64_t n = 0;
  for (const auto& l : lines) {
    if (isSummary(l) && l.at("subject").as_string() == type) {
      n += l.at("suppressed_count").to_number<std::uint64_t>();
    } else if (l.at("event_type").as_string() == type) {
      ++n;
    }
  }
  return n;
}

std::size_t countIf(const std::vector<boost::json::object>& lines,
                    const std::function<bool(const boost::json::object&)>& pred) {
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), pred));
}

}  // namespace

TEST(AuditLogUnauthenticated, TightLoopFloodWritesAFewLinesAndAnExactCount) {
  TempLog tmp("flood");
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  {
    auto log = ra::AuditLog::open(tmp.path, clock);  // default: 10 lines a second
    ASSERT_TRUE(log.has_value());
    for (int i = 0; i < 10000; ++i) (*log)->recordUnauthenticated(jwsFail(i));
  }  // closing writes the summary
  auto lines = tmp.lines();
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_EQ(countIf(lines, [](auto& l) { return !isSummary(l); }), 10u);
  const auto& summary = lines.back();
  ASSERT_TRUE(isSummary(summary));
  EXPECT_EQ(summary.at("subject").as_string(), "auth.jws.fail");
  EXPECT_EQ(summary.at("outcome").as_string(), "failure");
  EXPECT_EQ(summary.at("suppressed_count").to_number<std::uint64_t>(), 9990u);
  EXPECT_EQ(summary.at("detail").as_string(),
            "auth.jws.fail suppressed 9990 similar events in the last 1 seconds");
  EXPECT_EQ(summary.at("first_occurred_at").as_string(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(accounted(lines, "auth.jws.fail"), 10000u);
  // The lines that were written are ordinary event lines.
  EXPECT_EQ(lines[0].at("principal").as_string(), "acme:t0");
  EXPECT_EQ(lines[9].at("principal").as_string(), "acme:t9");
}

TEST(AuditLogUnauthenticated, SummaryPrecedesTheNextAllowedLine) {
  TempLog tmp("order");
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  {
    auto log = ra::AuditLog::open(tmp.path, clock, 2);
    ASSERT_TRUE(log.has_value());
    for (int i = 0; i < 5; ++i) (*log)->recordUnauthenticated(jwsFail(i));
    clock.advance(std::chrono::seconds(3));
    (*log)->recordUnauthenticated(jwsFail(5));
  }
  auto lines = tmp.lines();
  ASSERT_EQ(lines.size(), 4u);  // t0, t1, summary of t2..t4, t5; nothing left at close
  EXPECT_EQ(lines[1].at("principal").as_string(), "acme:t1");
  ASSERT_TRUE(isSummary(lines[2]));
  EXPECT_EQ(lines[2].at("suppressed_count").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(lines[2].at("occurred_at").as_string(), "2026-01-01T00:00:03Z");
  EXPECT_EQ(lines[2].at("detail").as_string(),
            "auth.jws.fail suppressed 3 similar events in the last 3 seconds");
  EXPECT_EQ(lines[3].at("principal").as_string(), "acme:t5");
}

TEST(AuditLogUnauthenticated, FloodOverManySecondsIsBoundedPerSecondAndCountedExactly) {
  TempLog tmp("seconds");
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  constexpr int kSeconds = 10;
  constexpr int kPerSecond = 1000;
  {
    auto log = ra::AuditLog::open(tmp.path, clock, 3);
    ASSERT_TRUE(log.has_value());
    for (int s = 0; s < kSeconds; ++s) {
      for (int i = 0; i < kPerSecond; ++i) (*log)->recordUnauthenticated(jwsFail(i));
      clock.advance(std::chrono::seconds(1));
    }
  }
  auto lines = tmp.lines();
  // Each second: 3 event lines, and (from the second one on) the previous second's summary;
  // the last second's summary is written at close.
  EXPECT_EQ(countIf(lines, [](auto& l) { return !isSummary(l); }), 3u * kSeconds);
  EXPECT_EQ(countIf(lines, isSummary), static_cast<std::size_t>(kSeconds));
  std::map<std::string, int> per_second;
  for (const auto& l : lines) {
    if (!isSummary(l)) ++per_second[std::string(l.at("occurred_at").as_string())];
  }
  for (const auto& [second, n] : per_second) EXPECT_LE(n, 3) << second;
  EXPECT_EQ(accounted(lines, "auth.jws.fail"), static_cast<std::uint64_t>(kSeconds * kPerSecond));
}

TEST(AuditLogUnauthenticated, RecordIsNotRateLimitedAndCarriesPendingSummaries) {
  TempLog tmp("record");
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  {
    auto log = ra::AuditLog::open(tmp.path, clock, 2);
    ASSERT_TRUE(log.has_value());
    for (int i = 0; i < 1000; ++i) {
      (*log)->recordUnauthenticated(jwsFail(i));
      if (i % 10 == 0) {
        ASSERT_TRUE(
            (*log)->record({"cert.issue", true, "cert/" + std::to_string(i), "acme:a", ""}));
      }
    }
    // In a new second with room, the next record() writes the pending summary first.
    clock.advance(std::chrono::seconds(1));
    ASSERT_TRUE((*log)->record({"account.create", true, "acct/1", "acme:a", ""}));
    EXPECT_TRUE(isSummary(tmp.lines().end()[-2]));
  }
  auto lines = tmp.lines();
  EXPECT_EQ(countIf(lines, [](auto& l) { return l.at("event_type").as_string() == "cert.issue"; }),
            100u);
  EXPECT_EQ(countIf(lines, isSummary), 1u);
  EXPECT_EQ(lines.back().at("event_type").as_string(), "account.create");
  EXPECT_EQ(accounted(lines, "auth.jws.fail"), 1000u);
}

TEST(AuditLogUnauthenticated, CountsAreKeptPerEventTypeAndOutcome) {
  TempLog tmp("kinds");
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  {
    auto log = ra::AuditLog::open(tmp.path, clock, 1);
    ASSERT_TRUE(log.has_value());
    for (int i = 0; i < 300; ++i) {
      (*log)->recordUnauthenticated(jwsFail(i));
      (*log)->recordUnauthenticated({"auth.jws.malformed", false, "/acme/new-account", "", ""});
      if (i % 3 == 0) (*log)->recordUnauthenticated({"auth.jws.fail", true, "", "", "odd"});
    }
  }
  auto lines = tmp.lines();
  ASSERT_EQ(countIf(lines, isSummary), 3u);
  EXPECT_EQ(accounted(lines, "auth.jws.fail"), 400u);
  EXPECT_EQ(accounted(lines, "auth.jws.malformed"), 300u);
  std::uint64_t successes = 0;
  for (const auto& l : lines) {
    if (isSummary(l) && l.at("outcome").as_string() == "success") {
      successes += l.at("suppressed_count").to_number<std::uint64_t>();
    }
  }
  EXPECT_EQ(successes, 100u);
}

TEST(AuditLogUnauthenticated, ConcurrentFloodIsCountedExactly) {
  TempLog tmp("threads");
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  constexpr int kThreads = 4;
  constexpr int kEach = 2500;
  {
    auto log = ra::AuditLog::open(tmp.path, clock, 5);
    ASSERT_TRUE(log.has_value());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          (*log)->recordUnauthenticated(jwsFail(i));
          if (t == 0 && i % 500 == 0) clock.advance(std::chrono::seconds(1));
          if (t == 1 && i % 250 == 0) (void)(*log)->record({"cert.issue", true, "", "", ""});
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  auto lines = tmp.lines();
  EXPECT_EQ(accounted(lines, "auth.jws.fail"), static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LE(
      countIf(lines, [](auto& l) { return l.at("event_type").as_string() == "auth.jws.fail"; }),
      5u * 6);  // at most 5 lines in each of the 6 seconds the clock showed
}

TEST(AuditLogUnauthenticated, SuppressedEventsDoNoFileIo) {
  TempLog tmp("cost");
  core::FakeClock clock(core::fromUnixSeconds(1767225600));
  auto log = ra::AuditLog::open(tmp.path, clock, 10);
  ASSERT_TRUE(log.has_value());
  for (int i = 0; i < 10; ++i) (*log)->recordUnauthenticated(jwsFail(i));  // the second's lines
  const auto size = std::filesystem::file_size(tmp.path);
  constexpr int kCalls = 1000000;
  const ra::AuditEvent event = jwsFail();
  const auto start = Clock::now();
  for (int i = 0; i < kCalls; ++i) (*log)->recordUnauthenticated(event);
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kCalls;
  EXPECT_EQ(std::filesystem::file_size(tmp.path), size);
  std::cout << "[ cost     ] recordUnauthenticated, suppressed: " << ns << " ns per call\n";
  RecordProperty("suppressed_ns_per_call", std::to_string(ns));
  log->reset();
  EXPECT_EQ(accounted(tmp.lines(), "auth.jws.fail"), 10u + kCalls);
}

TEST(AuditLogUnauthenticated, UnwritableLogNeverFailsTheCallerAndSaysSoOnStderr) {
  core::FakeClock clock(core::fromUnixSeconds(0));
  auto log = ra::AuditLog::open("/dev/full", clock, 3);  // every write fails: ENOSPC
  ASSERT_TRUE(log.has_value());
  testing::internal::CaptureStderr();
  for (int i = 0; i < 1000; ++i) (*log)->recordUnauthenticated(jwsFail(i));
  clock.advance(std::chrono::seconds(1));
  for (int i = 0; i < 1000; ++i) (*log)->recordUnauthenticated(jwsFail(i));
  log->reset();
  const std::string err = testing::internal::GetCapturedStderr();
  const auto messages = std::count(err.begin(), err.end(), '\n');
  // One message per attempted line (3 a second), and the count lost at close, not 2000.
  EXPECT_EQ(messages, 7);
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  EXPECT_NE(err.find("lost the summary \"auth.jws.fail suppressed 2000 similar events\""),
            std::string::npos)
      << err;
}
