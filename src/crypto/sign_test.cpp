#include "crypto/sign.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/handles.hpp"

namespace akamu::crypto {
namespace {

std::span<const std::uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string hex(std::span<const std::uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

PKey ecKey(const char* curve) { return PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }

const EVP_PKEY* rsaKey() {
  // Generated once: RSA keygen dominates the test time otherwise.
  static PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  return key.get();
}

PKey keyByName(const char* name) {
  ERR_set_mark();
  PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, name));
  ERR_pop_to_mark();
  return key;
}

TEST(DigestTest, Sha256KnownAnswers) {
  EXPECT_EQ(hex(sha256(std::string_view(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256(std::string_view("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::vector<std::uint8_t> abc = {'a', 'b', 'c'};
  EXPECT_EQ(sha256(abc), sha256(std::string_view("abc")));
}

struct SchemeCase {
  const char* name;
  SignatureScheme scheme;
  const char* curve;  // EC curve, or nullptr for RSA, or "ED25519"
};

class SignRoundTripTest : public ::testing::TestWithParam<SchemeCase> {};

TEST_P(SignRoundTripTest, SignsAndVerifies) {
  const SchemeCase& c = GetParam();
  PKey owned;
  const EVP_PKEY* key = nullptr;
  if (c.curve == nullptr) {
    key = rsaKey();
  } else if (std::string_view(c.curve) == "ED25519") {
    owned = keyByName("ED25519");
    key = owned.get();
  } else {
    owned = ecKey(c.curve);
    key = owned.get();
  }
  ASSERT_NE(key, nullptr);
  ASSERT_TRUE(signatureSchemeAvailable(c.scheme));
  EXPECT_TRUE(keyFitsScheme(key, c.scheme));

  const std::string message = "protected.payload";
  auto sig = signMessage(key, c.scheme, bytesOf(message));
  ASSERT_TRUE(sig.has_value()) << sig.error().detail;
  ASSERT_FALSE(sig->empty());
  EXPECT_TRUE(verifyMessage(key, c.scheme, bytesOf(message), *sig));

  EXPECT_FALSE(verifyMessage(key, c.scheme, bytesOf("protected.payloaD"), *sig));
  std::vector<std::uint8_t> tampered = *sig;
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_FALSE(verifyMessage(key, c.scheme, bytesOf(message), tampered));
  EXPECT_FALSE(verifyMessage(key, c.scheme, bytesOf(message), {}));
  // Expected failures must not leak errors into unrelated code on this thread.
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

INSTANTIATE_TEST_SUITE_P(
    AllClassicSchemes, SignRoundTripTest,
    ::testing::Values(SchemeCase{"EcdsaP256", SignatureScheme::kEcdsaSha256, "P-256"},
                      SchemeCase{"EcdsaP384", SignatureScheme::kEcdsaSha384, "P-384"},
                      SchemeCase{"EcdsaP521", SignatureScheme::kEcdsaSha512, "P-521"},
                      SchemeCase{"RsaPkcs1Sha256", SignatureScheme::kRsaPkcs1Sha256, nullptr},
                      SchemeCase{"RsaPkcs1Sha384", SignatureScheme::kRsaPkcs1Sha384, nullptr},
                      SchemeCase{"RsaPkcs1Sha512", SignatureScheme::kRsaPkcs1Sha512, nullptr},
                      SchemeCase{"RsaPssSha256", SignatureScheme::kRsaPssSha256, nullptr},
                      SchemeCase{"RsaPssSha384", SignatureScheme::kRsaPssSha384, nullptr},
                      SchemeCase{"RsaPssSha512", SignatureScheme::kRsaPssSha512, nullptr},
                      SchemeCase{"Ed25519", SignatureScheme::kEd25519, "ED25519"}),
    [](const ::testing::TestParamInfo<SchemeCase>& info) { return std::string(info.param.name); });

TEST(SignTest, MlDsaAllLevels) {
  PKey probe = keyByName("ML-DSA-44");
  EXPECT_EQ(signatureSchemeAvailable(SignatureScheme::kMlDsa), probe != nullptr);
  if (!signatureSchemeAvailable(SignatureScheme::kMlDsa)) GTEST_SKIP() << "OpenSSL lacks ML-DSA";
  const struct {
    const char* name;
    std::size_t sig_len;
  } levels[] = {{"ML-DSA-44", 2420}, {"ML-DSA-65", 3309}, {"ML-DSA-87", 4627}};
  for (const auto& level : levels) {
    SCOPED_TRACE(level.name);
    PKey key = keyByName(level.name);
    ASSERT_NE(key, nullptr);
    auto sig = signMessage(key.get(), SignatureScheme::kMlDsa, bytesOf("message"));
    ASSERT_TRUE(sig.has_value()) << sig.error().detail;
    EXPECT_EQ(sig->size(), level.sig_len);
    EXPECT_TRUE(verifyMessage(key.get(), SignatureScheme::kMlDsa, bytesOf("message"), *sig));
    EXPECT_FALSE(verifyMessage(key.get(), SignatureScheme::kMlDsa, bytesOf("messagE"), *sig));
  }
}

TEST(SignTest, Ed25519IsDeterministicRfc8037Vector) {
  // RFC 8037 Appendix A.1/A.4: this private key over this signing input gives this signature.
  auto d = core::base64urlDecode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
  ASSERT_TRUE(d.has_value());
  PKey key(EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, d->data(), d->size()));
  ASSERT_NE(key, nullptr);
  auto sig = signMessage(key.get(), SignatureScheme::kEd25519,
                         bytesOf("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"));
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(
      core::base64urlEncode(*sig),
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
}

TEST(SignTest, KeyOutsideSchemeFamilyIsRefused) {
  PKey ec = ecKey("P-256");
  ASSERT_NE(ec, nullptr);
  EXPECT_FALSE(keyFitsScheme(ec.get(), SignatureScheme::kRsaPkcs1Sha256));
  EXPECT_FALSE(keyFitsScheme(rsaKey(), SignatureScheme::kEcdsaSha256));
  EXPECT_FALSE(keyFitsScheme(ec.get(), SignatureScheme::kEd25519));
  EXPECT_FALSE(keyFitsScheme(ec.get(), SignatureScheme::kMlDsa));
  EXPECT_FALSE(keyFitsScheme(nullptr, SignatureScheme::kEcdsaSha256));

  auto sig = signMessage(ec.get(), SignatureScheme::kRsaPkcs1Sha256, bytesOf("m"));
  ASSERT_FALSE(sig.has_value());
  EXPECT_EQ(sig.error().type, core::ProblemType::kServerInternal);
  EXPECT_FALSE(signMessage(nullptr, SignatureScheme::kEcdsaSha256, bytesOf("m")).has_value());

  auto rsa_sig = signMessage(rsaKey(), SignatureScheme::kRsaPkcs1Sha256, bytesOf("m"));
  ASSERT_TRUE(rsa_sig.has_value());
  EXPECT_FALSE(verifyMessage(ec.get(), SignatureScheme::kEcdsaSha256, bytesOf("m"), *rsa_sig));
  EXPECT_FALSE(verifyMessage(nullptr, SignatureScheme::kRsaPkcs1Sha256, bytesOf("m"), *rsa_sig));
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(SignTest, SchemesDoNotCrossVerify) {
  const std::string m = "message";
  auto pkcs1 = signMessage(rsaKey(), SignatureScheme::kRsaPkcs1Sha256, bytesOf(m));
  auto pss = signMessage(rsaKey(), SignatureScheme::kRsaPssSha256, bytesOf(m));
  ASSERT_TRUE(pkcs1.has_value());
  ASSERT_TRUE(pss.has_value());
  EXPECT_FALSE(verifyMessage(rsaKey(), SignatureScheme::kRsaPssSha256, bytesOf(m), *pkcs1));
  EXPECT_FALSE(verifyMessage(rsaKey(), SignatureScheme::kRsaPkcs1Sha256, bytesOf(m), *pss));
  EXPECT_FALSE(verifyMessage(rsaKey(), SignatureScheme::kRsaPkcs1Sha384, bytesOf(m), *pkcs1));
  EXPECT_FALSE(verifyMessage(rsaKey(), SignatureScheme::kRsaPssSha384, bytesOf(m), *pss));
}

// Signs with plain EVP and explicit PSS parameters, independent of sign.cpp.
std::vector<std::uint8_t> pssSign(const EVP_PKEY* key, std::string_view m, const char* saltlen) {
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr,
                                  const_cast<EVP_PKEY*>(key), nullptr),
            1);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                       const_cast<char*>(OSSL_PKEY_RSA_PAD_MODE_PSS), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, const_cast<char*>(saltlen),
                                       0),
      OSSL_PARAM_construct_end(),
  };
  EXPECT_EQ(EVP_PKEY_CTX_set_params(pctx, params), 1);
  std::size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, bytesOf(m).data(), m.size()), 1);
  std::vector<std::uint8_t> sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, bytesOf(m).data(), m.size()), 1);
  sig.resize(len);
  return sig;
}

TEST(SignTest, PssSaltLengthIsDigestLength) {
  const std::string m = "message";
  // RFC 7518 §3.5: salt as long as the hash. A 32-byte salt verifies, a maximal one does not.
  EXPECT_TRUE(verifyMessage(rsaKey(), SignatureScheme::kRsaPssSha256, bytesOf(m),
                            pssSign(rsaKey(), m, "32")));
  EXPECT_FALSE(verifyMessage(rsaKey(), SignatureScheme::kRsaPssSha256, bytesOf(m),
                             pssSign(rsaKey(), m, "max")));
}

}  // namespace
}  // namespace akamu::crypto
