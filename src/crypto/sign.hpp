#pragma once
// One-shot signing and verification over whole messages (the hash is part of the scheme).
// Used by JWS (jose/) on the request hot path, so algorithms are fetched once per process.
#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.hpp"

namespace akamu::crypto {

enum class SignatureScheme {
  kEcdsaSha256,
  kEcdsaSha384,
  kEcdsaSha512,
  kRsaPkcs1Sha256,
  kRsaPkcs1Sha384,
  kRsaPkcs1Sha512,
  kRsaPssSha256,
  kRsaPssSha384,
  kRsaPssSha512,
  kEd25519,
  kMlDsa,  // level taken from the key; pure ML-DSA, empty context
};

// ECDSA signatures here are DER (OpenSSL's native form); jose converts to/from raw r||s.
// PSS uses MGF1 with the same digest and a salt as long as the digest (RFC 7518 §3.5).
// Fails (serverInternal) when the key does not belong to the scheme's family or OpenSSL fails.
core::Result<std::vector<std::uint8_t>> signMessage(const EVP_PKEY* key, SignatureScheme scheme,
                                                    std::span<const std::uint8_t> message);

// False for a wrong signature, a key outside the scheme's family, or any OpenSSL failure;
// leaves the thread's OpenSSL error queue as it found it.
bool verifyMessage(const EVP_PKEY* key, SignatureScheme scheme,
                   std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature);

// Whether the OpenSSL in use can run `scheme` (ML-DSA needs OpenSSL >= 3.5). Checked once.
bool signatureSchemeAvailable(SignatureScheme scheme);

// Whether `key` is of the family `scheme` signs with (EC, RSA, Ed25519, one of the ML-DSA
// levels). Does not check curves or sizes: callers (jose) map algorithms to curves.
bool keyFitsScheme(const EVP_PKEY* key, SignatureScheme scheme);

}  // namespace akamu::crypto
