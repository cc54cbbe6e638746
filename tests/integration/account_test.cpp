// Accounts (RFC 8555 §7.3): creation, lookup, update, deactivation, orders list, key rollover.
#include <set>

#include "harness.hpp"

namespace akamu::itest {
namespace {

TEST(NewAccount, CreatesWith201AndLocation) {
  auto& ts = sharedServer();
  AcmeClient c = ts.client();
  auto r = c.newAccount({"mailto:admin@example.com"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << describe(*r);
  const std::string location = r->header("location");
  EXPECT_EQ(location.rfind(ts.url("/acme/account/"), 0), 0u) << location;
  EXPECT_NE(r->header("content-type").find("application/json"), std::string::npos);
  auto body = jsonBody(*r);
  EXPECT_EQ(str(body, "status"), "valid");
  EXPECT_EQ(body.at("contact"), json::parse(R"(["mailto:admin@example.com"])"));
  EXPECT_EQ(str(body, "orders"), location + "/orders");
  EXPECT_EQ(body.at("termsOfServiceAgreed"), json::value(true));
}

TEST(NewAccount, SameKeyAgainReturns200AndSameLocation) {
  auto& ts = sharedServer();
  AcmeClient c = ts.client();
  auto first = c.newAccount({});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201);
  auto second = c.newAccount({});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200) << describe(*second);
  EXPECT_EQ(second->header("location"), first->header("location"));
  auto existing = c.newAccount({}, true, /*only_return_existing=*/true);
  ASSERT_TRUE(existing);
  EXPECT_EQ(existing->status, 200) << describe(*existing);
  EXPECT_EQ(existing->header("location"), first->header("location"));
}

TEST(NewAccount, OnlyReturnExistingForUnknownKeyIsAccountDoesNotExist) {
  auto& ts = sharedServer();
  AcmeClient c = ts.client();
  auto r = c.newAccount({}, true, /*only_return_existing=*/true);
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kAccountDoesNotExist));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->header("location").empty());
  // ... and still nothing was created.
  auto again = c.newAccount({}, true, true);
  EXPECT_TRUE(isProblem(again, 400, ProblemType::kAccountDoesNotExist));
}

TEST(NewAccount, NonMailtoContactIsUnsupportedContact) {
  auto& ts = sharedServer();
  AcmeClient c = ts.client();
  EXPECT_TRUE(isProblem(c.newAccount({"tel:+15551234567"}), 400, ProblemType::kUnsupportedContact));
  EXPECT_TRUE(
      isProblem(c.newAccount({"https://example.com/me"}), 400, ProblemType::kUnsupportedContact));
}

TEST(NewAccount, BadEmailAddressIsInvalidContact) {
  auto& ts = sharedServer();
  AcmeClient c = ts.client();
  EXPECT_TRUE(isProblem(c.newAccount({"mailto:no-at-sign"}), 400, ProblemType::kInvalidContact));
  EXPECT_TRUE(
      isProblem(c.newAccount({"mailto:a@b@example.com"}), 400, ProblemType::kInvalidContact));
  EXPECT_TRUE(
      isProblem(c.newAccount({"mailto:someone@bad_domain!"}), 400, ProblemType::kInvalidContact));
  // None of those created the account.
  EXPECT_TRUE(isProblem(c.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));
}

TEST(NewAccount, TermsOfServiceMustBeAgreedWhenConfigured) {
  auto ts = TestServer::start(
      {.configure = [](config::Config& c) { c.server.terms_of_service_url = "https://x/tos"; }});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->client();
  auto refused = c.newAccount({}, /*terms_agreed=*/false);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << describe(*refused);
  auto problem = client::parseProblem(*refused);
  ASSERT_TRUE(problem) << describe(*refused);
  EXPECT_TRUE(problem->type == ProblemType::kMalformed ||
              problem->type == ProblemType::kUserActionRequired)
      << describe(*refused);
  EXPECT_TRUE(isProblem(c.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));
  auto agreed = c.newAccount({}, /*terms_agreed=*/true);
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->status, 201) << describe(*agreed);
}

TEST(NewAccount, ExternalAccountRequiredWhenConfigured) {
  auto ts = TestServer::start(
      {.configure = [](config::Config& c) { c.server.external_account_required = true; }});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->client();
  EXPECT_TRUE(isProblem(c.newAccount({}), 403, ProblemType::kExternalAccountRequired));
}

TEST(Account, PostAsGetReturnsTheAccount) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto r = c.post(c.accountUrl(), "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  auto body = jsonBody(*r);
  EXPECT_EQ(str(body, "status"), "valid");
  EXPECT_EQ(body.at("contact"), json::parse(R"(["mailto:it@example.com"])"));
  EXPECT_EQ(str(body, "orders"), c.accountUrl() + "/orders");
}

TEST(Account, AnotherAccountsUrlIsUnauthorized) {
  auto& ts = sharedServer();
  AcmeClient a = ts.account();
  AcmeClient b = ts.account();
  EXPECT_TRUE(isProblem(b.post(a.accountUrl(), ""), 403, ProblemType::kUnauthorized));
  EXPECT_TRUE(
      isProblem(b.post(a.accountUrl(), R"({"contact":[]})"), 403, ProblemType::kUnauthorized));
}

TEST(Account, UpdateContact) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto r =
      c.post(c.accountUrl(), R"({"contact":["mailto:new@example.com","mailto:b@example.org"]})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  EXPECT_EQ(jsonBody(*r).at("contact"),
            json::parse(R"(["mailto:new@example.com","mailto:b@example.org"])"));
  auto again = fetch(c, c.accountUrl());
  EXPECT_EQ(again.at("contact"),
            json::parse(R"(["mailto:new@example.com","mailto:b@example.org"])"));
  // An invalid update is refused and changes nothing.
  EXPECT_TRUE(isProblem(c.post(c.accountUrl(), R"({"contact":["tel:123"]})"), 400,
                        ProblemType::kUnsupportedContact));
  EXPECT_EQ(fetch(c, c.accountUrl()).at("contact"),
            json::parse(R"(["mailto:new@example.com","mailto:b@example.org"])"));
}

TEST(Account, DeactivateThenEveryRequestIsUnauthorized) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto order = c.newOrder({dns(uniqueName())});
  ASSERT_TRUE(order) << order.error().detail;
  auto r = c.post(c.accountUrl(), R"({"status":"deactivated"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  EXPECT_EQ(str(jsonBody(*r), "status"), "deactivated");

  // RFC 8555 §7.3.6: "MUST return an error response with status code 401 (Unauthorized)".
  EXPECT_TRUE(isProblem(c.post(c.accountUrl(), ""), 401, ProblemType::kUnauthorized));
  EXPECT_TRUE(isProblem(c.post(ts.url("/acme/new-order"),
                               R"({"identifiers":[{"type":"dns","value":"x.localhost"}]})"),
                        401, ProblemType::kUnauthorized));
  EXPECT_TRUE(isProblem(c.post(order->url, ""), 401, ProblemType::kUnauthorized));
  EXPECT_TRUE(
      isProblem(c.post(std::string(order->json.at("authorizations").as_array()[0].as_string()), ""),
                401, ProblemType::kUnauthorized));
  // RFC 8555 §7.3.6: the server MUST NOT accept further requests authorized by that
  // account's key -- newAccount with it included (neither a new account nor the old one back).
  EXPECT_TRUE(isProblem(c.newAccount({}), 401, ProblemType::kUnauthorized));
}

TEST(Account, OrdersListHasOwnOrdersOnly) {
  auto& ts = sharedServer();
  AcmeClient a = ts.account();
  AcmeClient b = ts.account();
  auto a1 = a.newOrder({dns(uniqueName())});
  auto a2 = a.newOrder({dns(uniqueName()), dns(uniqueName())});
  auto b1 = b.newOrder({dns(uniqueName())});
  ASSERT_TRUE(a1 && a2 && b1);
  auto r = a.post(a.accountUrl() + "/orders", "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  std::set<std::string> urls;
  const auto list = jsonBody(*r);
  for (const auto& v : list.at("orders").as_array()) urls.insert(std::string(v.as_string()));
  EXPECT_EQ(urls, (std::set<std::string>{a1->url, a2->url}));
  auto rb = b.post(b.accountUrl() + "/orders", "");
  ASSERT_TRUE(rb);
  ASSERT_EQ(rb->status, 200);
  EXPECT_EQ(jsonBody(*rb).at("orders"), json::array({json::value(b1->url)}));
  // B may not read A's list.
  EXPECT_TRUE(isProblem(b.post(a.accountUrl() + "/orders", ""), 403, ProblemType::kUnauthorized));
}

TEST(KeyChange, OldKeyStopsWorkingNewKeyWorks) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::string account_url = c.accountUrl();
  // Keep a copy of the old key to try it afterwards.
  auto old_pem = crypto::privateKeyToPem(c.accountKey());
  auto old_copy = crypto::privateKeyFromPem(old_pem);
  ASSERT_TRUE(old_copy);
  // Same key type, so the old key's request fails on its signature, not on its algorithm.
  auto status = c.changeKey(makeKey("ec:P-256"));
  ASSERT_TRUE(status) << status.error().detail;
  // New key (the client now signs with it) works with the same kid.
  auto r = c.post(account_url, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(*r);
  // The old key, with the account's kid, is refused.
  auto old = c.postSignedWith(old_copy->get(), account_url, "", account_url);
  EXPECT_TRUE(isProblem(old, 403, ProblemType::kUnauthorized));
  // The old key no longer finds the account; the new one does.
  AcmeClient old_client(ts.directoryUrl(), std::move(*old_copy));
  EXPECT_TRUE(
      isProblem(old_client.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));
  auto lookup = c.newAccount({}, true, true);
  ASSERT_TRUE(lookup);
  EXPECT_EQ(lookup->status, 200);
  EXPECT_EQ(lookup->header("location"), account_url);
}

TEST(KeyChange, KeyOfAnotherAccountIsConflictWithLocation) {
  auto& ts = sharedServer();
  AcmeClient a = ts.account();
  AcmeClient b = ts.account();
  // A tries to roll over to B's key.
  auto b_key = crypto::privateKeyFromPem(crypto::privateKeyToPem(b.accountKey()));
  ASSERT_TRUE(b_key);
  const std::string url = ts.url("/acme/key-change");
  json::object inner_payload{{"account", a.accountUrl()},
                             {"oldKey", jose::publicKeyToJwk(a.accountKey()).value()}};
  jose::SignOptions inner_opts;
  inner_opts.url = url;
  auto inner = jose::signJws(b_key->get(), inner_opts, json::serialize(inner_payload));
  ASSERT_TRUE(inner);
  auto r = a.post(url, *inner);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << describe(*r);
  EXPECT_EQ(r->header("location"), b.accountUrl());
  // A still has its own key.
  auto still = a.post(a.accountUrl(), "");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200);
}

TEST(KeyChange, InnerJwsMustBeSignedByTheNewKey) {
  auto& ts = sharedServer();
  AcmeClient a = ts.account();
  const std::string url = ts.url("/acme/key-change");
  auto new_key = makeKey();
  json::object inner_payload{{"account", a.accountUrl()},
                             {"oldKey", jose::publicKeyToJwk(a.accountKey()).value()}};
  // Header names the new key but the signature is broken.
  std::string header = protectedHeader("ES256", new_key.get(), "", std::nullopt, url);
  std::string inner = craftJws(new_key.get(), header, json::serialize(inner_payload), true);
  auto r = a.post(url, inner);
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400) << describe(*r);
  EXPECT_LT(r->status, 500) << describe(*r);
  auto still = a.post(a.accountUrl(), "");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200);
}

// RFC 8555 §7.3.5: the inner JWS carries the new key's jwk, the outer url and no nonce; its
// payload names this account and its current key. Any violation leaves the account's key as is.
TEST(KeyChange, InnerJwsRulesAreEnforced) {
  auto& ts = sharedServer();
  AcmeClient a = ts.account();
  AcmeClient other = ts.account();
  const std::string url = ts.url("/acme/key-change");
  auto new_key = makeKey();
  const auto old_jwk = jose::publicKeyToJwk(a.accountKey()).value();
  auto inner = [&](std::string_view header, const json::object& payload) {
    return craftJws(new_key.get(), header, json::serialize(payload));
  };
  const json::object good_payload{{"account", a.accountUrl()}, {"oldKey", old_jwk}};
  const std::string good_header = protectedHeader("ES256", new_key.get(), "", std::nullopt, url);

  struct Case {
    const char* what;
    std::string body;
    std::optional<ProblemType> type;  // nullopt: any 4xx
  };
  std::vector<Case> cases{
      {"inner url differs",
       inner(protectedHeader("ES256", new_key.get(), "", std::nullopt, ts.url("/acme/new-order")),
             good_payload),
       ProblemType::kMalformed},
      {"inner has a nonce",
       inner(protectedHeader("ES256", new_key.get(), "", a.fetchNonce().value(), url),
             good_payload),
       ProblemType::kMalformed},
      {"inner uses kid",
       inner(protectedHeader("ES256", new_key.get(), a.accountUrl(), std::nullopt, url),
             good_payload),
       ProblemType::kMalformed},
      {"inner names another account",
       inner(good_header, json::object{{"account", other.accountUrl()}, {"oldKey", old_jwk}}),
       std::nullopt},
      {"oldKey is not the account key",
       inner(good_header,
             json::object{{"account", a.accountUrl()},
                          {"oldKey", jose::publicKeyToJwk(other.accountKey()).value()}}),
       std::nullopt},
      {"payload lacks oldKey", inner(good_header, json::object{{"account", a.accountUrl()}}),
       ProblemType::kMalformed},
      {"payload is not a JWS", R"({"account":"x"})", ProblemType::kMalformed},
  };
  for (const auto& c : cases) {
    auto r = a.post(url, c.body);
    ASSERT_TRUE(r) << c.what;
    EXPECT_GE(r->status, 400) << c.what << ": " << describe(*r);
    EXPECT_LT(r->status, 500) << c.what << ": " << describe(*r);
    if (c.type) {
      EXPECT_TRUE(isProblem(*r, 400, *c.type)) << c.what;
    }
  }
  // The account still answers to its old key and not to the new one.
  auto still = a.post(a.accountUrl(), "");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200) << describe(*still);
  AcmeClient by_new(ts.directoryUrl(), std::move(new_key));
  EXPECT_TRUE(isProblem(by_new.newAccount({}, true, true), 400, ProblemType::kAccountDoesNotExist));
}

}  // namespace
}  // namespace akamu::itest
