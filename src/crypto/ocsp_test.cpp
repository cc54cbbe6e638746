#include "crypto/ocsp.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <chrono>

#include "crypto/key_type.hpp"
#include "crypto/ossl_util.hpp"
#include "crypto/x509.hpp"

namespace akamu::crypto {
namespace {

using std::chrono::hours;

core::TimePoint nowSeconds() {
  return core::fromUnixSeconds(core::toUnixSeconds(std::chrono::system_clock::now()));
}

struct Issued {
  PKey key;
  X509Ptr cert;
};

Issued makeCa(const std::string& cn) {
  Issued ca;
  ca.key = std::move(*generateKey({KeyAlgorithm::kEc, 256}));
  CaRequest req;
  req.key = ca.key.get();
  req.common_name = cn;
  req.not_before = nowSeconds() - hours(1);
  req.not_after = req.not_before + hours(24 * 365);
  ca.cert = std::move(*selfSignedCaCertificate(req));
  return ca;
}

X509Ptr makeLeaf(const Issued& ca) {
  auto key = generateKey({KeyAlgorithm::kEc, 256});
  LeafRequest leaf;
  leaf.subject_public_key = key->get();
  leaf.identifiers = {{"dns", "example.com"}};
  leaf.not_before = nowSeconds() - hours(1);
  leaf.not_after = leaf.not_before + hours(48);
  leaf.serial = randomSerial();
  leaf.issuer_cert = ca.cert.get();
  leaf.issuer_key = ca.key.get();
  return std::move(*issueLeafCertificate(leaf));
}

std::vector<std::uint8_t> requestDer(const std::vector<std::pair<const X509*, const X509*>>& ids,
                                     bool nonce, const EVP_MD* md = EVP_sha1()) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  for (auto [leaf, issuer] : ids) {
    OCSP_CERTID* id = OCSP_cert_to_id(md, leaf, issuer);
    EXPECT_NE(OCSP_request_add0_id(req.get(), id), nullptr);
  }
  if (nonce) {
    EXPECT_EQ(OCSP_request_add1_nonce(req.get(), nullptr, 16), 1);
  }
  unsigned char* out = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &out);
  std::vector<std::uint8_t> der(out, out + len);
  OPENSSL_free(out);
  return der;
}

struct Parsed {
  OcspResponsePtr response;
  OcspBasicRespPtr basic;
};

Parsed parseResponse(const std::vector<std::uint8_t>& der) {
  Parsed p;
  const unsigned char* q = der.data();
  p.response.reset(d2i_OCSP_RESPONSE(nullptr, &q, static_cast<long>(der.size())));
  EXPECT_TRUE(p.response);
  if (p.response && OCSP_response_status(p.response.get()) == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    p.basic.reset(OCSP_response_get1_basic(p.response.get()));
  }
  return p;
}

TEST(OcspRequest, ParsesSerialsAndIssuerMatch) {
  Issued ca = makeCa("OCSP Test CA");
  Issued other = makeCa("Another CA");
  X509Ptr leaf = makeLeaf(ca);
  auto info = parseOcspRequest(requestDer({{leaf.get(), ca.cert.get()}}, false), ca.cert.get(), 8);
  ASSERT_TRUE(info) << info.error().detail;
  ASSERT_EQ(info->cert_ids.size(), 1u);
  EXPECT_EQ(info->cert_ids[0].serial_hex, serialHex(leaf.get()));
  EXPECT_TRUE(info->cert_ids[0].issuer_matches);
  EXPECT_FALSE(info->has_nonce);

  // SHA-256 CertIDs work too; another issuer's hashes do not match.
  auto sha256 = parseOcspRequest(requestDer({{leaf.get(), ca.cert.get()}}, true, EVP_sha256()),
                                 ca.cert.get(), 8);
  ASSERT_TRUE(sha256);
  EXPECT_TRUE(sha256->cert_ids[0].issuer_matches);
  EXPECT_TRUE(sha256->has_nonce);
  auto foreign =
      parseOcspRequest(requestDer({{leaf.get(), other.cert.get()}}, false), ca.cert.get(), 8);
  ASSERT_TRUE(foreign);
  EXPECT_FALSE(foreign->cert_ids[0].issuer_matches);
}

TEST(OcspRequest, MalformedInputIsRefusedNeverCrashes) {
  Issued ca = makeCa("OCSP Test CA");
  X509Ptr leaf = makeLeaf(ca);
  auto good = requestDer({{leaf.get(), ca.cert.get()}}, false);
  EXPECT_FALSE(parseOcspRequest({}, ca.cert.get(), 8));
  std::vector<std::uint8_t> trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(parseOcspRequest(trailing, ca.cert.get(), 8));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    std::vector<std::uint8_t> part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_FALSE(parseOcspRequest(part, ca.cert.get(), 8)) << cut;
  }
  for (std::size_t i = 0; i < good.size(); ++i) {  // every byte flipped: parsed or refused
    std::vector<std::uint8_t> flipped = good;
    flipped[i] ^= 0xff;
    (void)parseOcspRequest(flipped, ca.cert.get(), 8);
  }
  // No CertID at all, and more than the limit.
  EXPECT_FALSE(parseOcspRequest(requestDer({}, false), ca.cert.get(), 8));
  EXPECT_FALSE(parseOcspRequest(
      requestDer({{leaf.get(), ca.cert.get()}, {leaf.get(), ca.cert.get()}}, false), ca.cert.get(),
      1));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OcspResponse, EveryFieldParsesBackAndVerifies) {
  Issued ca = makeCa("OCSP Test CA");
  X509Ptr good_leaf = makeLeaf(ca);
  X509Ptr revoked_leaf = makeLeaf(ca);
  X509Ptr unknown_leaf = makeLeaf(ca);
  auto info = parseOcspRequest(requestDer({{good_leaf.get(), ca.cert.get()},
                                           {revoked_leaf.get(), ca.cert.get()},
                                           {unknown_leaf.get(), ca.cert.get()}},
                                          true),
                               ca.cert.get(), 8);
  ASSERT_TRUE(info);
  const auto now = nowSeconds();
  const std::vector<OcspSingleStatus> statuses = {{OcspCertStatus::kGood, {}, 0},
                                                  {OcspCertStatus::kRevoked, now - hours(3), 1},
                                                  {OcspCertStatus::kUnknown, {}, 0}};
  OcspSigner signer{ca.cert.get(), ca.key.get(), "SHA256", false};
  auto der = signOcspResponse(*info, statuses, signer, now, now + hours(24));
  ASSERT_TRUE(der) << der.error().detail;
  Parsed p = parseResponse(*der);
  ASSERT_TRUE(p.basic);
  EXPECT_EQ(OCSP_response_status(p.response.get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);

  // Signed by the CA, verified against it as the trusted responder.
  detail::X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.cert.get());
  STACK_OF(X509)* certs = sk_X509_new_null();
  sk_X509_push(certs, ca.cert.get());
  EXPECT_EQ(OCSP_basic_verify(p.basic.get(), certs, store.get(), 0), 1);
  sk_X509_free(certs);
  EXPECT_LE(sk_X509_num(OCSP_resp_get0_certs(p.basic.get())), 0);  // none needed: the CA signs

  // Responder ID by key hash.
  const ASN1_OCTET_STRING* key_hash = nullptr;
  const X509_NAME* by_name = nullptr;
  ASSERT_EQ(OCSP_resp_get0_id(p.basic.get(), &key_hash, &by_name), 1);
  EXPECT_NE(key_hash, nullptr);
  EXPECT_EQ(by_name, nullptr);

  // The nonce is echoed.
  EXPECT_EQ(OCSP_check_nonce(info->request.get(), p.basic.get()), 1);

  const int want_status[] = {V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_REVOKED,
                             V_OCSP_CERTSTATUS_UNKNOWN};
  const X509* leaves[] = {good_leaf.get(), revoked_leaf.get(), unknown_leaf.get()};
  for (int i = 0; i < 3; ++i) {
    OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), leaves[i], ca.cert.get()));
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    ASSERT_EQ(
        OCSP_resp_find_status(p.basic.get(), id.get(), &status, &reason, &rev, &thisupd, &nextupd),
        1)
        << i;
    EXPECT_EQ(status, want_status[i]);
    EXPECT_EQ(ASN1_TIME_cmp_time_t(thisupd, core::toUnixSeconds(now)), 0);
    EXPECT_EQ(ASN1_TIME_cmp_time_t(nextupd, core::toUnixSeconds(now + hours(24))), 0);
    if (i == 1) {
      EXPECT_EQ(reason, 1);
      EXPECT_EQ(ASN1_TIME_cmp_time_t(rev, core::toUnixSeconds(now - hours(3))), 0);
    }
    EXPECT_EQ(OCSP_check_validity(thisupd, nextupd, 300, -1), 1);
  }
}

TEST(OcspResponse, DelegatedResponderIsIncludedAndVerifies) {
  Issued ca = makeCa("OCSP Test CA");
  X509Ptr leaf = makeLeaf(ca);
  auto responder_key = generateKey({KeyAlgorithm::kEc, 256});
  OcspResponderRequest rr;
  rr.subject_key = responder_key->get();
  rr.common_name = "Responder";
  rr.not_before = nowSeconds() - hours(1);
  rr.not_after = nowSeconds() + hours(72);
  rr.issuer_cert = ca.cert.get();
  rr.issuer_key = ca.key.get();
  auto responder = issueOcspResponderCertificate(rr);
  ASSERT_TRUE(responder) << responder.error().detail;
  // EKU OCSPSigning only, and ocsp-nocheck.
  EXPECT_NE(X509_get_extended_key_usage(responder->get()) & XKU_OCSP_SIGN, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(responder->get()) & XKU_SSL_SERVER, 0u);
  EXPECT_GE(X509_get_ext_by_NID(responder->get(), NID_id_pkix_OCSP_noCheck, -1), 0);
  EXPECT_EQ(X509_check_ca(responder->get()), 0);

  auto info = parseOcspRequest(requestDer({{leaf.get(), ca.cert.get()}}, false), ca.cert.get(), 8);
  ASSERT_TRUE(info);
  const auto now = nowSeconds();
  const std::vector<OcspSingleStatus> statuses = {{OcspCertStatus::kGood, {}, 0}};
  OcspSigner signer{responder->get(), responder_key->get(), "SHA256", true};
  auto der = signOcspResponse(*info, statuses, signer, now, now + hours(24));
  ASSERT_TRUE(der) << der.error().detail;
  Parsed p = parseResponse(*der);
  ASSERT_TRUE(p.basic);
  ASSERT_EQ(sk_X509_num(OCSP_resp_get0_certs(p.basic.get())), 1);
  // Verified with only the CA trusted: OpenSSL finds the responder in the response and checks
  // that the CA issued it for OCSP signing.
  detail::X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.cert.get());
  EXPECT_EQ(OCSP_basic_verify(p.basic.get(), nullptr, store.get(), 0), 1);
  EXPECT_EQ(OCSP_check_nonce(info->request.get(), p.basic.get()), 2);  // none asked, none sent
}

TEST(OcspResponse, ErrorStatusesAreBare) {
  for (auto status : {OcspErrorStatus::kMalformedRequest, OcspErrorStatus::kUnauthorized,
                      OcspErrorStatus::kInternalError, OcspErrorStatus::kTryLater}) {
    auto der = ocspErrorResponse(status);
    Parsed p = parseResponse(der);
    ASSERT_TRUE(p.response);
    EXPECT_EQ(OCSP_response_status(p.response.get()), static_cast<int>(status));
    EXPECT_FALSE(p.basic);
    EXPECT_EQ(der.size(), 5u);
  }
}

}  // namespace
}  // namespace akamu::crypto
