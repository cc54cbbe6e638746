#include "crypto/csr.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <random>

#include "crypto/ossl_util.hpp"
#include "crypto/test_keys.hpp"

namespace akamu::crypto {
namespace {

using core::Identifier;
using core::ProblemType;

std::vector<std::uint8_t> reqToDer(X509_REQ* req) {
  int len = i2d_X509_REQ(req, nullptr);
  std::vector<std::uint8_t> der(len > 0 ? static_cast<std::size_t>(len) : 0);
  unsigned char* p = der.data();
  if (len > 0) i2d_X509_REQ(req, &p);
  return der;
}

// A CSR assembled with raw OpenSSL calls, for inputs buildCsr refuses to produce.
std::vector<std::uint8_t> handBuiltCsr(EVP_PKEY* key, const char* cn, GENERAL_NAMES* san,
                                       const EVP_MD* md) {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  X509_REQ_set_pubkey(req.get(), key);
  if (cn != nullptr) {
    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  }
  if (san != nullptr) {
    STACK_OF(X509_EXTENSION)* exts = nullptr;
    X509V3_add1_i2d(&exts, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT);
    detail::ExtensionStackPtr owned(exts);
    X509_REQ_add_extensions(req.get(), owned.get());
  }
  if (X509_REQ_sign(req.get(), key, md) <= 0) return {};
  return reqToDer(req.get());
}

TEST(CsrTest, BuildParseRoundTripForEveryKeyType) {
  std::vector<KeyType> types = test_keys::classicalTypes();
  if (mlDsaAvailable()) types.push_back({KeyAlgorithm::kMlDsa, 65});
  const std::vector<Identifier> ids = {{"dns", "example.com"},
                                       {"dns", "www.example.com"},
                                       {"ip", "192.0.2.1"},
                                       {"ip", "2001:db8::1"}};
  for (const KeyType& type : types) {
    PKey key = test_keys::keyFor(type);
    ASSERT_TRUE(key) << type.toString();
    auto der = buildCsr(key.get(), ids, std::string("example.com"));
    ASSERT_TRUE(der) << type.toString() << ": " << der.error().detail;
    auto parsed = parseCsr(*der);
    ASSERT_TRUE(parsed) << type.toString() << ": " << parsed.error().detail;
    EXPECT_EQ(parsed->identifiers, ids) << type.toString();
    EXPECT_EQ(parsed->common_name, std::optional<std::string>("example.com"));
    EXPECT_EQ(parsed->key_type, type);
    EXPECT_TRUE(publicKeysEqual(parsed->public_key.get(), key.get()));
  }
}

TEST(CsrTest, NamesAreLowerCasedCanonicalAndDeduplicated) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = buildCsr(key.get(),
                      {{"dns", "WWW.Example.COM"},
                       {"ip", "2001:DB8:0:0::0:1"},
                       {"dns", "www.example.com"},
                       {"ip", "2001:db8::1"},
                       {"dns", "a.example"}},
                      std::string("A.Example"));
  ASSERT_TRUE(der) << der.error().detail;
  auto parsed = parseCsr(*der);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  std::vector<Identifier> expected = {
      {"dns", "www.example.com"}, {"ip", "2001:db8::1"}, {"dns", "a.example"}};
  EXPECT_EQ(parsed->identifiers, expected);
  EXPECT_EQ(parsed->common_name, std::optional<std::string>("a.example"));
}

TEST(CsrTest, CommonNameOnlyIsAnIdentifierAndEmptySubjectWorks) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEd25519, 0});
  ASSERT_TRUE(key);
  auto cn_only = buildCsr(key.get(), {}, std::string("Only.Example.ORG"));
  ASSERT_TRUE(cn_only);
  auto parsed = parseCsr(*cn_only);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->identifiers, (std::vector<Identifier>{{"dns", "only.example.org"}}));

  auto san_only = buildCsr(key.get(), {{"dns", "san.example"}}, std::nullopt);
  ASSERT_TRUE(san_only);
  auto parsed2 = parseCsr(*san_only);
  ASSERT_TRUE(parsed2);
  EXPECT_FALSE(parsed2->common_name.has_value());
  EXPECT_EQ(parsed2->identifiers, (std::vector<Identifier>{{"dns", "san.example"}}));
}

// Offset of the version INTEGER's value octet in a CSR made by buildCsr (version 0):
// SEQUENCE { SEQUENCE { INTEGER 0, ... } ... }.
std::size_t versionOffset(const std::vector<std::uint8_t>& der) {
  auto header = [&](std::size_t at) -> std::size_t {
    if (at + 1 >= der.size()) return 0;
    const std::uint8_t len = der[at + 1];
    return len < 0x80 ? 2 : 2 + (len & 0x7f);
  };
  const std::size_t outer = header(0);
  const std::size_t inner = outer + header(outer);
  if (inner + 2 >= der.size() || der[inner] != 0x02 || der[inner + 1] != 0x01) return 0;
  return inner + 2;
}

// DER length octets of `n`.
std::vector<std::uint8_t> derLength(std::size_t n) {
  if (n < 0x80) return {static_cast<std::uint8_t>(n)};
  std::vector<std::uint8_t> out;
  for (std::size_t v = n; v > 0; v >>= 8) out.insert(out.begin(), static_cast<std::uint8_t>(v));
  out.insert(out.begin(), static_cast<std::uint8_t>(0x80 | out.size()));
  return out;
}

// A CSR whose version field is `version`, signed over exactly those bytes, as a client that
// sends another version does: the CertificationRequestInfo is patched in the DER and signed
// with EVP_DigestSign, and the request is assembled around it (re-encoding through OpenSSL
// would not do: newer OpenSSL lets X509_REQ_set_version set only 0, and re-signing a parsed
// request signs its re-encoding).
std::vector<std::uint8_t> csrWithVersion(EVP_PKEY* key, std::uint8_t version, const EVP_MD* md) {
  auto der =
      buildCsr(key, {{"dns", "example.com"}, {"ip", "192.0.2.1"}}, std::string("cn.example"));
  if (!der) return {};
  const std::size_t at = versionOffset(*der);
  if (at == 0 || (*der)[at] != 0) return {};
  (*der)[at] = version;
  // SEQUENCE { tbs SEQUENCE, algorithm SEQUENCE, signature BIT STRING }.
  auto elementEnd = [&](std::size_t start) -> std::size_t {
    const std::uint8_t len = (*der)[start + 1];
    if (len < 0x80) return start + 2 + len;
    std::size_t n = 0;
    for (std::size_t i = 0; i < (len & 0x7fu); ++i) n = (n << 8) | (*der)[start + 2 + i];
    return start + 2 + (len & 0x7fu) + n;
  };
  const std::uint8_t outer_len = (*der)[1];
  const std::size_t tbs_start = outer_len < 0x80 ? 2 : 2 + (outer_len & 0x7fu);
  const std::size_t tbs_end = elementEnd(tbs_start);
  const std::size_t alg_end = elementEnd(tbs_end);
  std::vector<std::uint8_t> tbs(der->begin() + tbs_start, der->begin() + tbs_end);
  std::vector<std::uint8_t> alg(der->begin() + tbs_end, der->begin() + alg_end);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t sig_len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, tbs.data(), tbs.size()) != 1) {
    return {};
  }
  std::vector<std::uint8_t> sig(sig_len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &sig_len, tbs.data(), tbs.size()) != 1) return {};
  sig.resize(sig_len);
  std::vector<std::uint8_t> body = tbs;
  body.insert(body.end(), alg.begin(), alg.end());
  body.push_back(0x03);
  auto bit_len = derLength(sig.size() + 1);
  body.insert(body.end(), bit_len.begin(), bit_len.end());
  body.push_back(0x00);
  body.insert(body.end(), sig.begin(), sig.end());
  std::vector<std::uint8_t> out{0x30};
  auto body_len = derLength(body.size());
  out.insert(out.end(), body_len.begin(), body_len.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(CsrTest, ReportsVersionZero) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = buildCsr(key.get(), {{"dns", "example.com"}}, std::nullopt);
  ASSERT_TRUE(der);
  ASSERT_NE(versionOffset(*der), 0u);
  auto parsed = parseCsr(*der);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->version, 0);
}

TEST(CsrTest, AcceptsAndReportsOtherVersions) {
  const struct {
    KeyType type;
    const EVP_MD* md;
  } cases[] = {{{KeyAlgorithm::kEc, 256}, EVP_sha256()},
               {{KeyAlgorithm::kRsa, 2048}, EVP_sha256()},
               {{KeyAlgorithm::kEd25519, 0}, nullptr}};
  for (const auto& c : cases) {
    PKey key = test_keys::keyFor(c.type);
    ASSERT_TRUE(key) << c.type.toString();
    for (std::uint8_t version : {1, 2, 3}) {
      SCOPED_TRACE(c.type.toString() + " version " + std::to_string(version));
      auto der = csrWithVersion(key.get(), version, c.md);
      ASSERT_FALSE(der.empty());
      auto parsed = parseCsr(der);
      ASSERT_TRUE(parsed) << parsed.error().detail;
      EXPECT_EQ(parsed->version, version);
      EXPECT_EQ(parsed->identifiers,
                (std::vector<Identifier>{
                    {"dns", "example.com"}, {"ip", "192.0.2.1"}, {"dns", "cn.example"}}));
      EXPECT_EQ(parsed->common_name, std::optional<std::string>("cn.example"));
      EXPECT_EQ(parsed->key_type, c.type);
      EXPECT_TRUE(publicKeysEqual(parsed->public_key.get(), key.get()));
    }
  }
}

TEST(CsrTest, VersionIsCoveredByTheSignature) {
  // Changing the version without signing again breaks the signature, which is still checked.
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = buildCsr(key.get(), {{"dns", "example.com"}}, std::nullopt);
  ASSERT_TRUE(der);
  const std::size_t at = versionOffset(*der);
  ASSERT_NE(at, 0u);
  (*der)[at] = 2;
  auto parsed = parseCsr(*der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
  EXPECT_NE(parsed.error().detail.find("signature"), std::string::npos) << parsed.error().detail;
}

TEST(CsrTest, RejectsTamperedSignature) {
  for (const KeyType& type : test_keys::classicalTypes()) {
    PKey key = test_keys::keyFor(type);
    ASSERT_TRUE(key);
    auto der = buildCsr(key.get(), {{"dns", "example.com"}}, std::nullopt);
    ASSERT_TRUE(der);
    // The signature BIT STRING is the last element of the CSR.
    (*der)[der->size() - 3] ^= 0x01;
    auto parsed = parseCsr(*der);
    ASSERT_FALSE(parsed) << type.toString();
    EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
    EXPECT_NE(parsed.error().detail.find("signature"), std::string::npos) << parsed.error().detail;
  }
}

TEST(CsrTest, RejectsTamperedContent) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = buildCsr(key.get(), {{"dns", "aaaa.example"}}, std::nullopt);
  ASSERT_TRUE(der);
  std::string text(der->begin(), der->end());
  auto pos = text.find("aaaa.example");
  ASSERT_NE(pos, std::string::npos);
  (*der)[pos] = 'b';
  auto parsed = parseCsr(*der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
}

TEST(CsrTest, RejectsCaRequest) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = buildCsr(key.get(), {{"dns", "example.com"}}, std::nullopt, /*request_ca=*/true);
  ASSERT_TRUE(der);
  auto parsed = parseCsr(*der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
  EXPECT_NE(parsed.error().detail.find("cA=TRUE"), std::string::npos);
}

TEST(CsrTest, RejectsGarbageTruncatedAndTrailingBytes) {
  EXPECT_FALSE(parseCsr({}));
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = buildCsr(key.get(), {{"dns", "example.com"}, {"ip", "10.0.0.1"}}, std::nullopt);
  ASSERT_TRUE(der);
  for (std::size_t len = 0; len < der->size(); ++len) {
    auto parsed = parseCsr(std::span(*der).first(len));
    ASSERT_FALSE(parsed) << "prefix of length " << len;
    EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
  }
  std::vector<std::uint8_t> trailing = *der;
  trailing.push_back(0x00);
  auto parsed = parseCsr(trailing);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().detail.find("trailing"), std::string::npos);

  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk(rng() % 600);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    if (i % 2 == 0 && !junk.empty()) junk[0] = 0x30;  // looks like a SEQUENCE
    EXPECT_FALSE(parseCsr(junk));
  }
  // Random single-byte corruptions of a valid CSR must never crash and never pass unnoticed
  // with a different name set.
  for (int i = 0; i < 500; ++i) {
    std::vector<std::uint8_t> mutated = *der;
    mutated[rng() % mutated.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
    auto result = parseCsr(mutated);
    if (result) {
      EXPECT_EQ(result->identifiers,
                (std::vector<Identifier>{{"dns", "example.com"}, {"ip", "10.0.0.1"}}));
    }
  }
  std::vector<std::uint8_t> huge(kMaxCsrBytes + 1, 0x30);
  auto too_big = parseCsr(huge);
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().detail.find("larger"), std::string::npos);
}

TEST(CsrTest, RejectsRsa1024Key) {
  PKey rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(rsa1024);
  auto der = handBuiltCsr(rsa1024.get(), "example.com", nullptr, EVP_sha256());
  ASSERT_FALSE(der.empty());
  auto parsed = parseCsr(der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadPublicKey);
  EXPECT_NE(parsed.error().detail.find("1024"), std::string::npos);
}

TEST(CsrTest, RejectsSha1Signature) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = handBuiltCsr(key.get(), "example.com", nullptr, EVP_sha1());
  if (der.empty()) GTEST_SKIP() << "this OpenSSL refuses SHA-1 signatures";
  auto parsed = parseCsr(der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
  EXPECT_NE(parsed.error().detail.find("weak digest"), std::string::npos);
}

TEST(CsrTest, RejectsNoNames) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  auto der = buildCsr(key.get(), {}, std::nullopt);
  ASSERT_TRUE(der);
  auto parsed = parseCsr(*der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
  EXPECT_NE(parsed.error().detail.find("no identifiers"), std::string::npos);
}

TEST(CsrTest, RejectsUnsupportedSanType) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  GeneralNamesPtr names(GENERAL_NAMES_new());
  sk_GENERAL_NAME_push(names.get(),
                       a2i_GENERAL_NAME(nullptr, nullptr, nullptr, GEN_DNS, "example.com", 0));
  sk_GENERAL_NAME_push(
      names.get(), a2i_GENERAL_NAME(nullptr, nullptr, nullptr, GEN_EMAIL, "admin@example.com", 0));
  auto der = handBuiltCsr(key.get(), nullptr, names.get(), EVP_sha256());
  ASSERT_FALSE(der.empty());
  auto parsed = parseCsr(der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
  EXPECT_NE(parsed.error().detail.find("rfc822Name"), std::string::npos);
}

TEST(CsrTest, RejectsTooManyNames) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  std::vector<Identifier> ids;
  for (int i = 0; i < 100; ++i) ids.push_back({"dns", "n" + std::to_string(i) + ".example"});
  auto ok = buildCsr(key.get(), ids, std::nullopt);
  ASSERT_TRUE(ok);
  auto parsed_ok = parseCsr(*ok);
  ASSERT_TRUE(parsed_ok) << parsed_ok.error().detail;
  EXPECT_EQ(parsed_ok->identifiers.size(), 100u);

  ids.push_back({"dns", "one-too-many.example"});
  auto der = buildCsr(key.get(), ids, std::nullopt);
  ASSERT_TRUE(der);
  auto parsed = parseCsr(*der);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().type, ProblemType::kBadCsr);
  EXPECT_NE(parsed.error().detail.find("101"), std::string::npos);
}

TEST(CsrTest, BuildRejectsBadIdentifiers) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  EXPECT_FALSE(buildCsr(key.get(), {{"email", "a@example.com"}}, std::nullopt));
  EXPECT_FALSE(buildCsr(key.get(), {{"ip", "not-an-ip"}}, std::nullopt));
  EXPECT_FALSE(buildCsr(key.get(), {{"dns", std::string("a\0b", 3)}}, std::nullopt));
  EXPECT_FALSE(buildCsr(nullptr, {{"dns", "example.com"}}, std::nullopt));
}

}  // namespace
}  // namespace akamu::crypto
