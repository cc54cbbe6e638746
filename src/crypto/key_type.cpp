#include "crypto/key_type.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include "crypto/ossl_util.hpp"

namespace akamu::crypto {

namespace {

constexpr const char* kAcceptedKeyTypes =
    "ec:P-256, ec:P-384, ec:P-521, rsa:2048, rsa:3072, rsa:4096, ed25519, ml-dsa-44, "
    "ml-dsa-65, ml-dsa-87";

const char* ecCurveName(int param) {
  switch (param) {
    case 256:
      return "P-256";
    case 384:
      return "P-384";
    case 521:
      return "P-521";
    default:
      return nullptr;
  }
}

const char* mlDsaName(int param) {
  switch (param) {
    case 44:
      return "ML-DSA-44";
    case 65:
      return "ML-DSA-65";
    case 87:
      return "ML-DSA-87";
    default:
      return nullptr;
  }
}

core::Problem badKey(std::string detail) {
  return core::makeProblem(core::ProblemType::kBadPublicKey, std::move(detail));
}

bool probeMlDsa() {
  PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "ML-DSA-65", nullptr));
  bool ok = ctx && EVP_PKEY_keygen_init(ctx.get()) == 1;
  // The failed fetch on an old OpenSSL leaves errors behind that belong to nobody.
  detail::takeOpensslError();
  return ok;
}

core::Result<KeyType> classifyEc(const EVP_PKEY* key) {
  char encoding[32] = {};
  size_t len = 0;
  // A key with explicit curve parameters may still match P-256, but certificates and JWKs must
  // name the curve, and explicit parameters are a known source of parser bugs.
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, encoding, sizeof encoding,
                                     &len) == 1 &&
      std::string_view(encoding, len) != OSSL_PKEY_EC_ENCODING_GROUP) {
    detail::takeOpensslError();
    return core::fail(badKey("EC keys must use a named curve, not explicit parameters"));
  }
  char group[64] = {};
  len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) {
    detail::takeOpensslError();
    return core::fail(badKey("EC key has no named curve"));
  }
  switch (OBJ_txt2nid(group)) {
    case NID_X9_62_prime256v1:
      return KeyType{KeyAlgorithm::kEc, 256};
    case NID_secp384r1:
      return KeyType{KeyAlgorithm::kEc, 384};
    case NID_secp521r1:
      return KeyType{KeyAlgorithm::kEc, 521};
    default:
      detail::takeOpensslError();
      return core::fail(badKey("unsupported EC curve " + std::string(group, len) +
                               " (accepted: P-256, P-384, P-521)"));
  }
}

core::Result<KeyType> classifyRsa(const EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return core::fail(badKey("RSA key has " + std::to_string(bits) + " bits; accepted: " +
                             std::to_string(kMinRsaBits) + " to " + std::to_string(kMaxRsaBits)));
  }
  BIGNUM* e_raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e_raw) != 1) {
    detail::takeOpensslError();
    return core::fail(badKey("RSA key has no public exponent"));
  }
  BnPtr e(e_raw);
  // An even or tiny exponent makes a key that cannot be a valid RSA key or is trivially weak.
  if (!BN_is_odd(e.get()) || BN_is_one(e.get())) {
    return core::fail(badKey("RSA key has an invalid public exponent"));
  }
  return KeyType{KeyAlgorithm::kRsa, bits};
}

}  // namespace

std::string KeyType::toString() const {
  switch (algorithm) {
    case KeyAlgorithm::kEc: {
      const char* curve = ecCurveName(param);
      return curve != nullptr ? std::string("ec:") + curve : "ec:" + std::to_string(param);
    }
    case KeyAlgorithm::kRsa:
      return "rsa:" + std::to_string(param);
    case KeyAlgorithm::kEd25519:
      return "ed25519";
    case KeyAlgorithm::kMlDsa:
      return "ml-dsa-" + std::to_string(param);
  }
  return "unknown";
}

core::Result<KeyType> parseKeyType(std::string_view text) {
  static constexpr struct {
    std::string_view name;
    KeyType type;
  } kTable[] = {
      {"ec:P-256", {KeyAlgorithm::kEc, 256}},    {"ec:P-384", {KeyAlgorithm::kEc, 384}},
      {"ec:P-521", {KeyAlgorithm::kEc, 521}},    {"rsa:2048", {KeyAlgorithm::kRsa, 2048}},
      {"rsa:3072", {KeyAlgorithm::kRsa, 3072}},  {"rsa:4096", {KeyAlgorithm::kRsa, 4096}},
      {"ed25519", {KeyAlgorithm::kEd25519, 0}},  {"ml-dsa-44", {KeyAlgorithm::kMlDsa, 44}},
      {"ml-dsa-65", {KeyAlgorithm::kMlDsa, 65}}, {"ml-dsa-87", {KeyAlgorithm::kMlDsa, 87}},
  };
  for (const auto& entry : kTable) {
    if (entry.name == text) return entry.type;
  }
  return core::fail(core::malformed("unknown key type \"" + std::string(text.substr(0, 64)) +
                                    "\"; accepted: " + kAcceptedKeyTypes));
}

bool mlDsaAvailable() {
  static const bool available = probeMlDsa();
  return available;
}

core::Result<KeyType> keyTypeOf(const EVP_PKEY* key) {
  if (key == nullptr) return core::fail(badKey("no public key"));
  if (EVP_PKEY_is_a(key, "EC")) return classifyEc(key);
  if (EVP_PKEY_is_a(key, "RSA")) return classifyRsa(key);
  if (EVP_PKEY_is_a(key, "ED25519")) return KeyType{KeyAlgorithm::kEd25519, 0};
  for (int param : {44, 65, 87}) {
    if (EVP_PKEY_is_a(key, mlDsaName(param))) return KeyType{KeyAlgorithm::kMlDsa, param};
  }
  detail::takeOpensslError();
  const char* name = EVP_PKEY_get0_type_name(key);
  return core::fail(badKey(std::string("unsupported key algorithm ") +
                           (name != nullptr ? name : "(unknown)") +
                           "; accepted: " + kAcceptedKeyTypes));
}

core::Result<PKey> generateKey(const KeyType& type) {
  EVP_PKEY* raw = nullptr;
  switch (type.algorithm) {
    case KeyAlgorithm::kEc: {
      const char* curve = ecCurveName(type.param);
      if (curve == nullptr) {
        return core::fail(core::malformed("unsupported EC key size " + std::to_string(type.param)));
      }
      // OpenSSL 3 defaults to named-curve encoding for keys generated from a group name.
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
      break;
    }
    case KeyAlgorithm::kRsa:
      if (type.param < kMinRsaBits || type.param > kMaxRsaBits) {
        return core::fail(
            core::malformed("unsupported RSA key size " + std::to_string(type.param)));
      }
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(type.param));
      break;
    case KeyAlgorithm::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyAlgorithm::kMlDsa: {
      const char* name = mlDsaName(type.param);
      if (name == nullptr) {
        return core::fail(
            core::malformed("unsupported ML-DSA parameter set " + std::to_string(type.param)));
      }
      if (!mlDsaAvailable()) {
        return core::fail(
            core::serverInternal("ML-DSA requires OpenSSL >= 3.5 (this is OpenSSL " +
                                 std::string(OpenSSL_version(OPENSSL_VERSION_STRING)) + ")"));
      }
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, name);
      break;
    }
  }
  if (raw == nullptr) {
    return core::fail(
        core::serverInternal(detail::withOpensslError("generating a " + type.toString() + " key")));
  }
  return PKey(raw);
}

std::string opensslVersion() { return OpenSSL_version(OPENSSL_VERSION); }

bool publicKeysEqual(const EVP_PKEY* a, const EVP_PKEY* b) {
  if (a == nullptr || b == nullptr) return false;
  bool equal = EVP_PKEY_eq(a, b) == 1;
  detail::takeOpensslError();  // mismatched types leave an error entry behind
  return equal;
}

}  // namespace akamu::crypto
