#include "jose/jws.hpp"

#include <openssl/ecdsa.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/base64url.hpp"
#include "core/strict_json.hpp"
#include "crypto/handles.hpp"
#include "crypto/sign.hpp"
#include "jose/jwk.hpp"
#include "jose/key_kind.hpp"

namespace akamu::jose {
namespace {

using core::fail;
using core::ProblemType;
using crypto::SignatureScheme;
using detail::KeyKind;

struct AlgSpec {
  std::string_view name;
  SignatureScheme scheme;
  KeyKind key;  // kRsa stands for any RSA key
};

constexpr std::array<AlgSpec, 13> kAlgorithms = {{
    {"ES256", SignatureScheme::kEcdsaSha256, KeyKind::kEcP256},
    {"ES384", SignatureScheme::kEcdsaSha384, KeyKind::kEcP384},
    {"ES512", SignatureScheme::kEcdsaSha512, KeyKind::kEcP521},
    {"RS256", SignatureScheme::kRsaPkcs1Sha256, KeyKind::kRsa},
    {"RS384", SignatureScheme::kRsaPkcs1Sha384, KeyKind::kRsa},
    {"RS512", SignatureScheme::kRsaPkcs1Sha512, KeyKind::kRsa},
    {"PS256", SignatureScheme::kRsaPssSha256, KeyKind::kRsa},
    {"PS384", SignatureScheme::kRsaPssSha384, KeyKind::kRsa},
    {"PS512", SignatureScheme::kRsaPssSha512, KeyKind::kRsa},
    {"EdDSA", SignatureScheme::kEd25519, KeyKind::kEd25519},
    {"ML-DSA-44", SignatureScheme::kMlDsa, KeyKind::kMlDsa44},
    {"ML-DSA-65", SignatureScheme::kMlDsa, KeyKind::kMlDsa65},
    {"ML-DSA-87", SignatureScheme::kMlDsa, KeyKind::kMlDsa87},
}};

const AlgSpec* findAlgorithm(std::string_view alg) {
  for (const AlgSpec& spec : kAlgorithms) {
    if (spec.name == alg) {
      return crypto::signatureSchemeAvailable(spec.scheme) ? &spec : nullptr;
    }
  }
  return nullptr;
}

core::Problem badSignatureAlgorithm(std::string detail) {
  core::Problem p = core::makeProblem(ProblemType::kBadSignatureAlgorithm, std::move(detail));
  p.algorithms = supportedAlgorithms();
  return p;
}

// Client-chosen strings end up in problem details and logs: only short printable ones are quoted.
std::string quoteUntrusted(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 40;
  if (text.size() > kMaxQuoted) return "(too long)";
  for (char c : text) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return "(unprintable)";
  }
  return "\"" + std::string(text) + "\"";
}

std::string_view describeKey(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256:
      return "EC P-256";
    case KeyKind::kEcP384:
      return "EC P-384";
    case KeyKind::kEcP521:
      return "EC P-521";
    case KeyKind::kRsa:
      return "RSA";
    case KeyKind::kEd25519:
      return "Ed25519";
    case KeyKind::kMlDsa44:
      return "ML-DSA-44";
    case KeyKind::kMlDsa65:
      return "ML-DSA-65";
    case KeyKind::kMlDsa87:
      return "ML-DSA-87";
    case KeyKind::kUnsupported:
      break;
  }
  return "unsupported";
}

core::Result<const AlgSpec*> algorithmSpecForKey(std::string_view alg, const EVP_PKEY* key) {
  const AlgSpec* spec = findAlgorithm(alg);
  if (spec == nullptr) {
    return fail(badSignatureAlgorithm("unsupported JWS algorithm " + quoteUntrusted(alg)));
  }
  const KeyKind kind = detail::classifyKey(key);
  if (kind != spec->key) {
    return fail(badSignatureAlgorithm("JWS algorithm " + std::string(spec->name) +
                                      " does not match the " + std::string(describeKey(kind)) +
                                      " key"));
  }
  return spec;
}

// Length a signature must have for the algorithm, or 0 when it depends on the key (RSA).
std::size_t fixedSignatureBytes(const AlgSpec& spec) {
  if (detail::isEc(spec.key)) return 2 * detail::ecFieldBytes(spec.key);
  if (spec.key == KeyKind::kEd25519) return 64;
  if (detail::isMlDsa(spec.key)) return detail::mlDsaSignatureBytes(spec.key);
  return 0;
}

// JWS carries ECDSA signatures as raw r||s (RFC 7518 §3.4); OpenSSL speaks DER.
std::optional<std::vector<std::uint8_t>> ecdsaRawToDer(std::span<const std::uint8_t> raw) {
  const std::size_t half = raw.size() / 2;
  crypto::BnPtr r(BN_bin2bn(raw.data(), static_cast<int>(half), nullptr));
  crypto::BnPtr s(BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
  crypto::EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::nullopt;
  return der;
}

std::optional<std::vector<std::uint8_t>> ecdsaDerToRaw(std::span<const std::uint8_t> der,
                                                       std::size_t field) {
  const unsigned char* p = der.data();
  crypto::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::vector<std::uint8_t> raw(2 * field);
  if (BN_bn2binpad(r, raw.data(), static_cast<int>(field)) < 0 ||
      BN_bn2binpad(s, raw.data() + field, static_cast<int>(field)) < 0) {
    return std::nullopt;
  }
  return raw;
}

std::string signingInput(std::string_view protected_b64, std::string_view payload_b64) {
  std::string input;
  input.reserve(protected_b64.size() + 1 + payload_b64.size());
  input.append(protected_b64);
  input.push_back('.');
  input.append(payload_b64);
  return input;
}

std::span<const std::uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

core::Result<std::string> requiredString(const boost::json::object& obj, std::string_view name,
                                         std::string_view where) {
  const boost::json::value* v = obj.if_contains(name);
  if (v == nullptr) {
    return fail(
        core::malformed(std::string(where) + " member \"" + std::string(name) + "\" is missing"));
  }
  if (!v->is_string()) {
    return fail(core::malformed(std::string(where) + " member \"" + std::string(name) +
                                "\" must be a string"));
  }
  return std::string(v->get_string());
}

core::Result<ProtectedHeader> parseProtectedHeader(std::string_view protected_b64) {
  if (protected_b64.empty()) return fail(core::malformed("JWS protected header is empty"));
  auto text = core::base64urlDecodeToString(protected_b64);
  if (!text) return fail(core::malformed("JWS protected header is not base64url"));
  auto parsed = core::parseStrictJsonObject(*text);
  if (!parsed) {
    core::Problem p = parsed.error();
    p.detail = "JWS protected header: " + p.detail;
    return fail(std::move(p));
  }
  const boost::json::object& obj = *parsed;
  // RFC 8555 §6.2 forbids b64=false; with no extensions understood, any "crit" must be refused
  // (RFC 7515 §4.1.11).
  if (obj.contains("b64"))
    return fail(core::malformed("JWS header parameter \"b64\" is not allowed"));
  if (obj.contains("crit")) {
    return fail(core::malformed("JWS header parameter \"crit\" is not supported"));
  }
  ProtectedHeader header;
  auto alg = requiredString(obj, "alg", "JWS protected header");
  if (!alg) return fail(alg.error());
  header.alg = std::move(*alg);
  auto url = requiredString(obj, "url", "JWS protected header");
  if (!url) return fail(url.error());
  header.url = std::move(*url);
  if (const boost::json::value* nonce = obj.if_contains("nonce")) {
    if (!nonce->is_string()) {
      return fail(core::malformed("JWS protected header member \"nonce\" must be a string"));
    }
    header.nonce = std::string(nonce->get_string());
  }
  const boost::json::value* jwk = obj.if_contains("jwk");
  const boost::json::value* kid = obj.if_contains("kid");
  if ((jwk == nullptr) == (kid == nullptr)) {
    return fail(
        core::malformed("JWS protected header must contain exactly one of \"jwk\" and \"kid\""));
  }
  if (jwk != nullptr) {
    if (!jwk->is_object()) {
      return fail(core::malformed("JWS protected header member \"jwk\" must be an object"));
    }
    header.jwk = jwk->get_object();
  } else {
    if (!kid->is_string()) {
      return fail(core::malformed("JWS protected header member \"kid\" must be a string"));
    }
    header.kid = std::string(kid->get_string());
  }
  return header;
}

}  // namespace

const std::vector<std::string>& supportedAlgorithms() {
  static const std::vector<std::string> algorithms = [] {
    std::vector<std::string> out;
    for (const AlgSpec& spec : kAlgorithms) {
      if (crypto::signatureSchemeAvailable(spec.scheme)) out.emplace_back(spec.name);
    }
    return out;
  }();
  return algorithms;
}

core::Result<Jws> parseJws(std::string_view body) {
  if (body.size() > kMaxJwsBytes) {
    return fail(core::makeProblem(ProblemType::kPayloadTooLarge, "JWS body is too large"));
  }
  const std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{') {
    return fail(core::malformed("JWS must use the flattened JSON serialization"));
  }
  auto parsed = core::parseStrictJson(body);
  if (!parsed) return fail(parsed.error());
  if (!parsed->is_object()) {
    return fail(core::malformed("JWS must use the flattened JSON serialization"));
  }
  const boost::json::object& obj = parsed->get_object();
  if (obj.contains("signatures")) {
    return fail(core::malformed(
        "JWS general JSON serialization is not supported; use the flattened serialization"));
  }
  if (obj.contains("header")) {
    return fail(core::malformed("JWS unprotected header is not allowed"));
  }
  for (const auto& member : obj) {
    const std::string_view key = member.key();
    if (key != "protected" && key != "payload" && key != "signature") {
      return fail(core::malformed("unexpected JWS member " + quoteUntrusted(key)));
    }
  }
  Jws jws;
  auto protected_b64 = requiredString(obj, "protected", "JWS");
  if (!protected_b64) return fail(protected_b64.error());
  auto payload_b64 = requiredString(obj, "payload", "JWS");
  if (!payload_b64) return fail(payload_b64.error());
  auto signature_b64 = requiredString(obj, "signature", "JWS");
  if (!signature_b64) return fail(signature_b64.error());

  auto header = parseProtectedHeader(*protected_b64);
  if (!header) return fail(header.error());
  auto payload = core::base64urlDecodeToString(*payload_b64);
  if (!payload) return fail(core::malformed("JWS payload is not base64url"));
  auto signature = core::base64urlDecode(*signature_b64);
  if (!signature) return fail(core::malformed("JWS signature is not base64url"));
  // An unsecured JWS ("alg":"none", RFC 7518 §3.6) has an empty signature: it is left to the
  // algorithm check, which answers badSignatureAlgorithm with the algorithms we accept.
  const auto& supported = supportedAlgorithms();
  if (signature->empty() &&
      std::find(supported.begin(), supported.end(), header->alg) != supported.end()) {
    return fail(core::malformed("JWS signature is empty"));
  }

  jws.header = std::move(*header);
  jws.protected_b64 = std::move(*protected_b64);
  jws.payload_b64 = std::move(*payload_b64);
  jws.payload = std::move(*payload);
  jws.signature = std::move(*signature);
  return jws;
}

core::Status checkAlgorithmForKey(std::string_view alg, const EVP_PKEY* key) {
  auto spec = algorithmSpecForKey(alg, key);
  if (!spec) return fail(spec.error());
  return {};
}

core::Status verifyJwsSignature(const Jws& jws, const EVP_PKEY* key) {
  auto spec = algorithmSpecForKey(jws.header.alg, key);
  if (!spec) return fail(spec.error());
  const std::size_t fixed = fixedSignatureBytes(**spec);
  if (fixed != 0 && jws.signature.size() != fixed) {
    return fail(core::malformed("wrong signature length for " + std::string((*spec)->name) +
                                ": expected " + std::to_string(fixed) + " bytes"));
  }
  const std::string input = signingInput(jws.protected_b64, jws.payload_b64);
  bool ok = false;
  if (detail::isEc((*spec)->key)) {
    auto der = ecdsaRawToDer(jws.signature);
    ok = der && crypto::verifyMessage(key, (*spec)->scheme, bytesOf(input), *der);
  } else {
    ok = crypto::verifyMessage(key, (*spec)->scheme, bytesOf(input), jws.signature);
  }
  if (!ok) return fail(core::unauthorized("JWS signature is invalid"));
  return {};
}

core::Result<std::string> algorithmForKey(const EVP_PKEY* key) {
  const KeyKind kind = detail::classifyKey(key);
  switch (kind) {
    case KeyKind::kEcP256:
      return std::string("ES256");
    case KeyKind::kEcP384:
      return std::string("ES384");
    case KeyKind::kEcP521:
      return std::string("ES512");
    case KeyKind::kRsa:
      return std::string("RS256");
    case KeyKind::kEd25519:
      return std::string("EdDSA");
    case KeyKind::kMlDsa44:
    case KeyKind::kMlDsa65:
    case KeyKind::kMlDsa87:
      return std::string(detail::mlDsaName(kind));
    case KeyKind::kUnsupported:
      break;
  }
  return fail(core::makeProblem(ProblemType::kBadPublicKey, "no JWS algorithm for this key type"));
}

core::Result<std::string> signJws(const EVP_PKEY* private_key, const SignOptions& options,
                                  std::string_view payload) {
  std::string alg;
  if (options.alg) {
    alg = *options.alg;
  } else {
    auto chosen = algorithmForKey(private_key);
    if (!chosen) return fail(chosen.error());
    alg = std::move(*chosen);
  }
  auto spec = algorithmSpecForKey(alg, private_key);
  if (!spec) return fail(spec.error());

  boost::json::object header;
  header["alg"] = alg;
  if (options.kid) {
    header["kid"] = *options.kid;
  } else {
    auto jwk = publicKeyToJwk(private_key);
    if (!jwk) return fail(jwk.error());
    header["jwk"] = std::move(*jwk);
  }
  if (options.nonce) header["nonce"] = *options.nonce;
  header["url"] = options.url;

  const std::string protected_b64 = core::base64urlEncode(boost::json::serialize(header));
  const std::string payload_b64 = payload.empty() ? std::string() : core::base64urlEncode(payload);
  const std::string input = signingInput(protected_b64, payload_b64);
  auto signature = crypto::signMessage(private_key, (*spec)->scheme, bytesOf(input));
  if (!signature) return fail(signature.error());
  if (detail::isEc((*spec)->key)) {
    auto raw = ecdsaDerToRaw(*signature, detail::ecFieldBytes((*spec)->key));
    if (!raw) return fail(core::serverInternal("cannot convert ECDSA signature"));
    *signature = std::move(*raw);
  }
  boost::json::object body;
  body["protected"] = protected_b64;
  body["payload"] = payload_b64;
  body["signature"] = core::base64urlEncode(*signature);
  return boost::json::serialize(body);
}

}  // namespace akamu::jose
