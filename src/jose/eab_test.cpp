#include "jose/eab.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "core/base64url.hpp"
#include "crypto/handles.hpp"
#include "crypto/mac.hpp"
#include "jose/jwk.hpp"

namespace akamu::jose {
namespace {

using core::ProblemType;
using ::testing::HasSubstr;

namespace json = boost::json;

constexpr const char* kUrl = "https://ca.example/acme/new-account";
constexpr const char* kKid = "kid-123";

const std::vector<std::uint8_t>& macKey() {
  static const std::vector<std::uint8_t> key(32, 0x5a);
  return key;
}

crypto::PKey newKey() { return crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

struct Outer {
  crypto::PKey key;
  json::object jwk;
  std::string canonical;
};
Outer outer() {
  Outer o{newKey(), {}, {}};
  o.jwk = *publicKeyToJwk(o.key.get());
  o.canonical = *canonicalJwkJson(o.jwk);
  return o;
}

std::string b64(std::string_view s) { return core::base64urlEncode(s); }

// A binding with this header and payload, MACed correctly with macKey() under `digest`.
json::object binding(const json::object& header, std::string_view payload_json,
                     crypto::HmacDigest digest = crypto::HmacDigest::kSha256) {
  const std::string p = b64(json::serialize(header));
  const std::string pl = b64(payload_json);
  const std::string input = p + "." + pl;
  auto mac = crypto::hmac(digest, macKey(),
                          {reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
  return {{"protected", p}, {"payload", pl}, {"signature", core::base64urlEncode(*mac)}};
}

template <class T>
void expectProblem(const T& r, ProblemType type, std::string_view detail_part = "") {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, type) << r.error().detail;
  EXPECT_THAT(r.error().detail, HasSubstr(std::string(detail_part)));
}

TEST(Eab, SignedBindingParsesAndVerifies) {
  auto o = outer();
  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    auto signed_binding = signExternalAccountBinding(kKid, macKey(), kUrl, o.jwk, alg);
    ASSERT_TRUE(signed_binding) << signed_binding.error().detail;
    auto parsed = parseExternalAccountBinding(*signed_binding, kUrl, o.canonical);
    ASSERT_TRUE(parsed) << alg << ": " << parsed.error().detail;
    EXPECT_EQ(parsed->kid, kKid);
    EXPECT_EQ(parsed->alg, alg);
    EXPECT_TRUE(verifyExternalAccountBinding(*parsed, macKey())) << alg;
  }
}

TEST(Eab, BadMacOrOtherKeyIsUnauthorized) {
  auto o = outer();
  auto b = signExternalAccountBinding(kKid, macKey(), kUrl, o.jwk);
  ASSERT_TRUE(b);
  // A flipped bit in the MAC.
  auto mac = *core::base64urlDecode(std::string((*b)["signature"].as_string()));
  mac[5] ^= 1;
  json::object tampered = *b;
  tampered["signature"] = core::base64urlEncode(mac);
  auto parsed = parseExternalAccountBinding(tampered, kUrl, o.canonical);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  expectProblem(verifyExternalAccountBinding(*parsed, macKey()), ProblemType::kUnauthorized,
                "MAC is invalid");
  // The right MAC under another key.
  auto good = parseExternalAccountBinding(*b, kUrl, o.canonical);
  ASSERT_TRUE(good);
  const std::vector<std::uint8_t> other(32, 0x5b);
  expectProblem(verifyExternalAccountBinding(*good, other), ProblemType::kUnauthorized);
}

TEST(Eab, WrongKidVerifiesUnderNoOtherKid) {
  // The kid is inside the MACed header: changing it breaks the MAC.
  auto o = outer();
  auto b = signExternalAccountBinding(kKid, macKey(), kUrl, o.jwk);
  ASSERT_TRUE(b);
  auto header_text = *core::base64urlDecodeToString(std::string((*b)["protected"].as_string()));
  auto header = json::parse(header_text).as_object();
  header["kid"] = "kid-other";
  json::object swapped = *b;
  swapped["protected"] = b64(json::serialize(header));
  auto parsed = parseExternalAccountBinding(swapped, kUrl, o.canonical);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->kid, "kid-other");
  expectProblem(verifyExternalAccountBinding(*parsed, macKey()), ProblemType::kUnauthorized);
}

TEST(Eab, OnlyMacAlgorithmsAreAccepted) {
  auto o = outer();
  for (const char* alg : {"none", "ES256", "RS256", "EdDSA", "HS1", "hs256", ""}) {
    auto b = binding({{"alg", alg}, {"kid", kKid}, {"url", kUrl}}, o.canonical);
    expectProblem(parseExternalAccountBinding(b, kUrl, o.canonical), ProblemType::kMalformed,
                  "MAC algorithm");
  }
  EXPECT_FALSE(signExternalAccountBinding(kKid, macKey(), kUrl, o.jwk, "ES256"));
}

TEST(Eab, HeaderIsExactlyAlgKidUrl) {
  auto o = outer();
  auto nonce =
      binding({{"alg", "HS256"}, {"kid", kKid}, {"url", kUrl}, {"nonce", "abc"}}, o.canonical);
  expectProblem(parseExternalAccountBinding(nonce, kUrl, o.canonical), ProblemType::kMalformed,
                "nonce");
  auto jwk = binding({{"alg", "HS256"}, {"kid", kKid}, {"url", kUrl}, {"jwk", o.jwk}}, o.canonical);
  expectProblem(parseExternalAccountBinding(jwk, kUrl, o.canonical), ProblemType::kMalformed);
  auto no_kid = binding({{"alg", "HS256"}, {"url", kUrl}}, o.canonical);
  expectProblem(parseExternalAccountBinding(no_kid, kUrl, o.canonical), ProblemType::kMalformed,
                "kid");
  auto int_kid = binding({{"alg", "HS256"}, {"kid", 5}, {"url", kUrl}}, o.canonical);
  expectProblem(parseExternalAccountBinding(int_kid, kUrl, o.canonical), ProblemType::kMalformed);
  auto no_url = binding({{"alg", "HS256"}, {"kid", kKid}}, o.canonical);
  expectProblem(parseExternalAccountBinding(no_url, kUrl, o.canonical), ProblemType::kMalformed,
                "url");
}

TEST(Eab, UrlMustBeTheOuterUrl) {
  auto o = outer();
  auto b = signExternalAccountBinding(kKid, macKey(), "https://ca.example/acme/new-order", o.jwk);
  ASSERT_TRUE(b);
  expectProblem(parseExternalAccountBinding(*b, kUrl, o.canonical), ProblemType::kMalformed,
                "newAccount URL");
}

TEST(Eab, PayloadMustBeTheOuterKeyComparedAsJwk) {
  auto o = outer();
  // Another key: refused.
  auto other = outer();
  auto b = signExternalAccountBinding(kKid, macKey(), kUrl, other.jwk);
  ASSERT_TRUE(b);
  expectProblem(parseExternalAccountBinding(*b, kUrl, o.canonical), ProblemType::kMalformed,
                "account key");
  // The same key with its members in another order and an extra member: the same JWK.
  json::object reordered;
  reordered["y"] = o.jwk["y"];
  reordered["x"] = o.jwk["x"];
  reordered["kty"] = "EC";
  reordered["crv"] = "P-256";
  reordered["use"] = "sig";
  auto same = binding({{"alg", "HS256"}, {"kid", kKid}, {"url", kUrl}}, json::serialize(reordered));
  auto parsed = parseExternalAccountBinding(same, kUrl, o.canonical);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_TRUE(verifyExternalAccountBinding(*parsed, macKey()));
  // Not JSON / not a JWK / empty.
  for (const char* payload : {"not json", "{}", "[]", ""}) {
    auto bad = binding({{"alg", "HS256"}, {"kid", kKid}, {"url", kUrl}}, payload);
    expectProblem(parseExternalAccountBinding(bad, kUrl, o.canonical), ProblemType::kMalformed);
  }
}

TEST(Eab, ShapeAndMacLength) {
  auto o = outer();
  expectProblem(parseExternalAccountBinding(json::value("x"), kUrl, o.canonical),
                ProblemType::kMalformed);
  auto b = *signExternalAccountBinding(kKid, macKey(), kUrl, o.jwk);
  json::object extra = b;
  extra["header"] = json::object{};
  expectProblem(parseExternalAccountBinding(extra, kUrl, o.canonical), ProblemType::kMalformed);
  json::object missing = b;
  missing.erase("signature");
  expectProblem(parseExternalAccountBinding(missing, kUrl, o.canonical), ProblemType::kMalformed);
  json::object short_mac = b;
  short_mac["signature"] = core::base64urlEncode(std::string(31, 'a'));
  expectProblem(parseExternalAccountBinding(short_mac, kUrl, o.canonical), ProblemType::kMalformed,
                "wrong length");
  json::object padded = b;
  padded["protected"] = std::string(b["protected"].as_string()) + "=";
  expectProblem(parseExternalAccountBinding(padded, kUrl, o.canonical), ProblemType::kMalformed);
}

TEST(Eab, MacKeyTextIsBase64urlOrStandardBase64) {
  // 0xfb 0xff 0xfe: "-__-" in base64url, "+//+" in base64.
  const std::vector<std::uint8_t> key{0xfb, 0xff, 0xbe};
  EXPECT_EQ(decodeMacKey("-_--"), key);
  EXPECT_EQ(decodeMacKey("+/++"), key);
  // Padding only where base64 needs it.
  const std::vector<std::uint8_t> two{0xfb, 0xff};
  EXPECT_EQ(decodeMacKey("-_8"), two);
  EXPECT_EQ(decodeMacKey("+/8="), two);
  EXPECT_FALSE(decodeMacKey("+/8"));    // standard base64 must be padded
  EXPECT_FALSE(decodeMacKey("-_8="));   // base64url is not
  EXPECT_FALSE(decodeMacKey("+_8="));   // mixed alphabets
  EXPECT_FALSE(decodeMacKey("+/++ "));  // whitespace
  EXPECT_FALSE(decodeMacKey("+/+=="));  // too much padding
  EXPECT_FALSE(decodeMacKey(""));
  EXPECT_FALSE(decodeMacKey("a"));
}

}  // namespace
}  // namespace akamu::jose
