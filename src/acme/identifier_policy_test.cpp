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
        "*.com", "a.*.example.com", "**.example.com", "10.0.0.1", "::1", "é.example",
        "*.*.example.com", "*", "*example.com", "xn--zz.example", "ab--c.example"}) {
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

void expectRejected(std::string_view name, std::string_view detail_part = {}) {
  auto r = acme::normalizeDnsName(name);
  ASSERT_FALSE(r.has_value()) << name << " was accepted as " << *r;
  EXPECT_EQ(r.error().type, core::ProblemType::kRejectedIdentifier) << name;
  ASSERT_TRUE(r.error().identifier.has_value()) << name;
  EXPECT_EQ(r.error().identifier->type, "dns");
  EXPECT_EQ(r.error().identifier->value, name);
  EXPECT_NE(r.error().detail.find(detail_part), std::string::npos)
      << name << ": " << r.error().detail;
  // Details are ASCII whatever the input was.
  for (char c : r.error().detail) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << name;
}

TEST(IdentifierPolicy, WildcardGrammar) {
  EXPECT_EQ(*acme::normalizeDnsName("*.a.b.Example"), "*.a.b.example");
  EXPECT_EQ(*acme::normalizeDnsName("*.xn--bcher-kva.example"), "*.xn--bcher-kva.example");
  expectRejected("*.*.example.com", "exactly one '*'");
  expectRejected("*.a.*.example.com", "exactly one '*'");
  expectRejected("a.*.example.com", "whole leftmost label");
  expectRejected("*example.com", "whole leftmost label");
  expectRejected("ex*ample.com", "whole leftmost label");
  expectRejected("**.example.com", "whole leftmost label");
  expectRejected("*", "whole leftmost label");
  expectRejected("*.", "end with a dot");
  expectRejected("*.com", "top-level domain");
  expectRejected("*.localhost", "top-level domain");
  expectRejected("*.-a.example", "hyphen");
  expectRejected("*.10.0.0.1", "IP address");
  expectRejected("*.xn--zz.example", "A-label");
}

TEST(IdentifierPolicy, RefusedWildcardsAreSubproblemsNamingThem) {
  const std::vector<core::Identifier> bad = {
      {"dns", "*.*.example.com"}, {"dns", "*.com"}, {"dns", "*"}, {"dns", "a.*.example.com"}};
  std::vector<core::Identifier> ids = bad;
  ids.insert(ids.begin(), {"dns", "*.example.com"});
  auto r = acme::checkOrderIdentifiers(ids);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, core::ProblemType::kRejectedIdentifier);
  ASSERT_EQ(r.error().subproblems.size(), bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(r.error().subproblems[i].type, core::ProblemType::kRejectedIdentifier);
    EXPECT_EQ(r.error().subproblems[i].identifier, bad[i]);
    EXPECT_NE(r.error().subproblems[i].detail.find(bad[i].value), std::string::npos)
        << r.error().subproblems[i].detail;
  }
}

TEST(IdentifierPolicy, ALabelsMustBeValidIdna2008) {
  EXPECT_EQ(*acme::normalizeDnsName("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*acme::normalizeDnsName("WWW.XN--BCHER-KVA.Example"), "www.xn--bcher-kva.example");
  EXPECT_EQ(*acme::normalizeDnsName("xn--nxasmq6b.example"), "xn--nxasmq6b.example");  // βόλοσ
  EXPECT_EQ(*acme::normalizeDnsName("xn--zca.example"), "xn--zca.example");            // ß
  EXPECT_EQ(*acme::normalizeDnsName("a.xn--4ca0bs"), "a.xn--4ca0bs");                  // äöü
  expectRejected("xn--.example", "hyphen");
  expectRejected("xn--zz.example", "punycode");
  expectRejected("xn--abc-.example", "hyphen");  // punycode of plain "abc"
  expectRejected("xn--abc.example", "A-label");
  expectRejected("xn--cafe-yvc.example", "IDNA2008");  // "cafe" + combining acute: not NFC
  expectRejected("xn--ls8h.example", "IDNA2008");      // U+1F4A9: DISALLOWED
  expectRejected("xn--53h.example", "IDNA2008");       // U+2615: DISALLOWED
  expectRejected("xn--a-ecp.example", "IDNA2008");     // U+2488: DISALLOWED
  expectRejected("xn--1ug.example", "IDNA2008");       // lone ZWJ: CONTEXTJ
  expectRejected("xn--ab-r13a.example", "IDNA2008");   // "a" U+3002 "b": a dot look-alike
  expectRejected("www.xn--ls8h.example", "\"xn--ls8h\"");
}

TEST(IdentifierPolicy, ReservedLdhLabels) {
  for (const char* bad : {"ab--cd.example", "a1--b.example", "zz--x.example", "www.qq--a.example",
                          "*.ab--cd.example"}) {
    expectRejected(bad, "reserved LDH label");
  }
  // "--" elsewhere is an ordinary hyphenated label.
  for (const char* ok : {"a--b.example", "abc--d.example", "ab-c--d.example", "a-b.example"}) {
    EXPECT_TRUE(acme::normalizeDnsName(ok).has_value()) << ok;
  }
}

TEST(IdentifierPolicy, NonAsciiNamesAreRefusedWithTheirALabelForm) {
  expectRejected("bücher.example", "\"xn--bcher-kva.example\"");
  expectRejected("Bücher.example", "A-labels");
  expectRejected("\xff\xfe.example", "not ASCII");  // not UTF-8 at all
  expectRejected("*.bücher.example", "not ASCII");
}

TEST(IdentifierPolicy, AllNumericLastLabelIsRefused) {
  expectRejected("example.123", "all-numeric");
  expectRejected("0x7f.0.0.1", "all-numeric");  // inet_aton reads this as 127.0.0.1
  EXPECT_TRUE(acme::normalizeDnsName("123.example").has_value());
  EXPECT_TRUE(acme::normalizeDnsName("example.c0m").has_value());
}

TEST(IdentifierPolicy, QuoteForDetailEscapesAndTruncates) {
  EXPECT_EQ(acme::quoteForDetail("a.example"), "\"a.example\"");
  EXPECT_EQ(acme::quoteForDetail("a\"b\\c\n\xc3\xa9"), "\"a\\x22b\\x5cc\\x0a\\xc3\\xa9\"");
  EXPECT_EQ(acme::quoteForDetail("abcdef", 3), "\"abc...\"");
}

// RFC 9444: which names' subdomain authorizations cover a name.
TEST(AncestorDomains, ProperAncestorsOfTwoLabelsOrMoreNearestFirst) {
  using acme::ancestorDomains;
  using acme::isAncestorDomain;
  EXPECT_EQ(ancestorDomains("a.b.example.com", false),
            (std::vector<std::string>{"b.example.com", "example.com"}));
  EXPECT_EQ(ancestorDomains("example.com", false), std::vector<std::string>{});
  EXPECT_EQ(ancestorDomains("localhost", false), std::vector<std::string>{});
  // A wildcard's base name covers it too.
  EXPECT_EQ(ancestorDomains("b.example.com", true),
            (std::vector<std::string>{"b.example.com", "example.com"}));
  EXPECT_TRUE(isAncestorDomain("example.com", "a.example.com", false));
  EXPECT_TRUE(isAncestorDomain("example.com", "x.y.example.com", false));
  EXPECT_FALSE(isAncestorDomain("example.com", "example.com", false));
  EXPECT_TRUE(isAncestorDomain("example.com", "example.com", true));
  EXPECT_FALSE(isAncestorDomain("ample.com", "a.example.com", false));  // label boundary
  EXPECT_FALSE(isAncestorDomain("com", "example.com", false));          // one label
  EXPECT_FALSE(isAncestorDomain("a.example.com", "example.com", false));
}
