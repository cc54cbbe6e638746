// Certificate profiles (draft-ietf-acme-profiles): chosen in newOrder, echoed in the order,
// applied to the validation policy and to the certificate, re-checked at finalize.
#include <openssl/x509v3.h>

#include "harness.hpp"

namespace akamu::itest {
namespace {

crypto::X509Ptr leafOf(const std::string& pem_chain) {
  auto chain = crypto::certChainFromPem(pem_chain);
  EXPECT_TRUE(chain && !chain->empty());
  if (!chain || chain->empty()) return nullptr;
  return std::move((*chain)[0]);
}

bool hasExtension(const X509* x, int nid) {
  return X509_get_ext_by_NID(const_cast<X509*>(x), nid, -1) >= 0;
}

std::string subjectCn(const X509* x) {
  char buf[256] = {};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(const_cast<X509*>(x)), NID_commonName,
                                    buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

class Profiles : public ::testing::Test {
 protected:
  void SetUp() override {
    ts_ = TestServer::start({.configure = [this](config::Config& c) {
      config::ProfileConfig def;
      def.name = "default";
      def.description = "Everything";
      config::ProfileConfig shortlived;
      shortlived.name = "shortlived";
      shortlived.validity_secs = 7 * 86400;
      shortlived.omit_subject_key_id = true;
      shortlived.omit_common_name = true;
      shortlived.extended_key_usages = {"serverAuth"};
      config::ProfileConfig narrow;
      narrow.name = "narrow";
      narrow.identifier_types = {"dns"};
      narrow.allow_wildcards = false;
      narrow.challenge_types = {"dns-01"};
      narrow.max_names = 2;
      narrow.authz_lifetime_secs = 600;
      narrow.order_lifetime_secs = 1200;
      config::ProfileConfig rsa_only;
      rsa_only.name = "rsa-only";
      rsa_only.allowed_key_types = {"rsa"};
      config::ProfileConfig vip;
      vip.name = "vip";
      vip.allowed_accounts = {"nobody-yet"};
      c.profiles = {def, shortlived, narrow, rsa_only, vip};
      (void)this;
    }});
    ASSERT_TRUE(ts_);
  }
  core::Result<client::IssueResult> issueWith(AcmeClient& c, const std::string& profile,
                                              std::string_view key_type = "ec:P-256") {
    auto kt = crypto::parseKeyType(key_type);
    return client::issueCertificate(c, ts_->responder(), {dns(uniqueName())}, *kt,
                                    std::chrono::milliseconds(20), {.profile = profile});
  }
  std::unique_ptr<TestServer> ts_;
};

TEST_F(Profiles, DirectoryListsEveryProfileWithItsDescription) {
  AcmeClient c = ts_->client();
  ASSERT_TRUE(c.loadDirectory());
  const auto& profiles = c.directory().at("meta").as_object().at("profiles").as_object();
  EXPECT_EQ(profiles.size(), 5u);
  EXPECT_EQ(str(profiles, "default"), "Everything");
  EXPECT_EQ(str(profiles, "narrow"), "The narrow profile");
}

TEST_F(Profiles, TheDefaultIsUsedAndEchoedWhenNoneIsRequested) {
  AcmeClient c = ts_->account();
  auto order = c.newOrder({dns(uniqueName())});
  ASSERT_TRUE(order);
  EXPECT_EQ(str(order->json, "profile"), "default");
  auto chosen = c.newOrder({dns(uniqueName())}, {.profile = "shortlived"});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(str(chosen->json, "profile"), "shortlived");
  // And it reads back the same.
  EXPECT_EQ(str(fetch(c, chosen->url), "profile"), "shortlived");
}

TEST_F(Profiles, UnknownProfileIsInvalidProfile) {
  AcmeClient c = ts_->account();
  auto r = c.post(ts_->url("/acme/new-order"),
                  R"({"identifiers":[{"type":"dns","value":"a.example"}],"profile":"nope"})");
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kInvalidProfile));
  EXPECT_TRUE(
      isProblem(c.post(ts_->url("/acme/new-order"),
                       R"({"identifiers":[{"type":"dns","value":"a.example"}],"profile":7})"),
                400, ProblemType::kMalformed));
}

TEST_F(Profiles, AProfileTheAccountMayNotUseIsUnauthorized) {
  AcmeClient c = ts_->account();
  EXPECT_TRUE(
      failedWith(c.newOrder({dns(uniqueName())}, {.profile = "vip"}), ProblemType::kUnauthorized));
}

TEST_F(Profiles, ShortLivedTemplateShapesTheCertificate) {
  AcmeClient c = ts_->account();
  auto issued = issueWith(c, "shortlived");
  ASSERT_TRUE(issued) << issued.error().detail;
  auto leaf = leafOf(issued->certificate_pem);
  ASSERT_TRUE(leaf);
  auto info = crypto::inspectCertificate(leaf.get());
  ASSERT_TRUE(info);
  EXPECT_NEAR(std::chrono::duration<double>(info->not_after - info->not_before).count(),
              7 * 86400 + 60, 1);
  EXPECT_FALSE(hasExtension(leaf.get(), NID_subject_key_identifier));
  EXPECT_TRUE(hasExtension(leaf.get(), NID_authority_key_identifier));
  EXPECT_EQ(subjectCn(leaf.get()), "");
  const std::uint32_t xku = X509_get_extended_key_usage(leaf.get());
  EXPECT_TRUE(xku & XKU_SSL_SERVER);
  EXPECT_FALSE(xku & XKU_SSL_CLIENT);
  EXPECT_TRUE(crypto::verifyChain(leaf.get(), ts_->server().ca().certificate()));

  // The default profile keeps what every certificate had before.
  auto normal = issueWith(c, "default");
  ASSERT_TRUE(normal) << normal.error().detail;
  auto normal_leaf = leafOf(normal->certificate_pem);
  EXPECT_TRUE(hasExtension(normal_leaf.get(), NID_subject_key_identifier));
  EXPECT_TRUE(X509_get_extended_key_usage(normal_leaf.get()) & XKU_SSL_CLIENT);
  auto normal_info = crypto::inspectCertificate(normal_leaf.get());
  EXPECT_NEAR(
      std::chrono::duration<double>(normal_info->not_after - normal_info->not_before).count(),
      90 * 86400 + 60, 1);
}

TEST_F(Profiles, ValidationPolicyOfTheProfile) {
  AcmeClient c = ts_->account();
  // Identifier types, wildcards, names per order: each a precise refusal.
  auto ip = c.newOrder({Identifier{"ip", "192.0.2.7"}}, {.profile = "narrow"});
  EXPECT_TRUE(failedWith(ip, ProblemType::kRejectedIdentifier));
  if (!ip) {
    ASSERT_EQ(ip.error().subproblems.size(), 1u);
    EXPECT_EQ(ip.error().subproblems[0].identifier->value, "192.0.2.7");
  }
  EXPECT_TRUE(failedWith(c.newOrder({dns("*." + uniqueName())}, {.profile = "narrow"}),
                         ProblemType::kRejectedIdentifier));
  EXPECT_TRUE(failedWith(
      c.newOrder({dns(uniqueName()), dns(uniqueName()), dns(uniqueName())}, {.profile = "narrow"}),
      ProblemType::kRejectedIdentifier));
  // The challenge types and lifetimes.
  auto order = c.newOrder({dns(uniqueName())}, {.profile = "narrow"});
  ASSERT_TRUE(order) << order.error().detail;
  auto authz =
      c.getAuthorization(std::string(order->json.at("authorizations").as_array()[0].as_string()));
  ASSERT_TRUE(authz);
  const auto& challenges = authz->at("challenges").as_array();
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(str(challenges[0].as_object(), "type"), "dns-01");
  core::TimePoint order_expires, authz_expires;
  ASSERT_TRUE(core::parseRfc3339(str(order->json, "expires"), order_expires));
  ASSERT_TRUE(core::parseRfc3339(str(*authz, "expires"), authz_expires));
  const auto now = std::chrono::system_clock::now();
  EXPECT_NEAR(std::chrono::duration<double>(order_expires - now).count(), 1200, 5);
  EXPECT_NEAR(std::chrono::duration<double>(authz_expires - now).count(), 600, 5);
}

TEST_F(Profiles, NotAfterBeyondTheProfileValidityIsRefused) {
  AcmeClient c = ts_->account();
  const auto far =
      core::formatRfc3339(std::chrono::system_clock::now() + std::chrono::hours(24 * 8));
  EXPECT_TRUE(
      failedWith(c.newOrder({dns(uniqueName())}, {.not_after = far, .profile = "shortlived"}),
                 ProblemType::kMalformed));
  EXPECT_TRUE(c.newOrder({dns(uniqueName())}, {.not_after = far, .profile = "default"}));
}

TEST_F(Profiles, FinalizeChecksTheKeyTypeOfTheProfile) {
  AcmeClient c = ts_->account();
  auto ec = issueWith(c, "rsa-only", "ec:P-256");
  EXPECT_TRUE(failedWith(ec, ProblemType::kBadCsr));
  auto rsa = issueWith(c, "rsa-only", "rsa:2048");
  EXPECT_TRUE(rsa) << rsa.error().detail;
}

}  // namespace
}  // namespace akamu::itest
