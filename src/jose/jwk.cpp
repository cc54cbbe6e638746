#include "jose/jwk.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <array>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <vector>

#include "core/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/sign.hpp"
#include "jose/key_kind.hpp"

namespace akamu::jose {
namespace {

using core::fail;
using core::ProblemType;
using detail::KeyKind;

constexpr std::array<std::string_view, 8> kPrivateMembers = {"d",  "p",  "q",   "dp",
                                                             "dq", "qi", "oth", "priv"};
constexpr std::size_t kMinRsaBits = 2048;
constexpr std::size_t kMaxRsaBits = 8192;
// Exponents beyond 64 bits only make verification slower; no real key uses one.
constexpr std::size_t kMaxRsaExponentBytes = 8;

core::Problem badPublicKey(std::string detail) {
  return core::makeProblem(ProblemType::kBadPublicKey, std::move(detail));
}

core::Result<std::string_view> stringMember(const boost::json::object& jwk, std::string_view name) {
  const boost::json::value* v = jwk.if_contains(name);
  if (v == nullptr)
    return fail(core::malformed("JWK member \"" + std::string(name) + "\" is missing"));
  if (!v->is_string()) {
    return fail(core::malformed("JWK member \"" + std::string(name) + "\" must be a string"));
  }
  const boost::json::string& s = v->get_string();
  return std::string_view(s.data(), s.size());
}

core::Result<std::vector<std::uint8_t>> bytesMember(const boost::json::object& jwk,
                                                    std::string_view name) {
  auto text = stringMember(jwk, name);
  if (!text) return fail(text.error());
  auto bytes = core::base64urlDecode(*text);
  if (!bytes) {
    return fail(core::malformed("JWK member \"" + std::string(name) + "\" is not base64url"));
  }
  return std::move(*bytes);
}

// RFC 7518 §2 Base64urlUInt: minimal octets. Two encodings of one key would give two thumbprints.
core::Status checkMinimalUInt(const std::vector<std::uint8_t>& bytes, std::string_view name) {
  if (bytes.empty() || (bytes.size() > 1 && bytes[0] == 0)) {
    return fail(core::malformed("JWK member \"" + std::string(name) +
                                "\" must be a minimally encoded unsigned integer"));
  }
  return {};
}

std::size_t bitLength(const std::vector<std::uint8_t>& be) {
  std::size_t i = 0;
  while (i < be.size() && be[i] == 0) ++i;
  if (i == be.size()) return 0;
  std::size_t bits = (be.size() - i - 1) * 8;
  for (unsigned v = be[i]; v != 0; v >>= 1) ++bits;
  return bits;
}

core::Result<crypto::PKey> ecFromJwk(const boost::json::object& jwk) {
  auto crv = stringMember(jwk, "crv");
  if (!crv) return fail(crv.error());
  KeyKind kind = KeyKind::kUnsupported;
  for (KeyKind k : {KeyKind::kEcP256, KeyKind::kEcP384, KeyKind::kEcP521}) {
    if (*crv == detail::ecCurveName(k)) kind = k;
  }
  if (kind == KeyKind::kUnsupported) {
    return fail(badPublicKey("unsupported EC curve; supported: P-256, P-384, P-521"));
  }
  auto x = bytesMember(jwk, "x");
  if (!x) return fail(x.error());
  auto y = bytesMember(jwk, "y");
  if (!y) return fail(y.error());
  const std::size_t field = detail::ecFieldBytes(kind);
  // RFC 7518 §6.2.1.2: coordinates are full-length, so each point has one encoding.
  if (x->size() != field || y->size() != field) {
    return fail(core::malformed("EC coordinates must be " + std::to_string(field) + " bytes for " +
                                std::string(*crv)));
  }
  std::vector<std::uint8_t> point;
  point.reserve(1 + 2 * field);
  point.push_back(0x04);  // uncompressed SEC1 point
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());

  crypto::OsslErrorMark mark;
  std::string group(*crv);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  crypto::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return fail(core::serverInternal("cannot create EC key context"));
  }
  EVP_PKEY* raw = nullptr;
  // Decoding the point already rejects off-curve points; the explicit check below is the one
  // we rely on, whatever the OpenSSL version does at import.
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return fail(badPublicKey("EC point is not on the curve"));
  }
  crypto::PKey key(raw);
  crypto::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return fail(badPublicKey("EC point is not on the curve"));
  }
  return key;
}

core::Result<crypto::PKey> rsaFromJwk(const boost::json::object& jwk) {
  auto n = bytesMember(jwk, "n");
  if (!n) return fail(n.error());
  auto e = bytesMember(jwk, "e");
  if (!e) return fail(e.error());
  if (auto s = checkMinimalUInt(*n, "n"); !s) return fail(s.error());
  if (auto s = checkMinimalUInt(*e, "e"); !s) return fail(s.error());
  const std::size_t bits = bitLength(*n);
  if (bits < kMinRsaBits) return fail(badPublicKey("RSA keys must be at least 2048 bits"));
  if (bits > kMaxRsaBits) return fail(badPublicKey("RSA keys must be at most 8192 bits"));
  if ((n->back() & 1) == 0) return fail(badPublicKey("RSA modulus must be odd"));
  if (e->size() > kMaxRsaExponentBytes) return fail(badPublicKey("RSA exponent is too large"));
  if ((e->back() & 1) == 0 || bitLength(*e) < 2) {
    return fail(badPublicKey("RSA exponent must be odd and greater than 1"));
  }

  crypto::OsslErrorMark mark;
  crypto::BnPtr bn_n(BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr));
  crypto::BnPtr bn_e(BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr));
  crypto::OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return fail(core::serverInternal("cannot build RSA key parameters"));
  }
  crypto::OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  crypto::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return fail(core::serverInternal("cannot create RSA key context"));
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return fail(badPublicKey("invalid RSA public key"));
  }
  return crypto::PKey(raw);
}

core::Result<crypto::PKey> okpFromJwk(const boost::json::object& jwk) {
  auto crv = stringMember(jwk, "crv");
  if (!crv) return fail(crv.error());
  if (*crv != "Ed25519") return fail(badPublicKey("unsupported OKP curve; supported: Ed25519"));
  auto x = bytesMember(jwk, "x");
  if (!x) return fail(x.error());
  if (x->size() != 32) return fail(core::malformed("Ed25519 public key must be 32 bytes"));
  crypto::OsslErrorMark mark;
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, x->data(), x->size());
  if (raw == nullptr) return fail(badPublicKey("invalid Ed25519 public key"));
  return crypto::PKey(raw);
}

core::Result<crypto::PKey> akpFromJwk(const boost::json::object& jwk) {
  auto alg = stringMember(jwk, "alg");
  if (!alg) return fail(alg.error());
  KeyKind kind = KeyKind::kUnsupported;
  for (KeyKind k : {KeyKind::kMlDsa44, KeyKind::kMlDsa65, KeyKind::kMlDsa87}) {
    if (*alg == detail::mlDsaName(k)) kind = k;
  }
  if (kind == KeyKind::kUnsupported) {
    return fail(
        badPublicKey("unsupported AKP algorithm; supported: ML-DSA-44, ML-DSA-65, ML-DSA-87"));
  }
  if (!crypto::signatureSchemeAvailable(crypto::SignatureScheme::kMlDsa)) {
    return fail(
        badPublicKey("ML-DSA keys are not supported: this server's OpenSSL lacks ML-DSA "
                     "(OpenSSL 3.5 or later is required)"));
  }
  auto pub = bytesMember(jwk, "pub");
  if (!pub) return fail(pub.error());
  const std::size_t expected = detail::mlDsaPublicKeyBytes(kind);
  if (pub->size() != expected) {
    return fail(core::malformed(std::string(*alg) + " public key must be " +
                                std::to_string(expected) + " bytes"));
  }
  crypto::OsslErrorMark mark;
  std::string name(*alg);
  EVP_PKEY* raw =
      EVP_PKEY_new_raw_public_key_ex(nullptr, name.c_str(), nullptr, pub->data(), pub->size());
  if (raw == nullptr) return fail(badPublicKey("invalid " + name + " public key"));
  return crypto::PKey(raw);
}

core::Result<std::vector<std::uint8_t>> bnParam(const EVP_PKEY* key, const char* name,
                                                std::size_t pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return fail(core::serverInternal(std::string("cannot read key parameter ") + name));
  }
  crypto::BnPtr bn(raw);
  const std::size_t len = pad_to != 0 ? pad_to : static_cast<std::size_t>(BN_num_bytes(bn.get()));
  std::vector<std::uint8_t> out(len == 0 ? 1 : len);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) {
    return fail(core::serverInternal(std::string("key parameter too large: ") + name));
  }
  return out;
}

core::Result<std::vector<std::uint8_t>> rawPublicKey(const EVP_PKEY* key) {
  std::size_t len = 0;
  if (EVP_PKEY_get_raw_public_key(key, nullptr, &len) != 1) {
    return fail(core::serverInternal("cannot read raw public key"));
  }
  std::vector<std::uint8_t> out(len);
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1) {
    return fail(core::serverInternal("cannot read raw public key"));
  }
  out.resize(len);
  return out;
}

}  // namespace

core::Result<crypto::PKey> publicKeyFromJwk(const boost::json::object& jwk) {
  for (std::string_view member : kPrivateMembers) {
    if (jwk.contains(member)) {
      return fail(
          core::malformed("JWK contains private key member \"" + std::string(member) + "\""));
    }
  }
  auto kty = stringMember(jwk, "kty");
  if (!kty) return fail(kty.error());
  if (*kty == "EC") return ecFromJwk(jwk);
  if (*kty == "RSA") return rsaFromJwk(jwk);
  if (*kty == "OKP") return okpFromJwk(jwk);
  if (*kty == "AKP") return akpFromJwk(jwk);
  return fail(badPublicKey("unsupported JWK key type; supported: EC, RSA, OKP, AKP"));
}

core::Result<boost::json::object> publicKeyToJwk(const EVP_PKEY* key) {
  crypto::OsslErrorMark mark;
  const KeyKind kind = detail::classifyKey(key);
  boost::json::object jwk;
  if (detail::isEc(kind)) {
    const std::size_t field = detail::ecFieldBytes(kind);
    auto x = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, field);
    if (!x) return fail(x.error());
    auto y = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, field);
    if (!y) return fail(y.error());
    jwk["crv"] = detail::ecCurveName(kind);
    jwk["kty"] = "EC";
    jwk["x"] = core::base64urlEncode(*x);
    jwk["y"] = core::base64urlEncode(*y);
    return jwk;
  }
  if (kind == KeyKind::kRsa) {
    auto n = bnParam(key, OSSL_PKEY_PARAM_RSA_N, 0);
    if (!n) return fail(n.error());
    auto e = bnParam(key, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!e) return fail(e.error());
    jwk["e"] = core::base64urlEncode(*e);
    jwk["kty"] = "RSA";
    jwk["n"] = core::base64urlEncode(*n);
    return jwk;
  }
  if (kind == KeyKind::kEd25519) {
    auto x = rawPublicKey(key);
    if (!x) return fail(x.error());
    jwk["crv"] = "Ed25519";
    jwk["kty"] = "OKP";
    jwk["x"] = core::base64urlEncode(*x);
    return jwk;
  }
  if (detail::isMlDsa(kind)) {
    auto pub = rawPublicKey(key);
    if (!pub) return fail(pub.error());
    jwk["alg"] = detail::mlDsaName(kind);
    jwk["kty"] = "AKP";
    jwk["pub"] = core::base64urlEncode(*pub);
    return jwk;
  }
  return fail(badPublicKey("key type has no supported JWK form"));
}

core::Result<std::string> canonicalJwkJson(const boost::json::object& jwk) {
  auto kty = stringMember(jwk, "kty");
  if (!kty) return fail(kty.error());
  // RFC 7638 §3.2 required members, already in lexicographic order.
  static constexpr std::array<std::string_view, 4> kEc = {"crv", "kty", "x", "y"};
  static constexpr std::array<std::string_view, 3> kRsa = {"e", "kty", "n"};
  static constexpr std::array<std::string_view, 3> kOkp = {"crv", "kty", "x"};
  static constexpr std::array<std::string_view, 3> kAkp = {"alg", "kty", "pub"};
  std::span<const std::string_view> members;
  if (*kty == "EC") {
    members = kEc;
  } else if (*kty == "RSA") {
    members = kRsa;
  } else if (*kty == "OKP") {
    members = kOkp;
  } else if (*kty == "AKP") {
    members = kAkp;
  } else {
    return fail(badPublicKey("unsupported JWK key type; supported: EC, RSA, OKP, AKP"));
  }
  std::string out = "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto value = stringMember(jwk, members[i]);
    if (!value) return fail(value.error());
    if (i != 0) out.push_back(',');
    out.push_back('"');
    out.append(members[i]);
    out.append("\":");
    // Boost.JSON escapes only what JSON requires, matching RFC 7638 §3.3.
    out.append(boost::json::serialize(boost::json::string_view(value->data(), value->size())));
  }
  out.push_back('}');
  return out;
}

core::Result<std::string> jwkThumbprint(const boost::json::object& jwk) {
  auto canonical = canonicalJwkJson(jwk);
  if (!canonical) return fail(canonical.error());
  const auto digest = crypto::sha256(*canonical);
  return core::base64urlEncode(digest);
}

core::Result<std::string> jwkThumbprint(const EVP_PKEY* key) {
  auto jwk = publicKeyToJwk(key);
  if (!jwk) return fail(jwk.error());
  return jwkThumbprint(*jwk);
}

std::string keyAuthorization(std::string_view token, std::string_view thumbprint) {
  std::string out;
  out.reserve(token.size() + 1 + thumbprint.size());
  out.append(token);
  out.push_back('.');
  out.append(thumbprint);
  return out;
}

}  // namespace akamu::jose
