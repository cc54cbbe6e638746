#include "jose/jwk.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <array>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/sign.hpp"

namespace akamu::jose {
namespace {

using core::ProblemType;

// RFC 7638 §3.1.
constexpr const char* kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

// RFC 7515 Appendix A.3 (P-256).
constexpr const char* kA3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr const char* kA3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

boost::json::object parseObject(std::string_view text) {
  return boost::json::parse(text).as_object();
}

boost::json::object rfc7638Jwk() {
  boost::json::object jwk;
  jwk["kty"] = "RSA";
  jwk["n"] = kRfc7638N;
  jwk["e"] = "AQAB";
  jwk["alg"] = "RS256";
  jwk["kid"] = "2011-04-29";
  return jwk;
}

boost::json::object ecJwk(std::string_view crv, std::string_view x, std::string_view y) {
  boost::json::object jwk;
  jwk["kty"] = "EC";
  jwk["crv"] = crv;
  jwk["x"] = x;
  jwk["y"] = y;
  return jwk;
}

crypto::PKey generate(const char* type, const char* curve = nullptr) {
  ERR_set_mark();
  crypto::PKey key(curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  ERR_pop_to_mark();
  return key;
}

void expectProblem(const core::Result<crypto::PKey>& r, ProblemType type) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, type) << r.error().detail;
}

TEST(JwkTest, Rfc7638ThumbprintVector) {
  const auto jwk = rfc7638Jwk();
  auto canonical = canonicalJwkJson(jwk);
  ASSERT_TRUE(canonical.has_value());
  EXPECT_EQ(*canonical,
            std::string("{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"") + kRfc7638N + "\"}");
  auto thumbprint = jwkThumbprint(jwk);
  ASSERT_TRUE(thumbprint.has_value());
  EXPECT_EQ(*thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");

  // The same thumbprint from the imported key: import and export agree on the encoding.
  auto key = publicKeyFromJwk(jwk);
  ASSERT_TRUE(key.has_value()) << key.error().detail;
  auto from_key = jwkThumbprint(key->get());
  ASSERT_TRUE(from_key.has_value());
  EXPECT_EQ(*from_key, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwkTest, Rfc8037Ed25519Thumbprint) {
  auto jwk = parseObject(
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  auto thumbprint = jwkThumbprint(jwk);
  ASSERT_TRUE(thumbprint.has_value());
  EXPECT_EQ(*thumbprint, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  auto key = publicKeyFromJwk(jwk);
  ASSERT_TRUE(key.has_value()) << key.error().detail;
  EXPECT_EQ(*jwkThumbprint(key->get()), *thumbprint);
}

TEST(JwkTest, CanonicalJsonKeepsOnlyRequiredMembersInOrder) {
  auto jwk = parseObject(R"({"y":"Y","use":"sig","x":"X","kid":"k","crv":"P-256","kty":"EC"})");
  auto canonical = canonicalJwkJson(jwk);
  ASSERT_TRUE(canonical.has_value());
  EXPECT_EQ(*canonical, R"({"crv":"P-256","kty":"EC","x":"X","y":"Y"})");

  auto okp = parseObject(R"({"x":"X","kty":"OKP","crv":"Ed25519","d":"D"})");
  EXPECT_EQ(*canonicalJwkJson(okp), R"({"crv":"Ed25519","kty":"OKP","x":"X"})");

  // JSON escaping is applied to values.
  auto escaped = parseObject(R"({"kty":"EC","crv":"a\"b","x":"X","y":"Y"})");
  EXPECT_EQ(*canonicalJwkJson(escaped), R"({"crv":"a\"b","kty":"EC","x":"X","y":"Y"})");
}

TEST(JwkTest, AkpThumbprintCoversAlgKtyPub) {
  // Pure JSON: holds whether or not OpenSSL has ML-DSA.
  auto jwk = parseObject(R"({"kty":"AKP","pub":"cHVi","alg":"ML-DSA-65","kid":"x","priv":"p"})");
  auto canonical = canonicalJwkJson(jwk);
  ASSERT_TRUE(canonical.has_value());
  EXPECT_EQ(*canonical, R"({"alg":"ML-DSA-65","kty":"AKP","pub":"cHVi"})");
  EXPECT_EQ(*jwkThumbprint(jwk), core::base64urlEncode(crypto::sha256(*canonical)));

  auto other_level = jwk;
  other_level["alg"] = "ML-DSA-44";
  EXPECT_NE(*jwkThumbprint(other_level), *jwkThumbprint(jwk));
}

TEST(JwkTest, CanonicalJsonRequiresStringMembers) {
  auto missing = parseObject(R"({"kty":"EC","crv":"P-256","x":"X"})");
  ASSERT_FALSE(canonicalJwkJson(missing).has_value());
  EXPECT_EQ(canonicalJwkJson(missing).error().type, ProblemType::kMalformed);
  auto number = parseObject(R"({"kty":"RSA","n":"AQAB","e":65537})");
  ASSERT_FALSE(canonicalJwkJson(number).has_value());
  EXPECT_EQ(canonicalJwkJson(number).error().type, ProblemType::kMalformed);
  auto oct = parseObject(R"({"kty":"oct","k":"AAAA"})");
  ASSERT_FALSE(canonicalJwkJson(oct).has_value());
  EXPECT_EQ(canonicalJwkJson(oct).error().type, ProblemType::kBadPublicKey);
}

TEST(JwkTest, RoundTripsGeneratedKeys) {
  std::vector<crypto::PKey> keys;
  keys.push_back(generate("EC", "P-256"));
  keys.push_back(generate("EC", "P-384"));
  keys.push_back(generate("EC", "P-521"));
  keys.push_back(generate("ED25519"));
  keys.push_back(
      crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048))));
  if (crypto::signatureSchemeAvailable(crypto::SignatureScheme::kMlDsa)) {
    keys.push_back(generate("ML-DSA-44"));
    keys.push_back(generate("ML-DSA-65"));
    keys.push_back(generate("ML-DSA-87"));
  }
  for (const auto& key : keys) {
    ASSERT_NE(key, nullptr);
    SCOPED_TRACE(EVP_PKEY_get0_type_name(key.get()));
    auto jwk = publicKeyToJwk(key.get());
    ASSERT_TRUE(jwk.has_value()) << jwk.error().detail;
    // Only the RFC 7638 members: exporting never leaks private material.
    auto canonical = canonicalJwkJson(*jwk);
    ASSERT_TRUE(canonical.has_value());
    EXPECT_EQ(boost::json::parse(*canonical).as_object().size(), jwk->size());
    auto back = publicKeyFromJwk(*jwk);
    ASSERT_TRUE(back.has_value()) << back.error().detail;
    EXPECT_EQ(EVP_PKEY_eq(back->get(), key.get()), 1);
    EXPECT_EQ(*jwkThumbprint(back->get()), *jwkThumbprint(*jwk));
  }
}

TEST(JwkTest, EcCoordinatesAreFullLength) {
  const struct {
    const char* curve;
    std::size_t field;
  } curves[] = {{"P-256", 32}, {"P-384", 48}, {"P-521", 66}};
  for (const auto& c : curves) {
    auto key = generate("EC", c.curve);
    ASSERT_NE(key, nullptr);
    auto jwk = publicKeyToJwk(key.get());
    ASSERT_TRUE(jwk.has_value());
    EXPECT_EQ((*jwk)["crv"].as_string(), c.curve);
    EXPECT_EQ(core::base64urlDecode((*jwk)["x"].as_string())->size(), c.field);
    EXPECT_EQ(core::base64urlDecode((*jwk)["y"].as_string())->size(), c.field);
  }
}

TEST(JwkTest, RejectsPrivateMembers) {
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "priv"}) {
    SCOPED_TRACE(member);
    auto jwk = ecJwk("P-256", kA3X, kA3Y);
    jwk[member] = "AAAA";
    expectProblem(publicKeyFromJwk(jwk), ProblemType::kMalformed);
  }
  auto rsa = rfc7638Jwk();
  rsa["d"] = "AQAB";
  expectProblem(publicKeyFromJwk(rsa), ProblemType::kMalformed);
}

TEST(JwkTest, RejectsSmallAndHugeRsa) {
  crypto::PKey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024)));
  ASSERT_NE(small, nullptr);
  auto jwk = publicKeyToJwk(small.get());
  ASSERT_TRUE(jwk.has_value());
  auto r = publicKeyFromJwk(*jwk);
  expectProblem(r, ProblemType::kBadPublicKey);
  EXPECT_EQ(r.error().detail, "RSA keys must be at least 2048 bits");

  boost::json::object huge;
  huge["kty"] = "RSA";
  huge["n"] = core::base64urlEncode(std::vector<std::uint8_t>(1025, 0xff));
  huge["e"] = "AQAB";
  expectProblem(publicKeyFromJwk(huge), ProblemType::kBadPublicKey);
}

TEST(JwkTest, RejectsBadRsaExponentAndEncoding) {
  auto jwk = rfc7638Jwk();
  jwk["e"] = "AQAA";  // 65536: even
  expectProblem(publicKeyFromJwk(jwk), ProblemType::kBadPublicKey);
  jwk["e"] = "AQ";  // 1
  expectProblem(publicKeyFromJwk(jwk), ProblemType::kBadPublicKey);
  jwk["e"] = "AAEAAQ";  // leading zero octet
  expectProblem(publicKeyFromJwk(jwk), ProblemType::kMalformed);
  jwk["e"] = "AQAB";
  auto n = core::base64urlDecode(kRfc7638N);
  n->insert(n->begin(), 0);
  jwk["n"] = core::base64urlEncode(*n);  // leading zero octet: not minimal
  expectProblem(publicKeyFromJwk(jwk), ProblemType::kMalformed);
  n->erase(n->begin());
  n->back() &= 0xfe;
  jwk["n"] = core::base64urlEncode(*n);  // even modulus
  expectProblem(publicKeyFromJwk(jwk), ProblemType::kBadPublicKey);
}

TEST(JwkTest, EcImportChecksCurvePointAndLengths) {
  auto good = publicKeyFromJwk(ecJwk("P-256", kA3X, kA3Y));
  ASSERT_TRUE(good.has_value()) << good.error().detail;

  auto y = core::base64urlDecode(kA3Y);
  (*y)[31] ^= 0x01;
  auto off_curve = publicKeyFromJwk(ecJwk("P-256", kA3X, core::base64urlEncode(*y)));
  expectProblem(off_curve, ProblemType::kBadPublicKey);
  EXPECT_EQ(ERR_peek_error(), 0UL);

  auto x = core::base64urlDecode(kA3X);
  x->erase(x->begin());
  expectProblem(publicKeyFromJwk(ecJwk("P-256", core::base64urlEncode(*x), kA3Y)),
                ProblemType::kBadPublicKey);
  // P-256 coordinates presented as P-384.
  expectProblem(publicKeyFromJwk(ecJwk("P-384", kA3X, kA3Y)), ProblemType::kBadPublicKey);
  expectProblem(publicKeyFromJwk(ecJwk("secp256k1", kA3X, kA3Y)), ProblemType::kBadPublicKey);
  // All-zero coordinates: not a point on the curve.
  std::string zeros = core::base64urlEncode(std::vector<std::uint8_t>(32, 0));
  expectProblem(publicKeyFromJwk(ecJwk("P-256", zeros, zeros)), ProblemType::kBadPublicKey);
}

TEST(JwkTest, RejectsMissingIllTypedAndBadlyEncodedMembers) {
  auto no_kty = ecJwk("P-256", kA3X, kA3Y);
  no_kty.erase("kty");
  expectProblem(publicKeyFromJwk(no_kty), ProblemType::kMalformed);
  auto number_kty = ecJwk("P-256", kA3X, kA3Y);
  number_kty["kty"] = 1;
  expectProblem(publicKeyFromJwk(number_kty), ProblemType::kMalformed);
  auto no_y = ecJwk("P-256", kA3X, kA3Y);
  no_y.erase("y");
  expectProblem(publicKeyFromJwk(no_y), ProblemType::kMalformed);
  auto array_x = ecJwk("P-256", kA3X, kA3Y);
  array_x["x"] = boost::json::array{};
  expectProblem(publicKeyFromJwk(array_x), ProblemType::kMalformed);
  // Padding, standard-alphabet characters and whitespace are not base64url.
  auto padded = rfc7638Jwk();
  padded["e"] = "AQAB=";
  expectProblem(publicKeyFromJwk(padded), ProblemType::kMalformed);
  auto padded_ed = parseObject(
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="})");
  expectProblem(publicKeyFromJwk(padded_ed), ProblemType::kMalformed);
  auto std_alphabet = ecJwk("P-256", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", kA3Y);
  std_alphabet["y"] = "x/FEzRu9m36HLN/tue659LNpXW6pCyStikYjKIWI5a0";
  expectProblem(publicKeyFromJwk(std_alphabet), ProblemType::kMalformed);
  auto oct = parseObject(R"({"kty":"oct","k":"AAAA"})");
  expectProblem(publicKeyFromJwk(oct), ProblemType::kBadPublicKey);
}

TEST(JwkTest, OkpOnlyEd25519) {
  const std::string x32 = core::base64urlEncode(std::vector<std::uint8_t>(32, 7));
  const std::string x57 = core::base64urlEncode(std::vector<std::uint8_t>(57, 7));
  boost::json::object ed448{{"kty", "OKP"}, {"crv", "Ed448"}, {"x", x57}};
  expectProblem(publicKeyFromJwk(ed448), ProblemType::kBadPublicKey);
  boost::json::object x25519{{"kty", "OKP"}, {"crv", "X25519"}, {"x", x32}};
  expectProblem(publicKeyFromJwk(x25519), ProblemType::kBadPublicKey);
  boost::json::object short_x{{"kty", "OKP"},
                              {"crv", "Ed25519"},
                              {"x", core::base64urlEncode(std::vector<std::uint8_t>(31, 7))}};
  expectProblem(publicKeyFromJwk(short_x), ProblemType::kBadPublicKey);
}

TEST(JwkTest, AkpImport) {
  const std::string pub1952 = core::base64urlEncode(std::vector<std::uint8_t>(1952, 1));
  boost::json::object jwk{{"kty", "AKP"}, {"alg", "ML-DSA-65"}, {"pub", pub1952}};
  if (!crypto::signatureSchemeAvailable(crypto::SignatureScheme::kMlDsa)) {
    auto r = publicKeyFromJwk(jwk);
    expectProblem(r, ProblemType::kBadPublicKey);
    EXPECT_NE(r.error().detail.find("OpenSSL 3.5"), std::string::npos) << r.error().detail;
    return;
  }
  auto key = publicKeyFromJwk(jwk);
  ASSERT_TRUE(key.has_value()) << key.error().detail;
  EXPECT_EQ(EVP_PKEY_is_a(key->get(), "ML-DSA-65"), 1);

  boost::json::object wrong_len{{"kty", "AKP"}, {"alg", "ML-DSA-44"}, {"pub", pub1952}};
  expectProblem(publicKeyFromJwk(wrong_len), ProblemType::kBadPublicKey);
  boost::json::object unknown{{"kty", "AKP"}, {"alg", "ML-DSA-99"}, {"pub", pub1952}};
  expectProblem(publicKeyFromJwk(unknown), ProblemType::kBadPublicKey);
  boost::json::object slh{{"kty", "AKP"}, {"alg", "SLH-DSA-SHA2-128s"}, {"pub", "AAAA"}};
  expectProblem(publicKeyFromJwk(slh), ProblemType::kBadPublicKey);
  auto with_priv = jwk;
  with_priv["priv"] = "AAAA";
  expectProblem(publicKeyFromJwk(with_priv), ProblemType::kMalformed);
}

using BnCtxPtr = std::unique_ptr<BN_CTX, crypto::OsslDeleter<BN_CTX_free>>;

crypto::BnPtr bnFromLittleEndian(const std::array<std::uint8_t, 32>& le) {
  return crypto::BnPtr(BN_lebin2bn(le.data(), static_cast<int>(le.size()), nullptr));
}

boost::json::object ed25519Jwk(const std::array<std::uint8_t, 32>& x) {
  return boost::json::object{
      {"kty", "OKP"},
      {"crv", "Ed25519"},
      {"x", core::base64urlEncode(std::vector<std::uint8_t>(x.begin(), x.end()))}};
}

// The y coordinates of Ed25519's 8 small-order points (as in libsodium), little-endian.
const std::array<std::array<std::uint8_t, 32>, 5> kSmallOrderY = {{
    {0},
    {1},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
}};

TEST(JwkTest, Ed25519SmallOrderTableIsTheTorsionOfTheCurve) {
  // The table is data, so check it against the curve -x^2 + y^2 = 1 + d x^2 y^2 over
  // p = 2^255 - 19, d = -121665/121666: y = 0 (order 4), y = 1 (identity), y = -1 (order 2),
  // and the order-8 points, whose double has y = 0, i.e. y^2 = -x^2: d y^4 + 2 y^2 - 1 = 0.
  BnCtxPtr ctx(BN_CTX_new());
  crypto::BnPtr p(BN_new()), d(BN_new()), t(BN_new()), y2(BN_new()), acc(BN_new());
  ASSERT_TRUE(ctx && p && d && t && y2 && acc);
  ASSERT_EQ(BN_set_word(p.get(), 1), 1);
  ASSERT_EQ(BN_lshift(p.get(), p.get(), 255), 1);
  ASSERT_EQ(BN_sub_word(p.get(), 19), 1);
  ASSERT_EQ(BN_set_word(t.get(), 121666), 1);
  ASSERT_NE(BN_mod_inverse(d.get(), t.get(), p.get(), ctx.get()), nullptr);
  ASSERT_EQ(BN_mul_word(d.get(), 121665), 1);
  ASSERT_EQ(BN_sub(d.get(), p.get(), d.get()), 1);  // d*121666 < p*121666, so fix the range
  ASSERT_EQ(BN_nnmod(d.get(), d.get(), p.get(), ctx.get()), 1);

  auto y0 = bnFromLittleEndian(kSmallOrderY[0]);
  auto y1 = bnFromLittleEndian(kSmallOrderY[1]);
  auto ym1 = bnFromLittleEndian(kSmallOrderY[4]);
  EXPECT_TRUE(BN_is_zero(y0.get()));
  EXPECT_TRUE(BN_is_one(y1.get()));
  ASSERT_EQ(BN_add_word(ym1.get(), 1), 1);
  EXPECT_EQ(BN_cmp(ym1.get(), p.get()), 0);
  for (std::size_t i : {2u, 3u}) {
    auto y = bnFromLittleEndian(kSmallOrderY[i]);
    ASSERT_EQ(BN_mod_sqr(y2.get(), y.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_mod_mul(acc.get(), y2.get(), y2.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_mod_mul(acc.get(), acc.get(), d.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_mod_add(acc.get(), acc.get(), y2.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_mod_add(acc.get(), acc.get(), y2.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_sub_word(acc.get(), 1), 1);
    EXPECT_TRUE(BN_is_zero(acc.get())) << i;
  }
}

TEST(JwkTest, Ed25519SmallOrderAndNonCanonicalKeysAreBadPublicKeys) {
  for (const auto& y : kSmallOrderY) {
    for (std::uint8_t sign : {0x00, 0x80}) {
      auto x = y;
      x[31] |= sign;
      SCOPED_TRACE(core::base64urlEncode(std::vector<std::uint8_t>(x.begin(), x.end())));
      auto r = publicKeyFromJwk(ed25519Jwk(x));
      expectProblem(r, ProblemType::kBadPublicKey);
      if (!r) {
        EXPECT_EQ(r.error().detail, "Ed25519 public key has small order");
      }
    }
  }
  // y = p + k for k = 0..18 (p itself is y = 0, p + 1 is the identity), with either sign.
  for (unsigned k = 0; k <= 18; ++k) {
    for (std::uint8_t sign : {0x00, 0x80}) {
      std::array<std::uint8_t, 32> x;
      x.fill(0xff);
      x[0] = static_cast<std::uint8_t>(0xed + k);
      x[31] = static_cast<std::uint8_t>(0x7f | sign);
      SCOPED_TRACE(k);
      auto r = publicKeyFromJwk(ed25519Jwk(x));
      expectProblem(r, ProblemType::kBadPublicKey);
      if (!r) {
        EXPECT_EQ(r.error().detail, "Ed25519 public key is not canonically encoded (y >= p)");
      }
    }
  }
  // p - 2 is canonical and not small order: the checks stop exactly at the boundary.
  std::array<std::uint8_t, 32> below_p;
  below_p.fill(0xff);
  below_p[0] = 0xeb;
  below_p[31] = 0x7f;
  // (OpenSSL does not decode the point at import; whether it is on the curve shows only when a
  // signature is verified with it, and an undecodable key verifies nothing.)
  auto r = publicKeyFromJwk(ed25519Jwk(below_p));
  EXPECT_TRUE(r.has_value()) << r.error().detail;
  // RFC 8032 §7.1 test 1 public key.
  auto rfc8032 = parseObject(
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  EXPECT_TRUE(publicKeyFromJwk(rfc8032).has_value());
}

std::string bnB64(const BIGNUM* bn, std::size_t pad_to = 0) {
  const std::size_t len = pad_to != 0 ? pad_to : static_cast<std::size_t>(BN_num_bytes(bn));
  std::vector<std::uint8_t> bytes(len);
  EXPECT_EQ(BN_bn2binpad(bn, bytes.data(), static_cast<int>(len)), static_cast<int>(len));
  return core::base64urlEncode(bytes);
}

crypto::BnPtr bnParam(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  return crypto::BnPtr(bn);
}

TEST(JwkTest, EcPointOfAnotherCurveIsRefused) {
  // An invalid-curve point: a secp256k1 key (same field size) presented as P-256.
  auto k1 = generate("EC", "secp256k1");
  ASSERT_NE(k1, nullptr);
  auto x = bnParam(k1.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = bnParam(k1.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  auto r = publicKeyFromJwk(ecJwk("P-256", bnB64(x.get(), 32), bnB64(y.get(), 32)));
  expectProblem(r, ProblemType::kBadPublicKey);
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(JwkTest, EcCoordinateAtOrAboveTheFieldPrimeIsRefused) {
  // A P-256 point with a small x, found with OpenSSL's modular square root; then the same point
  // with x + p, which still fits in 32 bytes: a second encoding of one key.
  crypto::PKey sample = generate("EC", "P-256");
  ASSERT_NE(sample, nullptr);
  BnCtxPtr ctx(BN_CTX_new());
  std::unique_ptr<EC_GROUP, crypto::OsslDeleter<EC_GROUP_free>> group(
      EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  crypto::BnPtr p(BN_new()), a(BN_new()), b(BN_new()), x(BN_new()), rhs(BN_new()), t(BN_new());
  ASSERT_TRUE(ctx && group && p && a && b && x && rhs && t);
  ASSERT_EQ(EC_GROUP_get_curve(group.get(), p.get(), a.get(), b.get(), ctx.get()), 1);
  crypto::BnPtr y;
  for (unsigned xv = 1; xv < 1000 && !y; ++xv) {
    ERR_set_mark();
    ASSERT_EQ(BN_set_word(x.get(), xv), 1);
    // rhs = x^3 + a x + b mod p
    ASSERT_EQ(BN_mod_sqr(rhs.get(), x.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_mod_add(rhs.get(), rhs.get(), a.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_mod_mul(rhs.get(), rhs.get(), x.get(), p.get(), ctx.get()), 1);
    ASSERT_EQ(BN_mod_add(rhs.get(), rhs.get(), b.get(), p.get(), ctx.get()), 1);
    crypto::BnPtr root(BN_mod_sqrt(nullptr, rhs.get(), p.get(), ctx.get()));
    ERR_pop_to_mark();
    if (!root) continue;
    ASSERT_EQ(BN_mod_sqr(t.get(), root.get(), p.get(), ctx.get()), 1);
    if (BN_cmp(t.get(), rhs.get()) == 0) y = std::move(root);
  }
  ASSERT_TRUE(y) << "no point with a small x found";
  auto ok = publicKeyFromJwk(ecJwk("P-256", bnB64(x.get(), 32), bnB64(y.get(), 32)));
  ASSERT_TRUE(ok.has_value()) << ok.error().detail;

  ASSERT_EQ(BN_add(x.get(), x.get(), p.get()), 1);
  ASSERT_LE(BN_num_bytes(x.get()), 32);
  auto r = publicKeyFromJwk(ecJwk("P-256", bnB64(x.get(), 32), bnB64(y.get(), 32)));
  expectProblem(r, ProblemType::kBadPublicKey);
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(JwkTest, RsaExponentRangeAndSmallFactors) {
  auto jwk = rfc7638Jwk();
  jwk["e"] = "Aw";  // 3
  EXPECT_TRUE(publicKeyFromJwk(jwk).has_value());
  jwk["e"] = core::base64urlEncode(std::vector<std::uint8_t>{0xff, 0xff, 0xff, 0xff});  // 2^32-1
  EXPECT_TRUE(publicKeyFromJwk(jwk).has_value());
  jwk["e"] = core::base64urlEncode(std::vector<std::uint8_t>{0x01, 0x00, 0x00, 0x00, 0x01});
  auto big_e = publicKeyFromJwk(jwk);  // 2^32 + 1
  expectProblem(big_e, ProblemType::kBadPublicKey);
  EXPECT_EQ(big_e.error().detail, "RSA exponent is too large");
  jwk["e"] = "Ag";  // 2
  expectProblem(publicKeyFromJwk(jwk), ProblemType::kBadPublicKey);

  // The RFC 7638 modulus times a small prime: odd, 2058 bits, trivially factored.
  auto n = core::base64urlDecode(kRfc7638N);
  crypto::BnPtr m(BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr));
  for (unsigned prime : {3u, 5u, 751u}) {
    crypto::BnPtr product(BN_dup(m.get()));
    ASSERT_EQ(BN_mul_word(product.get(), prime), 1);
    boost::json::object weak{{"kty", "RSA"}, {"n", bnB64(product.get())}, {"e", "AQAB"}};
    auto r = publicKeyFromJwk(weak);
    expectProblem(r, ProblemType::kBadPublicKey);
    EXPECT_EQ(r.error().detail,
              "RSA modulus has a small prime factor (" + std::to_string(prime) + ")");
  }
  // 757 is the first prime not tried.
  crypto::BnPtr product(BN_dup(m.get()));
  ASSERT_EQ(BN_mul_word(product.get(), 757), 1);
  boost::json::object beyond{{"kty", "RSA"}, {"n", bnB64(product.get())}, {"e", "AQAB"}};
  EXPECT_TRUE(publicKeyFromJwk(beyond).has_value());
}

// Not a benchmark with assertions: records what publicKeyFromJwk costs per key type (and what
// the full OpenSSL checks it does not run would cost), as test properties in the XML output
// and on stdout.
TEST(JwkTest, ImportCostIsRecorded) {
  using Clock = std::chrono::steady_clock;
  auto micros = [](Clock::duration d, int n) {
    return std::chrono::duration<double, std::micro>(d).count() / n;
  };
  auto record = [](const std::string& name, double us) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", us);
    ::testing::Test::RecordProperty(name, text);
    std::printf("  %-28s %8s us\n", name.c_str(), text);
  };
  struct Case {
    std::string name;
    crypto::PKey key;
  };
  std::vector<Case> cases;
  cases.push_back({"P-256", generate("EC", "P-256")});
  cases.push_back({"P-384", generate("EC", "P-384")});
  cases.push_back({"P-521", generate("EC", "P-521")});
  cases.push_back({"Ed25519", generate("ED25519")});
  cases.push_back({"RSA-2048", crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                                                              static_cast<std::size_t>(2048)))});
  cases.push_back({"RSA-4096", crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                                                              static_cast<std::size_t>(4096)))});
  constexpr int kRounds = 200;
  for (const auto& c : cases) {
    ASSERT_NE(c.key, nullptr) << c.name;
    auto jwk = publicKeyToJwk(c.key.get());
    ASSERT_TRUE(jwk.has_value());
    auto start = Clock::now();
    for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(publicKeyFromJwk(*jwk).has_value());
    record(c.name + " publicKeyFromJwk", micros(Clock::now() - start, kRounds));

    crypto::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, c.key.get(), nullptr));
    ASSERT_TRUE(check);
    if (c.name[0] == 'P') {
      start = Clock::now();
      for (int i = 0; i < kRounds; ++i) ASSERT_EQ(EVP_PKEY_public_check_quick(check.get()), 1);
      record(c.name + " check_quick (done)", micros(Clock::now() - start, kRounds));
      start = Clock::now();
      for (int i = 0; i < kRounds / 10; ++i) ASSERT_EQ(EVP_PKEY_public_check(check.get()), 1);
      record(c.name + " public_check (not done)", micros(Clock::now() - start, kRounds / 10));
    } else if (c.name[0] == 'R') {
      start = Clock::now();
      for (int i = 0; i < 3; ++i) ASSERT_EQ(EVP_PKEY_public_check(check.get()), 1);
      record(c.name + " public_check (not done)", micros(Clock::now() - start, 3));
    }
  }
}

TEST(JwkTest, KeyAuthorization) {
  EXPECT_EQ(
      keyAuthorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
                       "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
      "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

}  // namespace
}  // namespace akamu::jose
