#include "jose/jwk.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <memory>
#include <optional>
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
// e < 2^32. Longer exponents only make verification slower; deployed keys use 65537 (a few old
// ones a small odd value such as 3), so nothing real is refused.
constexpr std::size_t kMaxRsaExponentBytes = 4;

// The odd primes below 752: SP 800-89 §5.3.3 (RSA partial public-key validation) requires a
// modulus without such factors, as OpenSSL's and Boulder's RSA key checks do.
constexpr auto kSmallPrimes = [] {
  std::array<unsigned, 132> primes{};
  std::size_t n = 0;
  for (unsigned c = 3; c < 752; c += 2) {
    bool prime = true;
    for (unsigned d = 3; d * d <= c; d += 2) {
      if (c % d == 0) prime = false;
    }
    if (prime) primes[n++] = c;
  }
  return primes;
}();
static_assert(kSmallPrimes.back() == 751, "exactly the 132 odd primes below 752");

// The primes in groups whose product fits 32 bits: one BN_mod_word per group (OpenSSL's fast
// path takes divisors up to 2^32), then native remainders; a third of the divisions of one
// BN_mod_word per prime.
struct PrimeGroup {
  std::uint32_t product = 1;
  std::array<std::uint16_t, 9> primes{};
  std::size_t count = 0;
};
constexpr auto kPrimeGroups = [] {
  std::array<PrimeGroup, 38> groups{};
  std::size_t g = 0;
  for (unsigned prime : kSmallPrimes) {
    if (std::uint64_t{groups[g].product} * prime > 0xffffffffu ||
        groups[g].count == groups[g].primes.size()) {
      ++g;
    }
    groups[g].product *= prime;
    groups[g].primes[groups[g].count++] = static_cast<std::uint16_t>(prime);
  }
  return groups;
}();
static_assert(kPrimeGroups.back().count != 0, "every group used");

// The product of kSmallPrimes (1037 bits): n is reduced modulo it once, so the grouped
// divisions run over 17 words instead of n's 32 to 128.
const BIGNUM* smallPrimeProduct() {
  static const crypto::BnPtr product = [] {
    crypto::BnPtr p(BN_new());
    if (!p || BN_one(p.get()) != 1) return crypto::BnPtr();
    for (unsigned prime : kSmallPrimes) {
      if (BN_mul_word(p.get(), prime) != 1) return crypto::BnPtr();
    }
    return p;
  }();
  return product.get();
}

// The smallest prime below 752 that divides n, 0 if none does, nullopt if OpenSSL fails.
std::optional<unsigned> smallPrimeFactor(const BIGNUM* n) {
  const BIGNUM* product = smallPrimeProduct();
  std::unique_ptr<BN_CTX, crypto::OsslDeleter<BN_CTX_free>> ctx(BN_CTX_new());
  crypto::BnPtr rem(BN_new());
  if (product == nullptr || !ctx || !rem || BN_mod(rem.get(), n, product, ctx.get()) != 1) {
    return std::nullopt;
  }
  for (const PrimeGroup& group : kPrimeGroups) {
    const BN_ULONG r = BN_mod_word(rem.get(), group.product);
    if (r == static_cast<BN_ULONG>(-1)) return std::nullopt;
    for (std::size_t i = 0; i < group.count; ++i) {
      if (r % group.primes[i] == 0) return group.primes[i];
    }
  }
  return 0u;
}

// Ed25519 (RFC 8032 §5.1.3): the 255-bit y coordinate of the 8 points of small order (order 1,
// 2, 4 and 8), little-endian, without the x sign bit; each has two encodings (sign bit 0 and 1).
// The same table as libsodium's ge25519_has_small_order; a key of small order verifies
// signatures that anyone can make. Values computed from the curve equation, see the test.
constexpr std::array<std::array<std::uint8_t, 32>, 5> kEd25519SmallOrderY = {{
    // y = 0: (+-sqrt(-1), 0), order 4
    {0},
    // y = 1: the identity, order 1
    {1},
    // order 8, +-x
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    // y = p - 1: (0, -1), order 2
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
}};

// y >= p = 2^255 - 19 (a non-canonical encoding, RFC 8032 §5.1.3 step 1): the sign bit cleared,
// y is at least p only as ed ff .. ff 7f .. ff ff .. ff 7f (little-endian).
bool ed25519YNotCanonical(const std::vector<std::uint8_t>& x) {
  if ((x[31] & 0x7f) != 0x7f) return false;
  for (std::size_t i = 1; i < 31; ++i) {
    if (x[i] != 0xff) return false;
  }
  return x[0] >= 0xed;
}

bool ed25519SmallOrder(const std::vector<std::uint8_t>& x) {
  for (const auto& y : kEd25519SmallOrderY) {
    if (std::equal(y.begin(), y.end() - 1, x.begin()) && (x[31] & 0x7f) == y[31]) return true;
  }
  return false;
}

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
    return fail(badPublicKey("EC coordinates must be " + std::to_string(field) + " bytes for " +
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
  // Decoding the point already rejects coordinates >= p and off-curve points; the explicit
  // check below is the one we rely on, whatever the OpenSSL version does at import. (The point
  // at infinity has no uncompressed x||y encoding, and the check refuses it too.)
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return fail(badPublicKey("EC point is not on the curve or its coordinates are out of range"));
  }
  crypto::PKey key(raw);
  // SP 800-56A rev. 3 §5.6.2.3.3 steps 1-3: not infinity, x and y in [0, p-1], on the curve.
  // Step 4 (n*Q = infinity), which EVP_PKEY_public_check adds, follows from step 3 on P-256,
  // P-384 and P-521: their cofactor is 1, so every other point has order n. It costs one scalar
  // multiplication (measured 45 us for P-256, 290-460 us for P-384/P-521, against 1-17 us for
  // the quick check), for every jwk-authenticated request.
  crypto::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check) return fail(core::serverInternal("cannot create EC key check context"));
  if (EVP_PKEY_public_check_quick(check.get()) != 1) {
    return fail(badPublicKey("EC point is not on the curve or its coordinates are out of range"));
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
  if (!bn_n || !bn_e) return fail(core::serverInternal("cannot read RSA key parameters"));
  // The cheap part of SP 800-89 §5.3.3 (what EVP_PKEY_public_check does for RSA, besides the
  // checks above). Its remaining step, a Miller-Rabin test that n is not a prime power, costs a
  // full-size modular exponentiation: measured 3 ms for 2048 bits and 18 ms for 4096, on every
  // unauthenticated newAccount. A key whose modulus is prime harms only its owner, who can
  // compute d anyway; one with a small factor can be factored by anyone.
  const auto factor = smallPrimeFactor(bn_n.get());
  if (!factor) return fail(core::serverInternal("cannot check the RSA modulus"));
  if (*factor != 0) {
    return fail(
        badPublicKey("RSA modulus has a small prime factor (" + std::to_string(*factor) + ")"));
  }
  crypto::OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
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
  if (x->size() != 32) return fail(badPublicKey("Ed25519 public key must be 32 bytes"));
  if (ed25519YNotCanonical(*x)) {
    return fail(badPublicKey("Ed25519 public key is not canonically encoded (y >= p)"));
  }
  if (ed25519SmallOrder(*x)) return fail(badPublicKey("Ed25519 public key has small order"));
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
    return fail(badPublicKey(std::string(*alg) + " public key must be " + std::to_string(expected) +
                             " bytes"));
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
