#include "acme/eab.hpp"

#include <gtest/gtest.h>

namespace akamu::acme {
namespace {

core::Identifier dns(std::string v) { return {"dns", std::move(v)}; }

EabCredential scoped(std::vector<std::string> patterns) {
  EabCredential c;
  c.identifier_patterns = std::move(patterns);
  return c;
}

TEST(EabScope, NoPatternsAllowsEverything) {
  EXPECT_TRUE(eabScopeAllowsIdentifier(scoped({}), dns("anything.example")));
  EXPECT_TRUE(eabScopeAllowsProfile(EabCredential{}, "shortlived"));
}

TEST(EabScope, ExactAndSubdomainPatterns) {
  const auto c = scoped({"example.com", "*.example.org", "192.0.2.1"});
  EXPECT_TRUE(eabScopeAllowsIdentifier(c, dns("example.com")));
  EXPECT_FALSE(eabScopeAllowsIdentifier(c, dns("www.example.com")));  // exact only
  EXPECT_FALSE(eabScopeAllowsIdentifier(c, dns("*.example.com")));
  EXPECT_TRUE(eabScopeAllowsIdentifier(c, dns("www.example.org")));
  EXPECT_TRUE(eabScopeAllowsIdentifier(c, dns("a.b.example.org")));
  EXPECT_TRUE(eabScopeAllowsIdentifier(c, dns("*.example.org")));
  EXPECT_TRUE(eabScopeAllowsIdentifier(c, dns("*.a.example.org")));
  EXPECT_FALSE(eabScopeAllowsIdentifier(c, dns("example.org")));  // not the parent itself
  EXPECT_FALSE(eabScopeAllowsIdentifier(c, dns("badexample.org")));
  EXPECT_FALSE(eabScopeAllowsIdentifier(c, dns("example.org.evil")));
  EXPECT_TRUE(eabScopeAllowsIdentifier(c, {"ip", "192.0.2.1"}));
  EXPECT_FALSE(eabScopeAllowsIdentifier(c, {"ip", "192.0.2.2"}));
  EXPECT_FALSE(eabScopeAllowsIdentifier(c, dns("192.0.2.1")));
}

TEST(EabScope, Profiles) {
  EabCredential c;
  c.allowed_profiles = {"default"};
  EXPECT_TRUE(eabScopeAllowsProfile(c, "default"));
  EXPECT_FALSE(eabScopeAllowsProfile(c, "shortlived"));
  EXPECT_FALSE(eabScopeAllowsProfile(c, ""));
}

TEST(EabScope, PatternsAreNormalisedOrRefused) {
  EXPECT_EQ(*normalizeEabIdentifierPattern("Example.COM"), "example.com");
  EXPECT_EQ(*normalizeEabIdentifierPattern("*.Example.com"), "*.example.com");
  EXPECT_EQ(*normalizeEabIdentifierPattern("2001:DB8::1"), "2001:db8::1");
  EXPECT_EQ(*normalizeEabIdentifierPattern("192.0.2.1"), "192.0.2.1");
  for (const char* bad : {"", "*", "*.com", "a.*.example.com", "exa mple.com", "1.2.3", "::g"}) {
    auto r = normalizeEabIdentifierPattern(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().type, core::ProblemType::kMalformed);
    }
  }
}

TEST(EabBind, RefusalsAtNow) {
  EabCredential c;
  c.max_uses = 1;
  const auto now = core::fromUnixSeconds(1'700'000'000);
  EXPECT_FALSE(eabBindRefusal(c, now));
  c.expires = now;
  EXPECT_EQ(eabBindRefusal(c, now).value_or(""), "the external account binding key has expired");
  c.expires.reset();
  c.uses = 1;
  EXPECT_EQ(eabBindRefusal(c, now).value_or(""),
            "the external account binding key has already been used");
  c.max_uses.reset();
  EXPECT_FALSE(eabBindRefusal(c, now));  // unlimited
  c.state = EabState::kRevoked;
  EXPECT_EQ(eabBindRefusal(c, now).value_or(""),
            "the external account binding key has been revoked");
}

}  // namespace
}  // namespace akamu::acme
