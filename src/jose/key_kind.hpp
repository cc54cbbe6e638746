#pragma once
// Internal to jose: which JOSE-relevant family, curve or level an EVP_PKEY is. Shared by the
// JWK and JWS code so that both map keys the same way.
#include <openssl/evp.h>

#include <cstddef>
#include <string_view>

namespace akamu::jose::detail {

enum class KeyKind {
  kUnsupported,
  kEcP256,
  kEcP384,
  kEcP521,
  kRsa,
  kEd25519,
  kMlDsa44,
  kMlDsa65,
  kMlDsa87
};

KeyKind classifyKey(const EVP_PKEY* key);

// Field (coordinate) length in bytes for the EC kinds, 0 otherwise.
std::size_t ecFieldBytes(KeyKind kind);
// "P-256" etc. for the EC kinds, empty otherwise.
std::string_view ecCurveName(KeyKind kind);
// "ML-DSA-44" etc. for the ML-DSA kinds, empty otherwise.
std::string_view mlDsaName(KeyKind kind);
// FIPS 204 sizes for the ML-DSA kinds, 0 otherwise.
std::size_t mlDsaPublicKeyBytes(KeyKind kind);
std::size_t mlDsaSignatureBytes(KeyKind kind);

bool isEc(KeyKind kind);
bool isMlDsa(KeyKind kind);

}  // namespace akamu::jose::detail
