// Certificate revocation (RFC 8555 §7.6).
#include "harness.hpp"

namespace akamu::itest {
namespace {

class Revoke : public ::testing::Test {
 protected:
  TestServer& ts = sharedServer();
  std::string revokeUrl() const { return ts.url("/acme/revoke-cert"); }

  static std::string payload(const std::vector<std::uint8_t>& der, std::optional<int> reason = {}) {
    json::object p{{"certificate", core::base64urlEncode(der)}};
    if (reason) p["reason"] = *reason;
    return json::serialize(p);
  }
};

TEST_F(Revoke, ByIssuingAccountThenAgainIsAlreadyRevoked) {
  AcmeClient c = ts.account();
  auto issued = issue(c, ts.responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  const auto der = derOf(issued->certificate_pem);
  ASSERT_FALSE(der.empty());
  auto r = c.post(revokeUrl(), payload(der, 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(*r);
  EXPECT_FALSE(r->header("replay-nonce").empty());
  EXPECT_TRUE(hasIndexLink(*r, ts.directoryUrl()));
  EXPECT_TRUE(isProblem(c.post(revokeUrl(), payload(der)), 400, ProblemType::kAlreadyRevoked));
  // The wrapper agrees.
  EXPECT_TRUE(failedWith(c.revokeCertificate(der), ProblemType::kAlreadyRevoked));
}

TEST_F(Revoke, ByCertificateKeyWithJwk) {
  AcmeClient c = ts.account();
  auto issued = issue(c, ts.responder(), {dns(uniqueName())}, "ec:P-384");
  ASSERT_TRUE(issued) << issued.error().detail;
  const auto der = derOf(issued->certificate_pem);
  // A client without any account, holding only the certificate's key.
  AcmeClient holder = ts.client();
  auto r = holder.postSignedWith(issued->certificate_key.get(), revokeUrl(), payload(der, 4),
                                 std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(*r);
  // Now revoked for the issuing account too.
  EXPECT_TRUE(isProblem(c.post(revokeUrl(), payload(der)), 400, ProblemType::kAlreadyRevoked));
}

TEST_F(Revoke, ByAnotherAccountIsUnauthorized) {
  AcmeClient a = ts.account();
  AcmeClient b = ts.account();
  auto issued = issue(a, ts.responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  const auto der = derOf(issued->certificate_pem);
  EXPECT_TRUE(isProblem(b.post(revokeUrl(), payload(der)), 403, ProblemType::kUnauthorized));
  // Not revoked by that attempt: the owner still can.
  auto r = a.post(revokeUrl(), payload(der));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(*r);
}

TEST_F(Revoke, ByAnUnrelatedJwkIsUnauthorized) {
  AcmeClient a = ts.account();
  auto issued = issue(a, ts.responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  const auto der = derOf(issued->certificate_pem);
  auto stranger = makeKey();
  auto r = a.postSignedWith(stranger.get(), revokeUrl(), payload(der), std::nullopt);
  EXPECT_TRUE(isProblem(r, 403, ProblemType::kUnauthorized));
}

// RFC 8555 §7.6: "The server MUST consider at least the following accounts authorized for a
// given certificate: the account that issued the certificate; an account that holds
// authorizations for all of the identifiers in the certificate."
TEST_F(Revoke, ByAccountHoldingAuthorizationsForAllNames) {
  AcmeClient a = ts.account();
  AcmeClient b = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName()), dns(uniqueName())};
  auto issued = issue(a, ts.responder(), ids);
  ASSERT_TRUE(issued) << issued.error().detail;
  // B proves control of the same names (its order reaches ready: valid authorizations).
  auto b_ready = readyOrder(b, ts.responder(), ids);
  ASSERT_TRUE(b_ready) << b_ready.error().detail;
  ASSERT_EQ(b_ready->status(), "ready");
  auto r = b.post(revokeUrl(), payload(derOf(issued->certificate_pem)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(*r);
}

TEST_F(Revoke, BadReasonCodeIsBadRevocationReason) {
  AcmeClient c = ts.account();
  auto issued = issue(c, ts.responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  const auto der = derOf(issued->certificate_pem);
  for (int reason : {7, 11, 99, -1}) {
    EXPECT_TRUE(isProblem(c.post(revokeUrl(), payload(der, reason)), 400,
                          ProblemType::kBadRevocationReason))
        << "reason " << reason;
  }
  auto r = c.post(revokeUrl(), R"({"certificate":")" + core::base64urlEncode(der) +
                                   R"(","reason":"keyCompromise"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << describe(*r);
  // None of those revoked it.
  auto ok = c.post(revokeUrl(), payload(der, 0));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << describe(*ok);
}

TEST_F(Revoke, CertificateWeDidNotIssueIsRefused) {
  AcmeClient c = ts.account();
  // A look-alike: same names, issued by some other CA.
  auto other_ca_key = makeKey();
  auto now = std::chrono::system_clock::now();
  crypto::CaRequest ca_req;
  ca_req.key = other_ca_key.get();
  ca_req.common_name = "Other CA";
  ca_req.not_before = now - std::chrono::hours(1);
  ca_req.not_after = now + std::chrono::hours(24);
  auto other_ca = crypto::selfSignedCaCertificate(ca_req);
  ASSERT_TRUE(other_ca);
  auto leaf_key = makeKey();
  crypto::LeafRequest req;
  req.subject_public_key = leaf_key.get();
  req.identifiers = {dns(uniqueName())};
  req.not_before = now - std::chrono::hours(1);
  req.not_after = now + std::chrono::hours(24);
  req.serial = crypto::randomSerial();
  req.issuer_cert = other_ca->get();
  req.issuer_key = other_ca_key.get();
  auto foreign = crypto::issueLeafCertificate(req);
  ASSERT_TRUE(foreign);
  const auto der = crypto::certToDer(foreign->get());
  auto r = c.post(revokeUrl(), payload(der));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << describe(*r);
  EXPECT_TRUE(client::parseProblem(*r)) << describe(*r);
  // Even signed by the certificate's own key.
  auto r2 = c.postSignedWith(leaf_key.get(), revokeUrl(), payload(der), std::nullopt);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 404) << describe(*r2);
}

TEST_F(Revoke, GarbageCertificateIsMalformed) {
  AcmeClient c = ts.account();
  EXPECT_TRUE(
      isProblem(c.post(revokeUrl(), R"({"certificate":"AAAA"})"), 400, ProblemType::kMalformed));
  EXPECT_TRUE(isProblem(c.post(revokeUrl(), R"({})"), 400, ProblemType::kMalformed));
}

}  // namespace
}  // namespace akamu::itest
