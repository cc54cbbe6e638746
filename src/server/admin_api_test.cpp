#include "server/admin_api.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace akamu::server {
namespace {

TEST(AdminApiParams, SerialsIgnoreCaseSeparatorsAndLeadingZeros) {
  EXPECT_EQ(normalizeSerial("00AbC1"), "abc1");
  EXPECT_EQ(normalizeSerial("0x0a:bc"), "abc");
  EXPECT_EQ(normalizeSerial("000"), "0");
  EXPECT_FALSE(normalizeSerial("xyz"));
  EXPECT_FALSE(normalizeSerial(""));
  EXPECT_FALSE(normalizeSerial(std::string(65, 'f')));
}

TEST(AdminApiParams, CertificateQueryReadsEveryFilter) {
  auto f = parseCertificateQuery(
      "name=%2A.example.com&serial=00FF&account=acct1&expires_before=2027-01-01T00:00:00Z&"
      "expires_after=2026-01-01T00:00:00Z&revoked=true&limit=10&offset=20");
  ASSERT_TRUE(f) << f.error().detail;
  EXPECT_EQ(f->name, "*.example.com");
  EXPECT_EQ(f->serial_hex, "ff");
  EXPECT_EQ(f->account_id, "acct1");
  EXPECT_EQ(core::formatRfc3339(*f->expires_before), "2027-01-01T00:00:00Z");
  EXPECT_EQ(core::formatRfc3339(*f->expires_after), "2026-01-01T00:00:00Z");
  EXPECT_EQ(f->revoked, true);
  EXPECT_EQ(f->limit, 10u);
  EXPECT_EQ(f->offset, 20u);

  auto defaults = parseCertificateQuery("");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->limit, kAdminDefaultLimit);
  EXPECT_EQ(defaults->offset, 0u);
  EXPECT_FALSE(defaults->name);
}

TEST(AdminApiParams, CertificateQueryRefusesBadValuesNamingTheParameter) {
  for (const char* bad :
       {"limit=0", "limit=1001", "limit=x", "offset=-1", "serial=zz", "expires_before=tomorrow",
        "revoked=maybe", "name=a%20b", "nme=x", "limit=1&limit=2", "account="}) {
    auto f = parseCertificateQuery(bad);
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().type, core::ProblemType::kMalformed) << bad;
    const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_NE(f.error().detail.find(key), std::string::npos) << bad << ": " << f.error().detail;
  }
}

TEST(AdminApiParams, RevocationReasonsByNameOrCode) {
  EXPECT_EQ(*parseRevocationReason(R"({"reason":"keyCompromise"})"), 1);
  EXPECT_EQ(*parseRevocationReason(R"({"reason":4})"), 4);
  EXPECT_EQ(*parseRevocationReason(""), 0);
  EXPECT_EQ(*parseRevocationReason("{}"), 0);
  // Parsed here, refused by the RA (certificateHold is a valid name, not an allowed reason).
  EXPECT_EQ(*parseRevocationReason(R"({"reason":"certificateHold"})"), 6);
  auto unknown = parseRevocationReason(R"({"reason":"lostIt"})");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().type, core::ProblemType::kBadRevocationReason);
  EXPECT_FALSE(parseRevocationReason("not json"));
  EXPECT_FALSE(parseRevocationReason("[1]"));
  EXPECT_FALSE(parseRevocationReason(R"({"reason":1.5})"));
  EXPECT_FALSE(parseRevocationReason(R"({"reason":1,"extra":2})"));
  EXPECT_EQ(revocationReasonName(1), "keyCompromise");
  EXPECT_EQ(revocationReasonName(7), "");
}

TEST(AdminApiParams, AuditQuery) {
  auto q = parseAuditQuery("tail=5&event=admin.&since=2026-01-01T00:00:00Z&grep=operator%3Aroot");
  ASSERT_TRUE(q) << q.error().detail;
  EXPECT_EQ(q->tail, 5u);
  EXPECT_EQ(q->event, "admin.");
  EXPECT_EQ(q->grep, "operator:root");
  EXPECT_FALSE(parseAuditQuery("tail=0"));
  EXPECT_FALSE(parseAuditQuery("tail=1001"));
  EXPECT_FALSE(parseAuditQuery("event="));
  EXPECT_FALSE(parseAuditQuery("since=yesterday"));
}

class AuditTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("akamu-admin-audit-" + std::to_string(::getpid()) + ".log"))
                .string();
    std::ofstream out(path_);
    for (int i = 0; i < 300; ++i) {
      const bool admin = i % 100 == 99;
      out << R"({"occurred_at":"2026-01-01T00:)" << (i < 150 ? "00" : "30")
          << R"(:00Z","event_type":")" << (admin ? "admin.cert.revoke" : "cert.issue")
          << R"(","outcome":"success","subject":"s)" << i << R"(","principal":")"
          << (admin ? "operator:root" : "acme:x") << R"(","detail":")" << std::string(500, 'd')
          << "\"}\n";
    }
    out << "{\"torn";  // a line being written: not an event
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string subject(const boost::json::object& e) {
    return std::string(e.at("subject").as_string());
  }
  std::string path_;
};

TEST_F(AuditTailTest, LastLinesOldestFirstAcrossChunks) {
  AuditQuery q;
  q.tail = 3;
  auto t = tailAuditLog(path_, q);
  ASSERT_TRUE(t) << t.error().detail;
  ASSERT_EQ(t->events.size(), 3u);
  EXPECT_EQ(subject(t->events[0]), "s297");
  EXPECT_EQ(subject(t->events[2]), "s299");
  q.tail = 1000;  // more than there are: every line, the file's ~150 KB read in chunks
  t = tailAuditLog(path_, q);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->events.size(), 300u);
  EXPECT_EQ(subject(t->events[0]), "s0");
  EXPECT_FALSE(t->truncated);
}

TEST_F(AuditTailTest, FiltersByEventPrefixSinceAndText) {
  AuditQuery q;
  q.event = "admin.cert.revoke";
  auto t = tailAuditLog(path_, q);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->events.size(), 3u);
  EXPECT_EQ(subject(t->events[0]), "s99");
  q.event = "admin.";
  core::TimePoint since;
  ASSERT_TRUE(core::parseRfc3339("2026-01-01T00:30:00Z", since));
  q.since = since;
  t = tailAuditLog(path_, q);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->events.size(), 2u);  // s199, s299
  q = AuditQuery{};
  q.grep = "\"subject\":\"s42\"";
  t = tailAuditLog(path_, q);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->events.size(), 1u);
  EXPECT_EQ(subject(t->events[0]), "s42");
}

TEST(AdminApiOperator, NamesTheUidOrSaysItHasNoName) {
  EXPECT_EQ(operatorNameForUid(0), "root");
  EXPECT_EQ(operatorNameForUid(4'000'000'000u), "uid:4000000000");
}

}  // namespace
}  // namespace akamu::server
