#include "validation/caa.hpp"

#include <gtest/gtest.h>

#include "validation/test_support.hpp"

using namespace akamu;
using namespace akamu::validation;
using akamu::validation::testing::DnsFixture;
using akamu::validation::testing::run;

namespace {

const std::string kAccount = "https://ca.example/acme/acct/7";

CaaRequest req(bool wildcard = false, std::string method = "http-01") {
  return CaaRequest{wildcard, kAccount, std::move(method), {"ca.example", "Alt.Example"}};
}

core::Status eval(std::vector<CaaRecord> rrset, const CaaRequest& r = req()) {
  return evaluateCaa({std::move(rrset)}, r);
}

CaaRecord issue(std::string v) { return {0, "issue", std::move(v)}; }
CaaRecord issuewild(std::string v) { return {0, "issuewild", std::move(v)}; }

}  // namespace

TEST(CaaParse, Grammar) {
  auto v = parseCaaIssueValue(
      " CA.example ; accounturi=https://x/1;validationmethods = dns-01,http-01 ");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->issuer, "ca.example");
  ASSERT_EQ(v->parameters.size(), 2u);
  EXPECT_EQ(v->parameters[0], (std::pair<std::string, std::string>{"accounturi", "https://x/1"}));
  EXPECT_EQ(v->parameters[1].second, "dns-01,http-01");
  EXPECT_EQ(parseCaaIssueValue(";")->issuer, "");
  EXPECT_EQ(parseCaaIssueValue("")->issuer, "");
  EXPECT_TRUE(parseCaaIssueValue("ca.example;"));
  EXPECT_FALSE(parseCaaIssueValue("ca_example"));
  EXPECT_FALSE(parseCaaIssueValue("-ca.example"));
  EXPECT_FALSE(parseCaaIssueValue("ca.example; novalue"));
  EXPECT_FALSE(parseCaaIssueValue("ca.example; a=b c"));
  EXPECT_FALSE(parseCaaIssueValue("ca.example; ; a=b"));
}

TEST(Caa, NoRecordsAnywhereAllows) {
  EXPECT_TRUE(evaluateCaa({}, req()));
  EXPECT_TRUE(evaluateCaa({{}, {}, {}}, req()));
}

TEST(Caa, AllowByIssuer) {
  EXPECT_TRUE(eval({issue("ca.example")}));
  EXPECT_TRUE(eval({issue("CA.EXAMPLE")}));
  EXPECT_TRUE(eval({issue("alt.example; some-future-param=1")}));
  EXPECT_TRUE(eval({issue("other.example"), issue("ca.example")}));
  EXPECT_TRUE(eval({{0, "ISSUE", "ca.example"}}));  // tags are case-insensitive
}

TEST(Caa, DenyOtherIssuerOrEmpty) {
  auto s = eval({issue("other.example")});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kCaa);
  EXPECT_NE(s.error().detail.find("other.example"), std::string::npos) << s.error().detail;
  EXPECT_FALSE(eval({issue(";")}));
  EXPECT_FALSE(eval({issue("")}));
  EXPECT_FALSE(eval({issue("ca.example; broken")}));  // malformed authorizes nobody
}

TEST(Caa, AccountUri) {
  EXPECT_TRUE(eval({issue("ca.example; accounturi=" + kAccount)}));
  auto s = eval({issue("ca.example; accounturi=https://ca.example/acme/acct/8")});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().detail.find("acct/8"), std::string::npos) << s.error().detail;
  EXPECT_FALSE(eval({issue("ca.example; accounturi=" + kAccount + "; accounturi=" + kAccount)}));
  // Another record without the restriction still authorizes.
  EXPECT_TRUE(
      eval({issue("ca.example; accounturi=https://ca.example/acme/acct/8"), issue("ca.example")}));
}

TEST(Caa, ValidationMethods) {
  EXPECT_TRUE(eval({issue("ca.example; validationmethods=dns-01,http-01")}));
  EXPECT_TRUE(eval({issue("ca.example; validationmethods=http-01")}));
  auto s = eval({issue("ca.example; validationmethods=dns-01,tls-alpn-01")});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().detail.find("http-01"), std::string::npos) << s.error().detail;
  EXPECT_FALSE(eval({issue("ca.example; validationmethods=http-01x")}));
  EXPECT_TRUE(eval({issue("ca.example; accounturi=" + kAccount + "; validationmethods=dns-01")},
                   req(false, "dns-01")));
}

TEST(Caa, IssueWildForWildcards) {
  // issuewild takes precedence for wildcard requests…
  EXPECT_FALSE(eval({issue("ca.example"), issuewild(";")}, req(true)));
  EXPECT_TRUE(eval({issue(";"), issuewild("ca.example")}, req(true)));
  // …and is irrelevant for non-wildcard ones.
  EXPECT_TRUE(eval({issue("ca.example"), issuewild(";")}, req(false)));
  EXPECT_FALSE(eval({issue(";"), issuewild("ca.example")}, req(false)));
  // Without issuewild, issue applies to wildcards.
  EXPECT_TRUE(eval({issue("ca.example")}, req(true)));
  EXPECT_FALSE(eval({issue("other.example")}, req(true)));
}

TEST(Caa, CriticalUnknownTagForbids) {
  auto s = eval({issue("ca.example"), {128, "tbs", "x"}});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().detail.find("critical"), std::string::npos);
  EXPECT_TRUE(eval({issue("ca.example"), {0, "tbs", "x"}}));               // not critical: ignored
  EXPECT_TRUE(eval({issue("ca.example"), {128, "iodef", "mailto:a@b"}}));  // known tag
  EXPECT_TRUE(eval({{128, "issue", "ca.example"}}));
}

TEST(Caa, OnlyIodefAllows) { EXPECT_TRUE(eval({{0, "iodef", "mailto:a@b"}})); }

TEST(Caa, FirstNonEmptyLevelDecides) {
  // The name has nothing, the parent forbids, the grandparent allows: the parent wins.
  EXPECT_FALSE(evaluateCaa({{}, {issue("other.example")}, {issue("ca.example")}}, req()));
  EXPECT_TRUE(evaluateCaa({{}, {issue("ca.example")}, {issue("other.example")}}, req()));
}

TEST(CaaLookup, NoCaaAnywhere) {
  DnsFixture f;
  auto s = run(
      f.io, checkCaa(*f.resolver, {"dns", "www.example.com"}, kAccount, "http-01", {"ca.example"}));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(CaaLookup, ClimbsToParent) {
  DnsFixture f;
  f.server->setCaa("example.com", {{0, "issue", "other.example"}});
  auto s = run(
      f.io, checkCaa(*f.resolver, {"dns", "a.b.example.com"}, kAccount, "http-01", {"ca.example"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kCaa);
  ASSERT_TRUE(s.error().identifier);
  EXPECT_EQ(s.error().identifier->value, "a.b.example.com");
  EXPECT_NE(s.error().detail.find("a.b.example.com"), std::string::npos) << s.error().detail;
  EXPECT_NE(s.error().detail.find("at example.com"), std::string::npos) << s.error().detail;
  // A closer RRset overrides the parent's.
  f.server->setCaa("b.example.com", {{0, "issue", "ca.example"}});
  s = run(f.io,
          checkCaa(*f.resolver, {"dns", "a.b.example.com"}, kAccount, "http-01", {"ca.example"}));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(CaaLookup, WildcardStartsAtBaseAndUsesIssueWild) {
  DnsFixture f;
  f.server->setCaa("example.com", {{0, "issue", "ca.example"}, {0, "issuewild", ";"}});
  auto s = run(f.io,
               checkCaa(*f.resolver, {"dns", "*.example.com"}, kAccount, "dns-01", {"ca.example"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kCaa);
  s = run(f.io, checkCaa(*f.resolver, {"dns", "example.com"}, kAccount, "dns-01", {"ca.example"}));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(CaaLookup, FollowsCname) {
  DnsFixture f;
  f.server->setCname("www.example.com", "cdn.example.net");
  f.server->setCaa("cdn.example.net", {{0, "issue", "other.example"}});
  auto s = run(
      f.io, checkCaa(*f.resolver, {"dns", "www.example.com"}, kAccount, "http-01", {"ca.example"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kCaa);
}

TEST(CaaLookup, ServfailIsDnsProblem) {
  DnsFixture f;
  f.server->setServfail("example.com");
  auto s = run(
      f.io, checkCaa(*f.resolver, {"dns", "www.example.com"}, kAccount, "http-01", {"ca.example"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kDns);
  ASSERT_TRUE(s.error().identifier);
  EXPECT_EQ(s.error().identifier->value, "www.example.com");
}

TEST(CaaLookup, IpIdentifiersHaveNoCaa) {
  DnsFixture f;
  auto s =
      run(f.io, checkCaa(*f.resolver, {"ip", "192.0.2.1"}, kAccount, "http-01", {"ca.example"}));
  EXPECT_TRUE(s);
}
