#include "jose/jwk.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <boost/json/parse.hpp>
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
                ProblemType::kMalformed);
  // P-256 coordinates presented as P-384.
  expectProblem(publicKeyFromJwk(ecJwk("P-384", kA3X, kA3Y)), ProblemType::kMalformed);
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
  expectProblem(publicKeyFromJwk(short_x), ProblemType::kMalformed);
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
  expectProblem(publicKeyFromJwk(wrong_len), ProblemType::kMalformed);
  boost::json::object unknown{{"kty", "AKP"}, {"alg", "ML-DSA-99"}, {"pub", pub1952}};
  expectProblem(publicKeyFromJwk(unknown), ProblemType::kBadPublicKey);
  boost::json::object slh{{"kty", "AKP"}, {"alg", "SLH-DSA-SHA2-128s"}, {"pub", "AAAA"}};
  expectProblem(publicKeyFromJwk(slh), ProblemType::kBadPublicKey);
  auto with_priv = jwk;
  with_priv["priv"] = "AAAA";
  expectProblem(publicKeyFromJwk(with_priv), ProblemType::kMalformed);
}

TEST(JwkTest, KeyAuthorization) {
  EXPECT_EQ(
      keyAuthorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
                       "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
      "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

}  // namespace
}  // namespace akamu::jose
