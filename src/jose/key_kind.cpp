#include "jose/key_kind.hpp"

namespace akamu::jose::detail {

KeyKind classifyKey(const EVP_PKEY* key) {
  if (key == nullptr) return KeyKind::kUnsupported;
  if (EVP_PKEY_is_a(key, "EC") == 1) {
    char name[64];
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, name, sizeof(name), &len) != 1) return KeyKind::kUnsupported;
    std::string_view group(name, len);
    // OpenSSL reports SN names ("prime256v1"); NIST and SECG aliases are accepted too.
    if (group == "prime256v1" || group == "P-256" || group == "secp256r1") return KeyKind::kEcP256;
    if (group == "secp384r1" || group == "P-384") return KeyKind::kEcP384;
    if (group == "secp521r1" || group == "P-521") return KeyKind::kEcP521;
    return KeyKind::kUnsupported;
  }
  if (EVP_PKEY_is_a(key, "RSA") == 1) return KeyKind::kRsa;
  if (EVP_PKEY_is_a(key, "ED25519") == 1) return KeyKind::kEd25519;
  if (EVP_PKEY_is_a(key, "ML-DSA-44") == 1) return KeyKind::kMlDsa44;
  if (EVP_PKEY_is_a(key, "ML-DSA-65") == 1) return KeyKind::kMlDsa65;
  if (EVP_PKEY_is_a(key, "ML-DSA-87") == 1) return KeyKind::kMlDsa87;
  return KeyKind::kUnsupported;
}

std::size_t ecFieldBytes(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256:
      return 32;
    case KeyKind::kEcP384:
      return 48;
    case KeyKind::kEcP521:
      return 66;
    default:
      return 0;
  }
}

std::string_view ecCurveName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256:
      return "P-256";
    case KeyKind::kEcP384:
      return "P-384";
    case KeyKind::kEcP521:
      return "P-521";
    default:
      return {};
  }
}

std::string_view mlDsaName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kMlDsa44:
      return "ML-DSA-44";
    case KeyKind::kMlDsa65:
      return "ML-DSA-65";
    case KeyKind::kMlDsa87:
      return "ML-DSA-87";
    default:
      return {};
  }
}

std::size_t mlDsaPublicKeyBytes(KeyKind kind) {
  switch (kind) {
    case KeyKind::kMlDsa44:
      return 1312;
    case KeyKind::kMlDsa65:
      return 1952;
    case KeyKind::kMlDsa87:
      return 2592;
    default:
      return 0;
  }
}

std::size_t mlDsaSignatureBytes(KeyKind kind) {
  switch (kind) {
    case KeyKind::kMlDsa44:
      return 2420;
    case KeyKind::kMlDsa65:
      return 3309;
    case KeyKind::kMlDsa87:
      return 4627;
    default:
      return 0;
  }
}

bool isEc(KeyKind kind) {
  return kind == KeyKind::kEcP256 || kind == KeyKind::kEcP384 || kind == KeyKind::kEcP521;
}

bool isMlDsa(KeyKind kind) {
  return kind == KeyKind::kMlDsa44 || kind == KeyKind::kMlDsa65 || kind == KeyKind::kMlDsa87;
}

}  // namespace akamu::jose::detail
