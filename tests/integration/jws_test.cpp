// Request authentication (RFC 8555 §6.2-§6.5, RFC 7515): every rule is its own test, each
// sending a hand-made request to the real server.
#include <openssl/core_names.h>

#include "harness.hpp"

namespace akamu::itest {
namespace {

class Jws : public ::testing::Test {
 protected:
  TestServer& ts = sharedServer();
  std::string newAccountUrl() const { return ts.url("/acme/new-account"); }
  std::string newOrderUrl() const { return ts.url("/acme/new-order"); }

  std::string nonce(AcmeClient& c) {
    auto n = c.fetchNonce();
    EXPECT_TRUE(n);
    return n ? *n : std::string();
  }
  // A correctly signed JWS (jwk when kid is empty).
  std::string signedBody(const EVP_PKEY* key, const std::string& url, std::string_view payload,
                         std::optional<std::string> nonce_value, const std::string& kid = "") {
    jose::SignOptions o;
    o.url = url;
    o.nonce = std::move(nonce_value);
    if (!kid.empty()) o.kid = kid;
    auto jws = jose::signJws(key, o, payload);
    EXPECT_TRUE(jws) << (jws ? "" : jws.error().detail);
    return jws ? *jws : std::string();
  }
  static std::string orderPayload() {
    return R"({"identifiers":[{"type":"dns","value":")" + uniqueName() + "\"}]}";
  }
};

constexpr std::string_view kNewAccountPayload = R"({"termsOfServiceAgreed":true})";

TEST_F(Jws, WrongContentTypeIs415) {
  AcmeClient c = ts.client();
  auto body = signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, nonce(c));
  auto r = c.postRaw(newAccountUrl(), body, "application/json");
  EXPECT_TRUE(isProblem(r, 415, ProblemType::kUnsupportedMediaType));
  // The same body with the right media type (and a fresh nonce) is fine.
  body = signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, nonce(c));
  auto ok = c.postRaw(newAccountUrl(), body);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << describe(*ok);
}

TEST_F(Jws, BodyOverMaxBodyBytesIs413) {
  AcmeClient c = ts.client();
  const std::size_t limit = ts.server().config().server.max_body_bytes;
  std::string payload = R"({"termsOfServiceAgreed":true,"pad":")" + std::string(limit, 'a') + "\"}";
  auto body = signedBody(c.accountKey(), newAccountUrl(), payload, nonce(c));
  ASSERT_GT(body.size(), limit);
  auto r = c.postRaw(newAccountUrl(), body);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->status, 413) << describe(*r);
  // The server is still there for the next request (the client reconnects if it must).
  auto dir = c.http().request("GET", ts.directoryUrl());
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->status, 200);
}

void expectBadSignatureAlgorithm(const core::Result<HttpResponse>& r) {
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kBadSignatureAlgorithm));
  if (!r) return;
  auto p = client::parseProblem(*r);
  ASSERT_TRUE(p);
  // RFC 8555 §6.2: the problem lists the algorithms the server accepts.
  EXPECT_FALSE(p->algorithms.empty()) << r->body;
  EXPECT_NE(std::find(p->algorithms.begin(), p->algorithms.end(), "ES256"), p->algorithms.end());
  EXPECT_EQ(std::find(p->algorithms.begin(), p->algorithms.end(), "none"), p->algorithms.end());
  for (const auto& a : p->algorithms) EXPECT_NE(a.rfind("HS", 0), 0u) << a;
}

TEST_F(Jws, AlgNoneIsBadSignatureAlgorithm) {
  AcmeClient c = ts.client();
  auto header = protectedHeader("none", c.accountKey(), "", nonce(c), newAccountUrl());
  json::object body{{"protected", core::base64urlEncode(header)},
                    {"payload", core::base64urlEncode(kNewAccountPayload)},
                    {"signature", core::base64urlEncode(std::string_view("x"))}};
  expectBadSignatureAlgorithm(c.postRaw(newAccountUrl(), json::serialize(body)));
}

TEST_F(Jws, Hs256IsBadSignatureAlgorithm) {
  AcmeClient c = ts.client();
  auto header = protectedHeader("HS256", c.accountKey(), "", nonce(c), newAccountUrl());
  // Any MAC-looking value: the server must refuse the algorithm, not try a key on it.
  json::object body{{"protected", core::base64urlEncode(header)},
                    {"payload", core::base64urlEncode(kNewAccountPayload)},
                    {"signature", core::base64urlEncode(std::string(32, '\x5a'))}};
  expectBadSignatureAlgorithm(c.postRaw(newAccountUrl(), json::serialize(body)));
}

TEST_F(Jws, AlgorithmThatDoesNotFitTheKeyIsRefused) {
  AcmeClient c = ts.client();  // P-256 key
  // ES384 claimed for a P-256 key (the signature itself is a valid ES256 one).
  auto header = protectedHeader("ES384", c.accountKey(), "", nonce(c), newAccountUrl());
  expectBadSignatureAlgorithm(
      c.postRaw(newAccountUrl(), craftJws(c.accountKey(), header, kNewAccountPayload)));
  // RS256 claimed for an EC key.
  header = protectedHeader("RS256", c.accountKey(), "", nonce(c), newAccountUrl());
  expectBadSignatureAlgorithm(
      c.postRaw(newAccountUrl(), craftJws(c.accountKey(), header, kNewAccountPayload)));
  // EdDSA claimed for an EC key.
  header = protectedHeader("EdDSA", c.accountKey(), "", nonce(c), newAccountUrl());
  expectBadSignatureAlgorithm(
      c.postRaw(newAccountUrl(), craftJws(c.accountKey(), header, kNewAccountPayload)));
  // Nothing was created by any of them.
  EXPECT_TRUE(isProblem(c.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));
}

TEST_F(Jws, BadSignatureIsUnauthorized) {
  AcmeClient c = ts.client();
  auto header = protectedHeader("ES256", c.accountKey(), "", nonce(c), newAccountUrl());
  auto r = c.postRaw(newAccountUrl(), craftJws(c.accountKey(), header, kNewAccountPayload, true));
  EXPECT_TRUE(isProblem(r, 403, ProblemType::kUnauthorized));
  EXPECT_TRUE(isProblem(c.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));

  // Same for a kid request of an existing account.
  AcmeClient a = ts.account();
  header = protectedHeader("ES256", a.accountKey(), a.accountUrl(), nonce(a), newOrderUrl());
  auto r2 = a.postRaw(newOrderUrl(), craftJws(a.accountKey(), header, orderPayload(), true));
  EXPECT_TRUE(isProblem(r2, 403, ProblemType::kUnauthorized));
}

TEST_F(Jws, SignatureByAnotherKeyIsUnauthorized) {
  AcmeClient a = ts.account();
  auto other = makeKey();
  // kid of account A, signed with some other P-256 key.
  auto header = protectedHeader("ES256", a.accountKey(), a.accountUrl(), nonce(a), newOrderUrl());
  auto r = a.postRaw(newOrderUrl(), craftJws(other.get(), header, orderPayload()));
  EXPECT_TRUE(isProblem(r, 403, ProblemType::kUnauthorized));
}

TEST_F(Jws, UrlMismatchIsUnauthorized) {
  AcmeClient c = ts.client();
  // Signed for new-order, sent to new-account.
  auto body = signedBody(c.accountKey(), newOrderUrl(), kNewAccountPayload, nonce(c));
  EXPECT_TRUE(isProblem(c.postRaw(newAccountUrl(), body), 403, ProblemType::kUnauthorized));
  // A different host spelling of the same resource does not match either.
  std::string other_host = newAccountUrl();
  other_host.replace(other_host.find("127.0.0.1"), 9, "localhost");
  body = signedBody(c.accountKey(), other_host, kNewAccountPayload, nonce(c));
  EXPECT_TRUE(isProblem(c.postRaw(newAccountUrl(), body), 403, ProblemType::kUnauthorized));
}

TEST_F(Jws, MissingNonceIsBadNonceAndTheFreshNonceWorks) {
  AcmeClient c = ts.client();
  auto body = signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, std::nullopt);
  auto r = c.postRaw(newAccountUrl(), body);
  ASSERT_TRUE(isProblem(r, 400, ProblemType::kBadNonce));
  const std::string fresh = r->header("replay-nonce");
  ASSERT_FALSE(fresh.empty());
  auto ok = c.postRaw(newAccountUrl(),
                      signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, fresh));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << describe(*ok);
}

TEST_F(Jws, ReusedNonceIsBadNonce) {
  AcmeClient c = ts.client();
  const std::string n = nonce(c);
  auto first = c.postRaw(newAccountUrl(),
                         signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, n));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << describe(*first);
  auto second = c.postRaw(newAccountUrl(),
                          signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, n));
  ASSERT_TRUE(isProblem(second, 400, ProblemType::kBadNonce));
  const std::string fresh = second->header("replay-nonce");
  ASSERT_FALSE(fresh.empty());
  EXPECT_NE(fresh, n);
  auto third = c.postRaw(newAccountUrl(),
                         signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, fresh));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 200) << describe(*third);
}

TEST_F(Jws, MadeUpNonceIsBadNonceAndTheFreshNonceWorks) {
  AcmeClient c = ts.client();
  for (std::string made_up :
       {std::string("AAAAAAAAAAAAAAAAAAAAAA"), std::string("not-a-nonce"), std::string("")}) {
    auto r = c.postRaw(newAccountUrl(),
                       signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, made_up));
    ASSERT_TRUE(isProblem(r, 400, ProblemType::kBadNonce)) << "nonce '" << made_up << "'";
    ASSERT_FALSE(r->header("replay-nonce").empty());
  }
  auto r = c.postRaw(newAccountUrl(), signedBody(c.accountKey(), newAccountUrl(),
                                                 kNewAccountPayload, "bm90LWEtcmVhbC1ub25jZQ"));
  ASSERT_TRUE(isProblem(r, 400, ProblemType::kBadNonce));
  auto ok = c.postRaw(newAccountUrl(), signedBody(c.accountKey(), newAccountUrl(),
                                                  kNewAccountPayload, r->header("replay-nonce")));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << describe(*ok);
}

TEST_F(Jws, NonceOfAnotherServerIsBadNonce) {
  auto other = TestServer::start();
  ASSERT_TRUE(other);
  AcmeClient foreign = other->client();
  auto foreign_nonce = foreign.fetchNonce();
  ASSERT_TRUE(foreign_nonce);
  AcmeClient c = ts.client();
  auto r = c.postRaw(newAccountUrl(), signedBody(c.accountKey(), newAccountUrl(),
                                                 kNewAccountPayload, *foreign_nonce));
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kBadNonce));
}

TEST_F(Jws, BadlySignedRequestDoesNotSpendTheNonce) {
  // Project design (docs/architecture.md): only a correctly signed request consumes a nonce,
  // so a forged request cannot burn a client's nonce.
  AcmeClient c = ts.client();
  const std::string n = nonce(c);
  auto header = protectedHeader("ES256", c.accountKey(), "", n, newAccountUrl());
  auto forged =
      c.postRaw(newAccountUrl(), craftJws(c.accountKey(), header, kNewAccountPayload, true));
  EXPECT_TRUE(isProblem(forged, 403, ProblemType::kUnauthorized));
  auto ok = c.postRaw(newAccountUrl(),
                      signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, n));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << describe(*ok);
}

TEST_F(Jws, KidOnNewAccountIsMalformed) {
  AcmeClient a = ts.account();
  auto body =
      signedBody(a.accountKey(), newAccountUrl(), kNewAccountPayload, nonce(a), a.accountUrl());
  EXPECT_TRUE(isProblem(a.postRaw(newAccountUrl(), body), 400, ProblemType::kMalformed));
}

TEST_F(Jws, JwkOnNewOrderIsMalformed) {
  AcmeClient a = ts.account();
  auto body = signedBody(a.accountKey(), newOrderUrl(), orderPayload(), nonce(a));
  EXPECT_TRUE(isProblem(a.postRaw(newOrderUrl(), body), 400, ProblemType::kMalformed));
  // And with kid it works.
  body = signedBody(a.accountKey(), newOrderUrl(), orderPayload(), nonce(a), a.accountUrl());
  auto ok = a.postRaw(newOrderUrl(), body);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << describe(*ok);
}

TEST_F(Jws, BothJwkAndKidIsMalformed) {
  AcmeClient a = ts.account();
  json::object h{{"alg", "ES256"},
                 {"jwk", json::parse(jwkJson(a.accountKey()))},
                 {"kid", a.accountUrl()},
                 {"nonce", nonce(a)},
                 {"url", newOrderUrl()}};
  auto r = a.postRaw(newOrderUrl(), craftJws(a.accountKey(), json::serialize(h), orderPayload()));
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kMalformed));
}

TEST_F(Jws, KidOfUnknownAccountIsAccountDoesNotExist) {
  AcmeClient c = ts.client();
  const std::string kid = ts.url("/acme/account/NoSuchAccount123");
  auto body = signedBody(c.accountKey(), newOrderUrl(), orderPayload(), nonce(c), kid);
  EXPECT_TRUE(isProblem(c.postRaw(newOrderUrl(), body), 400, ProblemType::kAccountDoesNotExist));
}

TEST_F(Jws, DuplicateMemberInJwsBodyIsMalformed) {
  AcmeClient c = ts.client();
  auto body = signedBody(c.accountKey(), newAccountUrl(), kNewAccountPayload, nonce(c));
  auto obj = json::parse(body).as_object();
  // Re-serialize by hand with "payload" twice (second copy differs).
  std::string dup = "{\"protected\":" + json::serialize(obj.at("protected")) +
                    ",\"payload\":" + json::serialize(obj.at("payload")) +
                    ",\"signature\":" + json::serialize(obj.at("signature")) + ",\"payload\":\"" +
                    core::base64urlEncode(std::string_view("{}")) + "\"}";
  EXPECT_TRUE(isProblem(c.postRaw(newAccountUrl(), dup), 400, ProblemType::kMalformed));
  EXPECT_TRUE(isProblem(c.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));
}

TEST_F(Jws, DuplicateMemberInProtectedHeaderIsMalformed) {
  AcmeClient a = ts.account();
  // "url" twice: the first is the right one, the second points elsewhere.
  std::string header = "{\"alg\":\"ES256\",\"kid\":\"" + a.accountUrl() + "\",\"nonce\":\"" +
                       nonce(a) + "\",\"url\":\"" + newOrderUrl() + "\",\"url\":\"" +
                       ts.url("/acme/revoke-cert") + "\"}";
  auto r = a.postRaw(newOrderUrl(), craftJws(a.accountKey(), header, orderPayload()));
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kMalformed));
}

TEST_F(Jws, DuplicateMemberInPayloadIsMalformed) {
  AcmeClient a = ts.account();
  std::string payload = R"({"identifiers":[{"type":"dns","value":")" + uniqueName() +
                        R"("}],"identifiers":[{"type":"dns","value":")" + uniqueName() + "\"}]}";
  auto body = signedBody(a.accountKey(), newOrderUrl(), payload, nonce(a), a.accountUrl());
  EXPECT_TRUE(isProblem(a.postRaw(newOrderUrl(), body), 400, ProblemType::kMalformed));
  // Nested duplicates too.
  payload = R"({"identifiers":[{"type":"dns","type":"dns","value":")" + uniqueName() + "\"}]}";
  body = signedBody(a.accountKey(), newOrderUrl(), payload, nonce(a), a.accountUrl());
  EXPECT_TRUE(isProblem(a.postRaw(newOrderUrl(), body), 400, ProblemType::kMalformed));
}

TEST_F(Jws, NotAJwsIsMalformed) {
  AcmeClient c = ts.client();
  for (std::string body : {std::string("{not json"), std::string("[]"), std::string("{}"),
                           std::string(R"({"protected":"e30","payload":"","signature":"AA",)"
                                       R"("header":{}})")}) {
    EXPECT_TRUE(isProblem(c.postRaw(newAccountUrl(), body), 400, ProblemType::kMalformed)) << body;
  }
}

crypto::PKey rsaKey(int bits) {
  crypto::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    ADD_FAILURE() << "RSA keygen failed";
  }
  return crypto::PKey(raw);
}

std::string bnParamB64(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, bytes.data());
  BN_free(bn);
  return core::base64urlEncode(bytes);
}

TEST_F(Jws, Rsa1024AccountKeyIsBadPublicKey) {
  auto key = rsaKey(1024);
  ASSERT_TRUE(key);
  AcmeClient c = ts.client();
  json::object jwk{{"e", bnParamB64(key.get(), OSSL_PKEY_PARAM_RSA_E)},
                   {"kty", "RSA"},
                   {"n", bnParamB64(key.get(), OSSL_PKEY_PARAM_RSA_N)}};
  json::object h{{"alg", "RS256"}, {"jwk", jwk}, {"nonce", nonce(c)}, {"url", newAccountUrl()}};
  auto r = c.postRaw(newAccountUrl(), craftJws(key.get(), json::serialize(h), kNewAccountPayload));
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kBadPublicKey));
}

TEST_F(Jws, DeactivatedAccountIsUnauthorized) {
  AcmeClient a = ts.account();
  ASSERT_TRUE(a.deactivateAccount());
  auto body = signedBody(a.accountKey(), newOrderUrl(), orderPayload(), nonce(a), a.accountUrl());
  EXPECT_TRUE(isProblem(a.postRaw(newOrderUrl(), body), 401, ProblemType::kUnauthorized));
}

TEST_F(Jws, OtherAccountKeyTypesAuthenticate) {
  for (const char* type : {"ec:P-384", "ec:P-521", "ed25519"}) {
    AcmeClient c = ts.account(type);
    ASSERT_FALSE(c.accountUrl().empty()) << type;
    auto order = c.newOrder({dns(uniqueName())});
    EXPECT_TRUE(order) << type << ": " << (order ? "" : order.error().detail);
  }
}

}  // namespace
}  // namespace akamu::itest
