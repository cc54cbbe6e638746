#include "acme/contact_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "acme/identifier_policy.hpp"

using namespace akamu;

namespace {

void expectRefused(const std::string& contact, core::ProblemType type, std::string_view why) {
  auto r = acme::checkContacts({"mailto:ok@example.com", contact});
  ASSERT_FALSE(r.has_value()) << contact << " was accepted";
  EXPECT_EQ(r.error().type, type) << contact << ": " << r.error().detail;
  // The detail names the contact (quoted, escaped) and says why.
  EXPECT_NE(r.error().detail.find(acme::quoteForDetail(contact)), std::string::npos)
      << r.error().detail;
  EXPECT_NE(r.error().detail.find(why), std::string::npos) << contact << ": " << r.error().detail;
}

void expectInvalid(const std::string& contact, std::string_view why) {
  expectRefused(contact, core::ProblemType::kInvalidContact, why);
}

}  // namespace

TEST(ContactPolicy, AcceptsAndNormalisesMailto) {
  auto r = acme::checkContacts({"mailto:admin@example.com", "MAILTO:Ops.Team+acme@Mail.Example.ORG",
                                "mailto:a!$&'*+-/=^_`{|}~z@xn--bcher-kva.example"});
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0], "mailto:admin@example.com");
  // The scheme and the domain are case-insensitive; the local part is kept as written.
  EXPECT_EQ((*r)[1], "mailto:Ops.Team+acme@mail.example.org");
  EXPECT_EQ((*r)[2], "mailto:a!$&'*+-/=^_`{|}~z@xn--bcher-kva.example");
  EXPECT_TRUE(acme::checkContacts({})->empty());
}

TEST(ContactPolicy, AtMostTenContacts) {
  std::vector<std::string> ten(10, "mailto:a@example.com");
  EXPECT_TRUE(acme::checkContacts(ten).has_value());
  ten.push_back("mailto:a@example.com");
  auto r = acme::checkContacts(ten);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, core::ProblemType::kInvalidContact);
  EXPECT_NE(r.error().detail.find("at most 10"), std::string::npos);
}

TEST(ContactPolicy, OnlyMailtoIsSupported) {
  for (const char* c : {"tel:+12025550123", "https://example.com/contact", "xmpp:a@example.com",
                        "mailto2:a@example.com", "mail:a@example.com"}) {
    expectRefused(c, core::ProblemType::kUnsupportedContact, "only mailto:");
  }
  // Not URIs at all: invalid, not unsupported.
  for (const char* c :
       {"a@example.com", "", ":a@example.com", "1mailto:a@example.com", "mail to:a@example.com"}) {
    expectInvalid(c, "is not a URI");
  }
}

TEST(ContactPolicy, OneAddressNoHfieldsNoFragmentNoEncoding) {
  expectInvalid("mailto:", "no email address");
  expectInvalid("mailto:a@example.com,b@example.com", "more than one address");
  expectInvalid("mailto:a@example.com?subject=hi", "header fields");
  expectInvalid("mailto:?to=a@example.com", "header fields");
  expectInvalid("mailto:a@example.com?", "header fields");
  expectInvalid("mailto:a@example.com#x", "fragment");
  expectInvalid("mailto:a%40b@example.com", "percent-encoded");
  expectInvalid("mailto:a@b@example.com", "exactly one \"@\"");
  expectInvalid("mailto:example.com", "exactly one \"@\"");
}

TEST(ContactPolicy, LocalPartIsADotAtom) {
  expectInvalid("mailto:\"a b\"@example.com", "spaces");
  expectInvalid("mailto:\"ab\"@example.com", "invalid local part");
  expectInvalid("mailto:a b@example.com", "spaces");
  expectInvalid("mailto:a\tb@example.com", "control");
  expectInvalid("mailto:a\x7f@example.com", "control");
  expectInvalid("mailto:j\xc3\xbcrgen@example.com", "non-ASCII");
  expectInvalid("mailto:@example.com", "invalid local part");
  expectInvalid("mailto:.a@example.com", "invalid local part");
  expectInvalid("mailto:a.@example.com", "invalid local part");
  expectInvalid("mailto:a..b@example.com", "invalid local part");
  expectInvalid("mailto:a(b)@example.com", "invalid local part");
  expectInvalid("mailto:a<b>@example.com", "invalid local part");
  expectInvalid("mailto:a;b@example.com", "invalid local part");
  expectInvalid("mailto:a\\b@example.com", "invalid local part");
}

TEST(ContactPolicy, DomainIsARealDnsName) {
  expectInvalid("mailto:a@", "invalid domain");
  expectInvalid("mailto:a@example.com.", "invalid domain");
  expectInvalid("mailto:a@exa_mple.com", "invalid domain");
  expectInvalid("mailto:a@-example.com", "invalid domain");
  expectInvalid("mailto:a@xn--zz.example", "invalid domain");
  expectInvalid("mailto:a@*.example.com", "wildcard");
  expectInvalid("mailto:a@192.0.2.1", "invalid domain");
  expectInvalid("mailto:a@[192.0.2.1]", "address literal");
  expectInvalid("mailto:a@[IPv6:2001:db8::1]", "address literal");
  expectInvalid("mailto:a@example.123", "invalid domain");
}

TEST(ContactPolicy, LengthsAreBounded) {
  EXPECT_TRUE(acme::checkContacts({"mailto:" + std::string(64, 'l') + "@x.example"}).has_value());
  expectInvalid("mailto:" + std::string(65, 'l') + "@x.example", "local part longer than 64");
  // 64 + 1 + 189 = 254 octets: the longest address.
  const std::string d189 =
      std::string(63, 'd') + "." + std::string(63, 'd') + "." + std::string(53, 'd') + ".example";
  ASSERT_EQ(d189.size(), 189u);
  EXPECT_TRUE(acme::checkContacts({"mailto:" + std::string(64, 'l') + "@" + d189}).has_value());
  expectInvalid("mailto:" + std::string(64, 'l') + "@a" + d189, "longer than 254");
  // A huge contact is cut in the detail.
  auto r = acme::checkContacts({"mailto:" + std::string(100000, 'a') + "@example.com"});
  ASSERT_FALSE(r.has_value());
  EXPECT_LT(r.error().detail.size(), 300u);
}
