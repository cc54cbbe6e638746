#include "acme/identifier_policy.hpp"

#include <gtest/gtest.h>

using namespace akamu;

TEST(IdentifierPolicy, NormalisesDnsNames) {
  EXPECT_EQ(*acme::normalizeDnsName("WWW.Example.COM"), "www.example.com");
  EXPECT_EQ(*acme::normalizeDnsName("localhost"), "localhost");
  EXPECT_EQ(*acme::normalizeDnsName("a-b.c1.example"), "a-b.c1.example");
}

TEST(IdentifierPolicy, RejectsBadNames) {
  for (const char* bad :
       {"", "example.com.", "-a.example", "a-.example", "a..b", "exa mple.com", "ex_ample.com",
        "*.com", "a.*.example.com", "**.example.com", "10.0.0.1", "::1", "é.example"}) {
    auto r = acme::normalizeDnsName(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().type, core::ProblemType::kRejectedIdentifier) << bad;
  }
  EXPECT_FALSE(acme::normalizeDnsName(std::string(64, 'a') + ".example").has_value());
  EXPECT_TRUE(acme::normalizeDnsName(std::string(63, 'a') + ".example").has_value());
}

TEST(IdentifierPolicy, OrderIdentifiersDeduplicatedAndChecked) {
  auto ok = acme::checkOrderIdentifiers(
      {{"dns", "A.example"}, {"dns", "a.example"}, {"dns", "b.example"}});
  ASSERT_TRUE(ok.has_value());
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].value, "a.example");

  auto empty = acme::checkOrderIdentifiers({});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().type, core::ProblemType::kMalformed);
}

TEST(IdentifierPolicy, EveryRefusedIdentifierIsASubproblem) {
  auto r = acme::checkOrderIdentifiers(
      {{"dns", "good.example"}, {"dns", "bad..example"}, {"email", "x@example.com"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, core::ProblemType::kRejectedIdentifier);
  ASSERT_EQ(r.error().subproblems.size(), 2u);
  EXPECT_EQ(r.error().subproblems[0].identifier->value, "bad..example");
  EXPECT_EQ(r.error().subproblems[1].type, core::ProblemType::kUnsupportedIdentifier);
}

TEST(IdentifierPolicy, TooManyIdentifiers) {
  std::vector<core::Identifier> many;
  for (int i = 0; i < 101; ++i) many.push_back({"dns", "h" + std::to_string(i) + ".example"});
  EXPECT_FALSE(acme::checkOrderIdentifiers(many).has_value());
}

TEST(IdentifierPolicy, WildcardsAndIpAddresses) {
  EXPECT_EQ(*acme::normalizeDnsName("*.Example.COM"), "*.example.com");
  EXPECT_TRUE(acme::isWildcard({"dns", "*.example.com"}));
  EXPECT_FALSE(acme::isWildcard({"dns", "example.com"}));
  EXPECT_EQ(*acme::normalizeIpAddress("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(*acme::normalizeIpAddress("2001:DB8:0:0::1"), "2001:db8::1");
  for (const char* bad :
       {"", "192.0.2", "192.0.2.1/24", "fe80::1%eth0", "[::1]", "example.com", "256.1.1.1"}) {
    EXPECT_FALSE(acme::normalizeIpAddress(bad).has_value()) << bad;
  }
  auto ids = acme::checkOrderIdentifiers(
      {{"ip", "2001:db8::0:1"}, {"ip", "2001:db8::1"}, {"dns", "*.a.example"}});
  ASSERT_TRUE(ids.has_value());
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0].value, "2001:db8::1");
  EXPECT_EQ((*ids)[1].value, "*.a.example");
}
