#include "crypto/crl.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <chrono>

#include "crypto/key_type.hpp"
#include "crypto/ossl_util.hpp"
#include "crypto/pem.hpp"
#include "crypto/test_keys.hpp"
#include "crypto/x509.hpp"

namespace akamu::crypto {
namespace {

using std::chrono::hours;

core::TimePoint nowSeconds() {
  return core::fromUnixSeconds(core::toUnixSeconds(std::chrono::system_clock::now()));
}

struct Ca {
  PKey key;
  X509Ptr cert;
};

Ca makeCa(const KeyType& type) {
  Ca ca;
  ca.key = test_keys::keyFor(type);
  CaRequest req;
  req.key = ca.key.get();
  req.common_name = "CRL Test CA";
  req.not_before = nowSeconds() - hours(1);
  req.not_after = req.not_before + hours(24 * 365);
  auto cert = selfSignedCaCertificate(req);
  EXPECT_TRUE(cert) << cert.error().detail;
  if (cert) ca.cert = std::move(*cert);
  return ca;
}

std::string integerHex(const ASN1_INTEGER* i) {
  BnPtr bn(ASN1_INTEGER_to_BN(i, nullptr));
  char* hex = BN_bn2hex(bn.get());
  std::string out = detail::asciiLower(hex);
  OPENSSL_free(hex);
  return out;
}

CrlRequest request(const Ca& ca, core::TimePoint now) {
  CrlRequest req;
  req.issuer_cert = ca.cert.get();
  req.issuer_key = ca.key.get();
  req.this_update = now;
  req.next_update = now + hours(24);
  req.crl_number = 1'700'000'000'123'456'789ULL;
  req.distribution_point = "http://ca.example/crl/3";
  req.entries = {{"1a2b", now - hours(2), 1}, {"0f", now - hours(1), 0}, {"7fff", now, 4}};
  return req;
}

class CrlBuild : public ::testing::TestWithParam<KeyType> {};

TEST_P(CrlBuild, EveryFieldParsesBackAndTheSignatureVerifies) {
  Ca ca = makeCa(GetParam());
  ASSERT_TRUE(ca.cert);
  const auto now = nowSeconds();
  auto der = buildCrl(request(ca, now));
  ASSERT_TRUE(der) << der.error().detail;
  auto crl = crlFromDer(*der);
  ASSERT_TRUE(crl) << crl.error().detail;
  X509_CRL* c = crl->get();

  EXPECT_EQ(X509_CRL_get_version(c), X509_CRL_VERSION_2);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_subject_name(ca.cert.get())), 0);
  EXPECT_EQ(X509_CRL_verify(c, X509_get0_pubkey(ca.cert.get())), 1);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(c), core::toUnixSeconds(now)), 0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(c), core::toUnixSeconds(now + hours(24))),
            0);

  int crit = -1;
  Asn1IntegerPtr number(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(c, NID_crl_number, &crit, nullptr)));
  ASSERT_TRUE(number);
  EXPECT_EQ(crit, 0);
  EXPECT_EQ(integerHex(number.get()), "17979cfe3d85cd15");  // 1700000000123456789

  detail::AuthorityKeyIdPtr akid(static_cast<AUTHORITY_KEYID*>(
      X509_CRL_get_ext_d2i(c, NID_authority_key_identifier, &crit, nullptr)));
  ASSERT_TRUE(akid && akid->keyid);
  auto ski = authorityKeyIdFor(ca.cert.get());
  ASSERT_TRUE(ski);
  EXPECT_EQ(std::vector<std::uint8_t>(akid->keyid->data, akid->keyid->data + akid->keyid->length),
            *ski);

  detail::IssuingDistPointPtr idp(static_cast<ISSUING_DIST_POINT*>(
      X509_CRL_get_ext_d2i(c, NID_issuing_distribution_point, &crit, nullptr)));
  ASSERT_TRUE(idp && idp->distpoint);
  EXPECT_EQ(crit, 1);
  EXPECT_TRUE(idp->onlyuser);
  ASSERT_EQ(idp->distpoint->type, 0);
  ASSERT_EQ(sk_GENERAL_NAME_num(idp->distpoint->name.fullname), 1);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0);
  ASSERT_EQ(gn->type, GEN_URI);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(
                            ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
                        ASN1_STRING_length(gn->d.uniformResourceIdentifier)),
            "http://ca.example/crl/3");

  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(c);
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 3);
  struct Want {
    const char* serial;
    core::TimePoint at;
    int reason;  // -1: no reasonCode
  };
  // Sorted by serial.
  const Want want[] = {{"0F", now - hours(1), -1}, {"1A2B", now - hours(2), 1}, {"7FFF", now, 4}};
  for (int i = 0; i < 3; ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
    EXPECT_EQ(integerHex(X509_REVOKED_get0_serialNumber(r)), detail::asciiLower(want[i].serial));
    EXPECT_EQ(
        ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(r), core::toUnixSeconds(want[i].at)),
        0);
    detail::Asn1EnumeratedPtr reason(
        static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, nullptr)));
    if (want[i].reason < 0) {
      EXPECT_FALSE(reason) << want[i].serial;
    } else {
      ASSERT_TRUE(reason) << want[i].serial;
      EXPECT_EQ(ASN1_ENUMERATED_get(reason.get()), want[i].reason);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, CrlBuild, ::testing::ValuesIn(test_keys::classicalTypes()),
                         [](const auto& info) {
                           std::string n = info.param.toString();
                           for (auto& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(Crl, EmptyCrlIsValid) {
  Ca ca = makeCa({KeyAlgorithm::kEc, 256});
  auto req = request(ca, nowSeconds());
  req.entries.clear();
  auto der = buildCrl(req);
  ASSERT_TRUE(der) << der.error().detail;
  auto crl = crlFromDer(*der);
  ASSERT_TRUE(crl);
  // No revokedCertificates at all (the field is left out when empty).
  EXPECT_LE(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl->get())), 0);
  EXPECT_EQ(X509_CRL_verify(crl->get(), X509_get0_pubkey(ca.cert.get())), 1);
}

TEST(Crl, RefusesWhatWouldBeAnInvalidCrl) {
  Ca ca = makeCa({KeyAlgorithm::kEc, 256});
  const auto now = nowSeconds();
  auto req = request(ca, now);
  req.next_update = now;
  EXPECT_FALSE(buildCrl(req));
  req = request(ca, now);
  req.distribution_point.clear();
  EXPECT_FALSE(buildCrl(req));
  req = request(ca, now);
  req.entries.push_back({"xyz", now, 0});
  EXPECT_FALSE(buildCrl(req));
  EXPECT_FALSE(crlFromDer({0x30, 0x03, 0x02, 0x01, 0x01}));
}

// A leaf that names the CRL in its CRL Distribution Points is checked against it by OpenSSL
// (the IDP must match the CDP): good before it is listed, revoked after.
TEST(Crl, OpenSslPathValidationUsesIt) {
  Ca ca = makeCa({KeyAlgorithm::kEc, 256});
  auto leaf_key = generateKey({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(leaf_key);
  LeafRequest leaf;
  leaf.subject_public_key = leaf_key->get();
  leaf.identifiers = {{"dns", "example.com"}};
  leaf.not_before = nowSeconds() - hours(1);
  leaf.not_after = leaf.not_before + hours(48);
  leaf.serial = randomSerial();
  leaf.issuer_cert = ca.cert.get();
  leaf.issuer_key = ca.key.get();
  leaf.crl_distribution_point = "http://ca.example/crl/3";
  leaf.ocsp_url = "http://ca.example/ocsp";
  auto cert = issueLeafCertificate(leaf);
  ASSERT_TRUE(cert) << cert.error().detail;
  // Parse back: the copy built in memory may lack cached fields.
  auto reparsed = certFromDer(certToDer(cert->get()));
  ASSERT_TRUE(reparsed);

  auto check = [&](const std::vector<CrlEntry>& entries, const std::string& dp) {
    auto req = request(ca, nowSeconds() - hours(1));
    req.entries = entries;
    req.distribution_point = dp;
    auto der = buildCrl(req);
    EXPECT_TRUE(der);
    auto crl = crlFromDer(*der);
    detail::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca.cert.get());
    X509_STORE_add_crl(store.get(), crl->get());
    X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
    detail::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), reparsed->get(), nullptr);
    X509_verify_cert(ctx.get());
    return X509_STORE_CTX_get_error(ctx.get());
  };
  EXPECT_EQ(check({}, "http://ca.example/crl/3"), X509_V_OK);
  EXPECT_EQ(
      check({{serialHex(reparsed->get()), nowSeconds() - hours(1), 1}}, "http://ca.example/crl/3"),
      X509_V_ERR_CERT_REVOKED);
  // Another shard's CRL is not the one for this certificate: its IDP does not match the CDP.
  EXPECT_EQ(check({}, "http://ca.example/crl/4"), X509_V_ERR_DIFFERENT_CRL_SCOPE);

  // The CDP and AIA extensions themselves.
  detail::CrlDistPointsPtr cdp(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(reparsed->get(), NID_crl_distribution_points, nullptr, nullptr)));
  ASSERT_TRUE(cdp);
  ASSERT_EQ(sk_DIST_POINT_num(cdp.get()), 1);
  const DIST_POINT* point = sk_DIST_POINT_value(cdp.get(), 0);
  ASSERT_TRUE(point->distpoint && point->distpoint->type == 0);
  EXPECT_EQ(sk_GENERAL_NAME_num(point->distpoint->name.fullname), 1);
  EXPECT_EQ(point->reasons, nullptr);
  EXPECT_EQ(point->CRLissuer, nullptr);
  detail::AuthorityInfoAccessPtr aia(static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(reparsed->get(), NID_info_access, nullptr, nullptr)));
  ASSERT_TRUE(aia);
  ASSERT_EQ(sk_ACCESS_DESCRIPTION_num(aia.get()), 1);
  const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), 0);
  EXPECT_EQ(OBJ_obj2nid(ad->method), NID_ad_OCSP);
  ASSERT_EQ(ad->location->type, GEN_URI);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(
                ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier))),
            "http://ca.example/ocsp");
}

TEST(Crl, LeafWithoutRevocationUrlsHasNeitherExtension) {
  Ca ca = makeCa({KeyAlgorithm::kEc, 256});
  auto leaf_key = generateKey({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(leaf_key);
  LeafRequest leaf;
  leaf.subject_public_key = leaf_key->get();
  leaf.identifiers = {{"dns", "example.com"}};
  leaf.not_before = nowSeconds();
  leaf.not_after = leaf.not_before + hours(48);
  leaf.serial = randomSerial();
  leaf.issuer_cert = ca.cert.get();
  leaf.issuer_key = ca.key.get();
  auto cert = issueLeafCertificate(leaf);
  ASSERT_TRUE(cert);
  EXPECT_LT(X509_get_ext_by_NID(cert->get(), NID_crl_distribution_points, -1), 0);
  EXPECT_LT(X509_get_ext_by_NID(cert->get(), NID_info_access, -1), 0);
}

}  // namespace
}  // namespace akamu::crypto
