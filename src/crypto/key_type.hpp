#pragma once
// Key types as operators and clients name them ("ec:P-256", "ml-dsa-65", ...), key generation
// and classification of keys that arrive from outside (JWKs, CSRs, PEM files).
#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "crypto/handles.hpp"

namespace akamu::crypto {

enum class KeyAlgorithm { kEc, kRsa, kEd25519, kMlDsa };

struct KeyType {
  KeyAlgorithm algorithm = KeyAlgorithm::kEc;
  // EC: 256/384/521 (P-256/P-384/P-521); RSA: modulus bits; ML-DSA: 44/65/87; Ed25519: 0.
  int param = 256;
  std::string toString() const;  // "ec:P-256", "rsa:2048", "ed25519", "ml-dsa-65"
  bool operator==(const KeyType&) const = default;
};

inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

// Accepts ec:P-256|P-384|P-521, rsa:2048|3072|4096, ed25519, ml-dsa-44|65|87.
core::Result<KeyType> parseKeyType(std::string_view text);

// True when the OpenSSL in use can generate ML-DSA keys (checked once, then cached).
bool mlDsaAvailable();

// Classifies a public or private key. Unsupported algorithms or curves, explicit EC parameters,
// and RSA moduli outside [2048, 8192] bits -> badPublicKey.
core::Result<KeyType> keyTypeOf(const EVP_PKEY* key);

// ML-DSA on an OpenSSL without it -> serverInternal whose detail says
// "ML-DSA requires OpenSSL >= 3.5 (this is OpenSSL X)".
core::Result<PKey> generateKey(const KeyType& type);

std::string opensslVersion();  // OpenSSL_version(OPENSSL_VERSION)

bool publicKeysEqual(const EVP_PKEY* a, const EVP_PKEY* b);  // EVP_PKEY_eq == 1

}  // namespace akamu::crypto
