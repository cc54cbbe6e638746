// Orders and authorizations (RFC 8555 §7.1.3, §7.1.4, §7.4, §7.5, §7.5.2).
#include <set>

#include "harness.hpp"

namespace akamu::itest {
namespace {

TEST(NewOrder, Created201PendingWithAuthorizationsAndFinalize) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::string name = uniqueName();
  auto r = c.post(ts.url("/acme/new-order"),
                  R"({"identifiers":[{"type":"dns","value":")" + name + "\"}]}");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << describe(*r);
  const std::string location = r->header("location");
  EXPECT_EQ(location.rfind(ts.url("/acme/order/"), 0), 0u) << location;
  auto order = jsonBody(*r);
  EXPECT_EQ(str(order, "status"), "pending");
  EXPECT_EQ(order.at("identifiers"), json::parse(R"([{"type":"dns","value":")" + name + "\"}]"));
  ASSERT_EQ(order.at("authorizations").as_array().size(), 1u);
  EXPECT_EQ(std::string(order.at("authorizations").as_array()[0].as_string())
                .rfind(ts.url("/acme/authz/"), 0),
            0u);
  EXPECT_EQ(str(order, "finalize"), location + "/finalize");
  EXPECT_FALSE(order.contains("certificate"));
  core::TimePoint expires;
  ASSERT_TRUE(core::parseRfc3339(str(order, "expires"), expires)) << str(order, "expires");
  EXPECT_GT(expires, std::chrono::system_clock::now());
  // The order URL answers POST-as-GET with the same object.
  auto again = fetch(c, location);
  EXPECT_EQ(str(again, "status"), "pending");
  EXPECT_EQ(again.at("authorizations"), order.at("authorizations"));
  // An order is not readable with a payload other than "".
  EXPECT_TRUE(isProblem(c.post(location, "{}"), 400, ProblemType::kMalformed));
}

TEST(NewOrder, MultipleNamesGetOneAuthorizationEach) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  std::vector<Identifier> ids{dns(uniqueName()), dns(uniqueName()), dns(uniqueName())};
  auto order = c.newOrder(ids);
  ASSERT_TRUE(order) << order.error().detail;
  const auto& authzs = order->json.at("authorizations").as_array();
  ASSERT_EQ(authzs.size(), 3u);
  std::set<std::string> names;
  std::set<std::string> urls;
  for (const auto& u : authzs) {
    urls.insert(std::string(u.as_string()));
    auto a = c.getAuthorization(std::string(u.as_string()));
    ASSERT_TRUE(a) << a.error().detail;
    EXPECT_EQ(str(*a, "status"), "pending");
    names.insert(str(a->at("identifier").as_object(), "value"));
  }
  EXPECT_EQ(urls.size(), 3u);
  EXPECT_EQ(names, (std::set<std::string>{ids[0].value, ids[1].value, ids[2].value}));
}

TEST(NewOrder, NamesAreNormalisedAndDeduplicated) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::string name = uniqueName();
  std::string upper = name;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto order = c.newOrder({dns(name), dns(upper)});
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->json.at("identifiers"),
            json::parse(R"([{"type":"dns","value":")" + name + "\"}]"));
  EXPECT_EQ(order->json.at("authorizations").as_array().size(), 1u);
}

TEST(NewOrder, NotBeforeNotAfterEchoedAndInCertificate) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto nb = now - std::chrono::hours(1);
  const auto na = now + std::chrono::hours(24 * 10);
  const std::string nb_s = core::formatRfc3339(nb);
  const std::string na_s = core::formatRfc3339(na);
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = c.newOrder(ids, nb_s, na_s);
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(str(order->json, "notBefore"), nb_s);
  EXPECT_EQ(str(order->json, "notAfter"), na_s);
  auto ready = completeChallenges(c, ts.responder(), *order);
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready");
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), ids, std::nullopt);
  ASSERT_TRUE(csr);
  auto done = c.finalize(*ready, *csr);
  ASSERT_TRUE(done) << done.error().detail;
  auto valid = c.pollOrder(order->url, {"valid"});
  ASSERT_TRUE(valid);
  ASSERT_EQ(valid->status(), "valid");
  EXPECT_EQ(str(valid->json, "notBefore"), nb_s);
  EXPECT_EQ(str(valid->json, "notAfter"), na_s);
  auto pem = c.downloadCertificate(str(valid->json, "certificate"));
  ASSERT_TRUE(pem);
  auto leaf = crypto::certFromPem(*pem);
  ASSERT_TRUE(leaf);
  auto info = crypto::inspectCertificate(leaf->get());
  ASSERT_TRUE(info);
  EXPECT_EQ(core::formatRfc3339(info->not_before), nb_s);
  EXPECT_EQ(core::formatRfc3339(info->not_after), na_s);
}

TEST(NewOrder, InvalidValidityWindowIsMalformed) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const auto now = std::chrono::system_clock::now();
  const std::vector<Identifier> ids{dns(uniqueName())};
  // notAfter before notBefore.
  EXPECT_TRUE(failedWith(c.newOrder(ids, core::formatRfc3339(now + std::chrono::hours(48)),
                                    core::formatRfc3339(now + std::chrono::hours(24))),
                         ProblemType::kMalformed));
  // Not a date.
  EXPECT_TRUE(failedWith(c.newOrder(ids, std::string("yesterday")), ProblemType::kMalformed));
}

TEST(NewOrder, BadIdentifiersAreRejectedWithSubproblemsNamingEach) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::string good = uniqueName();
  auto r = c.post(ts.url("/acme/new-order"),
                  R"({"identifiers":[{"type":"dns","value":")" + good +
                      R"("},{"type":"dns","value":"bad_name.localhost"},)"
                      R"({"type":"dns","value":"-leadinghyphen.localhost"}]})");
  ASSERT_TRUE(isProblem(r, 400, ProblemType::kRejectedIdentifier));
  auto p = client::parseProblem(*r);
  ASSERT_EQ(p->subproblems.size(), 2u) << r->body;
  std::set<std::string> named;
  for (const auto& sp : p->subproblems) {
    ASSERT_TRUE(sp.identifier) << r->body;
    EXPECT_EQ(sp.identifier->type, "dns");
    EXPECT_EQ(sp.type, ProblemType::kRejectedIdentifier);
    named.insert(sp.identifier->value);
  }
  EXPECT_EQ(named, (std::set<std::string>{"bad_name.localhost", "-leadinghyphen.localhost"}));
  // The good name was not ordered on its own.
  auto list = fetch(c, c.accountUrl() + "/orders");
  EXPECT_TRUE(list.at("orders").as_array().empty()) << json::serialize(list);
}

TEST(NewOrder, OtherBadDnsNamesAreRejected) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  for (std::string bad : {std::string("trailing.dot.localhost."), std::string("a..localhost"),
                          std::string("127.0.0.1"), std::string(64, 'a') + ".localhost",
                          std::string("sp ace.localhost"), std::string("")}) {
    auto order = c.newOrder({dns(bad)});
    EXPECT_TRUE(failedWith(order, ProblemType::kRejectedIdentifier)) << "'" << bad << "'";
  }
}

TEST(NewOrder, UnsupportedIdentifierType) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto r = c.post(ts.url("/acme/new-order"),
                  R"({"identifiers":[{"type":"email","value":"someone@example.com"}]})");
  ASSERT_TRUE(isProblem(r, 400, ProblemType::kUnsupportedIdentifier));
  auto p = client::parseProblem(*r);
  // The refused identifier is named (top level or in a subproblem).
  bool named = p->identifier && p->identifier->value == "someone@example.com";
  for (const auto& sp : p->subproblems) {
    named = named || (sp.identifier && sp.identifier->value == "someone@example.com");
  }
  EXPECT_TRUE(named) << r->body;
}

TEST(NewOrder, EmptyOrMissingIdentifiersIsMalformed) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  EXPECT_TRUE(isProblem(c.post(ts.url("/acme/new-order"), R"({"identifiers":[]})"), 400,
                        ProblemType::kMalformed));
  EXPECT_TRUE(isProblem(c.post(ts.url("/acme/new-order"), R"({})"), 400, ProblemType::kMalformed));
  EXPECT_TRUE(isProblem(c.post(ts.url("/acme/new-order"), R"({"identifiers":"x.localhost"})"), 400,
                        ProblemType::kMalformed));
  EXPECT_TRUE(isProblem(c.post(ts.url("/acme/new-order"), ""), 400, ProblemType::kMalformed));
}

TEST(Order, UnknownOrderIs404) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto r = c.post(ts.url("/acme/order/NoSuchOrder"), "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << describe(*r);
}

TEST(Authorization, PostAsGetHasOneHttp01ChallengeWithLongToken) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::string name = uniqueName();
  auto order = c.newOrder({dns(name)});
  ASSERT_TRUE(order);
  const std::string authz_url(order->json.at("authorizations").as_array()[0].as_string());
  auto r = c.post(authz_url, "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  EXPECT_TRUE(hasIndexLink(*r, ts.directoryUrl()));
  auto a = jsonBody(*r);
  EXPECT_EQ(str(a, "status"), "pending");
  EXPECT_EQ(a.at("identifier"), json::parse(R"({"type":"dns","value":")" + name + "\"}"));
  core::TimePoint expires;
  EXPECT_TRUE(core::parseRfc3339(str(a, "expires"), expires));
  const auto& challenges = a.at("challenges").as_array();
  int http01 = 0;
  for (const auto& ch : challenges) {
    const auto& o = ch.as_object();
    if (str(o, "type") != "http-01") continue;
    ++http01;
    EXPECT_EQ(str(o, "status"), "pending");
    EXPECT_EQ(str(o, "url").rfind(ts.url("/acme/chall/"), 0), 0u);
    // RFC 8555 §8.3: at least 128 bits of entropy, base64url without padding.
    const std::string token = str(o, "token");
    auto raw = core::base64urlDecode(token);
    ASSERT_TRUE(raw) << token;
    EXPECT_GE(raw->size(), 16u) << token;
  }
  EXPECT_EQ(http01, 1);
}

TEST(Authorization, TokensAreUnique) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto order = c.newOrder({dns(uniqueName()), dns(uniqueName()), dns(uniqueName())});
  ASSERT_TRUE(order);
  std::set<std::string> tokens;
  std::size_t challenges = 0;
  for (const auto& u : order->json.at("authorizations").as_array()) {
    auto a = c.getAuthorization(std::string(u.as_string()));
    ASSERT_TRUE(a);
    for (const auto& ch : a->at("challenges").as_array()) {
      ++challenges;
      const std::string token = str(ch.as_object(), "token");
      EXPECT_GE(token.size(), 22u);  // >= 128 bits of base64url
      EXPECT_TRUE(tokens.insert(token).second);
    }
  }
  // http-01, dns-01 and tls-alpn-01 for each of the three names, every token distinct.
  EXPECT_EQ(challenges, 9u);
  EXPECT_EQ(tokens.size(), 9u);
}

TEST(Authorization, DeactivationMakesTheOrderInvalid) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto order = c.newOrder({dns(uniqueName()), dns(uniqueName())});
  ASSERT_TRUE(order);
  const std::string authz_url(order->json.at("authorizations").as_array()[0].as_string());
  auto r = c.post(authz_url, R"({"status":"deactivated"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  EXPECT_EQ(str(jsonBody(*r), "status"), "deactivated");
  EXPECT_EQ(str(fetch(c, authz_url), "status"), "deactivated");
  auto o = fetch(c, order->url);
  EXPECT_EQ(str(o, "status"), "invalid");
  // Its challenge can no longer be answered.
  auto a = fetch(c, authz_url);
  const std::string chall = str(a.at("challenges").as_array()[0].as_object(), "url");
  auto resp = c.post(chall, "{}");
  ASSERT_TRUE(resp);
  EXPECT_GE(resp->status, 400) << describe(*resp);
  // Only "deactivated" may be set.
  const std::string other(order->json.at("authorizations").as_array()[1].as_string());
  EXPECT_TRUE(isProblem(c.post(other, R"({"status":"valid"})"), 400, ProblemType::kMalformed));
}

TEST(Authorization, ValidAuthorizationCanBeDeactivated) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto ready = readyOrder(c, ts.responder(), {dns(uniqueName())});
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready");
  const std::string authz_url(ready->json.at("authorizations").as_array()[0].as_string());
  EXPECT_EQ(str(fetch(c, authz_url), "status"), "valid");
  auto r = c.post(authz_url, R"({"status":"deactivated"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(*r);
  EXPECT_EQ(str(fetch(c, authz_url), "status"), "deactivated");
}

TEST(CrossAccount, AnotherAccountsOrderAuthzChallengeAreUnauthorized) {
  auto& ts = sharedServer();
  AcmeClient a = ts.account();
  AcmeClient b = ts.account();
  const std::string name = uniqueName();
  auto order = a.newOrder({dns(name)});
  ASSERT_TRUE(order);
  const std::string authz_url(order->json.at("authorizations").as_array()[0].as_string());
  auto authz = a.getAuthorization(authz_url);
  ASSERT_TRUE(authz);
  const std::string chall_url = str(authz->at("challenges").as_array()[0].as_object(), "url");

  EXPECT_TRUE(isProblem(b.post(order->url, ""), 403, ProblemType::kUnauthorized));
  EXPECT_TRUE(isProblem(b.post(authz_url, ""), 403, ProblemType::kUnauthorized));
  EXPECT_TRUE(
      isProblem(b.post(authz_url, R"({"status":"deactivated"})"), 403, ProblemType::kUnauthorized));
  EXPECT_TRUE(isProblem(b.post(chall_url, ""), 403, ProblemType::kUnauthorized));
  EXPECT_TRUE(isProblem(b.post(chall_url, "{}"), 403, ProblemType::kUnauthorized));
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), {dns(name)}, std::nullopt);
  ASSERT_TRUE(csr);
  EXPECT_TRUE(isProblem(finalizeRaw(b, *order, *csr), 403, ProblemType::kUnauthorized));
  // A's view is unchanged.
  EXPECT_EQ(str(fetch(a, authz_url), "status"), "pending");
  EXPECT_EQ(str(fetch(a, order->url), "status"), "pending");
}

}  // namespace
}  // namespace akamu::itest
