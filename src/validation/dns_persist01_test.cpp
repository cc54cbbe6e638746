#include "validation/dns_persist01.hpp"

#include <gtest/gtest.h>

#include "validation/test_support.hpp"

using namespace akamu;
using namespace akamu::validation;
using akamu::validation::testing::DnsFixture;
using akamu::validation::testing::run;

namespace {

const std::string kAccount = "https://ca.example/acme/acct/42";
const std::vector<std::string> kIssuers = {"ca.example", "other-name.example"};

core::TimePoint now() {
  core::TimePoint t;
  EXPECT_TRUE(core::parseRfc3339("2026-06-01T12:00:00Z", t));
  return t;
}

core::Status match(std::string_view record, bool wildcard = false) {
  return matchPersistRecord(record, kAccount, kIssuers, wildcard, now());
}

std::string reason(std::string_view record, bool wildcard = false) {
  auto m = match(record, wildcard);
  return m ? std::string("<accepted>") : m.error().detail;
}

}  // namespace

TEST(DnsPersistMatch, Accepts) {
  EXPECT_TRUE(match("ca.example; accounturi=" + kAccount));
  EXPECT_TRUE(match("ca.example;accounturi=" + kAccount));  // whitespace optional
  EXPECT_TRUE(match("  ca.example  ;\taccounturi = " + kAccount + " ; "));
  EXPECT_TRUE(match("other-name.example; accounturi=" + kAccount));
}

TEST(DnsPersistMatch, IssuerCaseInsensitiveTrailingDot) {
  EXPECT_TRUE(match("CA.Example.; accounturi=" + kAccount));
  EXPECT_TRUE(matchPersistRecord("ca.example; accounturi=" + kAccount, kAccount, {"CA.EXAMPLE."},
                                 false, now()));
}

TEST(DnsPersistMatch, WrongIssuer) {
  EXPECT_NE(reason("evil.example; accounturi=" + kAccount).find("issuer"), std::string::npos);
  EXPECT_FALSE(match("ca.example.evil; accounturi=" + kAccount));
  EXPECT_FALSE(match("; accounturi=" + kAccount));
  EXPECT_FALSE(match("accounturi=" + kAccount));  // no issuer field at all
  EXPECT_FALSE(match(""));
}

TEST(DnsPersistMatch, AccountUriMustMatchExactly) {
  EXPECT_NE(reason("ca.example; accounturi=https://ca.example/acme/acct/43").find("accounturi"),
            std::string::npos);
  EXPECT_FALSE(match("ca.example; accounturi=HTTPS://ca.example/acme/acct/42"));
  EXPECT_FALSE(match("ca.example; accounturi=" + kAccount + "/"));
  EXPECT_NE(reason("ca.example").find("no accounturi"), std::string::npos);
  EXPECT_NE(
      reason("ca.example; accounturi=" + kAccount + "; accounturi=" + kAccount).find("repeated"),
      std::string::npos);
}

TEST(DnsPersistMatch, WildcardNeedsPolicy) {
  EXPECT_NE(reason("ca.example; accounturi=" + kAccount, true).find("policy=wildcard"),
            std::string::npos);
  EXPECT_FALSE(match("ca.example; accounturi=" + kAccount + "; policy=other", true));
  EXPECT_TRUE(match("ca.example; accounturi=" + kAccount + "; policy=wildcard", true));
  EXPECT_TRUE(match("ca.example; accounturi=" + kAccount + "; Policy=Wildcard", true));
  // A non-wildcard identifier does not care about the policy.
  EXPECT_TRUE(match("ca.example; accounturi=" + kAccount + "; policy=wildcard", false));
}

TEST(DnsPersistMatch, PersistUntil) {
  EXPECT_TRUE(match("ca.example; accounturi=" + kAccount + "; persistUntil=2026-06-01T12:00:00Z"));
  EXPECT_TRUE(match("ca.example; accounturi=" + kAccount + "; persistUntil=2030-01-01T00:00:00Z"));
  EXPECT_NE(reason("ca.example; accounturi=" + kAccount + "; persistUntil=2026-06-01T11:59:59Z")
                .find("in the past"),
            std::string::npos);
  EXPECT_NE(reason("ca.example; accounturi=" + kAccount + "; persistUntil=tomorrow")
                .find("not an RFC 3339"),
            std::string::npos);
  EXPECT_FALSE(match("ca.example; accounturi=" + kAccount + "; persistUntil="));
  EXPECT_FALSE(match("ca.example; accounturi=" + kAccount + "; persistUntil=1780000000"));
}

TEST(DnsPersistMatch, UnknownFieldsIgnored) {
  EXPECT_TRUE(match("ca.example; foo=bar; accounturi=" + kAccount + "; flag; x-future=1;;"));
}

TEST(DnsPersist, RecordName) {
  EXPECT_EQ(dnsPersistRecordName("*.Example.com"), "_validation-persist.example.com");
  EXPECT_EQ(dnsPersistRecordName("www.example.com."), "_validation-persist.www.example.com");
}

TEST(DnsPersist, ValidatesOverDns) {
  DnsFixture f;
  f.server->setTxt("_validation-persist.example.com",
                   {"unrelated text", "ca.example; accounturi=" + kAccount});
  auto s = run(
      f.io, validateDnsPersist01(*f.resolver, {"dns", "example.com"}, kAccount, kIssuers, now()));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(DnsPersist, WildcardOverDns) {
  DnsFixture f;
  f.server->setTxt("_validation-persist.example.com", {"ca.example; accounturi=" + kAccount});
  auto s = run(
      f.io, validateDnsPersist01(*f.resolver, {"dns", "*.example.com"}, kAccount, kIssuers, now()));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  EXPECT_NE(s.error().detail.find("policy=wildcard"), std::string::npos) << s.error().detail;
  f.server->setTxt("_validation-persist.example.com",
                   {"ca.example; accounturi=" + kAccount + "; policy=wildcard"});
  s = run(f.io,
          validateDnsPersist01(*f.resolver, {"dns", "*.example.com"}, kAccount, kIssuers, now()));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(DnsPersist, NoMatchingRecordNamesReasons) {
  DnsFixture f;
  f.server->setTxt("_validation-persist.example.com", {"evil.example; accounturi=" + kAccount});
  auto s = run(
      f.io, validateDnsPersist01(*f.resolver, {"dns", "example.com"}, kAccount, kIssuers, now()));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  ASSERT_TRUE(s.error().identifier);
  EXPECT_NE(s.error().detail.find("_validation-persist.example.com"), std::string::npos);
  EXPECT_NE(s.error().detail.find("issuer domain name"), std::string::npos) << s.error().detail;
}

TEST(DnsPersist, MissingRecordAndDnsFailures) {
  DnsFixture f(std::chrono::milliseconds(300));
  auto s = run(
      f.io, validateDnsPersist01(*f.resolver, {"dns", "none.example"}, kAccount, kIssuers, now()));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  f.server->setServfail("_validation-persist.broken.example");
  s = run(f.io,
          validateDnsPersist01(*f.resolver, {"dns", "broken.example"}, kAccount, kIssuers, now()));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kDns);
  f.server->setDrop("_validation-persist.slow.example");
  s = run(f.io,
          validateDnsPersist01(*f.resolver, {"dns", "slow.example"}, kAccount, kIssuers, now()));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kDns);
  s = run(f.io, validateDnsPersist01(*f.resolver, {"ip", "192.0.2.1"}, kAccount, kIssuers, now()));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kMalformed);
}
