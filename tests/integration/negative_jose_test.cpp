// Negative suite, JOSE (RFC 8555 §6.1-§6.5, RFC 7515, RFC 7518, RFC 7517): every request here is
// refused, with the status and problem type the RFCs name, and a nonce, the index link and a
// well-formed problem document (checked for every case by neg::checkOutcome).
#include <openssl/core_names.h>

#include "harness.hpp"

namespace akamu::itest {
namespace {

using neg::Case;
using neg::Expect;
using neg::Outcome;

constexpr std::string_view kTos = R"({"termsOfServiceAgreed":true})";

TestServer& server() { return sharedServer(); }
std::string newAccountUrl() { return server().url("/acme/new-account"); }
std::string newOrderUrl() { return server().url("/acme/new-order"); }
std::string b64(std::string_view s) { return core::base64urlEncode(s); }
std::string orderPayload() {
  return R"({"identifiers":[{"type":"dns","value":")" + uniqueName("neg") + "\"}]}";
}

Expect malformed() { return neg::problem(400, {"malformed"}); }
Expect badNonce() { return neg::problem(400, {"badNonce"}); }
Expect unauthorized() { return neg::problem(403, {"unauthorized"}); }
Expect badPublicKey() { return neg::problem(400, {"badPublicKey"}); }
Expect badSigAlg() { return neg::problem(400, {"badSignatureAlgorithm"}); }

// What a body builder gets: the signing key, a fresh nonce, the URL it must sign for, and (for
// kid requests) the account URL.
struct Req {
  const EVP_PKEY* key;
  std::string nonce;
  std::string url;
  std::string kid;
};
using Make = std::function<std::string(const Req&)>;

std::string jwkHeader(const Req& q, std::string_view alg = "ES256") {
  return protectedHeader(alg, q.key, "", q.nonce, q.url);
}
std::string kidHeader(const Req& q, std::string_view alg = "ES256") {
  return protectedHeader(alg, q.key, q.kid, q.nonce, q.url);
}
std::string signedBody(const EVP_PKEY* key, std::string_view header, std::string_view payload) {
  return neg::signedFlatJws(key, b64(header), payload.empty() ? "" : b64(payload));
}

// The body `make` builds, posted to newAccount by a client that has no account (key of
// `key_type`); the refused request must not have created one. `query` is appended to the
// request URL only (not to the URL the body is signed for).
Outcome toNewAccount(Make make, std::string content_type = "application/jose+json",
                     std::string_view key_type = "ec:P-256", std::string query = "") {
  auto c = std::make_shared<AcmeClient>(server().client(key_type));
  Req q{c->accountKey(), c->fetchNonce().value_or(""), newAccountUrl(), ""};
  Outcome o;
  o.response = c->postRaw(q.url + query, make(q), content_type);
  o.extra = [c](const HttpResponse&) {
    EXPECT_TRUE(isProblem(c->newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist))
        << "the refused request created an account";
  };
  return o;
}

// The body `make` builds, posted to newOrder with an account's kid; nothing may be ordered.
Outcome toNewOrder(Make make) {
  auto a = std::make_shared<AcmeClient>(server().account());
  Req q{a->accountKey(), a->fetchNonce().value_or(""), newOrderUrl(), a->accountUrl()};
  Outcome o;
  o.response = a->postRaw(q.url, make(q));
  o.extra = [a](const HttpResponse&) {
    auto list = fetch(*a, a->accountUrl() + "/orders");
    EXPECT_TRUE(list.contains("orders") && list.at("orders").as_array().empty())
        << "the refused request created an order: " << json::serialize(list);
  };
  return o;
}

// A JWS whose only fault is `fault` applied to one base64url member after signing over it.
enum class Part { kProtected, kPayload };
Outcome encodingFault(Part part, const std::function<std::string(std::string)>& fault) {
  return toNewAccount([part, fault](const Req& q) {
    std::string p = b64(jwkHeader(q));
    std::string pl = b64(kTos);
    (part == Part::kProtected ? p : pl) = fault(part == Part::kProtected ? p : pl);
    return neg::signedFlatJws(q.key, p, pl);
  });
}

// base64url of `text` with the '=' padding RFC 7515 §2 strips; whitespace is added after the
// opening brace until the encoding needs padding.
std::string paddedB64(std::string text) {
  while (text.size() % 3 == 0) text.insert(1, " ");
  std::string s = b64(text);
  s.append((4 - s.size() % 4) % 4, '=');
  return s;
}

std::string insertMiddle(std::string s, std::string_view what) {
  s.insert(s.size() / 2, what);
  return s;
}

// Standard base64 alphabet ('+', '/') instead of base64url ('-', '_'); "" when there is neither.
std::string toStdAlphabet(std::string s) {
  bool changed = false;
  for (auto& ch : s) {
    if (ch == '-' || ch == '_') {
      ch = ch == '-' ? '+' : '/';
      changed = true;
    }
  }
  return changed ? s : std::string();
}

// The flattened JWS with its signature replaced by `sig` (raw bytes).
std::string withSignature(const std::string& body, std::span<const std::uint8_t> sig) {
  auto o = json::parse(body).as_object();
  return neg::flatJws(o.at("protected").as_string(), o.at("payload").as_string(),
                      core::base64urlEncode(sig));
}

std::vector<std::uint8_t> signatureOf(const std::string& body) {
  return core::base64urlDecode(json::parse(body).as_object().at("signature").as_string()).value();
}

json::object jwkOf(const EVP_PKEY* key) { return jose::publicKeyToJwk(key).value(); }

std::string bnB64(const EVP_PKEY* key, const char* param, std::size_t width = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, param, &bn), 1) << param;
  if (bn == nullptr) return "";
  std::vector<std::uint8_t> bytes(width ? width : static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2binpad(bn, bytes.data(), static_cast<int>(bytes.size()));
  BN_clear_free(bn);
  return core::base64urlEncode(bytes);
}

crypto::PKey ecKeyOnCurve(const char* group) {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group);
  EXPECT_NE(raw, nullptr) << group;
  return crypto::PKey(raw);
}

crypto::PKey rsaKey(int bits) {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  EXPECT_NE(raw, nullptr);
  return crypto::PKey(raw);
}

// A header with `jwk` as given (any JSON text) in place of the client's key.
std::string headerWithJwk(const Req& q, const std::string& jwk_json, std::string_view alg) {
  return R"({"alg":")" + std::string(alg) + R"(","jwk":)" + jwk_json + R"(,"nonce":")" + q.nonce +
         R"(","url":")" + q.url + "\"}";
}

Outcome withJwk(std::function<std::string(const Req&)> jwk_json, std::string_view alg = "ES256") {
  std::string a(alg);
  return toNewAccount([jwk_json, a](const Req& q) {
    return signedBody(q.key, headerWithJwk(q, jwk_json(q), a), kTos);
  });
}

// A jwk header with `member` set to `value` (JSON) on top of the usual members.
std::string jwkHeaderWith(const Req& q, std::string_view member, json::value value) {
  auto h = json::parse(jwkHeader(q)).as_object();
  h[member] = std::move(value);
  return json::serialize(h);
}
std::string jwkHeaderWithout(const Req& q, std::string_view member) {
  auto h = json::parse(jwkHeader(q)).as_object();
  h.erase(member);
  return json::serialize(h);
}

// RFC 8555 §6.2: the badSignatureAlgorithm problem MUST list the algorithms the server accepts.
void algorithmsListed(const HttpResponse& r) {
  auto body = jsonBody(r);
  const auto* algs = body.if_contains("algorithms");
  ASSERT_TRUE(algs != nullptr && algs->is_array() && !algs->as_array().empty()) << r.body;
  bool es256 = false;
  for (const auto& a : algs->as_array()) {
    ASSERT_TRUE(a.is_string()) << r.body;
    const std::string name(a.as_string());
    es256 = es256 || name == "ES256";
    EXPECT_NE(name, "none") << r.body;
    EXPECT_NE(name.rfind("HS", 0), 0u) << r.body;
  }
  EXPECT_TRUE(es256) << "ES256 is mandatory to implement (RFC 8555 §6.2): " << r.body;
}

Outcome badAlg(Make make, std::string_view key_type = "ec:P-256") {
  Outcome o = toNewAccount(std::move(make), "application/jose+json", key_type);
  auto created = o.extra;
  o.extra = [created](const HttpResponse& r) {
    algorithmsListed(r);
    created(r);
  };
  return o;
}

std::vector<Case> joseCases() {
  std::vector<Case> cases;
  auto add = [&cases](std::string name, std::function<Outcome()> run, std::vector<Expect> e) {
    cases.push_back(Case{std::move(name), std::move(run), std::move(e)});
  };
  auto raw = [](std::string body) {
    return [body] { return toNewAccount([body](const Req&) { return body; }); };
  };

  // --- §6.2: "The JWS MUST be in the Flattened JSON Serialization" (RFC 7515 §7.2.2).
  add("BodyNotJson", raw("{not json"), {malformed()});
  add("BodyJsonArray", raw("[]"), {malformed()});
  add("BodyJsonString", raw("\"eyJhbGciOiJFUzI1NiJ9\""), {malformed()});
  add("BodyEmpty", raw(""), {malformed()});
  add("BodyTrailingGarbage",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeader(q), kTos) + "x"; });
      },
      {malformed()});
  add("CompactSerialization",
      [] {
        return toNewAccount([](const Req& q) {
          auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
          return std::string(o.at("protected").as_string()) + "." +
                 std::string(o.at("payload").as_string()) + "." +
                 std::string(o.at("signature").as_string());
        });
      },
      {malformed()});
  // §6.2: "The JWS MUST NOT have multiple signatures" (the general serialization).
  add("GeneralSerializationOneSignature",
      [] {
        return toNewAccount([](const Req& q) {
          auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
          json::object g{
              {"payload", o.at("payload")},
              {"signatures", json::array{json::object{{"protected", o.at("protected")},
                                                      {"signature", o.at("signature")}}}}};
          return json::serialize(g);
        });
      },
      {malformed()});
  add("GeneralSerializationTwoSignatures",
      [] {
        return toNewAccount([](const Req& q) {
          auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
          json::object sig{{"protected", o.at("protected")}, {"signature", o.at("signature")}};
          json::object g{{"payload", o.at("payload")}, {"signatures", json::array{sig, sig}}};
          return json::serialize(g);
        });
      },
      {malformed()});
  add("FlattenedWithSignaturesMember",
      [] {
        return toNewAccount([](const Req& q) {
          auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
          o["signatures"] = json::array{};
          return json::serialize(o);
        });
      },
      {malformed()});
  auto dropMember = [](std::string member) {
    return [member] {
      return toNewAccount([member](const Req& q) {
        auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
        o.erase(member);
        return json::serialize(o);
      });
    };
  };
  add("MissingProtected", dropMember("protected"), {malformed()});
  // §6.2: "The JWS Payload MUST NOT be detached".
  add("MissingPayloadDetached", dropMember("payload"), {malformed()});
  add("MissingSignature", dropMember("signature"), {malformed()});
  auto replaceMember = [](std::string member, json::value value) {
    return [member, value] {
      return toNewAccount([member, value](const Req& q) {
        auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
        o[member] = value;
        return json::serialize(o);
      });
    };
  };
  add("ProtectedNotString", replaceMember("protected", json::object{{"alg", "ES256"}}),
      {malformed()});
  add("PayloadNotString", replaceMember("payload", json::object{{"termsOfServiceAgreed", true}}),
      {malformed()});
  add("SignatureNotString", replaceMember("signature", 12345), {malformed()});
  // §6.2: "The JWS Unprotected Header MUST NOT be used".
  add("UnprotectedHeader", replaceMember("header", json::object{{"kid", "x"}}), {malformed()});
  add("UnprotectedHeaderEmpty", replaceMember("header", json::object{}), {malformed()});

  // --- Duplicate member names (RFC 7515 §5.2; the project rejects them everywhere, so a
  // parser's choice of first or last can never be exploited).
  add("DuplicateTopLevelPayload",
      [] {
        return toNewAccount([](const Req& q) {
          auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
          return "{\"protected\":" + json::serialize(o.at("protected")) +
                 ",\"payload\":" + json::serialize(o.at("payload")) +
                 ",\"signature\":" + json::serialize(o.at("signature")) + ",\"payload\":\"" +
                 b64(R"({"onlyReturnExisting":true})") + "\"}";
        });
      },
      {malformed()});
  add("DuplicateHeaderUrl",
      [] {
        return toNewAccount([](const Req& q) {
          std::string h = jwkHeader(q);
          h.insert(h.size() - 1, R"(,"url":")" + server().url("/acme/new-order") + "\"");
          return signedBody(q.key, h, kTos);
        });
      },
      {malformed()});
  add("DuplicateHeaderAlgSameValue",
      [] {
        return toNewAccount([](const Req& q) {
          std::string h = jwkHeader(q);
          h.insert(h.size() - 1, R"(,"alg":"ES256")");
          return signedBody(q.key, h, kTos);
        });
      },
      {malformed()});
  add("DuplicateJwkMember",
      [] {
        return withJwk([](const Req& q) {
          std::string jwk = jwkJson(q.key);
          // A second "x": which point a lax parser would verify with is anyone's guess.
          jwk.insert(jwk.size() - 1, R"(,"x":"AAAA")");
          return jwk;
        });
      },
      {malformed()});
  add("DuplicatePayloadMember",
      [] {
        return toNewAccount([](const Req& q) {
          return signedBody(q.key, jwkHeader(q),
                            R"({"termsOfServiceAgreed":true,"onlyReturnExisting":false,)"
                            R"("onlyReturnExisting":true})");
        });
      },
      {malformed()});
  add("DuplicateNestedPayloadMember",
      [] {
        return toNewOrder([](const Req& q) {
          return signedBody(q.key, kidHeader(q),
                            R"({"identifiers":[{"type":"dns","type":"ip","value":")" +
                                uniqueName("neg") + "\"}]}");
        });
      },
      {malformed()});

  // --- §6.1: base64url "Trailing '=' characters MUST be stripped. Encoded values that include
  // trailing '=' characters MUST be rejected as improperly encoded." RFC 7515 §2: no line
  // breaks, whitespace or other characters.
  add("ProtectedPadded",
      [] {
        return toNewAccount([](const Req& q) {
          return neg::signedFlatJws(q.key, paddedB64(jwkHeader(q)), b64(kTos));
        });
      },
      {malformed()});
  add("PayloadPadded",
      [] {
        return toNewAccount([](const Req& q) {
          return neg::signedFlatJws(q.key, b64(jwkHeader(q)), paddedB64(std::string(kTos)));
        });
      },
      {malformed()});
  add("SignaturePadded",
      [] {
        return toNewAccount([](const Req& q) {
          auto o = json::parse(signedBody(q.key, jwkHeader(q), kTos)).as_object();
          std::string sig(o.at("signature").as_string());
          sig.append((4 - sig.size() % 4) % 4, '=');  // 64 octets: 86 characters, "=="
          return neg::flatJws(o.at("protected").as_string(), o.at("payload").as_string(), sig);
        });
      },
      {malformed()});
  add("ProtectedWithSpace",
      [] {
        return encodingFault(Part::kProtected, [](std::string s) { return insertMiddle(s, " "); });
      },
      {malformed()});
  add("ProtectedWithLineBreak",
      [] {
        return encodingFault(Part::kProtected,
                             [](std::string s) { return insertMiddle(s, "\r\n"); });
      },
      {malformed()});
  add("PayloadWithSpace",
      [] {
        return encodingFault(Part::kPayload, [](std::string s) { return insertMiddle(s, " "); });
      },
      {malformed()});
  add("ProtectedInvalidCharacter",
      [] {
        return encodingFault(Part::kProtected, [](std::string s) { return insertMiddle(s, "*"); });
      },
      {malformed()});
  add("ProtectedContainsDot",
      [] {
        return encodingFault(Part::kProtected, [](std::string s) { return insertMiddle(s, "."); });
      },
      {malformed()});
  add("PayloadInvalidCharacter",
      [] {
        return encodingFault(Part::kPayload, [](std::string s) { return insertMiddle(s, "!"); });
      },
      {malformed()});
  add("PayloadStandardBase64Alphabet",
      [] {
        return toNewAccount([](const Req& q) {
          // "~~~" puts a '~' (0x7e) at an offset whose encoding is '-', whatever the alignment.
          std::string pl = toStdAlphabet(b64(R"({"x":"~~~","termsOfServiceAgreed":true})"));
          EXPECT_FALSE(pl.empty());
          return neg::signedFlatJws(q.key, b64(jwkHeader(q)), pl);
        });
      },
      {malformed()});
  add("SignatureStandardBase64Alphabet",
      [] {
        return toNewAccount([](const Req& q) {
          const std::string p = b64(jwkHeader(q));
          const std::string pl = b64(kTos);
          // ECDSA signatures are randomised: sign until one has a '-' or '_' to translate.
          for (int i = 0; i < 200; ++i) {
            auto sig = toStdAlphabet(core::base64urlEncode(neg::jwsSignature(q.key, p + "." + pl)));
            if (!sig.empty()) return neg::flatJws(p, pl, sig);
          }
          ADD_FAILURE() << "no signature with '-' or '_' in 200 tries";
          return std::string();
        });
      },
      {malformed()});
  add("ProtectedDecodesToNonJson",
      [] {
        return toNewAccount([](const Req& q) {
          return neg::signedFlatJws(q.key, b64("alg=ES256; url=" + q.url), b64(kTos));
        });
      },
      {malformed()});
  add("ProtectedDecodesToArray",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, "[" + jwkHeader(q) + "]", kTos); });
      },
      {malformed()});
  add("ProtectedEmpty",
      [] {
        return toNewAccount([](const Req& q) { return neg::signedFlatJws(q.key, "", b64(kTos)); });
      },
      {malformed()});
  add("ProtectedInvalidUtf8",
      [] {
        return toNewAccount([](const Req& q) {
          std::string h = jwkHeader(q);
          h.insert(h.size() - 1, ",\"x\":\"\xff\xfe\"");
          return signedBody(q.key, h, kTos);
        });
      },
      {malformed()});
  add("PayloadDecodesToNonJson",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeader(q), "terms=yes"); });
      },
      {malformed()});
  add("PayloadDecodesToArray",
      [] {
        return toNewAccount([](const Req& q) { return signedBody(q.key, jwkHeader(q), "[true]"); });
      },
      {malformed()});
  add("PayloadTrailingGarbage",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeader(q), std::string(kTos) + "}"); });
      },
      {malformed()});

  // --- §6.2: "alg" MUST NOT be "none" or a MAC; an algorithm the server does not support is
  // 400 badSignatureAlgorithm and "The problem document returned with the error MUST include an
  // 'algorithms' field". RFC 7515 §4.1.1: "alg" is case-sensitive; RFC 7518 §3.1: each alg
  // names one key type (and for ECDSA one curve).
  add("AlgNone",
      [] {
        return badAlg(
            [](const Req& q) { return neg::flatJws(b64(jwkHeader(q, "none")), b64(kTos), ""); });
      },
      {badSigAlg()});
  add("AlgHs256",
      [] {
        return badAlg([](const Req& q) {
          return neg::flatJws(b64(jwkHeader(q, "HS256")), b64(kTos),
                              core::base64urlEncode(std::string(32, '\x5a')));
        });
      },
      {badSigAlg()});
  add("AlgUnknown",
      [] {
        return badAlg([](const Req& q) { return signedBody(q.key, jwkHeader(q, "ES257"), kTos); });
      },
      {badSigAlg()});
  add("AlgWrongCase",
      [] {
        return badAlg([](const Req& q) { return signedBody(q.key, jwkHeader(q, "es256"), kTos); });
      },
      {badSigAlg()});
  add("AlgEs384ForP256Key",
      [] {
        return badAlg([](const Req& q) { return signedBody(q.key, jwkHeader(q, "ES384"), kTos); });
      },
      {badSigAlg()});
  add("AlgRs256ForEcKey",
      [] {
        return badAlg([](const Req& q) { return signedBody(q.key, jwkHeader(q, "RS256"), kTos); });
      },
      {badSigAlg()});
  add("AlgEdDsaForEcKey",
      [] {
        return badAlg([](const Req& q) { return signedBody(q.key, jwkHeader(q, "EdDSA"), kTos); });
      },
      {badSigAlg()});
  add("AlgEs256ForEd25519Key",
      [] {
        return badAlg([](const Req& q) { return signedBody(q.key, jwkHeader(q, "ES256"), kTos); },
                      "ed25519");
      },
      {badSigAlg()});
  // The JWK's own "alg" (RFC 7517 §4.4) contradicts the JWS's.
  add("JwkAlgMemberContradictsJws",
      [] {
        Outcome o = withJwk([](const Req& q) {
          auto jwk = jwkOf(q.key);
          jwk["alg"] = "ES384";
          return json::serialize(jwk);
        });
        auto created = o.extra;
        o.extra = [created](const HttpResponse& r) {
          algorithmsListed(r);
          created(r);
        };
        return o;
      },
      {badSigAlg()});
  // §6.2: the protected header MUST include "alg".
  add("AlgMissing",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeaderWithout(q, "alg"), kTos); });
      },
      {malformed()});
  add("AlgNotString",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeaderWith(q, "alg", 256), kTos); });
      },
      {malformed()});

  // --- §6.2: "The 'jwk' and 'kid' fields are mutually exclusive. Servers MUST reject requests
  // that contain both." newAccount (and revokeCert by certificate key) MUST use "jwk", all
  // other requests MUST use "kid".
  add("BothJwkAndKid",
      [] {
        return toNewOrder([](const Req& q) {
          auto h = json::parse(kidHeader(q)).as_object();
          h["jwk"] = jwkOf(q.key);
          return signedBody(q.key, json::serialize(h), orderPayload());
        });
      },
      {malformed()});
  add("NeitherJwkNorKid",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeaderWithout(q, "jwk"), kTos); });
      },
      {malformed()});
  add("JwkOnKidOnlyResource",
      [] {
        return toNewOrder(
            [](const Req& q) { return signedBody(q.key, jwkHeader(q), orderPayload()); });
      },
      {malformed()});
  add("KidOnNewAccount",
      [] {
        // An existing account's kid on newAccount.
        auto a = std::make_shared<AcmeClient>(server().account());
        Req q{a->accountKey(), a->fetchNonce().value_or(""), newAccountUrl(), a->accountUrl()};
        Outcome o;
        o.response = a->postRaw(q.url, signedBody(q.key, kidHeader(q), kTos));
        return o;
      },
      {malformed()});
  add("JwkNotObject",
      [] {
        return toNewAccount([](const Req& q) {
          return signedBody(q.key, jwkHeaderWith(q, "jwk", "EC P-256"), kTos);
        });
      },
      {malformed()});

  // --- The key itself (RFC 7517/7518; RFC 8555 §6.7 badPublicKey: "The JWS was signed by a
  // public key the server does not support").
  add("JwkWithPrivateKeyD",
      [] {
        return withJwk([](const Req& q) {
          auto jwk = jwkOf(q.key);
          jwk["d"] = bnB64(q.key, OSSL_PKEY_PARAM_PRIV_KEY, 32);
          return json::serialize(jwk);
        });
      },
      {malformed(), badPublicKey()});
  add("JwkKtyOct",
      [] {
        return withJwk([](const Req&) {
          return json::serialize(json::object{{"k", b64(std::string(32, 'k'))}, {"kty", "oct"}});
        });
      },
      {badPublicKey()});
  add("JwkCurveP192",
      [] {
        return withJwk([](const Req&) {
          auto k = ecKeyOnCurve("P-192");
          return json::serialize(json::object{{"crv", "P-192"},
                                              {"kty", "EC"},
                                              {"x", bnB64(k.get(), OSSL_PKEY_PARAM_EC_PUB_X, 24)},
                                              {"y", bnB64(k.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 24)}});
        });
      },
      {badPublicKey()});
  add("JwkCurveSecp256k1",
      [] {
        return withJwk([](const Req&) {
          auto k = ecKeyOnCurve("secp256k1");
          return json::serialize(json::object{{"crv", "secp256k1"},
                                              {"kty", "EC"},
                                              {"x", bnB64(k.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)},
                                              {"y", bnB64(k.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)}});
        });
      },
      {badPublicKey()});
  add("JwkPointNotOnCurve",
      [] {
        return withJwk([](const Req& q) {
          auto jwk = jwkOf(q.key);
          auto y = core::base64urlDecode(jwk.at("y").as_string()).value();
          y.back() ^= 0x01;
          jwk["y"] = core::base64urlEncode(y);
          return json::serialize(jwk);
        });
      },
      {badPublicKey(), malformed()});
  add("JwkMissingKty",
      [] {
        return withJwk([](const Req& q) {
          auto jwk = jwkOf(q.key);
          jwk.erase("kty");
          return json::serialize(jwk);
        });
      },
      {malformed(), badPublicKey()});
  add("JwkRsa1024",
      [] {
        auto key = std::make_shared<crypto::PKey>(rsaKey(1024));
        return toNewAccount([key](const Req& q) {
          json::object jwk{{"e", bnB64(key->get(), OSSL_PKEY_PARAM_RSA_E)},
                           {"kty", "RSA"},
                           {"n", bnB64(key->get(), OSSL_PKEY_PARAM_RSA_N)}};
          return signedBody(key->get(), headerWithJwk(q, json::serialize(jwk), "RS256"), kTos);
        });
      },
      {badPublicKey()});

  // --- "kid" MUST be an account URL of this server (§6.2, §7.3); an unknown account is
  // accountDoesNotExist (§6.7). RFC 8555 does not name the type for a kid that is not an
  // account URL at all: malformed or accountDoesNotExist.
  auto withKid = [](std::function<std::string(const Req&)> kid, std::vector<Expect> e,
                    std::string name, std::vector<Case>& out) {
    out.push_back(Case{std::move(name),
                       [kid] {
                         return toNewOrder([kid](const Req& q) {
                           Req k = q;
                           k.kid = kid(q);
                           return signedBody(q.key, kidHeader(k), orderPayload());
                         });
                       },
                       std::move(e)});
  };
  const Expect notAccount = neg::problem(400, {"malformed", "accountDoesNotExist"});
  withKid([](const Req&) { return std::string("12345"); }, {notAccount}, "KidNotAUrl", cases);
  withKid(
      [](const Req& q) {
        std::string kid = q.kid;
        kid.replace(kid.find("127.0.0.1"), 9, "localhost");
        return kid;
      },
      {notAccount}, "KidOtherOriginSameAccountId", cases);
  withKid([](const Req& q) { return q.kid + "/orders"; }, {notAccount}, "KidIsOrdersListUrl",
          cases);
  withKid([](const Req&) { return server().url("/acme/account/NoSuchAccount42"); },
          {neg::problem(400, {"accountDoesNotExist"})}, "KidUnknownAccount", cases);
  add("KidNotString",
      [] {
        return toNewOrder([](const Req& q) {
          auto h = json::parse(kidHeader(q)).as_object();
          h["kid"] = 42;
          return signedBody(q.key, json::serialize(h), orderPayload());
        });
      },
      {malformed()});

  // --- The signature (§6.2: the server MUST verify the JWS). A signature that does not verify
  // is 403 unauthorized here (project policy; RFC 8555 names no type); one that cannot be an
  // ES256 signature at all (RFC 7518 §3.4: exactly 64 octets r||s) may also be malformed.
  const Expect lengthFault = malformed();
  add("SignatureByAnotherKey",
      [] {
        return toNewOrder([](const Req& q) {
          auto other = makeKey();
          return neg::signedFlatJws(other.get(), b64(kidHeader(q)), b64(orderPayload()));
        });
      },
      {unauthorized()});
  add("SignatureBitFlipped",
      [] {
        return toNewAccount([](const Req& q) {
          auto body = signedBody(q.key, jwkHeader(q), kTos);
          auto sig = signatureOf(body);
          sig[10] ^= 0x40;
          return withSignature(body, sig);
        });
      },
      {unauthorized()});
  add("SignatureOverOtherPayload",
      [] {
        return toNewAccount([](const Req& q) {
          auto o = json::parse(signedBody(q.key, jwkHeader(q), R"({"onlyReturnExisting":true})"))
                       .as_object();
          return neg::flatJws(o.at("protected").as_string(), b64(kTos),
                              o.at("signature").as_string());
        });
      },
      {unauthorized()});
  add("SignatureEmpty",
      [] {
        return toNewAccount(
            [](const Req& q) { return withSignature(signedBody(q.key, jwkHeader(q), kTos), {}); });
      },
      {lengthFault, unauthorized()});
  add("SignatureTruncated",
      [] {
        return toNewAccount([](const Req& q) {
          auto body = signedBody(q.key, jwkHeader(q), kTos);
          auto sig = signatureOf(body);
          sig.pop_back();
          return withSignature(body, sig);
        });
      },
      {lengthFault, unauthorized()});
  add("SignatureDerEncodedEcdsa",
      [] {
        return toNewAccount([](const Req& q) {
          const std::string p = b64(jwkHeader(q));
          const std::string pl = b64(kTos);
          return neg::flatJws(p, pl,
                              core::base64urlEncode(neg::jwsSignature(q.key, p + "." + pl, true)));
        });
      },
      {lengthFault, unauthorized()});

  // --- §6.2: "The JWS Unencoded Payload Option [RFC7797] MUST NOT be used"; RFC 7515 §4.1.11:
  // a "crit" extension the recipient does not understand makes the JWS invalid.
  add("B64FalseWithCrit",
      [] {
        return toNewAccount([](const Req& q) {
          auto h = json::parse(jwkHeader(q)).as_object();
          h["b64"] = false;
          h["crit"] = json::array{"b64"};
          return neg::signedFlatJws(q.key, b64(json::serialize(h)), std::string(kTos));
        });
      },
      {malformed()});
  add("B64FalseWithoutCrit",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeaderWith(q, "b64", false), kTos); });
      },
      {malformed()});
  add("CritUnknownExtension",
      [] {
        return toNewAccount([](const Req& q) {
          auto h = json::parse(jwkHeader(q)).as_object();
          h["exp"] = 1700000000;
          h["crit"] = json::array{"exp"};
          return signedBody(q.key, json::serialize(h), kTos);
        });
      },
      {malformed()});

  // --- §6.5: "When a server rejects a request because its nonce value was unacceptable (or not
  // present), it MUST provide HTTP status code 400 (Bad Request), and indicate the ACME error
  // type 'urn:ietf:params:acme:error:badNonce'". §6.5.2: a nonce is accepted once.
  add("NonceMissing",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeaderWithout(q, "nonce"), kTos); });
      },
      {badNonce()});
  add("NonceReused",
      [] {
        AcmeClient first = server().client();
        const std::string n = first.fetchNonce().value_or("");
        Req q{first.accountKey(), n, newAccountUrl(), ""};
        auto ok = first.postRaw(q.url, signedBody(q.key, jwkHeader(q), kTos));
        EXPECT_TRUE(ok && ok->status == 201) << (ok ? describe(*ok) : ok.error().detail);
        return toNewAccount([n](const Req& mine) {
          Req r = mine;
          r.nonce = n;
          return signedBody(r.key, jwkHeader(r), kTos);
        });
      },
      {badNonce()});
  auto withNonce = [](json::value nonce) {
    return [nonce] {
      return toNewAccount([nonce](const Req& q) {
        return signedBody(q.key, jwkHeaderWith(q, "nonce", nonce), kTos);
      });
    };
  };
  add("NonceNotBase64url", withNonce("not a nonce!"), {badNonce()});
  add("NonceEmpty", withNonce(""), {badNonce()});
  add("NonceNeverIssued", withNonce("AAAAAAAAAAAAAAAAAAAAAA"), {badNonce()});
  add("NonceNotString", withNonce(12345), {badNonce(), malformed()});

  // --- §6.4: the protected header MUST include "url"; "the server MUST reject the request as
  // unauthorized" when it differs from the request URL -- all of it, query included.
  add("UrlMissing",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeaderWithout(q, "url"), kTos); });
      },
      {malformed()});
  add("UrlNotString",
      [] {
        return toNewAccount(
            [](const Req& q) { return signedBody(q.key, jwkHeaderWith(q, "url", 443), kTos); });
      },
      {malformed()});
  auto withUrl = [](std::function<std::string(const std::string&)> url, std::string query = "") {
    return [url, query] {
      return toNewAccount(
          [url](const Req& q) {
            return signedBody(q.key, jwkHeaderWith(q, "url", json::value(url(q.url))), kTos);
          },
          "application/jose+json", "ec:P-256", query);
    };
  };
  add("UrlOtherResource", withUrl([](const std::string&) { return newOrderUrl(); }),
      {unauthorized()});
  add("UrlOtherHostSpelling", withUrl([](const std::string& u) {
        std::string s = u;
        s.replace(s.find("127.0.0.1"), 9, "localhost");
        return s;
      }),
      {unauthorized()});
  add("UrlOtherScheme", withUrl([](const std::string& u) { return "https" + u.substr(4); }),
      {unauthorized()});
  add("UrlTrailingSlash", withUrl([](const std::string& u) { return u + "/"; }), {unauthorized()});
  add("UrlPathOnly", withUrl([](const std::string&) { return std::string("/acme/new-account"); }),
      {unauthorized()});
  add("UrlPathCaseDiffers", withUrl([](const std::string& u) {
        std::string s = u;
        s.replace(s.find("/acme/"), 6, "/ACME/");
        return s;
      }),
      {unauthorized()});
  add("UrlWithFragment", withUrl([](const std::string& u) { return u + "#frag"; }),
      {unauthorized()});
  add("UrlHasQueryRequestHasNot", withUrl([](const std::string& u) { return u + "?x=1"; }),
      {unauthorized()});
  add("RequestHasQueryUrlHasNot", withUrl([](const std::string& u) { return u; }, "?x=1"),
      {unauthorized()});
  add("UrlQueryDiffersFromRequestQuery",
      withUrl([](const std::string& u) { return u + "?x=1"; }, "?x=2"), {unauthorized()});

  // --- §6.2: requests MUST have Content-Type application/jose+json, else 415 (no ACME type).
  auto withContentType = [](std::string ct) {
    return [ct] {
      return toNewAccount([](const Req& q) { return signedBody(q.key, jwkHeader(q), kTos); }, ct);
    };
  };
  add("ContentTypeJson", withContentType("application/json"), {neg::httpProblem(415)});
  add("ContentTypeMissing", withContentType(""), {neg::httpProblem(415)});
  add("ContentTypeCompactJose", withContentType("application/jose"), {neg::httpProblem(415)});
  add("ContentTypeTextPlain", withContentType("text/plain"), {neg::httpProblem(415)});
  return cases;
}

class NegativeJose : public ::testing::TestWithParam<Case> {};

TEST_P(NegativeJose, IsRefusedAsTheRfcSays) {
  const Case& c = GetParam();
  Outcome o = c.run();
  neg::checkOutcome(c.expect, o, server().directoryUrl());
}

INSTANTIATE_TEST_SUITE_P(Negative, NegativeJose, ::testing::ValuesIn(joseCases()), neg::caseName);

}  // namespace
}  // namespace akamu::itest
