#include "ra/public_suffix.hpp"

#include <gtest/gtest.h>

namespace akamu::ra {
namespace {

const char* kList = R"(// a comment
com
uk
co.uk
*.ck
!www.ck
// wildcard two levels down
*.kawasaki.jp
!city.kawasaki.jp
github.io
)";

TEST(PublicSuffix, NormalRulesTakeTheLongestMatch) {
  auto psl = PublicSuffixList::parse(kList);
  EXPECT_EQ(psl.publicSuffix("www.example.co.uk"), "co.uk");
  EXPECT_EQ(psl.registeredDomain("www.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl.registeredDomain("a.b.example.com"), "example.com");
  EXPECT_EQ(psl.registeredDomain("example.com"), "example.com");
  // Private-section rules count too: each github.io site is its own registered domain.
  EXPECT_EQ(psl.registeredDomain("me.github.io"), "me.github.io");
  EXPECT_EQ(psl.registeredDomain("www.me.github.io"), "me.github.io");
}

TEST(PublicSuffix, WildcardAndException) {
  auto psl = PublicSuffixList::parse(kList);
  EXPECT_EQ(psl.publicSuffix("foo.bar.ck"), "bar.ck");
  EXPECT_EQ(psl.registeredDomain("foo.bar.ck"), "foo.bar.ck");
  EXPECT_EQ(psl.publicSuffix("www.ck"), "ck");
  EXPECT_EQ(psl.registeredDomain("www.ck"), "www.ck");
  EXPECT_EQ(psl.registeredDomain("a.www.ck"), "www.ck");
  EXPECT_EQ(psl.registeredDomain("x.y.kawasaki.jp"), "x.y.kawasaki.jp");
  EXPECT_EQ(psl.registeredDomain("a.city.kawasaki.jp"), "city.kawasaki.jp");
}

TEST(PublicSuffix, UnknownTldFallsBackToTheDefaultRule) {
  auto psl = PublicSuffixList::parse(kList);
  EXPECT_EQ(psl.publicSuffix("www.example.internal"), "internal");
  EXPECT_EQ(psl.registeredDomain("www.example.internal"), "example.internal");
  EXPECT_EQ(psl.registeredDomain("localhost"), "localhost");
}

TEST(PublicSuffix, BucketKeysOfIdentifiers) {
  auto psl = PublicSuffixList::parse(kList);
  EXPECT_EQ(domainBucketKey(psl, {"dns", "*.Shop.Example.co.uk"}), "example.co.uk");
  EXPECT_EQ(domainBucketKey(psl, {"ip", "192.0.2.7"}), "192.0.2.7");
  EXPECT_EQ(domainBucketKey(psl, {"ip", "2001:db8:1:2:3:4:5:6"}), "2001:db8:1:2::/64");
  boost::system::error_code ec;
  auto v6 = boost::asio::ip::make_address("2001:db8:abcd:12ff::1", ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(addressRange(v6, 48), "2001:db8:abcd::/48");
  EXPECT_EQ(addressRange(v6, 64), "2001:db8:abcd:12ff::/64");
}

TEST(PublicSuffix, TheInstalledListLoads) {
  auto psl = PublicSuffixList::load(kDefaultPublicSuffixFile);
  ASSERT_TRUE(psl) << psl.error().detail;
  EXPECT_GT((*psl)->ruleCount(), 1000u);
  EXPECT_EQ((*psl)->registeredDomain("www.example.co.uk"), "example.co.uk");
  EXPECT_EQ((*psl)->registeredDomain("foo.bar.ck"), "foo.bar.ck");
  EXPECT_FALSE(PublicSuffixList::load("/nonexistent/psl.dat"));
}

}  // namespace
}  // namespace akamu::ra
