#include "crypto/x509.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <functional>

#include "crypto/csr.hpp"
#include "crypto/ossl_util.hpp"
#include "crypto/test_keys.hpp"

namespace akamu::crypto {
namespace {

using core::Identifier;
using std::chrono::hours;

core::TimePoint nowSeconds() {
  return core::fromUnixSeconds(core::toUnixSeconds(std::chrono::system_clock::now()));
}

X509Ptr makeCa(const EVP_PKEY* key, const std::string& cn, const std::string& hash = "SHA256") {
  CaRequest req;
  req.key = key;
  req.common_name = cn;
  req.organization = "Akamu Test";
  req.not_before = nowSeconds() - hours(1);
  req.not_after = req.not_before + hours(24 * 365);
  req.hash = hash;
  auto cert = selfSignedCaCertificate(req);
  EXPECT_TRUE(cert) << cert.error().detail;
  return cert ? std::move(*cert) : X509Ptr();
}

LeafRequest leafRequest(const EVP_PKEY* subject, const X509* ca, const EVP_PKEY* ca_key) {
  LeafRequest req;
  req.subject_public_key = subject;
  req.identifiers = {{"dns", "example.com"},
                     {"dns", "www.example.com"},
                     {"ip", "192.0.2.7"},
                     {"ip", "2001:db8::7"}};
  req.not_before = nowSeconds() - hours(1);
  req.not_after = req.not_before + hours(24 * 90);
  req.serial = randomSerial();
  req.issuer_cert = ca;
  req.issuer_key = ca_key;
  return req;
}

std::vector<std::uint8_t> octets(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return {};
  const unsigned char* d = ASN1_STRING_get0_data(s);
  return {d, d + ASN1_STRING_length(s)};
}

bool extensionCritical(const X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
}

TEST(X509Test, RandomSerialIsPositiveSixteenBytes) {
  for (int i = 0; i < 500; ++i) {
    auto serial = randomSerial();
    ASSERT_EQ(serial.size(), 16u);
    EXPECT_EQ(serial[0] & 0x80, 0);
    EXPECT_NE(serial[0], 0);
  }
  EXPECT_NE(randomSerial(), randomSerial());
}

class IssuanceTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(IssuanceTest, IssueLeafAndVerify) {
  const KeyType ca_type = GetParam();
  if (ca_type.algorithm == KeyAlgorithm::kMlDsa && !mlDsaAvailable()) {
    GTEST_SKIP() << "ML-DSA unavailable in " << opensslVersion();
  }
  PKey ca_key = test_keys::keyFor(ca_type);
  ASSERT_TRUE(ca_key);
  X509Ptr ca = makeCa(ca_key.get(), "Akamu Test Root " + ca_type.toString(), "SHA384");
  ASSERT_TRUE(ca);

  for (const KeyType& leaf_type :
       {KeyType{KeyAlgorithm::kEc, 256}, KeyType{KeyAlgorithm::kRsa, 2048}}) {
    PKey leaf_key = test_keys::keyFor(leaf_type);
    ASSERT_TRUE(leaf_key);
    LeafRequest req = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
    auto leaf = issueLeafCertificate(req);
    ASSERT_TRUE(leaf) << ca_type.toString() << ": " << leaf.error().detail;
    X509* x = leaf->get();

    auto verified = verifyChain(x, ca.get());
    EXPECT_TRUE(verified) << ca_type.toString() << "/" << leaf_type.toString() << ": "
                          << (verified ? "" : verified.error().detail);

    // A different CA with the same name but another key must not verify the leaf.
    PKey other_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
    X509Ptr other = makeCa(other_key.get(), "Akamu Test Root " + ca_type.toString());
    ASSERT_TRUE(other);
    EXPECT_FALSE(verifyChain(x, other.get()));

    EXPECT_EQ(X509_get_version(x), X509_VERSION_3);
    EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca.get())), 0);
    EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(x)), 0);

    // BasicConstraints: critical, cA=FALSE.
    EXPECT_TRUE(extensionCritical(x, NID_basic_constraints));
    BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
        X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr)));
    ASSERT_TRUE(bc);
    EXPECT_EQ(bc->ca, 0);

    // KeyUsage: critical, exactly the bits for the subject key type.
    EXPECT_TRUE(extensionCritical(x, NID_key_usage));
    uint32_t expected_ku = leaf_type.algorithm == KeyAlgorithm::kRsa
                               ? (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT)
                               : KU_DIGITAL_SIGNATURE;
    EXPECT_EQ(X509_get_key_usage(x), expected_ku);

    EXPECT_FALSE(extensionCritical(x, NID_ext_key_usage));
    EXPECT_EQ(X509_get_extended_key_usage(x), XKU_SSL_SERVER | XKU_SSL_CLIENT);

    // SAN is critical because the subject is empty.
    EXPECT_TRUE(extensionCritical(x, NID_subject_alt_name));

    // AKI keyid equals the CA's SKI; the leaf has its own SKI.
    const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(x);
    const ASN1_OCTET_STRING* ca_ski = X509_get0_subject_key_id(ca.get());
    ASSERT_NE(aki, nullptr);
    ASSERT_NE(ca_ski, nullptr);
    EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, ca_ski), 0);
    ASSERT_NE(X509_get0_subject_key_id(x), nullptr);
    EXPECT_EQ(ASN1_STRING_length(X509_get0_subject_key_id(x)), 20);

    // Serial: positive, 16 content bytes, equal to the request.
    auto info = inspectCertificate(x);
    ASSERT_TRUE(info) << info.error().detail;
    EXPECT_EQ(info->serial_der_bytes, req.serial);
    EXPECT_EQ(info->serial_der_bytes.size(), 16u);
    EXPECT_EQ(X509_get0_serialNumber(x)->type, V_ASN1_INTEGER);  // not negative

    EXPECT_EQ(info->identifiers, req.identifiers);
    EXPECT_EQ(info->not_before, req.not_before);
    EXPECT_EQ(info->not_after, req.not_after);
    EXPECT_TRUE(publicKeysEqual(info->public_key.get(), leaf_key.get()));
    EXPECT_EQ(info->authority_key_id, octets(ca_ski));
    EXPECT_EQ(info->serial_hex, serialHex(x));
  }
}

INSTANTIATE_TEST_SUITE_P(CaKeys, IssuanceTest,
                         ::testing::Values(KeyType{KeyAlgorithm::kEc, 256},
                                           KeyType{KeyAlgorithm::kEc, 384},
                                           KeyType{KeyAlgorithm::kRsa, 2048},
                                           KeyType{KeyAlgorithm::kEd25519, 0},
                                           KeyType{KeyAlgorithm::kMlDsa, 65}),
                         [](const auto& info) {
                           std::string name = info.param.toString();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

std::vector<std::uint8_t> spkiDer(const X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  std::vector<std::uint8_t> out;
  if (len > 0) out.assign(der, der + len);
  OPENSSL_free(der);
  return out;
}

// Issuance copies the CSR's SubjectPublicKeyInfo instead of encoding the key again: the result
// must be byte-identical to the encoded key, for every subject key type, and still verify.
TEST(X509Test, LeafFromCsrSpkiMatchesEncodedKey) {
  PKey ca_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  X509Ptr ca = makeCa(ca_key.get(), "Akamu SPKI Root");
  ASSERT_TRUE(ca);
  std::vector<KeyType> types = test_keys::classicalTypes();
  if (mlDsaAvailable()) types.push_back({KeyAlgorithm::kMlDsa, 44});
  for (const KeyType& type : types) {
    PKey leaf_key = test_keys::keyFor(type);
    ASSERT_TRUE(leaf_key) << type.toString();
    auto csr_der = buildCsr(leaf_key.get(), {{"dns", "spki.example"}}, std::nullopt);
    ASSERT_TRUE(csr_der) << csr_der.error().detail;
    auto csr = parseCsr(*csr_der);
    ASSERT_TRUE(csr) << csr.error().detail;
    ASSERT_NE(csr->spki(), nullptr);

    LeafRequest encoded = leafRequest(csr->public_key.get(), ca.get(), ca_key.get());
    LeafRequest copied = encoded;
    copied.subject_spki = csr->spki();
    auto a = issueLeafCertificate(encoded);
    auto b = issueLeafCertificate(copied);
    ASSERT_TRUE(a && b) << type.toString();
    EXPECT_FALSE(spkiDer(b->get()).empty());
    EXPECT_EQ(spkiDer(a->get()), spkiDer(b->get())) << type.toString();
    EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(a->get()),
                                    X509_get0_subject_key_id(b->get())),
              0)
        << type.toString();

    // What a relying party gets: the DER, parsed afresh, verifies and carries the CSR's key.
    unsigned char* der = nullptr;
    int len = i2d_X509(b->get(), &der);
    ASSERT_GT(len, 0);
    const unsigned char* p = der;
    X509Ptr reparsed(d2i_X509(nullptr, &p, len));
    OPENSSL_free(der);
    ASSERT_TRUE(reparsed);
    EXPECT_EQ(spkiDer(reparsed.get()), spkiDer(a->get())) << type.toString();
    EXPECT_TRUE(verifyChain(reparsed.get(), ca.get())) << type.toString();
    auto info = inspectCertificate(reparsed.get());
    ASSERT_TRUE(info) << info.error().detail;
    EXPECT_TRUE(publicKeysEqual(info->public_key.get(), leaf_key.get())) << type.toString();
  }
}

// A SubjectPublicKeyInfo built by hand: `alg_nid` with either a named-curve parameter
// (`curve_nid` != 0), no parameters, and `bits` as the key.
X509_PUBKEY* handMadeSpki(int alg_nid, int curve_nid, const std::vector<unsigned char>& bits) {
  X509_PUBKEY* spki = X509_PUBKEY_new();
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(bits.data(), bits.size()));
  if (spki == nullptr || copy == nullptr ||
      X509_PUBKEY_set0_param(spki, OBJ_nid2obj(alg_nid),
                             curve_nid != 0 ? V_ASN1_OBJECT : V_ASN1_UNDEF,
                             curve_nid != 0 ? OBJ_nid2obj(curve_nid) : nullptr, copy,
                             static_cast<int>(bits.size())) != 1) {
    X509_PUBKEY_free(spki);
    OPENSSL_free(copy);
    return nullptr;
  }
  return spki;
}

std::vector<unsigned char> keyBits(const X509* cert) {
  const unsigned char* bits = nullptr;
  int len = 0;
  X509_PUBKEY_get0_param(nullptr, &bits, &len, nullptr, X509_get_X509_PUBKEY(cert));
  return std::vector<unsigned char>(bits, bits + len);
}

// OpenSSL's decoders accept some SubjectPublicKeyInfo encodings that are not the canonical one
// (RSA without NULL parameters or with bytes after the key, compressed EC points). Such an
// encoding must never reach a certificate: the leaf then carries the key encoded anew.
TEST(X509Test, NonCanonicalSpkiIsEncodedAnew) {
  PKey ca_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  X509Ptr ca = makeCa(ca_key.get(), "Akamu SPKI Root");
  ASSERT_TRUE(ca);
  struct Case {
    KeyType type;
    int alg_nid;
    int curve_nid;
    std::function<void(std::vector<unsigned char>&)> mangle;
    bool canonical;
  };
  const std::vector<Case> cases = {
      {{KeyAlgorithm::kEc, 256},
       NID_X9_62_id_ecPublicKey,
       NID_X9_62_prime256v1,
       [](auto&) {},
       true},
      {{KeyAlgorithm::kEc, 256},
       NID_X9_62_id_ecPublicKey,
       NID_X9_62_prime256v1,
       [](auto& b) { b.push_back(0); },
       false},
      {{KeyAlgorithm::kEc, 256},
       NID_X9_62_id_ecPublicKey,
       NID_X9_62_prime256v1,
       [](auto& b) {
         b[0] = static_cast<unsigned char>(0x02 | (b.back() & 1));  // the compressed form
         b.resize(33);
       },
       false},
      {{KeyAlgorithm::kEc, 256}, NID_X9_62_id_ecPublicKey, 0, [](auto&) {}, false},
      {{KeyAlgorithm::kRsa, 2048}, NID_rsaEncryption, 0, [](auto&) {}, false},
      {{KeyAlgorithm::kRsa, 2048}, NID_rsaEncryption, 0, [](auto& b) { b.push_back(0); }, false},
      {{KeyAlgorithm::kEd25519, 0}, NID_ED25519, 0, [](auto& b) { b.push_back(0); }, false},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    PKey key = test_keys::keyFor(c.type);
    ASSERT_TRUE(key);
    LeafRequest encoded = leafRequest(key.get(), ca.get(), ca_key.get());
    auto reference = issueLeafCertificate(encoded);
    ASSERT_TRUE(reference) << i;
    std::vector<unsigned char> bits = keyBits(reference->get());
    c.mangle(bits);
    X509_PUBKEY* raw = handMadeSpki(c.alg_nid, c.curve_nid, bits);
    ASSERT_NE(raw, nullptr) << i;
    std::unique_ptr<X509_PUBKEY, decltype(&X509_PUBKEY_free)> spki(raw, X509_PUBKEY_free);
    LeafRequest copied = encoded;
    copied.subject_spki = spki.get();
    auto leaf = issueLeafCertificate(copied);
    ASSERT_TRUE(leaf) << i;
    // Canonical: the hand-made encoding went in (it equals the reference). Otherwise the key
    // was encoded anew, which gives the reference again and never the mangled bytes.
    EXPECT_EQ(spkiDer(leaf->get()), spkiDer(reference->get())) << "case " << i;
    if (!c.canonical && bits != keyBits(reference->get())) {
      EXPECT_NE(keyBits(leaf->get()), bits) << "case " << i;
    }
  }
}

TEST(X509Test, SelfSignedCaHasCaExtensions) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 384});
  ASSERT_TRUE(key);
  X509Ptr ca = makeCa(key.get(), "Root");
  ASSERT_TRUE(ca);
  EXPECT_TRUE(extensionCritical(ca.get(), NID_basic_constraints));
  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(ca.get(), NID_basic_constraints, nullptr, nullptr)));
  ASSERT_TRUE(bc);
  EXPECT_NE(bc->ca, 0);
  EXPECT_TRUE(extensionCritical(ca.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(ca.get()), KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(ca.get()),
                                  X509_get0_subject_key_id(ca.get())),
            0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(ca.get()), X509_get_subject_name(ca.get())), 0);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  X509_NAME* name = X509_get_subject_name(ca.get());
  EXPECT_GE(X509_NAME_get_index_by_NID(name, NID_organizationName, -1), 0);
  EXPECT_GE(X509_NAME_get_index_by_NID(name, NID_commonName, -1), 0);
  EXPECT_EQ(X509_verify(ca.get(), key.get()), 1);

  CaRequest no_org;
  no_org.key = key.get();
  no_org.common_name = "No Org";
  no_org.not_before = nowSeconds();
  no_org.not_after = no_org.not_before + hours(1);
  auto cert = selfSignedCaCertificate(no_org);
  ASSERT_TRUE(cert);
  EXPECT_EQ(
      X509_NAME_get_index_by_NID(X509_get_subject_name(cert->get()), NID_organizationName, -1), -1);
}

TEST(X509Test, MlDsaCaOmitsAlgorithmParameters) {
  if (!mlDsaAvailable()) GTEST_SKIP() << "ML-DSA unavailable in " << opensslVersion();
  PKey key = test_keys::keyFor({KeyAlgorithm::kMlDsa, 65});
  ASSERT_TRUE(key);
  X509Ptr ca = makeCa(key.get(), "PQ Root");
  ASSERT_TRUE(ca);
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, ca.get());
  int ptype = 0;
  X509_ALGOR_get0(nullptr, &ptype, nullptr, alg);
  EXPECT_EQ(ptype, V_ASN1_UNDEF);
  EXPECT_EQ(X509_get_signature_nid(ca.get()), OBJ_txt2nid("ML-DSA-65"));
}

TEST(X509Test, LeafWithCommonNameHasNonCriticalSanAndServerAuthOnly) {
  PKey ca_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  PKey leaf_key = test_keys::keyFor({KeyAlgorithm::kEd25519, 0});
  ASSERT_TRUE(ca_key && leaf_key);
  X509Ptr ca = makeCa(ca_key.get(), "Root");
  ASSERT_TRUE(ca);
  LeafRequest req = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
  req.common_name = "example.com";
  req.client_auth = false;
  auto leaf = issueLeafCertificate(req);
  ASSERT_TRUE(leaf) << leaf.error().detail;
  EXPECT_FALSE(extensionCritical(leaf->get(), NID_subject_alt_name));
  EXPECT_EQ(X509_get_extended_key_usage(leaf->get()), XKU_SSL_SERVER);
  EXPECT_EQ(X509_get_key_usage(leaf->get()), KU_DIGITAL_SIGNATURE);
  char cn[128] = {};
  EXPECT_GT(
      X509_NAME_get_text_by_NID(X509_get_subject_name(leaf->get()), NID_commonName, cn, sizeof cn),
      0);
  EXPECT_STREQ(cn, "example.com");
  EXPECT_TRUE(verifyChain(leaf->get(), ca.get()));
}

TEST(X509Test, IssueRejectsInvalidRequests) {
  PKey ca_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  PKey other_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  PKey leaf_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(ca_key && other_key && leaf_key);
  X509Ptr ca = makeCa(ca_key.get(), "Root");
  ASSERT_TRUE(ca);

  LeafRequest mismatched = leafRequest(leaf_key.get(), ca.get(), other_key.get());
  EXPECT_FALSE(issueLeafCertificate(mismatched));

  LeafRequest no_names = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
  no_names.identifiers.clear();
  EXPECT_FALSE(issueLeafCertificate(no_names));

  LeafRequest negative = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
  negative.serial[0] = 0x80;
  EXPECT_FALSE(issueLeafCertificate(negative));

  LeafRequest backwards = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
  std::swap(backwards.not_before, backwards.not_after);
  EXPECT_FALSE(issueLeafCertificate(backwards));

  LeafRequest bad_hash = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
  bad_hash.hash = "MD5";
  EXPECT_FALSE(issueLeafCertificate(bad_hash));

  LeafRequest bad_id = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
  bad_id.identifiers = {{"email", "a@example.com"}};
  EXPECT_FALSE(issueLeafCertificate(bad_id));

  PKey weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(weak);
  LeafRequest weak_subject = leafRequest(weak.get(), ca.get(), ca_key.get());
  auto rejected = issueLeafCertificate(weak_subject);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().type, core::ProblemType::kBadPublicKey);
}

TEST(X509Test, ExpiredLeafFailsVerification) {
  PKey ca_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  PKey leaf_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(ca_key && leaf_key);
  X509Ptr ca = makeCa(ca_key.get(), "Root");
  ASSERT_TRUE(ca);
  LeafRequest req = leafRequest(leaf_key.get(), ca.get(), ca_key.get());
  req.not_before = nowSeconds() - hours(3);
  req.not_after = nowSeconds() - hours(2);
  auto leaf = issueLeafCertificate(req);
  ASSERT_TRUE(leaf);
  auto verified = verifyChain(leaf->get(), ca.get());
  ASSERT_FALSE(verified);
  EXPECT_NE(verified.error().detail.find("expired"), std::string::npos) << verified.error().detail;
}

TEST(X509Test, SerialHexAndDerBytesForHighBitSerial) {
  PKey ca_key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(ca_key);
  X509Ptr ca = makeCa(ca_key.get(), "Root");
  ASSERT_TRUE(ca);
  LeafRequest req = leafRequest(ca_key.get(), ca.get(), ca_key.get());
  req.serial = {0x00, 0x80, 0x01};  // positive, needs the leading zero in DER
  auto leaf = issueLeafCertificate(req);
  ASSERT_TRUE(leaf) << leaf.error().detail;
  EXPECT_EQ(serialHex(leaf->get()), "8001");
  auto info = inspectCertificate(leaf->get());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->serial_der_bytes, (std::vector<std::uint8_t>{0x00, 0x80, 0x01}));

  req.serial = {0x01, 0x0a};
  auto leaf2 = issueLeafCertificate(req);
  ASSERT_TRUE(leaf2);
  EXPECT_EQ(serialHex(leaf2->get()), "10a");
}

}  // namespace
}  // namespace akamu::crypto
