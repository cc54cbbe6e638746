// Certificate download (RFC 8555 §7.4.2) and what the issued certificates contain, for every
// CSR key type and several CA key types.
#include <set>

#include "harness.hpp"

namespace akamu::itest {
namespace {

std::set<std::pair<std::string, std::string>> idSet(const std::vector<Identifier>& ids) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& i : ids) out.emplace(i.type, i.value);
  return out;
}

bool extensionCritical(const X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  if (idx < 0) return false;
  return X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
}

// Everything a relying party checks about an issued chain.
void expectGoodChain(const std::string& pem, const std::string& ca_pem,
                     const std::vector<Identifier>& ids, const EVP_PKEY* leaf_key) {
  auto chain = crypto::certChainFromPem(pem);
  ASSERT_TRUE(chain) << pem;
  ASSERT_EQ(chain->size(), 2u) << "leaf then CA expected";
  const X509* leaf = (*chain)[0].get();
  auto ca = crypto::certFromPem(ca_pem);
  ASSERT_TRUE(ca);
  // The second certificate is the CA's own.
  EXPECT_EQ(crypto::certToDer((*chain)[1].get()), crypto::certToDer(ca->get()));
  auto verified = crypto::verifyChain(leaf, ca->get());
  EXPECT_TRUE(verified) << (verified ? "" : verified.error().detail);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca->get())), 0);

  auto info = crypto::inspectCertificate(leaf);
  ASSERT_TRUE(info);
  EXPECT_EQ(idSet(info->identifiers), idSet(ids));
  EXPECT_TRUE(crypto::publicKeysEqual(info->public_key.get(), leaf_key));
  // Serial: positive, non-zero, at most 20 octets (RFC 5280 §4.1.2.2).
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf);
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  ASSERT_NE(bn, nullptr);
  EXPECT_FALSE(BN_is_negative(bn));
  EXPECT_FALSE(BN_is_zero(bn));
  EXPECT_LE(BN_num_bytes(bn), 20);
  BN_free(bn);
  // Validity: started already, at most the configured 90 days.
  const auto now = std::chrono::system_clock::now();
  EXPECT_LE(info->not_before, now);
  EXPECT_GT(info->not_after, now);
  EXPECT_LE(info->not_after - info->not_before,
            std::chrono::hours(24 * 90) + std::chrono::minutes(2));
  // A leaf: not a CA, cannot sign certificates, good for TLS servers.
  X509* mutable_leaf = const_cast<X509*>(leaf);
  EXPECT_EQ(X509_check_ca(mutable_leaf), 0);
  const uint32_t ku = X509_get_key_usage(mutable_leaf);
  EXPECT_NE(ku, UINT32_MAX) << "KeyUsage missing";
  EXPECT_TRUE(ku & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(ku & KU_KEY_CERT_SIGN);
  EXPECT_FALSE(ku & KU_CRL_SIGN);
  EXPECT_TRUE(extensionCritical(leaf, NID_key_usage));
  const uint32_t eku = X509_get_extended_key_usage(mutable_leaf);
  EXPECT_TRUE(eku & XKU_SSL_SERVER);
  EXPECT_GE(X509_get_ext_by_NID(leaf, NID_basic_constraints, -1), 0) << "BasicConstraints missing";
  EXPECT_TRUE(extensionCritical(leaf, NID_basic_constraints));
  EXPECT_GE(X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1), 0);
  EXPECT_EQ(X509_get_version(leaf), 2);  // v3
}

TEST(Certificate, DownloadByPostAsGetAndByGet) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName()), dns(uniqueName())};
  auto issued = issue(c, ts.responder(), ids);
  ASSERT_TRUE(issued) << issued.error().detail;

  auto post = c.post(issued->certificate_url, "");
  ASSERT_TRUE(post);
  ASSERT_EQ(post->status, 200) << describe(*post);
  EXPECT_EQ(post->header("content-type"), "application/pem-certificate-chain");
  EXPECT_FALSE(post->header("replay-nonce").empty());
  EXPECT_TRUE(hasIndexLink(*post, ts.directoryUrl()));
  expectGoodChain(post->body, ts.server().ca().certificatePem(), ids,
                  issued->certificate_key.get());

  client::HttpClient http;
  auto get = http.request("GET", issued->certificate_url);
  ASSERT_TRUE(get);
  ASSERT_EQ(get->status, 200) << describe(*get);
  EXPECT_EQ(get->header("content-type"), "application/pem-certificate-chain");
  EXPECT_EQ(get->body, post->body);
  // The chain ends with the CA certificate the server uses.
  EXPECT_NE(post->body.find(ts.server().ca().certificatePem()), std::string::npos);
}

TEST(Certificate, AnotherAccountCannotPostAsGet) {
  auto& ts = sharedServer();
  AcmeClient a = ts.account();
  AcmeClient b = ts.account();
  auto issued = issue(a, ts.responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  EXPECT_TRUE(isProblem(b.post(issued->certificate_url, ""), 403, ProblemType::kUnauthorized));
}

TEST(Certificate, UnknownCertificateIs404) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto r = c.post(ts.url("/acme/cert/NoSuchCert"), "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << describe(*r);
  client::HttpClient http;
  auto g = http.request("GET", ts.url("/acme/cert/NoSuchCert"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 404) << describe(*g);
}

TEST(Certificate, SubjectCommonNameIsOneOfTheNames) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName()), dns(uniqueName())};
  auto issued = issue(c, ts.responder(), ids);  // the flow puts the first name in the CN
  ASSERT_TRUE(issued) << issued.error().detail;
  auto leaf = crypto::certFromPem(issued->certificate_pem);
  ASSERT_TRUE(leaf);
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(leaf->get()), NID_commonName, cn, sizeof cn);
  EXPECT_EQ(std::string(cn), ids[0].value);
}

class CsrKeyTypes : public ::testing::TestWithParam<const char*> {};

TEST_P(CsrKeyTypes, IssuesAVerifiableCertificate) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto issued = issue(c, ts.responder(), ids, GetParam());
  ASSERT_TRUE(issued) << GetParam() << ": " << issued.error().detail;
  expectGoodChain(issued->certificate_pem, ts.server().ca().certificatePem(), ids,
                  issued->certificate_key.get());
  auto leaf = crypto::certFromPem(issued->certificate_pem);
  ASSERT_TRUE(leaf);
  auto kt = crypto::keyTypeOf(X509_get0_pubkey(leaf->get()));
  ASSERT_TRUE(kt);
  EXPECT_EQ(kt->toString(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, CsrKeyTypes,
                         ::testing::Values("ec:P-256", "ec:P-384", "ec:P-521", "rsa:2048",
                                           "ed25519"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

class CaKeyTypes : public ::testing::TestWithParam<const char*> {};

TEST_P(CaKeyTypes, IssuesAVerifiableCertificate) {
  auto ts = TestServer::start({.ca_key_type = GetParam()});
  ASSERT_TRUE(ts);
  auto ca = crypto::certFromPem(ts->server().ca().certificatePem());
  ASSERT_TRUE(ca);
  auto ca_type = crypto::keyTypeOf(X509_get0_pubkey(ca->get()));
  ASSERT_TRUE(ca_type);
  EXPECT_EQ(ca_type->toString(), GetParam());
  EXPECT_EQ(X509_check_ca(ca->get()), 1);
  AcmeClient c = ts->account();
  const std::vector<Identifier> ids{dns(uniqueName()), dns(uniqueName())};
  auto issued = issue(c, ts->responder(), ids, "ec:P-256");
  ASSERT_TRUE(issued) << GetParam() << ": " << issued.error().detail;
  expectGoodChain(issued->certificate_pem, ts->server().ca().certificatePem(), ids,
                  issued->certificate_key.get());
  // Signed by that CA key.
  auto leaf = crypto::certFromPem(issued->certificate_pem);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(X509_verify(leaf->get(), X509_get0_pubkey(ca->get())), 1);
}

INSTANTIATE_TEST_SUITE_P(All, CaKeyTypes, ::testing::Values("ec:P-384", "rsa:2048", "ed25519"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace akamu::itest
