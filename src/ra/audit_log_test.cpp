#include "ra/audit_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

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
