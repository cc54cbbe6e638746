// Negative suite, protocol state (RFC 8555 §7): accounts, key change, orders, authorizations,
// challenges, finalize and revocation, each refused with the status and type the RFC names.
// Every case is judged by neg::checkOutcome (problem document, nonce, index link, no 5xx).
//
// Another account's resources: this suite asserts 403 unauthorized (the project's policy, and
// RFC 8555 §6.7 "unauthorized: The client lacks sufficient authorization"), not 404: the URLs
// carry 96 random bits, so confirming that one exists reveals nothing worth hiding.
#include <set>

#include "harness.hpp"

namespace akamu::itest {
namespace {

using neg::Case;
using neg::Expect;
using neg::Outcome;

TestServer& server() { return sharedServer(); }
std::string url(std::string_view path) { return server().url(path); }
std::string b64(std::string_view s) { return core::base64urlEncode(s); }
std::string b64(std::span<const std::uint8_t> s) { return core::base64urlEncode(s); }

Expect malformed() { return neg::problem(400, {"malformed"}); }
Expect unauthorized() { return neg::problem(403, {"unauthorized"}); }
Expect badCsr() { return neg::problem(400, {"badCSR"}); }
Expect orderNotReady() { return neg::problem(403, {"orderNotReady"}); }
Expect badReason() { return neg::problem(400, {"badRevocationReason"}); }
// RFC 8555 §7.3.6: "If a server receives a POST or POST-as-GET from a deactivated account, it
// MUST return an error response with status code 401 (Unauthorized) and type
// urn:ietf:params:acme:error:unauthorized".
Expect deactivated() { return neg::problem(401, {"unauthorized"}); }
// Names refused by identifier policy: RFC 8555 §6.7 rejectedIdentifier ("The server will not
// issue certificates for the identifier"); its §6.7.1 example uses malformed for a name that is
// not a valid DNS name. Either, but always with a subproblem naming the identifier.
Expect refusedName() { return neg::problem(400, {"rejectedIdentifier", "malformed"}); }

using Client = std::shared_ptr<AcmeClient>;
Client newAccount() { return std::make_shared<AcmeClient>(server().account()); }

Outcome posted(AcmeClient& c, const std::string& target, std::string_view payload) {
  Outcome o;
  o.response = c.post(target, payload);
  return o;
}

std::string orderJson(const std::vector<Identifier>& ids) {
  json::array arr;
  for (const auto& id : ids) arr.push_back(json::object{{"type", id.type}, {"value", id.value}});
  return json::serialize(json::object{{"identifiers", arr}});
}

// newOrder for `ids`; the refusal must name every one of `named` and create no order.
Outcome refusedOrder(std::vector<Identifier> ids, std::vector<Identifier> named) {
  Client a = newAccount();
  Outcome o = posted(*a, url("/acme/new-order"), orderJson(ids));
  o.named = std::move(named);
  o.extra = [a](const HttpResponse&) {
    EXPECT_TRUE(fetch(*a, a->accountUrl() + "/orders").at("orders").as_array().empty());
  };
  return o;
}
Outcome refusedIdentifier(Identifier id) { return refusedOrder({id}, {id}); }
Outcome orderPayload(std::string payload) {
  Client a = newAccount();
  return posted(*a, url("/acme/new-order"), payload);
}

std::vector<Identifier> idsOf(const json::object& order) {
  std::vector<Identifier> ids;
  for (const auto& v : order.at("identifiers").as_array()) {
    ids.push_back({str(v.as_object(), "type"), str(v.as_object(), "value")});
  }
  return ids;
}

struct Pending {
  Client account;
  OrderInfo order;
  std::string authz_url;
  json::object authz;
  std::string challengeUrl(std::string_view type) const {
    for (const auto& ch : authz.at("challenges").as_array()) {
      if (str(ch.as_object(), "type") == type) return str(ch.as_object(), "url");
    }
    ADD_FAILURE() << "no " << type << " challenge";
    return {};
  }
};

Pending pendingOrder() {
  Pending p{newAccount(), {}, {}, {}};
  auto order = p.account->newOrder({dns(uniqueName("neg"))});
  EXPECT_TRUE(order) << (order ? "" : order.error().detail);
  if (!order) return p;
  p.order = *order;
  p.authz_url = std::string(order->json.at("authorizations").as_array()[0].as_string());
  p.authz = fetch(*p.account, p.authz_url);
  return p;
}

struct Ready {
  Client account;
  OrderInfo order;
  std::vector<Identifier> ids;
};

Ready readyOrderFor(std::vector<Identifier> ids = {}) {
  if (ids.empty()) ids = {dns(uniqueName("neg"))};
  Ready r{newAccount(), {}, ids};
  auto ready = readyOrder(*r.account, server().responder(), ids);
  EXPECT_TRUE(ready && ready->status() == "ready")
      << (ready ? json::serialize(ready->json) : ready.error().detail);
  if (ready) r.order = *ready;
  return r;
}

std::vector<std::uint8_t> csrFor(const std::vector<Identifier>& ids,
                                 const EVP_PKEY* key = nullptr) {
  crypto::PKey fresh;
  if (key == nullptr) {
    fresh = makeKey();
    key = fresh.get();
  }
  auto csr = crypto::buildCsr(key, ids, std::nullopt);
  EXPECT_TRUE(csr);
  return csr ? *csr : std::vector<std::uint8_t>{};
}

// A ready order finalized with `csr_field` as the "csr" member; no certificate may result.
Outcome finalizeWith(std::function<json::value(const Ready&)> csr_field) {
  Ready r = readyOrderFor();
  json::object payload{{"csr", csr_field(r)}};
  Outcome o = posted(*r.account, str(r.order.json, "finalize"), json::serialize(payload));
  Client a = r.account;
  std::string order_url = r.order.url;
  o.extra = [a, order_url](const HttpResponse&) {
    auto order = fetch(*a, order_url);
    EXPECT_FALSE(order.contains("certificate")) << json::serialize(order);
    EXPECT_NE(str(order, "status"), "valid") << json::serialize(order);
  };
  return o;
}

// One certificate issued for the cases that only read it or fail to change it.
struct Issued {
  Client owner;
  std::vector<std::uint8_t> der;
  std::string cert_url;
  std::string order_url;
  crypto::PKey key;
};
Issued issueOne() {
  Issued i{newAccount(), {}, {}, {}, {}};
  auto r = issue(*i.owner, server().responder(), {dns(uniqueName("neg"))});
  EXPECT_TRUE(r) << (r ? "" : r.error().detail);
  if (!r) return i;
  i.der = derOf(r->certificate_pem);
  i.cert_url = r->certificate_url;
  i.order_url = r->order_url;
  i.key = std::move(r->certificate_key);
  return i;
}
Issued& sharedIssued() {
  static Issued issued = issueOne();
  return issued;
}

std::string revokePayload(const std::vector<std::uint8_t>& der, std::optional<json::value> reason) {
  json::object p{{"certificate", b64(der)}};
  if (reason) p["reason"] = *reason;
  return json::serialize(p);
}

// The shared certificate must still be unrevoked after a refused revocation.
void stillRevocableByOwner(const HttpResponse&) {
  // Revoking for real would spoil the shared certificate; a reason the server refuses shows the
  // certificate is still known and unrevoked (alreadyRevoked otherwise).
  auto& i = sharedIssued();
  auto r = i.owner->post(url("/acme/revoke-cert"), revokePayload(i.der, json::value(7)));
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kBadRevocationReason))
      << "the refused revocation changed the certificate";
}

Outcome revokeShared(std::optional<json::value> reason, Client signer = nullptr) {
  auto& i = sharedIssued();
  AcmeClient& c = signer ? *signer : *i.owner;
  Outcome o = posted(c, url("/acme/revoke-cert"), revokePayload(i.der, reason));
  o.extra = stillRevocableByOwner;
  return o;
}

// Key change (RFC 8555 §7.3.5): the inner JWS signed by `inner_key` with `header`.
std::string innerJws(const EVP_PKEY* inner_key, const std::string& header,
                     const json::object& payload) {
  return craftJws(inner_key, header, json::serialize(payload));
}
struct Rollover {
  Client account;
  crypto::PKey new_key;
  std::string url;
  json::object good_payload;
  std::string goodHeader() const {
    return protectedHeader("ES256", new_key.get(), "", std::nullopt, url);
  }
};
std::shared_ptr<Rollover> rollover() {
  auto r = std::make_shared<Rollover>();
  r->account = newAccount();
  r->new_key = makeKey();
  r->url = url("/acme/key-change");
  r->good_payload =
      json::object{{"account", r->account->accountUrl()},
                   {"oldKey", jose::publicKeyToJwk(r->account->accountKey()).value()}};
  return r;
}
// The rollover was refused: the old key still works, the new one finds no account.
Outcome keyChange(const std::shared_ptr<Rollover>& r, const std::string& inner) {
  Outcome o = posted(*r->account, r->url, inner);
  o.extra = [r](const HttpResponse&) {
    auto still = r->account->post(r->account->accountUrl(), "");
    EXPECT_TRUE(still && still->status == 200) << "the old key stopped working";
    auto pem = crypto::privateKeyToPem(r->new_key.get());
    AcmeClient by_new(server().directoryUrl(), crypto::privateKeyFromPem(pem).value());
    EXPECT_TRUE(
        isProblem(by_new.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist))
        << "the refused key change installed the new key";
  };
  return o;
}

Client deactivatedAccount() {
  Client a = newAccount();
  auto r = a->post(a->accountUrl(), R"({"status":"deactivated"})");
  EXPECT_TRUE(r && r->status == 200) << (r ? describe(*r) : r.error().detail);
  return a;
}

std::vector<Case> protocolCases() {
  std::vector<Case> cases;
  auto add = [&cases](std::string name, std::function<Outcome()> run, std::vector<Expect> e) {
    cases.push_back(Case{std::move(name), std::move(run), std::move(e)});
  };

  // --- newAccount (§7.3). onlyReturnExisting: "the server MUST NOT create a new account if one
  // does not already exist ... return an error of type accountDoesNotExist" (§7.3.1).
  auto newAccountPayload = [](std::string payload) {
    return [payload] {
      auto c = std::make_shared<AcmeClient>(server().client());
      Outcome o;
      o.response = c->post(url("/acme/new-account"), payload, /*use_jwk=*/true);
      o.extra = [c](const HttpResponse& r) {
        EXPECT_TRUE(r.header("location").empty()) << "a refused newAccount has no Location";
        EXPECT_TRUE(
            isProblem(c->newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));
      };
      return o;
    };
  };
  add("OnlyReturnExistingForUnknownKey", newAccountPayload(R"({"onlyReturnExisting":true})"),
      {neg::problem(400, {"accountDoesNotExist"})});
  add("NewAccountPostAsGet", newAccountPayload(""), {malformed()});
  add("NewAccountPayloadNotObject", newAccountPayload("true"), {malformed()});
  // §7.3: "If the server rejects a contact URL for using an unsupported scheme, it MUST return
  // an error of type unsupportedContact ... for using a supported scheme but an invalid value,
  // then the server MUST return an error of type invalidContact." mailto with hfields or more
  // than one addr-spec: "the server SHOULD reject it as invalid".
  auto contact = [newAccountPayload](std::string contacts_json) {
    return newAccountPayload(R"({"termsOfServiceAgreed":true,"contact":)" + contacts_json + "}");
  };
  add("ContactTelScheme", contact(R"(["tel:+15555550100"])"),
      {neg::problem(400, {"unsupportedContact"})});
  add("ContactHttpsScheme", contact(R"(["https://example.com/me"])"),
      {neg::problem(400, {"unsupportedContact"})});
  add("ContactMailtoWithoutAt", contact(R"(["mailto:nobody"])"),
      {neg::problem(400, {"invalidContact"})});
  add("ContactMailtoWithHfields", contact(R"(["mailto:admin@example.com?subject=hi"])"),
      {neg::problem(400, {"invalidContact"})});
  add("ContactMailtoTwoAddresses", contact(R"(["mailto:a@example.com,b@example.com"])"),
      {neg::problem(400, {"invalidContact"})});
  add("ContactNotArray", contact(R"("mailto:admin@example.com")"), {malformed()});
  add("ContactEntryNotString", contact("[42]"), {malformed()});
  add("TermsAgreedNotBoolean", newAccountPayload(R"({"termsOfServiceAgreed":"yes"})"),
      {malformed()});

  // --- Account update (§7.3.2): "The server MUST ignore any updates to the 'orders' field,
  // 'termsOfServiceAgreed' field, the 'status' field (except as allowed by Section 7.3.6), or
  // any other fields it does not recognize." So a status other than "deactivated" is ignored:
  // 200 and the account stays valid (a refusal would contradict the MUST).
  auto statusIgnored = [](std::string status) {
    return [status] {
      Client a = newAccount();
      Outcome o = posted(*a, a->accountUrl(), R"({"status":")" + status + "\"}");
      o.extra = [a](const HttpResponse& r) {
        EXPECT_EQ(str(jsonBody(r), "status"), "valid") << r.body;
        EXPECT_EQ(str(fetch(*a, a->accountUrl()), "status"), "valid");
      };
      return o;
    };
  };
  add("AccountUpdateStatusValidIgnored", statusIgnored("valid"), {neg::success(200)});
  add("AccountUpdateStatusRevokedIgnored", statusIgnored("revoked"), {neg::success(200)});
  add("AccountUpdateByAnotherAccount",
      [] {
        Client a = newAccount();
        Client b = newAccount();
        return posted(*b, a->accountUrl(), R"({"contact":["mailto:evil@example.com"]})");
      },
      {unauthorized()});
  add("AccountUpdateUnsupportedContact",
      [] {
        Client a = newAccount();
        Outcome o = posted(*a, a->accountUrl(), R"({"contact":["tel:+15555550100"]})");
        o.extra = [a](const HttpResponse&) {
          EXPECT_EQ(fetch(*a, a->accountUrl()).at("contact"),
                    json::parse(R"(["mailto:it@example.com"])"));
        };
        return o;
      },
      {neg::problem(400, {"unsupportedContact"})});
  add("DeactivatedAccountPostAsGet",
      [] {
        Client a = deactivatedAccount();
        return posted(*a, a->accountUrl(), "");
      },
      {deactivated()});
  add("DeactivatedAccountNewOrder",
      [] {
        Client a = deactivatedAccount();
        return posted(*a, url("/acme/new-order"), orderJson({dns(uniqueName("neg"))}));
      },
      {deactivated()});
  add("DeactivatedAccountDeactivatedAgain",
      [] {
        Client a = deactivatedAccount();
        return posted(*a, a->accountUrl(), R"({"status":"deactivated"})");
      },
      {deactivated()});
  add("DeactivatedAccountKeyOnNewAccount",
      [] {
        Client a = deactivatedAccount();
        Outcome o;
        o.response = a->newAccount({});
        return o;
      },
      {deactivated()});
  add("OrdersListOfAnotherAccount",
      [] {
        Client a = newAccount();
        Client b = newAccount();
        return posted(*b, a->accountUrl() + "/orders", "");
      },
      {unauthorized()});
  // §6.3: resources are fetched with POST-as-GET, whose payload MUST be the empty string.
  add("OrdersListWithPayload",
      [] {
        Client a = newAccount();
        return posted(*a, a->accountUrl() + "/orders", "{}");
      },
      {malformed()});
  // POSITIVE (§7.1.2.1): the orders list is paginated with Link rel="next"; that URL, used
  // exactly as given (query included, and signed as the JWS url), must return the next page.
  add("OrdersListNextLinkRoundTrips",
      [] {
        Client a = newAccount();
        std::set<std::string> created;
        for (int i = 0; i < 101; ++i) {
          auto o = a->newOrder({dns(uniqueName("neg"))});
          if (!o) {
            ADD_FAILURE() << o.error().detail;
            break;
          }
          created.insert(o->url);
        }
        auto first = a->post(a->accountUrl() + "/orders", "");
        Outcome o;
        if (!first) return o;
        std::string next;
        for (const auto& v : first->headerValues("link")) {
          if (v.find("rel=\"next\"") == std::string::npos) continue;
          next = v.substr(v.find('<') + 1, v.find('>') - v.find('<') - 1);
        }
        if (next.empty()) {
          o.response = core::fail(
              core::malformed("101 orders but no Link rel=\"next\": " + describe(*first)));
          return o;
        }
        o.response = a->post(next, "");
        auto page1 = jsonBody(*first).at("orders").as_array();
        o.extra = [page1, created](const HttpResponse& r) {
          std::set<std::string> seen;
          for (const auto& v : page1) seen.insert(std::string(v.as_string()));
          const json::object body = jsonBody(r);  // kept: the loop reads into it
          for (const auto& v : body.at("orders").as_array()) {
            EXPECT_TRUE(seen.insert(std::string(v.as_string())).second) << "listed twice: " << v;
          }
          EXPECT_EQ(seen, created) << "the two pages do not list exactly the account's orders";
        };
        return o;
      },
      {neg::success(200)});

  // --- Key change (§7.3.5): the inner JWS "MUST have a 'jwk' header parameter", "MUST NOT have
  // a 'nonce'", its url "MUST have the same value" as the outer one, its payload names this
  // account and its current key; "If there is an existing account with the new key provided,
  // then the server SHOULD use status code 409 (Conflict) and provide the URL of that account
  // in the Location header field." RFC 8555 names no type for a wrong account or oldKey.
  const Expect wrongInner = unauthorized();
  const Expect wrongInnerAlt = malformed();
  add("KeyChangeInnerHasNonce",
      [] {
        auto r = rollover();
        auto h = protectedHeader("ES256", r->new_key.get(), "", r->account->fetchNonce().value(),
                                 r->url);
        return keyChange(r, innerJws(r->new_key.get(), h, r->good_payload));
      },
      {malformed()});
  add("KeyChangeInnerUrlDiffers",
      [] {
        auto r = rollover();
        auto h =
            protectedHeader("ES256", r->new_key.get(), "", std::nullopt, url("/acme/new-order"));
        return keyChange(r, innerJws(r->new_key.get(), h, r->good_payload));
      },
      {malformed()});
  add("KeyChangeInnerUsesKid",
      [] {
        auto r = rollover();
        auto h = protectedHeader("ES256", r->new_key.get(), r->account->accountUrl(), std::nullopt,
                                 r->url);
        return keyChange(r, innerJws(r->new_key.get(), h, r->good_payload));
      },
      {malformed()});
  add("KeyChangeInnerNamesAnotherAccount",
      [] {
        auto r = rollover();
        Client other = newAccount();
        auto payload = r->good_payload;
        payload["account"] = other->accountUrl();
        return keyChange(r, innerJws(r->new_key.get(), r->goodHeader(), payload));
      },
      {wrongInner, wrongInnerAlt});
  add("KeyChangeOldKeyIsNotTheAccountKey",
      [] {
        auto r = rollover();
        auto payload = r->good_payload;
        payload["oldKey"] = jose::publicKeyToJwk(makeKey().get()).value();
        return keyChange(r, innerJws(r->new_key.get(), r->goodHeader(), payload));
      },
      {wrongInner, wrongInnerAlt});
  add("KeyChangeInnerMissingOldKey",
      [] {
        auto r = rollover();
        auto payload = r->good_payload;
        payload.erase("oldKey");
        return keyChange(r, innerJws(r->new_key.get(), r->goodHeader(), payload));
      },
      {malformed()});
  add("KeyChangeInnerBadSignature",
      [] {
        auto r = rollover();
        return keyChange(
            r, craftJws(r->new_key.get(), r->goodHeader(), json::serialize(r->good_payload), true));
      },
      {malformed(), unauthorized()});
  add("KeyChangeInnerAlgNone",
      [] {
        auto r = rollover();
        auto h = protectedHeader("none", r->new_key.get(), "", std::nullopt, r->url);
        return keyChange(r, neg::flatJws(b64(h), b64(json::serialize(r->good_payload)), ""));
      },
      {neg::problem(400, {"badSignatureAlgorithm", "malformed"})});
  add("KeyChangePayloadNotAJws",
      [] {
        auto r = rollover();
        return keyChange(r, json::serialize(r->good_payload));
      },
      {malformed()});
  add("KeyChangePostAsGet",
      [] {
        auto r = rollover();
        return keyChange(r, "");
      },
      {malformed()});
  add("KeyChangeNewKeyAlreadyInUse",
      [] {
        auto r = rollover();
        Client other = newAccount();
        // Roll over to the other account's key.
        auto other_key =
            crypto::privateKeyFromPem(crypto::privateKeyToPem(other->accountKey())).value();
        auto h = protectedHeader("ES256", other_key.get(), "", std::nullopt, r->url);
        Outcome o = posted(*r->account, r->url, innerJws(other_key.get(), h, r->good_payload));
        std::string other_url = other->accountUrl();
        o.extra = [other_url](const HttpResponse& resp) {
          EXPECT_EQ(resp.header("location"), other_url)
              << "409 must name the account holding the key";
        };
        return o;
      },
      {neg::httpProblem(409)});

  // --- newOrder (§7.4) and identifiers (§7.1.3, §9.7.7; RFC 8738 for ip). A refused identifier
  // is named in a subproblem, never at the top level (§6.7.1).
  add("NewOrderEmptyIdentifiers", [] { return orderPayload(R"({"identifiers":[]})"); },
      {malformed()});
  add("NewOrderMissingIdentifiers", [] { return orderPayload(R"({"notAfter":null})"); },
      {malformed()});
  add("NewOrderIdentifiersNotArray",
      [] { return orderPayload(R"({"identifiers":"a.localhost"})"); }, {malformed()});
  add("NewOrderIdentifierWithoutValue",
      [] { return orderPayload(R"({"identifiers":[{"type":"dns"}]})"); }, {malformed()});
  add("NewOrderIdentifierValueNotString",
      [] { return orderPayload(R"({"identifiers":[{"type":"dns","value":7}]})"); }, {malformed()});
  add("NewOrderPostAsGet", [] { return orderPayload(""); }, {malformed()});
  // §6.7 unsupportedIdentifier: "An identifier is of an unsupported type".
  add("IdentifierTypeEmail",
      [] {
        return refusedIdentifier({"email", "someone@example.com"});
      },
      {neg::problem(400, {"unsupportedIdentifier"})});
  add("IdentifierIpInDnsType", [] { return refusedIdentifier(dns("192.0.2.1")); }, {refusedName()});
  // §7.1.3: a wildcard is "*." as the leftmost label of an otherwise valid name.
  add("IdentifierDoubleWildcard", [] { return refusedIdentifier(dns("*.*." + uniqueName("neg"))); },
      {refusedName()});
  add("IdentifierWildcardOfTld", [] { return refusedIdentifier(dns("*.com")); }, {refusedName()});
  add("IdentifierWildcardNotLeftmost",
      [] { return refusedIdentifier(dns("a.*." + uniqueName("neg"))); }, {refusedName()});
  add("IdentifierPartialLabelWildcard",
      [] { return refusedIdentifier(dns("a*." + uniqueName("neg"))); }, {refusedName()});
  add("IdentifierTrailingDot", [] { return refusedIdentifier(dns(uniqueName("neg") + ".")); },
      {refusedName()});
  add("IdentifierUnderscore", [] { return refusedIdentifier(dns("_under." + uniqueName("neg"))); },
      {refusedName()});
  add("IdentifierLabelOver63",
      [] { return refusedIdentifier(dns(std::string(64, 'a') + ".localhost")); }, {refusedName()});
  add("IdentifierNameOver253",
      [] {
        std::string name;
        while (name.size() < 260) name += std::string(60, 'b') + ".";
        return refusedIdentifier(dns(name + "localhost"));
      },
      {refusedName()});
  add("IdentifierEmptyValue", [] { return refusedIdentifier(dns("")); }, {refusedName()});
  // RFC 8738 §3: an ip identifier's value is the textual form of one address.
  add("IdentifierIpNotAnAddress",
      [] {
        return refusedIdentifier({"ip", "999.1.1.1"});
      },
      {refusedName()});
  add("IdentifierIpWithPrefix",
      [] {
        return refusedIdentifier({"ip", "192.0.2.0/24"});
      },
      {refusedName()});
  add("IdentifierIpWithZone",
      [] {
        return refusedIdentifier({"ip", "fe80::1%eth0"});
      },
      {refusedName()});
  // An all-numeric "name" a resolver would read as 127.0.0.1 (inet_aton).
  add("IdentifierNumericDnsName", [] { return refusedIdentifier(dns("2130706433")); },
      {refusedName()});
  add("NewOrderTooManyIdentifiers",
      [] {
        std::vector<Identifier> ids;
        for (int i = 0; i < 101; ++i) ids.push_back(dns(uniqueName("neg")));
        return refusedOrder(ids, {});
      },
      {neg::problem(400, {"rejectedIdentifier", "malformed"})});
  add("NewOrderSeveralBadIdentifiers",
      [] {
        const Identifier email{"email", "x@example.com"};
        const Identifier underscore = dns("bad_name.localhost");
        const Identifier dot = dns("trailing.localhost.");
        return refusedOrder({dns(uniqueName("neg")), email, underscore, dot},
                            {email, underscore, dot});
      },
      {neg::problem(400, {"malformed", "rejectedIdentifier", "compound"})});
  auto validity = [](std::string extra) {
    return [extra] {
      return orderPayload(R"({"identifiers":[{"type":"dns","value":")" + uniqueName("neg") +
                          "\"}]," + extra + "}");
    };
  };
  add("NotAfterBeforeNotBefore",
      validity(R"("notBefore":"2030-01-02T00:00:00Z","notAfter":)"
               R"("2030-01-01T00:00:00Z")"),
      {malformed()});
  add("NotBeforeNotADate", validity(R"("notBefore":"next tuesday")"), {malformed()});
  add("NotAfterNotAString", validity(R"("notAfter":1893456000)"), {malformed()});

  // --- Orders, authorizations, challenges of another account, and unknown ones.
  add("OrderWithPayload",
      [] {
        Pending p = pendingOrder();
        return posted(*p.account, p.order.url, "{}");
      },
      {malformed()});
  add("OrderUnknown",
      [] {
        Client a = newAccount();
        return posted(*a, url("/acme/order/NoSuchOrder42"), "");
      },
      {neg::httpProblem(404)});
  add("OrderOfAnotherAccount",
      [] {
        Pending p = pendingOrder();
        Client b = newAccount();
        return posted(*b, p.order.url, "");
      },
      {unauthorized()});
  add("AuthzOfAnotherAccount",
      [] {
        Pending p = pendingOrder();
        Client b = newAccount();
        return posted(*b, p.authz_url, "");
      },
      {unauthorized()});
  add("AuthzDeactivateByAnotherAccount",
      [] {
        Pending p = pendingOrder();
        Client b = newAccount();
        Outcome o = posted(*b, p.authz_url, R"({"status":"deactivated"})");
        o.extra = [p](const HttpResponse&) {
          EXPECT_EQ(str(fetch(*p.account, p.authz_url), "status"), "pending");
        };
        return o;
      },
      {unauthorized()});
  add("ChallengeOfAnotherAccount",
      [] {
        Pending p = pendingOrder();
        Client b = newAccount();
        Outcome o = posted(*b, p.challengeUrl("http-01"), "{}");
        o.extra = [p](const HttpResponse&) {
          EXPECT_EQ(str(fetch(*p.account, p.authz_url), "status"), "pending");
        };
        return o;
      },
      {unauthorized()});
  add("AuthzUnknown",
      [] {
        Client a = newAccount();
        return posted(*a, url("/acme/authz/NoSuchAuthz42"), "");
      },
      {neg::httpProblem(404)});
  add("ChallengeUnknownInOwnAuthz",
      [] {
        Pending p = pendingOrder();
        std::string u = p.challengeUrl("http-01");
        return posted(*p.account, u.substr(0, u.rfind('/') + 1) + "NoSuchChall", "{}");
      },
      {neg::httpProblem(404)});
  // §7.5.2: the only change a client can make to an authorization is "deactivated".
  add("AuthzStatusValid",
      [] {
        Pending p = pendingOrder();
        return posted(*p.account, p.authz_url, R"({"status":"valid"})");
      },
      {malformed()});
  add("AuthzPayloadNotObject",
      [] {
        Pending p = pendingOrder();
        return posted(*p.account, p.authz_url, "[]");
      },
      {malformed()});
  // §7.1.6: "deactivated" is final; a second deactivation cannot succeed.
  add("AuthzDeactivatedTwice",
      [] {
        Pending p = pendingOrder();
        auto first = p.account->post(p.authz_url, R"({"status":"deactivated"})");
        EXPECT_TRUE(first && first->status == 200) << (first ? describe(*first) : "");
        return posted(*p.account, p.authz_url, R"({"status":"deactivated"})");
      },
      {malformed()});
  // §7.1.6: challenges of an authorization that is no longer pending cannot be retried.
  // RFC 8555 names no type: malformed (400) or unauthorized (403).
  add("ChallengeOnDeactivatedAuthz",
      [] {
        Pending p = pendingOrder();
        auto first = p.account->post(p.authz_url, R"({"status":"deactivated"})");
        EXPECT_TRUE(first && first->status == 200) << (first ? describe(*first) : "");
        const auto before = server().responder().connectionCount();
        Outcome o = posted(*p.account, p.challengeUrl("http-01"), "{}");
        o.extra = [p, before](const HttpResponse&) {
          EXPECT_EQ(str(fetch(*p.account, p.authz_url), "status"), "deactivated");
          EXPECT_EQ(server().responder().connectionCount(), before) << "a validation was started";
        };
        return o;
      },
      {malformed(), unauthorized()});
  add("ChallengeOnInvalidAuthz",
      [] {
        Pending p = pendingOrder();
        // http-01 with nothing published: the responder answers 404 and the authorization fails.
        auto r = p.account->post(p.challengeUrl("http-01"), "{}");
        EXPECT_TRUE(r && r->status == 200) << (r ? describe(*r) : "");
        EXPECT_TRUE(waitUntil([&] {
          auto a = fetch(*p.account, p.authz_url);
          return str(a, "status") == "invalid";
        })) << "the authorization did not become invalid";
        // Another of its challenges (tls-alpn-01 targets 127.0.0.1 here) may not restart it.
        Outcome o = posted(*p.account, p.challengeUrl("tls-alpn-01"), "{}");
        o.extra = [p](const HttpResponse&) {
          EXPECT_EQ(str(fetch(*p.account, p.authz_url), "status"), "invalid");
        };
        return o;
      },
      {malformed(), unauthorized()});
  add("ChallengePayloadNotObject",
      [] {
        Pending p = pendingOrder();
        return posted(*p.account, p.challengeUrl("http-01"), "[]");
      },
      {malformed()});

  // --- Finalize (§7.4): "A request to finalize an order will result in error if the order is
  // not in the 'ready' state. In such cases, the server MUST return a 403 (Forbidden) error
  // with a problem document of type orderNotReady." The CSR "MUST indicate the exact same set
  // of requested identifiers"; an unacceptable CSR is badCSR (§6.7). §11.1: the certificate key
  // must not be the account key.
  add("FinalizePendingOrder",
      [] {
        Pending p = pendingOrder();
        json::object payload{{"csr", b64(csrFor(idsOf(p.order.json)))}};
        return posted(*p.account, str(p.order.json, "finalize"), json::serialize(payload));
      },
      {orderNotReady()});
  add("FinalizeCsrGarbageDer",
      [] {
        return finalizeWith([](const Ready&) { return json::value(b64("not a CSR at all")); });
      },
      {badCsr()});
  add("FinalizeCsrNotBase64url",
      [] { return finalizeWith([](const Ready&) { return json::value("MIIB+/ww=="); }); },
      {badCsr(), malformed()});
  add("FinalizeCsrPadded",
      [] {
        return finalizeWith([](const Ready& r) {
          std::string s = b64(csrFor(r.ids));
          const std::size_t pad = (4 - s.size() % 4) % 4;
          s.append(pad == 0 ? 4 : pad, '=');  // §6.1: any trailing '=' is improper
          return json::value(s);
        });
      },
      {badCsr(), malformed()});
  add("FinalizeCsrOtherName",
      [] {
        return finalizeWith(
            [](const Ready&) { return json::value(b64(csrFor({dns(uniqueName("neg"))}))); });
      },
      {badCsr()});
  add("FinalizeCsrExtraName",
      [] {
        return finalizeWith([](const Ready& r) {
          auto ids = r.ids;
          ids.push_back(dns(uniqueName("neg")));
          return json::value(b64(csrFor(ids)));
        });
      },
      {badCsr()});
  add("FinalizeCsrMissingName",
      [] {
        Ready r = readyOrderFor({dns(uniqueName("neg")), dns(uniqueName("neg"))});
        json::object payload{{"csr", b64(csrFor({r.ids[0]}))}};
        return posted(*r.account, str(r.order.json, "finalize"), json::serialize(payload));
      },
      {badCsr()});
  add("FinalizeCsrSignedWithAccountKey",
      [] {
        return finalizeWith([](const Ready& r) {
          auto pem = crypto::privateKeyToPem(r.account->accountKey());
          auto key = crypto::privateKeyFromPem(pem).value();
          return json::value(b64(csrFor(r.ids, key.get())));
        });
      },
      {badCsr()});
  add("FinalizeCsrBadSignature",
      [] {
        return finalizeWith([](const Ready& r) {
          auto der = csrFor(r.ids);
          der.back() ^= 0x01;  // the last byte belongs to the signature
          return json::value(b64(der));
        });
      },
      {badCsr()});
  add("FinalizeMissingCsr",
      [] {
        Ready r = readyOrderFor();
        return posted(*r.account, str(r.order.json, "finalize"), "{}");
      },
      {malformed()});
  add("FinalizePostAsGet",
      [] {
        Ready r = readyOrderFor();
        return posted(*r.account, str(r.order.json, "finalize"), "");
      },
      {malformed()});
  // §7.5.2 deactivation makes the order's authorization unusable: the order is no longer ready.
  add("FinalizeAfterAuthzDeactivated",
      [] {
        Ready r = readyOrderFor();
        const std::string authz(r.order.json.at("authorizations").as_array()[0].as_string());
        auto d = r.account->post(authz, R"({"status":"deactivated"})");
        EXPECT_TRUE(d && d->status == 200) << (d ? describe(*d) : "");
        json::object payload{{"csr", b64(csrFor(r.ids))}};
        Outcome o = posted(*r.account, str(r.order.json, "finalize"), json::serialize(payload));
        Client a = r.account;
        std::string order_url = r.order.url;
        o.extra = [a, order_url](const HttpResponse&) {
          auto order = fetch(*a, order_url);
          EXPECT_FALSE(order.contains("certificate")) << "issued on a deactivated authorization";
        };
        return o;
      },
      {orderNotReady()});
  add("FinalizeValidOrderAgain",
      [] {
        auto& i = sharedIssued();
        auto order = fetch(*i.owner, i.order_url);
        json::object payload{{"csr", b64(csrFor(idsOf(order)))}};
        return posted(*i.owner, str(order, "finalize"), json::serialize(payload));
      },
      {orderNotReady()});
  add("FinalizeByAnotherAccount",
      [] {
        Ready r = readyOrderFor();
        Client b = newAccount();
        json::object payload{{"csr", b64(csrFor(r.ids))}};
        return posted(*b, str(r.order.json, "finalize"), json::serialize(payload));
      },
      {unauthorized()});

  // --- Certificates and revocation (§7.4.2, §7.6): "If a request contains a disallowed
  // reasonCode, then the server MUST reject it with the error type badRevocationReason";
  // alreadyRevoked (§6.7) for a second revocation. A certificate this CA did not issue is not
  // a resource here: 404 (RFC 8555 names no type; malformed also accepted).
  add("RevokeReasonUnused7", [] { return revokeShared(json::value(7)); }, {badReason()});
  add("RevokeReasonOutOfRange", [] { return revokeShared(json::value(11)); }, {badReason()});
  add("RevokeReasonNegative", [] { return revokeShared(json::value(-1)); }, {badReason()});
  add("RevokeReasonNotInteger", [] { return revokeShared(json::value("1")); },
      {badReason(), malformed()});
  add("RevokeByAnotherAccount", [] { return revokeShared(std::nullopt, newAccount()); },
      {unauthorized()});
  add("RevokeByUnrelatedJwk",
      [] {
        auto& i = sharedIssued();
        AcmeClient c = server().client();
        auto stranger = makeKey();
        Outcome o;
        o.response = c.postSignedWith(stranger.get(), url("/acme/revoke-cert"),
                                      revokePayload(i.der, std::nullopt), std::nullopt);
        o.extra = stillRevocableByOwner;
        return o;
      },
      {unauthorized()});
  add("RevokeTwice",
      [] {
        Issued mine = issueOne();
        auto first =
            mine.owner->post(url("/acme/revoke-cert"), revokePayload(mine.der, std::nullopt));
        EXPECT_TRUE(first && first->status == 200) << (first ? describe(*first) : "");
        return posted(*mine.owner, url("/acme/revoke-cert"),
                      revokePayload(mine.der, json::value(1)));
      },
      {neg::problem(400, {"alreadyRevoked"})});
  add("RevokeCertificateNotIssuedHere",
      [] {
        auto key = makeKey();
        const auto now = std::chrono::system_clock::now();
        auto cert = crypto::selfSignedCaCertificate({key.get(), "not issued by akamu", "",
                                                     now - std::chrono::hours(1),
                                                     now + std::chrono::hours(24), "SHA256"});
        EXPECT_TRUE(cert);
        Client a = newAccount();
        return posted(
            *a, url("/acme/revoke-cert"),
            revokePayload(cert ? crypto::certToDer(cert->get()) : std::vector<std::uint8_t>{},
                          std::nullopt));
      },
      {neg::httpProblem(404), malformed()});
  add("RevokeCertificateNotDer",
      [] {
        Client a = newAccount();
        return posted(*a, url("/acme/revoke-cert"), R"({"certificate":"AAAA"})");
      },
      {malformed()});
  add("RevokeMissingCertificate",
      [] {
        Client a = newAccount();
        return posted(*a, url("/acme/revoke-cert"), R"({"reason":1})");
      },
      {malformed()});
  add("RevokePostAsGet",
      [] {
        Client a = newAccount();
        return posted(*a, url("/acme/revoke-cert"), "");
      },
      {malformed()});
  add("CertificateOfAnotherAccount",
      [] {
        Client b = newAccount();
        return posted(*b, sharedIssued().cert_url, "");
      },
      {unauthorized()});
  add("CertificateUnknown",
      [] {
        Client a = newAccount();
        return posted(*a, url("/acme/cert/NoSuchCert42"), "");
      },
      {neg::httpProblem(404)});
  add("CertificateWithPayload",
      [] { return posted(*sharedIssued().owner, sharedIssued().cert_url, "{}"); }, {malformed()});
  return cases;
}

class NegativeProtocol : public ::testing::TestWithParam<Case> {};

TEST_P(NegativeProtocol, IsRefusedAsTheRfcSays) {
  const Case& c = GetParam();
  Outcome o = c.run();
  neg::checkOutcome(c.expect, o, server().directoryUrl());
}

INSTANTIATE_TEST_SUITE_P(Negative, NegativeProtocol, ::testing::ValuesIn(protocolCases()),
                         neg::caseName);

}  // namespace
}  // namespace akamu::itest
