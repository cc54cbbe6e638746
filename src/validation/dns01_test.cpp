#include "validation/dns01.hpp"

#include <gtest/gtest.h>

#include "validation/test_support.hpp"

using namespace akamu;
using namespace akamu::validation;
using akamu::validation::testing::DnsFixture;
using akamu::validation::testing::run;

namespace {
const std::string kKeyAuth = "token123.thumbprintABC";
core::Identifier dnsId(std::string v) { return core::Identifier{"dns", std::move(v)}; }
}  // namespace

TEST(Dns01, TxtValueIsBase64urlSha256) {
  // RFC 8555 §8.4 example shape: 43 characters, no padding.
  const auto v = dns01TxtValue(kKeyAuth);
  EXPECT_EQ(v.size(), 43u);
  EXPECT_EQ(v.find('='), std::string::npos);
  // SHA-256("abc") = ba7816bf...; base64url of it:
  EXPECT_EQ(dns01TxtValue("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

TEST(Dns01, BaseDomain) {
  EXPECT_EQ(baseDomain("*.Example.COM."), "example.com");
  EXPECT_EQ(baseDomain("www.example.com"), "www.example.com");
}

TEST(Dns01, Valid) {
  DnsFixture f;
  f.server->setTxt("_acme-challenge.www.example.com", {dns01TxtValue(kKeyAuth)});
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("www.example.com"), kKeyAuth));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(Dns01, AnyOfSeveralRecords) {
  DnsFixture f;
  f.server->setTxt("_acme-challenge.example.com",
                   {"stale-value", dns01TxtValue(kKeyAuth), "other"});
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("example.com"), kKeyAuth));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(Dns01, WildcardUsesBaseDomain) {
  DnsFixture f;
  f.server->setTxt("_acme-challenge.example.com", {dns01TxtValue(kKeyAuth)});
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("*.example.com"), kKeyAuth));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(Dns01, FollowsCname) {
  DnsFixture f;
  f.server->setCname("_acme-challenge.example.com", "example.com.acme.delegated.net");
  f.server->setTxt("example.com.acme.delegated.net", {dns01TxtValue(kKeyAuth)});
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("example.com"), kKeyAuth));
  EXPECT_TRUE(s) << s.error().detail;
}

TEST(Dns01, WrongValueIsUnauthorizedAndNamesWhatWasFound) {
  DnsFixture f;
  f.server->setTxt("_acme-challenge.example.com",
                   {"wrong-1", "wrong-2", "wrong-3", std::string(500, 'w') + "\x01"});
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("example.com"), kKeyAuth));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  ASSERT_TRUE(s.error().identifier);
  EXPECT_EQ(s.error().identifier->value, "example.com");
  const auto& d = s.error().detail;
  EXPECT_NE(d.find("_acme-challenge.example.com"), std::string::npos) << d;
  EXPECT_NE(d.find("wrong-"), std::string::npos) << d;
  EXPECT_NE(d.find("and 1 more"), std::string::npos) << d;
  EXPECT_LT(d.size(), 400u) << d;
}

TEST(Dns01, NoRecordIsUnauthorized) {
  DnsFixture f;
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("nothing.example.com"), kKeyAuth));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  EXPECT_NE(s.error().detail.find("_acme-challenge.nothing.example.com"), std::string::npos);
}

TEST(Dns01, ServfailIsDnsProblem) {
  DnsFixture f;
  f.server->setServfail("_acme-challenge.example.com");
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("example.com"), kKeyAuth));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kDns);
  ASSERT_TRUE(s.error().identifier);
  EXPECT_NE(s.error().detail.find("_acme-challenge.example.com"), std::string::npos);
}

TEST(Dns01, TimeoutIsDnsProblem) {
  DnsFixture f(std::chrono::milliseconds(300));
  f.server->setDrop("_acme-challenge.example.com");
  const auto start = std::chrono::steady_clock::now();
  auto s = run(f.io, validateDns01(*f.resolver, dnsId("example.com"), kKeyAuth));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kDns);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST(Dns01, IpIdentifierRefused) {
  DnsFixture f;
  auto s = run(f.io, validateDns01(*f.resolver, core::Identifier{"ip", "192.0.2.1"}, kKeyAuth));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kMalformed);
}
