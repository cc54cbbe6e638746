#include "crypto/key_type.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "crypto/test_keys.hpp"

namespace akamu::crypto {
namespace {

TEST(KeyTypeTest, ParseAndToStringRoundTrip) {
  for (const char* text : {"ec:P-256", "ec:P-384", "ec:P-521", "rsa:2048", "rsa:3072", "rsa:4096",
                           "ed25519", "ml-dsa-44", "ml-dsa-65", "ml-dsa-87"}) {
    auto type = parseKeyType(text);
    ASSERT_TRUE(type) << text;
    EXPECT_EQ(type->toString(), text);
  }
  auto ec = parseKeyType("ec:P-384");
  ASSERT_TRUE(ec);
  EXPECT_EQ(*ec, (KeyType{KeyAlgorithm::kEc, 384}));
  auto ml = parseKeyType("ml-dsa-87");
  ASSERT_TRUE(ml);
  EXPECT_EQ(*ml, (KeyType{KeyAlgorithm::kMlDsa, 87}));
}

TEST(KeyTypeTest, ParseRejectsUnknownNamingAcceptedValues) {
  for (const char* text : {"", "ec", "ec:P-192", "ec:p-256", "rsa:1024", "rsa:2047",
                           "rsa:", "ED25519", "ed448", "ml-dsa-66", "ml-dsa-65 ", "x25519"}) {
    auto type = parseKeyType(text);
    ASSERT_FALSE(type) << text;
    EXPECT_EQ(type.error().type, core::ProblemType::kMalformed);
    EXPECT_NE(type.error().detail.find("ec:P-256"), std::string::npos);
    EXPECT_NE(type.error().detail.find("ml-dsa-87"), std::string::npos);
  }
}

TEST(KeyTypeTest, GenerateAndClassifyClassicalTypes) {
  for (const KeyType& type : test_keys::classicalTypes()) {
    PKey key = test_keys::keyFor(type);
    ASSERT_TRUE(key) << type.toString();
    auto classified = keyTypeOf(key.get());
    ASSERT_TRUE(classified) << type.toString() << ": " << classified.error().detail;
    EXPECT_EQ(*classified, type);
  }
}

TEST(KeyTypeTest, GenerateAndClassifyMlDsa) {
  if (!mlDsaAvailable()) {
    auto key = generateKey({KeyAlgorithm::kMlDsa, 65});
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().detail.find("ML-DSA requires OpenSSL >= 3.5 (this is OpenSSL "),
              std::string::npos)
        << key.error().detail;
    GTEST_SKIP() << "ML-DSA unavailable in " << opensslVersion();
  }
  for (int param : {44, 65, 87}) {
    KeyType type{KeyAlgorithm::kMlDsa, param};
    auto key = generateKey(type);
    ASSERT_TRUE(key) << key.error().detail;
    auto classified = keyTypeOf(key->get());
    ASSERT_TRUE(classified);
    EXPECT_EQ(*classified, type);
  }
}

TEST(KeyTypeTest, GenerateRejectsInvalidParams) {
  EXPECT_FALSE(generateKey({KeyAlgorithm::kEc, 192}));
  EXPECT_FALSE(generateKey({KeyAlgorithm::kRsa, 1024}));
  EXPECT_FALSE(generateKey({KeyAlgorithm::kMlDsa, 66}));
}

TEST(KeyTypeTest, ClassifyRejectsWeakAndUnsupportedKeys) {
  PKey rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(rsa1024);
  auto weak = keyTypeOf(rsa1024.get());
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().type, core::ProblemType::kBadPublicKey);
  EXPECT_NE(weak.error().detail.find("1024"), std::string::npos);

  PKey k256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  ASSERT_TRUE(k256);
  auto curve = keyTypeOf(k256.get());
  ASSERT_FALSE(curve);
  EXPECT_EQ(curve.error().type, core::ProblemType::kBadPublicKey);
  EXPECT_NE(curve.error().detail.find("secp256k1"), std::string::npos);

  PKey x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(x25519);
  auto xdh = keyTypeOf(x25519.get());
  ASSERT_FALSE(xdh);
  EXPECT_EQ(xdh.error().type, core::ProblemType::kBadPublicKey);

  EXPECT_FALSE(keyTypeOf(nullptr));
}

TEST(KeyTypeTest, ClassifyRejectsExplicitCurveParameters) {
  PKey key = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  ASSERT_TRUE(key);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(key.get(), OSSL_PKEY_PARAM_EC_ENCODING,
                                           OSSL_PKEY_EC_ENCODING_EXPLICIT),
            1);
  auto type = keyTypeOf(key.get());
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().type, core::ProblemType::kBadPublicKey);
}

TEST(KeyTypeTest, PublicKeysEqual) {
  PKey a = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  PKey b = test_keys::keyFor({KeyAlgorithm::kEc, 256});
  PKey ed = test_keys::keyFor({KeyAlgorithm::kEd25519, 0});
  ASSERT_TRUE(a && b && ed);
  EXPECT_TRUE(publicKeysEqual(a.get(), a.get()));
  EXPECT_FALSE(publicKeysEqual(a.get(), b.get()));
  EXPECT_FALSE(publicKeysEqual(a.get(), ed.get()));
  EXPECT_FALSE(publicKeysEqual(a.get(), nullptr));
}

TEST(KeyTypeTest, OpensslVersionNamesOpenssl) {
  EXPECT_EQ(opensslVersion().rfind("OpenSSL ", 0), 0u) << opensslVersion();
}

}  // namespace
}  // namespace akamu::crypto
