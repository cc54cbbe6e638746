#include "jose/jws.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "core/base64url.hpp"
#include "core/strict_json.hpp"
#include "crypto/handles.hpp"
#include "crypto/sign.hpp"
#include "jose/jwk.hpp"

namespace akamu::jose {
namespace {

using core::ProblemType;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kUrl = "https://ca.example/acme/new-order";

crypto::PKey generate(const char* type, const char* curve = nullptr) {
  ERR_set_mark();
  crypto::PKey key(curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  ERR_pop_to_mark();
  return key;
}

const EVP_PKEY* rsaKey() {
  static crypto::PKey key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  return key.get();
}

const EVP_PKEY* p256Key() {
  static crypto::PKey key = generate("EC", "P-256");
  return key.get();
}

bool mlDsa() { return crypto::signatureSchemeAvailable(crypto::SignatureScheme::kMlDsa); }

template <class T>
void expectProblem(const T& r, ProblemType type) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, type) << r.error().detail;
}

std::string b64(std::string_view s) { return core::base64urlEncode(s); }

// A flattened JWS body from a protected-header JSON text; the signature is not valid.
std::string body(std::string_view header_json, std::string_view payload_b64 = "e30",
                 std::string_view signature_b64 = "AAAA") {
  return "{\"protected\":\"" + b64(header_json) + "\",\"payload\":\"" + std::string(payload_b64) +
         "\",\"signature\":\"" + std::string(signature_b64) + "\"}";
}

constexpr const char* kKidHeader =
    R"({"alg":"ES256","kid":"https://ca.example/acct/1","nonce":"n1","url":"https://ca.example/x"})";

// Builds a Jws from the RFC pieces without the ACME header rules (the RFC examples have no url).
Jws rfcJws(std::string_view alg, std::string_view protected_b64, std::string_view payload_b64,
           std::string_view signature_b64) {
  const std::string flattened = "{\"protected\":\"" + std::string(protected_b64) +
                                "\",\"payload\":\"" + std::string(payload_b64) +
                                "\",\"signature\":\"" + std::string(signature_b64) + "\"}";
  auto obj = core::parseStrictJsonObject(flattened);
  EXPECT_TRUE(obj.has_value());
  Jws jws;
  jws.header.alg = std::string(alg);
  jws.protected_b64 = std::string(obj->at("protected").as_string());
  jws.payload_b64 = std::string(obj->at("payload").as_string());
  jws.payload = *core::base64urlDecodeToString(jws.payload_b64);
  jws.signature = *core::base64urlDecode(obj->at("signature").as_string());
  // ACME additionally needs url and jwk/kid, so the RFC example is not an ACME request.
  expectProblem(parseJws(flattened), ProblemType::kMalformed);
  return jws;
}

TEST(JwsTest, Rfc7515A3Es256Verifies) {
  auto key = publicKeyFromJwk(boost::json::parse(R"({"kty":"EC","crv":"P-256",
      "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})")
                                  .as_object());
  ASSERT_TRUE(key.has_value()) << key.error().detail;
  Jws jws =
      rfcJws("ES256", "eyJhbGciOiJFUzI1NiJ9",
             "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb"
             "290Ijp0cnVlfQ",
             "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-"
             "Kg6NU1Q");
  auto ok = verifyJwsSignature(jws, key->get());
  EXPECT_TRUE(ok.has_value()) << ok.error().detail;

  Jws tampered = jws;
  tampered.payload_b64 = b64("{\"iss\":\"mallory\"}");
  expectProblem(verifyJwsSignature(tampered, key->get()), ProblemType::kUnauthorized);
}

TEST(JwsTest, Rfc8037Ed25519Verifies) {
  auto key = publicKeyFromJwk(
      boost::json::parse(
          R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})")
          .as_object());
  ASSERT_TRUE(key.has_value()) << key.error().detail;
  Jws jws = rfcJws("EdDSA", "eyJhbGciOiJFZERTQSJ9", "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
                   "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvp"
                   "Ar_MuM0KAg");
  EXPECT_EQ(jws.payload, "Example of Ed25519 signing");
  auto ok = verifyJwsSignature(jws, key->get());
  EXPECT_TRUE(ok.has_value()) << ok.error().detail;

  Jws tampered = jws;
  tampered.signature[0] ^= 0x01;
  auto bad = verifyJwsSignature(tampered, key->get());
  expectProblem(bad, ProblemType::kUnauthorized);
  EXPECT_EQ(bad.error().detail, "JWS signature is invalid");
}

struct AlgCase {
  const char* alg;
  const char* type;             // "EC", "RSA", "ED25519", "ML-DSA-xx"
  const char* curve;            // EC only
  std::size_t signature_bytes;  // 0: key-dependent
};

class JwsRoundTripTest : public ::testing::TestWithParam<AlgCase> {
 protected:
  const EVP_PKEY* key() {
    const AlgCase& c = GetParam();
    if (std::string_view(c.type) == "RSA") return rsaKey();
    owned_ = generate(c.type, c.curve);
    return owned_.get();
  }
  crypto::PKey owned_;
};

TEST_P(JwsRoundTripTest, SignParseVerify) {
  const AlgCase& c = GetParam();
  if (std::string_view(c.type).starts_with("ML-DSA") && !mlDsa()) {
    GTEST_SKIP() << "OpenSSL lacks ML-DSA";
  }
  const EVP_PKEY* k = key();
  ASSERT_NE(k, nullptr);
  EXPECT_THAT(supportedAlgorithms(), Contains(c.alg));

  SignOptions options{kUrl, "nonce-1", std::nullopt, std::string(c.alg)};
  auto signed_body = signJws(k, options, R"({"identifiers":[]})");
  ASSERT_TRUE(signed_body.has_value()) << signed_body.error().detail;
  auto jws = parseJws(*signed_body);
  ASSERT_TRUE(jws.has_value()) << jws.error().detail;
  EXPECT_EQ(jws->header.alg, c.alg);
  EXPECT_EQ(jws->header.url, kUrl);
  EXPECT_EQ(jws->header.nonce, "nonce-1");
  EXPECT_FALSE(jws->header.kid.has_value());
  ASSERT_TRUE(jws->header.jwk.has_value());
  EXPECT_EQ(jws->payload, R"({"identifiers":[]})");
  EXPECT_FALSE(jws->isPostAsGet());
  if (c.signature_bytes != 0) {
    EXPECT_EQ(jws->signature.size(), c.signature_bytes);
  }

  // The server's path: key from the embedded JWK, then the signature.
  auto parsed_key = publicKeyFromJwk(*jws->header.jwk);
  ASSERT_TRUE(parsed_key.has_value()) << parsed_key.error().detail;
  auto ok = verifyJwsSignature(*jws, parsed_key->get());
  EXPECT_TRUE(ok.has_value()) << ok.error().detail;
  EXPECT_EQ(*jwkThumbprint(parsed_key->get()), *jwkThumbprint(k));

  Jws tampered_payload = *jws;
  tampered_payload.payload_b64 = b64(R"({"identifiers":[{}]})");
  auto bad = verifyJwsSignature(tampered_payload, parsed_key->get());
  expectProblem(bad, ProblemType::kUnauthorized);
  EXPECT_EQ(bad.error().detail, "JWS signature is invalid");

  Jws tampered_signature = *jws;
  tampered_signature.signature[tampered_signature.signature.size() / 3] ^= 0x20;
  expectProblem(verifyJwsSignature(tampered_signature, parsed_key->get()),
                ProblemType::kUnauthorized);

  // kid form and POST-as-GET.
  SignOptions kid_options{kUrl, "nonce-2", "https://ca.example/acct/7", std::string(c.alg)};
  auto get_body = signJws(k, kid_options, "");
  ASSERT_TRUE(get_body.has_value());
  auto get = parseJws(*get_body);
  ASSERT_TRUE(get.has_value()) << get.error().detail;
  EXPECT_TRUE(get->isPostAsGet());
  EXPECT_EQ(get->payload, "");
  EXPECT_EQ(get->header.kid, "https://ca.example/acct/7");
  EXPECT_FALSE(get->header.jwk.has_value());
  EXPECT_TRUE(verifyJwsSignature(*get, parsed_key->get()).has_value());
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

INSTANTIATE_TEST_SUITE_P(
    AllAlgorithms, JwsRoundTripTest,
    ::testing::Values(AlgCase{"ES256", "EC", "P-256", 64}, AlgCase{"ES384", "EC", "P-384", 96},
                      AlgCase{"ES512", "EC", "P-521", 132}, AlgCase{"RS256", "RSA", nullptr, 256},
                      AlgCase{"RS384", "RSA", nullptr, 256}, AlgCase{"RS512", "RSA", nullptr, 256},
                      AlgCase{"PS256", "RSA", nullptr, 256}, AlgCase{"PS384", "RSA", nullptr, 256},
                      AlgCase{"PS512", "RSA", nullptr, 256},
                      AlgCase{"EdDSA", "ED25519", nullptr, 64},
                      AlgCase{"ML-DSA-44", "ML-DSA-44", nullptr, 2420},
                      AlgCase{"ML-DSA-65", "ML-DSA-65", nullptr, 3309},
                      AlgCase{"ML-DSA-87", "ML-DSA-87", nullptr, 4627}),
    [](const ::testing::TestParamInfo<AlgCase>& info) {
      std::string name = info.param.alg;
      std::erase(name, '-');
      return name;
    });

TEST(JwsTest, SupportedAlgorithmsList) {
  const auto& algs = supportedAlgorithms();
  for (const char* alg :
       {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}) {
    EXPECT_THAT(algs, Contains(alg));
  }
  EXPECT_THAT(algs, Not(Contains("none")));
  EXPECT_THAT(algs, Not(Contains("HS256")));
  if (mlDsa()) {
    EXPECT_EQ(algs.size(), 13u);
    EXPECT_THAT(algs, Contains("ML-DSA-65"));
  } else {
    EXPECT_EQ(algs.size(), 10u);
    EXPECT_THAT(algs, Not(Contains("ML-DSA-65")));
  }
}

TEST(JwsTest, UnsupportedAlgorithmsAreBadSignatureAlgorithm) {
  for (const char* alg : {"none", "HS256", "HS512", "ES256K", "FOO", "", "es256", "Ed25519"}) {
    SCOPED_TRACE(alg);
    auto r = checkAlgorithmForKey(alg, p256Key());
    expectProblem(r, ProblemType::kBadSignatureAlgorithm);
    EXPECT_EQ(r.error().algorithms, supportedAlgorithms());
  }
  // The same through verification of a parsed JWS.
  auto jws = parseJws(body(R"({"alg":"none","kid":"k","url":"u"})", "e30", "AAAA"));
  ASSERT_TRUE(jws.has_value());
  auto r = verifyJwsSignature(*jws, p256Key());
  expectProblem(r, ProblemType::kBadSignatureAlgorithm);
  EXPECT_EQ(r.error().algorithms, supportedAlgorithms());
  // Untrusted text is not echoed when it is long.
  auto long_alg = checkAlgorithmForKey(std::string(500, 'A'), p256Key());
  ASSERT_FALSE(long_alg.has_value());
  EXPECT_LT(long_alg.error().detail.size(), 100u);
}

TEST(JwsTest, AlgorithmKeyMismatchIsBadSignatureAlgorithm) {
  auto p384 = generate("EC", "P-384");
  auto ed = generate("ED25519");
  ASSERT_NE(p384, nullptr);
  ASSERT_NE(ed, nullptr);
  const struct {
    const char* alg;
    const EVP_PKEY* key;
  } cases[] = {{"ES256", p384.get()}, {"ES384", p256Key()}, {"ES512", p256Key()},
               {"RS256", p256Key()},  {"PS256", ed.get()},  {"EdDSA", rsaKey()},
               {"EdDSA", p256Key()},  {"ES256", ed.get()},  {"ES256", rsaKey()},
               {"ES256", nullptr}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.alg);
    auto r = checkAlgorithmForKey(c.alg, c.key);
    expectProblem(r, ProblemType::kBadSignatureAlgorithm);
    EXPECT_THAT(r.error().detail, HasSubstr("does not match"));
    EXPECT_EQ(r.error().algorithms, supportedAlgorithms());
  }
  EXPECT_TRUE(checkAlgorithmForKey("ES384", p384.get()).has_value());
  EXPECT_TRUE(checkAlgorithmForKey("PS512", rsaKey()).has_value());

  // A signer asked for the wrong algorithm refuses rather than producing a bogus JWS.
  expectProblem(signJws(p256Key(), SignOptions{kUrl, "n", std::nullopt, "RS256"}, "{}"),
                ProblemType::kBadSignatureAlgorithm);

  if (mlDsa()) {
    auto ml44 = generate("ML-DSA-44");
    auto ml65 = generate("ML-DSA-65");
    expectProblem(checkAlgorithmForKey("ML-DSA-65", ml44.get()),
                  ProblemType::kBadSignatureAlgorithm);
    expectProblem(checkAlgorithmForKey("ML-DSA-44", ml65.get()),
                  ProblemType::kBadSignatureAlgorithm);
    expectProblem(checkAlgorithmForKey("EdDSA", ml65.get()), ProblemType::kBadSignatureAlgorithm);
    EXPECT_TRUE(checkAlgorithmForKey("ML-DSA-65", ml65.get()).has_value());
  } else {
    auto r = checkAlgorithmForKey("ML-DSA-65", p256Key());
    expectProblem(r, ProblemType::kBadSignatureAlgorithm);
    EXPECT_THAT(r.error().detail, HasSubstr("unsupported"));
  }
}

TEST(JwsTest, WrongLengthSignaturesAreMalformed) {
  auto signed_body = signJws(p256Key(), SignOptions{kUrl, "n", std::nullopt, std::nullopt}, "{}");
  ASSERT_TRUE(signed_body.has_value());
  auto jws = parseJws(*signed_body);
  ASSERT_TRUE(jws.has_value());
  Jws short_sig = *jws;
  short_sig.signature.pop_back();
  auto r = verifyJwsSignature(short_sig, p256Key());
  expectProblem(r, ProblemType::kMalformed);
  EXPECT_THAT(r.error().detail, HasSubstr("wrong signature length"));

  // A DER signature (what OpenSSL produces natively) is not the JWS form.
  Jws der = *jws;
  auto der_sig = crypto::signMessage(
      p256Key(), crypto::SignatureScheme::kEcdsaSha256,
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("x"), 1));
  ASSERT_TRUE(der_sig.has_value());
  der.signature = *der_sig;
  expectProblem(verifyJwsSignature(der, p256Key()), ProblemType::kMalformed);
}

TEST(JwsTest, WrongLengthMlDsaSignatureIsMalformed) {
  if (!mlDsa()) GTEST_SKIP() << "OpenSSL lacks ML-DSA";
  auto ml = generate("ML-DSA-65");
  auto ml_body = signJws(ml.get(), SignOptions{kUrl, "n", std::nullopt, std::nullopt}, "{}");
  ASSERT_TRUE(ml_body.has_value());
  auto ml_jws = parseJws(*ml_body);
  ASSERT_TRUE(ml_jws.has_value());
  ml_jws->signature.push_back(0);
  auto ml_r = verifyJwsSignature(*ml_jws, ml.get());
  expectProblem(ml_r, ProblemType::kMalformed);
  EXPECT_THAT(ml_r.error().detail, HasSubstr("wrong signature length"));
}

TEST(JwsTest, AlgorithmForKey) {
  auto p384 = generate("EC", "P-384");
  auto p521 = generate("EC", "P-521");
  auto ed = generate("ED25519");
  EXPECT_EQ(*algorithmForKey(p256Key()), "ES256");
  EXPECT_EQ(*algorithmForKey(p384.get()), "ES384");
  EXPECT_EQ(*algorithmForKey(p521.get()), "ES512");
  EXPECT_EQ(*algorithmForKey(rsaKey()), "RS256");
  EXPECT_EQ(*algorithmForKey(ed.get()), "EdDSA");
  auto k1 = generate("EC", "secp256k1");
  ASSERT_NE(k1, nullptr);
  expectProblem(algorithmForKey(k1.get()), ProblemType::kBadPublicKey);
  expectProblem(algorithmForKey(nullptr), ProblemType::kBadPublicKey);
  if (mlDsa()) {
    for (const char* level : {"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"}) {
      auto key = generate(level);
      EXPECT_EQ(*algorithmForKey(key.get()), level);
    }
  }
}

TEST(JwsTest, SignJwsDefaultsAndShape) {
  auto signed_body = signJws(rsaKey(), SignOptions{kUrl, std::nullopt, "acct", std::nullopt}, "p");
  ASSERT_TRUE(signed_body.has_value());
  auto obj = core::parseStrictJsonObject(*signed_body);
  ASSERT_TRUE(obj.has_value());
  EXPECT_EQ(obj->size(), 3u);
  auto header =
      boost::json::parse(*core::base64urlDecodeToString(obj->at("protected").as_string()));
  EXPECT_EQ(header.as_object().at("alg").as_string(), "RS256");
  EXPECT_EQ(header.as_object().at("kid").as_string(), "acct");
  EXPECT_FALSE(header.as_object().contains("nonce"));
  EXPECT_FALSE(header.as_object().contains("jwk"));
  auto jws = parseJws(*signed_body);
  ASSERT_TRUE(jws.has_value());
  EXPECT_FALSE(jws->header.nonce.has_value());
  EXPECT_EQ(jws->payload, "p");
}

TEST(JwsTest, ParsesMinimalJws) {
  auto jws = parseJws(body(kKidHeader, "", "AAAA"));
  ASSERT_TRUE(jws.has_value()) << jws.error().detail;
  EXPECT_EQ(jws->header.alg, "ES256");
  EXPECT_EQ(jws->header.kid, "https://ca.example/acct/1");
  EXPECT_EQ(jws->header.nonce, "n1");
  EXPECT_EQ(jws->header.url, "https://ca.example/x");
  EXPECT_TRUE(jws->isPostAsGet());
  EXPECT_EQ(jws->signature, (std::vector<std::uint8_t>{0, 0, 0}));
  EXPECT_EQ(jws->protected_b64, b64(kKidHeader));
  // Unknown header parameters are ignored (RFC 7515 §4), unlike crit.
  EXPECT_TRUE(parseJws(body(R"({"alg":"ES256","kid":"k","url":"u","typ":"x"})")).has_value());
}

TEST(JwsTest, RejectsMalformedBodies) {
  const std::string p = b64(kKidHeader);
  const struct {
    const char* name;
    std::string text;
  } cases[] = {
      {"compact serialization", p + ".e30.AAAA"},
      {"general serialization",
       R"({"payload":"e30","signatures":[{"protected":")" + p + R"(","signature":"AAAA"}]})"},
      {"unprotected header",
       R"({"protected":")" + p + R"(","header":{"kid":"k"},"payload":"e30","signature":"AAAA"})"},
      {"unknown member",
       R"({"protected":")" + p + R"(","payload":"e30","signature":"AAAA","extra":1})"},
      {"duplicate member in body",
       R"({"protected":")" + p + R"(","payload":"e30","signature":"AAAA","payload":"e30"})"},
      {"missing signature", R"({"protected":")" + p + R"(","payload":"e30"})"},
      {"missing payload", R"({"protected":")" + p + R"(","signature":"AAAA"})"},
      {"missing protected", R"({"payload":"e30","signature":"AAAA"})"},
      {"signature not a string", R"({"protected":")" + p + R"(","payload":"e30","signature":1})"},
      {"empty signature", body(kKidHeader, "e30", "")},
      {"empty protected", R"({"protected":"","payload":"e30","signature":"AAAA"})"},
      {"array body", "[]"},
      {"empty body", ""},
      {"invalid JSON", "{\"protected\":"},
      {"padded protected", R"({"protected":")" + b64(R"({"alg":"ES256","kid":"k","url":"u1"})") +
                               R"(=","payload":"e30","signature":"AAAA"})"},
      {"padded payload", body(kKidHeader, "e30=", "AAAA")},
      {"padded signature", body(kKidHeader, "e30", "AAA=")},
      {"standard alphabet signature", body(kKidHeader, "e30", "AA+/")},
      {"protected not JSON", body("not json")},
      {"protected not an object", body("[1]")},
      {"duplicate member in protected header",
       body(R"({"alg":"ES256","alg":"ES256","kid":"k","url":"u"})")},
      {"duplicate member in JWK",
       body(
           R"({"alg":"ES256","jwk":{"kty":"EC","kty":"EC","crv":"P-256","x":"A","y":"B"},"url":"u"})")},
      {"both jwk and kid", body(R"({"alg":"ES256","jwk":{"kty":"EC"},"kid":"k","url":"u"})")},
      {"neither jwk nor kid", body(R"({"alg":"ES256","url":"u"})")},
      {"missing url", body(R"({"alg":"ES256","kid":"k"})")},
      {"missing alg", body(R"({"kid":"k","url":"u"})")},
      {"alg not a string", body(R"({"alg":1,"kid":"k","url":"u"})")},
      {"url not a string", body(R"({"alg":"ES256","kid":"k","url":["u"]})")},
      {"kid not a string", body(R"({"alg":"ES256","kid":7,"url":"u"})")},
      {"jwk not an object", body(R"({"alg":"ES256","jwk":"k","url":"u"})")},
      {"nonce not a string", body(R"({"alg":"ES256","kid":"k","url":"u","nonce":1})")},
      {"b64", body(R"({"alg":"ES256","kid":"k","url":"u","b64":false})")},
      {"b64 true", body(R"({"alg":"ES256","kid":"k","url":"u","b64":true})")},
      {"crit", body(R"({"alg":"ES256","kid":"k","url":"u","crit":["exp"],"exp":1})")},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    expectProblem(parseJws(c.text), ProblemType::kMalformed);
  }
}

TEST(JwsTest, BoundsWork) {
  std::string huge(kMaxJwsBytes + 1, ' ');
  expectProblem(parseJws(huge), ProblemType::kPayloadTooLarge);
  // Deep nesting inside the protected header is refused, not recursed into.
  std::string deep = R"({"alg":"ES256","kid":"k","url":"u","x":)" + std::string(1000, '[') +
                     std::string(1000, ']') + "}";
  expectProblem(parseJws(body(deep)), ProblemType::kMalformed);
}

}  // namespace
}  // namespace akamu::jose
