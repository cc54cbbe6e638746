// Authorization reuse across orders, pre-authorization (RFC 8555 §7.4.1, newAuthz) and
// subdomain authorizations (RFC 9444) end to end through the server and the project's own
// client. dns-01 answers come from a loopback TestDnsServer; races are ordered by events (the
// http-01 responder holds the validator's request until the test releases it); expiry moves
// on a FakeClock.
#include <map>
#include <set>

#include "crypto/digest.hpp"
#include "harness.hpp"
#include "validation/test_dns_server.hpp"

namespace akamu::itest {
namespace {

using validation::TestDnsServer;

// A per-process unique name under example.test (answered by the TestDnsServer only).
std::string testName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
         ".example.test";
}

std::vector<std::string> authzUrls(const OrderInfo& order) {
  std::vector<std::string> out;
  for (const auto& u : order.json.at("authorizations").as_array()) out.emplace_back(u.as_string());
  return out;
}

const json::object* challengeOfType(const json::object& authz, std::string_view type) {
  for (const auto& ch : authz.at("challenges").as_array()) {
    if (str(ch.as_object(), "type") == type) return &ch.as_object();
  }
  return nullptr;
}

std::set<std::string> typesOf(const json::object& authz) {
  std::set<std::string> out;
  for (const auto& ch : authz.at("challenges").as_array()) out.insert(str(ch.as_object(), "type"));
  return out;
}

std::vector<std::uint8_t> csrFor(const std::vector<Identifier>& ids) {
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), ids, std::nullopt);
  EXPECT_TRUE(csr);
  return csr ? *csr : std::vector<std::uint8_t>{};
}

// Polls the authorization until it leaves "pending" (the validation ran).
json::object settledAuthz(AcmeClient& c, const std::string& url) {
  json::object authz;
  EXPECT_TRUE(waitUntil([&] {
    authz = fetch(c, url);
    return str(authz, "status") != "pending";
  }));
  return authz;
}

// Answers the authorization's http-01 challenge and waits for the outcome.
json::object validateHttp01(AcmeClient& c, TestServer& ts, const std::string& url) {
  auto authz = c.getAuthorization(url);
  EXPECT_TRUE(authz) << (authz ? "" : authz.error().detail);
  if (!authz) return {};
  const auto* ch = challengeOfType(*authz, "http-01");
  EXPECT_NE(ch, nullptr);
  if (ch == nullptr) return {};
  const std::string token = str(*ch, "token");
  ts.responder().set(token, jose::keyAuthorization(token, *c.thumbprint()));
  EXPECT_TRUE(c.respondChallenge(str(*ch, "url")));
  return settledAuthz(c, url);
}

// Finalizes a ready order and checks that it issues.
void expectIssues(AcmeClient& c, const OrderInfo& ready, const std::vector<Identifier>& ids) {
  auto done = c.finalize(ready, csrFor(ids));
  ASSERT_TRUE(done) << done.error().detail;
  if (done->status() != "valid") {
    done = c.pollOrder(ready.url, {"valid"}, std::chrono::milliseconds(20));
    ASSERT_TRUE(done) << done.error().detail;
  }
  ASSERT_EQ(done->status(), "valid");
  auto pem = c.downloadCertificate(str(done->json, "certificate"));
  ASSERT_TRUE(pem) << pem.error().detail;
  EXPECT_NE(pem->find("BEGIN CERTIFICATE"), std::string::npos);
}

// Each order reads back invalid and its finalize is refused (orderNotReady).
void expectInvalidAndNotFinalized(AcmeClient& c, const std::vector<OrderInfo>& orders,
                                  const std::vector<Identifier>& ids) {
  for (const auto& o : orders) {
    EXPECT_EQ(str(fetch(c, o.url), "status"), "invalid") << o.url;
    auto fin = finalizeRaw(c, o, csrFor(ids));
    EXPECT_TRUE(isProblem(fin, 403, ProblemType::kOrderNotReady)) << o.url;
  }
}

core::Result<HttpResponse> postJson(AcmeClient& c, const std::string& url, const json::value& v) {
  return c.post(url, json::serialize(v));
}

json::object directoryOf(TestServer& ts) {
  client::HttpClient http;
  auto r = http.request("GET", ts.directoryUrl());
  EXPECT_TRUE(r && r->status == 200);
  return r ? jsonBody(*r) : json::object{};
}

// ---------------------------------------------------------------------------------------------
// The servers. `full`: pre-authorization and subdomain authorizations on, DNS from `dns`.
// `preOnly`: pre-authorization without subdomain authorizations. `pendingReuse`: pending
// authorizations are reused too. The shared default server has every new feature off except
// the reuse of valid authorizations (on by default).

struct Env {
  std::unique_ptr<TestDnsServer> dns;
  std::unique_ptr<TestServer> full;
  std::unique_ptr<TestServer> pre_only;
  std::unique_ptr<TestServer> pending_reuse;
  std::unique_ptr<TestServer> caa;  // as `full`, checking CAA for ca.example.test
};

Env& env() {
  static std::unique_ptr<Env> e = [] {
    auto out = std::make_unique<Env>();
    auto dns_server = TestDnsServer::start();
    if (!dns_server) {
      ADD_FAILURE() << dns_server.error().detail;
      std::abort();
    }
    out->dns = std::move(*dns_server);
    const std::string resolver = out->dns->address();
    out->full = TestServer::start({.configure = [resolver](config::Config& cfg) {
      cfg.server.dns_resolver_addr = resolver;
      cfg.server.dns_timeout_secs = 3;
      cfg.server.allow_pre_authorization = true;
      cfg.server.allow_subdomain_authorizations = true;
    }});
    out->caa = TestServer::start({.configure = [resolver](config::Config& cfg) {
      cfg.server.dns_resolver_addr = resolver;
      cfg.server.dns_timeout_secs = 3;
      cfg.server.allow_pre_authorization = true;
      cfg.server.allow_subdomain_authorizations = true;
      cfg.server.caa_identities = {"ca.example.test"};
    }});
    out->pre_only = TestServer::start(
        {.configure = [](config::Config& cfg) { cfg.server.allow_pre_authorization = true; }});
    out->pending_reuse = TestServer::start(
        {.configure = [](config::Config& cfg) { cfg.server.reuse_pending_authz = true; }});
    if (!out->full || !out->caa || !out->pre_only || !out->pending_reuse) std::abort();
    return out;
  }();
  return *e;
}

// base64url(SHA-256(key authorization)): the dns-01 TXT value (RFC 8555 §8.4).
std::string dns01Value(const std::string& key_authorization) {
  const auto d = crypto::sha256(key_authorization);
  return core::base64urlEncode(std::span<const std::uint8_t>(d.data(), d.size()));
}

// Publishes the dns-01 record of a pending authorization, answers it, waits for the outcome.
json::object validateDns01(AcmeClient& c, TestDnsServer& dns, const std::string& url) {
  auto authz = c.getAuthorization(url);
  EXPECT_TRUE(authz) << (authz ? "" : authz.error().detail);
  if (!authz) return {};
  const auto* ch = challengeOfType(*authz, "dns-01");
  EXPECT_NE(ch, nullptr);
  if (ch == nullptr) return {};
  const std::string name = str(authz->at("identifier").as_object(), "value");
  dns.setTxt("_acme-challenge." + name,
             {dns01Value(jose::keyAuthorization(str(*ch, "token"), *c.thumbprint()))});
  EXPECT_TRUE(c.respondChallenge(str(*ch, "url")));
  return settledAuthz(c, url);
}

// ---------------------------------------------------------------------------------------------
// Reuse across orders

TEST(AuthzReuse, SecondOrderOfTheAccountReusesTheValidAuthorization) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("reuse")), dns(uniqueName("reuse"))};
  auto first = readyOrder(c, ts.responder(), ids);
  ASSERT_TRUE(first) << first.error().detail;
  ASSERT_EQ(first->status(), "ready");
  auto second = c.newOrder(ids);
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_NE(second->url, first->url);
  EXPECT_EQ(second->status(), "ready");  // nothing left to validate
  EXPECT_EQ(authzUrls(*second), authzUrls(*first));
  expectIssues(c, *second, ids);
  // The first order still lists them and can be finalized too.
  expectIssues(c, *first, ids);

  // Another account never gets them.
  AcmeClient other = ts.account();
  auto theirs = other.newOrder(ids);
  ASSERT_TRUE(theirs) << theirs.error().detail;
  EXPECT_EQ(theirs->status(), "pending");
  const auto mine = authzUrls(*first);
  for (const auto& u : authzUrls(*theirs)) {
    EXPECT_EQ(std::count(mine.begin(), mine.end(), u), 0) << u;
  }
}

TEST(AuthzReuse, PendingAuthorizationsAreNotReusedByDefault) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("nopend"))};
  auto first = c.newOrder(ids);
  ASSERT_TRUE(first);
  auto second = c.newOrder(ids);
  ASSERT_TRUE(second);
  EXPECT_NE(authzUrls(*second), authzUrls(*first));
}

TEST(AuthzReuse, DeactivatingASharedAuthorizationInvalidatesEveryOrderAndNeitherFinalizes) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("shared"))};
  auto first = readyOrder(c, ts.responder(), ids);
  ASSERT_TRUE(first) << first.error().detail;
  auto second = c.newOrder(ids);
  ASSERT_TRUE(second) << second.error().detail;
  ASSERT_EQ(second->status(), "ready");
  ASSERT_EQ(authzUrls(*second), authzUrls(*first));

  auto r = c.post(authzUrls(*first)[0], R"({"status":"deactivated"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? describe(*r) : r.error().detail);
  expectInvalidAndNotFinalized(c, {*first, *second}, ids);
  // A new order gets a new authorization: a deactivated one is never reused.
  auto third = c.newOrder(ids);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status(), "pending");
  EXPECT_NE(authzUrls(*third), authzUrls(*first));
}

// The validation of a shared (pending) authorization finishes after its deactivation: the
// deactivation wins, both orders end invalid and neither finalizes.
TEST(AuthzReuse, ValidationRacingDeactivationOfASharedAuthorization) {
  auto& ts = *env().pending_reuse;
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("race"))};
  auto first = c.newOrder(ids);
  ASSERT_TRUE(first);
  auto second = c.newOrder(ids);
  ASSERT_TRUE(second);
  ASSERT_EQ(authzUrls(*second), authzUrls(*first));  // the pending one, shared
  const std::string authz_url = authzUrls(*first)[0];
  auto authz = c.getAuthorization(authz_url);
  ASSERT_TRUE(authz);
  const auto* ch = challengeOfType(*authz, "http-01");
  ASSERT_NE(ch, nullptr);
  const std::string token = str(*ch, "token");
  ts.responder().set(token, jose::keyAuthorization(token, *c.thumbprint()));
  ts.responder().hold(token);
  ASSERT_TRUE(c.respondChallenge(str(*ch, "url")));
  ASSERT_TRUE(ts.responder().waitForHeldRequest(token, std::chrono::seconds(30)));
  auto deactivated = c.post(authz_url, R"({"status":"deactivated"})");
  ASSERT_TRUE(deactivated && deactivated->status == 200)
      << (deactivated ? describe(*deactivated) : deactivated.error().detail);
  ts.responder().release(token);  // the correct answer, too late
  ASSERT_TRUE(waitUntil([&] { return str(fetch(c, str(*ch, "url")), "status") != "processing"; }));
  EXPECT_EQ(str(fetch(c, authz_url), "status"), "deactivated");
  expectInvalidAndNotFinalized(c, {*first, *second}, ids);
}

// The validation of a shared pending authorization moves every order that lists it on.
TEST(AuthzReuse, ValidatingASharedPendingAuthorizationMakesEveryOrderReady) {
  auto& ts = *env().pending_reuse;
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("both"))};
  auto first = c.newOrder(ids);
  ASSERT_TRUE(first);
  auto second = c.newOrder(ids);
  ASSERT_TRUE(second);
  ASSERT_EQ(authzUrls(*second), authzUrls(*first));
  EXPECT_EQ(str(validateHttp01(c, ts, authzUrls(*first)[0]), "status"), "valid");
  for (const auto* o : {&*first, &*second}) {
    EXPECT_EQ(str(fetch(c, o->url), "status"), "ready") << o->url;
  }
  expectIssues(c, *second, ids);
}

// ---------------------------------------------------------------------------------------------
// Pre-authorization (newAuthz)

TEST(PreAuthorization, OffByDefault) {
  auto& ts = sharedServer();
  auto dir = directoryOf(ts);
  EXPECT_EQ(dir.if_contains("newAuthz"), nullptr);
  EXPECT_EQ(dir.at("meta").as_object().if_contains("subdomainAuthAllowed"), nullptr);
  AcmeClient c = ts.account();
  json::object payload{{"identifier", json::object{{"type", "dns"}, {"value", uniqueName()}}}};
  auto r = postJson(c, ts.url("/acme/new-authz"), payload);
  EXPECT_TRUE(isProblem(r, 404, ProblemType::kNotFound));
  // The client says what is missing.
  auto a = c.newAuthz(dns(uniqueName()));
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().detail.find("newAuthz"), std::string::npos);
}

TEST(PreAuthorization, DirectoryOffersNewAuthzAndWildcardsAreRefused) {
  auto& ts = *env().pre_only;
  auto dir = directoryOf(ts);
  EXPECT_EQ(str(dir, "newAuthz"), ts.url("/acme/new-authz"));
  EXPECT_EQ(dir.at("meta").as_object().if_contains("subdomainAuthAllowed"), nullptr);
  AcmeClient c = ts.account();
  json::object payload{
      {"identifier", json::object{{"type", "dns"}, {"value", "*." + uniqueName("wild")}}}};
  EXPECT_TRUE(isProblem(postJson(c, str(dir, "newAuthz"), payload), 400, ProblemType::kMalformed));
  // Payload shape.
  EXPECT_TRUE(isProblem(postJson(c, str(dir, "newAuthz"), json::object{{"identifier", 1}}), 400,
                        ProblemType::kMalformed));
  // Identifier policy as for newOrder.
  json::object bad{{"identifier", json::object{{"type", "dns"}, {"value", "no_such..name"}}}};
  EXPECT_TRUE(
      isProblem(postJson(c, str(dir, "newAuthz"), bad), 400, ProblemType::kMalformed) ||
      isProblem(postJson(c, str(dir, "newAuthz"), bad), 400, ProblemType::kRejectedIdentifier));
  json::object email{{"identifier", json::object{{"type", "email"}, {"value", "a@b.example"}}}};
  EXPECT_TRUE(isProblem(postJson(c, str(dir, "newAuthz"), email), 400,
                        ProblemType::kUnsupportedIdentifier));
}

TEST(PreAuthorization, PreAuthorizedIdentifierMakesTheOrderReadyAtOnce) {
  auto& ts = *env().pre_only;
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("pre"))};
  auto pre = c.newAuthz(ids[0]);
  ASSERT_TRUE(pre) << pre.error().detail;
  EXPECT_EQ(str(pre->json, "status"), "pending");
  EXPECT_EQ(str(pre->json.at("identifier").as_object(), "value"), ids[0].value);
  EXPECT_EQ(pre->json.if_contains("subdomainAuthAllowed"), nullptr);
  EXPECT_EQ(typesOf(pre->json), (std::set<std::string>{"http-01", "dns-01", "tls-alpn-01"}));
  EXPECT_EQ(str(validateHttp01(c, ts, pre->url), "status"), "valid");

  auto order = c.newOrder(ids);
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status(), "ready");
  EXPECT_EQ(authzUrls(*order), std::vector<std::string>{pre->url});
  expectIssues(c, *order, ids);
}

TEST(PreAuthorization, SubdomainAuthAllowedIsRefusedWhenTheFeatureIsOff) {
  auto& ts = *env().pre_only;
  AcmeClient c = ts.account();
  auto r = c.newAuthz(dns(uniqueName("sub")), true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, ProblemType::kMalformed);
  EXPECT_NE(r.error().detail.find("subdomainAuthAllowed"), std::string::npos);
  client::NewOrderOptions options;
  const std::string base = uniqueName("anc");
  options.ancestor_domains = {base};
  auto o = c.newOrder({dns("a." + base)}, options);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().type, ProblemType::kMalformed);
  EXPECT_NE(o.error().detail.find("ancestorDomain"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Subdomain authorizations (RFC 9444)

TEST(SubdomainAuthorizations, AncestorAuthorizedByDns01ServesSubdomainOrders) {
  auto& e = env();
  auto& ts = *e.full;
  EXPECT_EQ(directoryOf(ts).at("meta").as_object().at("subdomainAuthAllowed"), json::value(true));
  AcmeClient c = ts.account();
  const std::string base = testName("b");
  auto pre = c.newAuthz(dns(base), true);
  ASSERT_TRUE(pre) << pre.error().detail;
  EXPECT_EQ(pre->json.at("subdomainAuthAllowed"), json::value(true));
  EXPECT_EQ(typesOf(pre->json), std::set<std::string>{"dns-01"});  // §4.1: DNS only here
  EXPECT_EQ(str(validateDns01(c, *e.dns, pre->url), "status"), "valid");

  // An order naming the ancestor: ready at once, and it issues.
  const std::vector<Identifier> ids{dns("a.b." + base)};
  client::NewOrderOptions options;
  options.ancestor_domains = {base};
  auto order = c.newOrder(ids, options);
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status(), "ready");
  EXPECT_EQ(authzUrls(*order), std::vector<std::string>{pre->url});
  expectIssues(c, *order, ids);

  // Descendants without ancestorDomain reuse it too; the ancestor itself as well. Two names
  // covered by it list it once.
  const std::vector<Identifier> more{dns("x." + base), dns("y.z." + base)};
  auto plain = c.newOrder(more);
  ASSERT_TRUE(plain) << plain.error().detail;
  EXPECT_EQ(plain->status(), "ready");
  EXPECT_EQ(authzUrls(*plain), std::vector<std::string>{pre->url});
  expectIssues(c, *plain, more);

  // Another account's order for a subdomain gets its own authorization.
  AcmeClient other = ts.account();
  auto theirs = other.newOrder({dns("q." + base)});
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->status(), "pending");
}

TEST(SubdomainAuthorizations, NewOrderWithAncestorDomainCreatesTheAncestorAuthorization) {
  auto& e = env();
  auto& ts = *e.full;
  AcmeClient c = ts.account();
  const std::string base = testName("nb");
  const std::vector<Identifier> ids{dns("www." + base)};
  client::NewOrderOptions options;
  options.ancestor_domains = {base};
  auto order = c.newOrder(ids, options);
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status(), "pending");
  // The identifier stays as asked for; the authorization is the ancestor's.
  EXPECT_EQ(str(order->json.at("identifiers").as_array()[0].as_object(), "value"), ids[0].value);
  auto authz = fetch(c, authzUrls(*order)[0]);
  EXPECT_EQ(str(authz.at("identifier").as_object(), "value"), base);
  EXPECT_EQ(authz.at("subdomainAuthAllowed"), json::value(true));
  EXPECT_EQ(typesOf(authz), std::set<std::string>{"dns-01"});
  EXPECT_EQ(str(validateDns01(c, *e.dns, authzUrls(*order)[0]), "status"), "valid");
  EXPECT_EQ(str(fetch(c, order->url), "status"), "ready");
  expectIssues(c, *order, ids);
}

TEST(SubdomainAuthorizations, AncestorDomainMustBeAnAncestor) {
  auto& ts = *env().full;
  AcmeClient c = ts.account();
  const std::string base = testName("d");
  auto refused = [&](Identifier id, std::string ancestor) {
    client::NewOrderOptions options;
    options.ancestor_domains = {std::move(ancestor)};
    auto o = c.newOrder({id}, options);
    if (o) return ::testing::AssertionFailure() << "accepted: " << o->url;
    if (o.error().type != ProblemType::kMalformed) {
      return ::testing::AssertionFailure() << o.error().detail;
    }
    return ::testing::AssertionSuccess() << o.error().detail;
  };
  EXPECT_TRUE(refused(dns("a." + base), "other.example.test"));
  EXPECT_TRUE(refused(dns("a." + base), "a." + base));        // itself is no ancestor
  EXPECT_TRUE(refused(dns("a." + base), "x" + base));         // a suffix, not a label boundary
  EXPECT_TRUE(refused(dns("a." + base), "test"));             // a single label never is
  EXPECT_TRUE(refused(dns("a." + base), "*." + base));        // not a wildcard
  EXPECT_TRUE(refused(Identifier{"ip", "127.0.0.1"}, base));  // only for dns identifiers
  // A wildcard may name its own base name.
  client::NewOrderOptions options;
  options.ancestor_domains = {base};
  auto wildcard = c.newOrder({dns("*." + base)}, options);
  ASSERT_TRUE(wildcard) << wildcard.error().detail;
  auto authz = fetch(c, authzUrls(*wildcard)[0]);
  EXPECT_EQ(str(authz.at("identifier").as_object(), "value"), base);
  EXPECT_EQ(authz.at("subdomainAuthAllowed"), json::value(true));
  // newAuthz: subdomainAuthAllowed only for DNS names.
  auto ip = c.newAuthz(Identifier{"ip", "127.0.0.1"}, true);
  ASSERT_FALSE(ip);
  EXPECT_EQ(ip.error().type, ProblemType::kMalformed);
}

// Every certificate name gets its CAA check: one authorized through its ancestor's subdomain
// authorization is checked at finalize (its own validation never ran).
TEST(SubdomainAuthorizations, CaaOfASubdomainIsCheckedAtFinalize) {
  auto& e = env();
  auto& ts = *e.caa;
  AcmeClient c = ts.account();
  const std::string base = testName("caa");
  auto pre = c.newAuthz(dns(base), true);
  ASSERT_TRUE(pre) << pre.error().detail;
  EXPECT_EQ(str(validateDns01(c, *e.dns, pre->url), "status"), "valid");
  e.dns->setCaa("deny." + base, {validation::CaaRecord{0, "issue", "other-ca.example"}});
  const std::vector<Identifier> denied{dns("deny." + base)};
  auto order = c.newOrder(denied);
  ASSERT_TRUE(order) << order.error().detail;
  ASSERT_EQ(order->status(), "ready");
  auto fin = finalizeRaw(c, *order, csrFor(denied));
  ASSERT_TRUE(fin);
  EXPECT_GE(fin->status, 400) << describe(*fin);
  EXPECT_EQ(str(jsonBody(*fin), "type"), problemName(ProblemType::kCaa)) << describe(*fin);
  // A name without a CAA record of its own issues.
  const std::vector<Identifier> allowed{dns("ok." + base)};
  auto fine = c.newOrder(allowed);
  ASSERT_TRUE(fine) << fine.error().detail;
  ASSERT_EQ(fine->status(), "ready");
  expectIssues(c, *fine, allowed);
}

TEST(SubdomainAuthorizations, AnOrdinaryAuthorizationDoesNotCoverSubdomains) {
  auto& e = env();
  auto& ts = *e.full;
  AcmeClient c = ts.account();
  const std::string base = testName("o");
  auto pre = c.newAuthz(dns(base));
  ASSERT_TRUE(pre) << pre.error().detail;
  EXPECT_EQ(str(validateDns01(c, *e.dns, pre->url), "status"), "valid");
  auto order = c.newOrder({dns("a." + base)});
  ASSERT_TRUE(order);
  EXPECT_EQ(order->status(), "pending");
  EXPECT_NE(authzUrls(*order), std::vector<std::string>{pre->url});
  // Nor does it satisfy an explicit ancestorDomain: that asks for a subdomain authorization.
  client::NewOrderOptions options;
  options.ancestor_domains = {base};
  auto named = c.newOrder({dns("b." + base)}, options);
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status(), "pending");
  EXPECT_NE(authzUrls(*named), std::vector<std::string>{pre->url});
}

// ---------------------------------------------------------------------------------------------
// Expiry ends reuse

class ReuseExpiry : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
    server_ = TestServer::start({.configure =
                                     [](config::Config& cfg) {
                                       cfg.server.authz_expiry_secs = 7200;
                                       cfg.server.reuse_min_remaining_secs = 3600;
                                       cfg.server.allow_pre_authorization = true;
                                     },
                                 .clock = clock_});
    ASSERT_TRUE(server_);
  }
  std::shared_ptr<core::FakeClock> clock_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ReuseExpiry, AnAuthorizationCloseToItsExpiryIsNotReused) {
  AcmeClient c = server_->account();
  const std::vector<Identifier> ids{dns(uniqueName("exp"))};
  auto pre = c.newAuthz(ids[0]);
  ASSERT_TRUE(pre) << pre.error().detail;
  ASSERT_EQ(str(validateHttp01(c, *server_, pre->url), "status"), "valid");
  clock_->advance(std::chrono::seconds(3000));  // 4200 s left: still reused
  auto reused = c.newOrder(ids);
  ASSERT_TRUE(reused);
  EXPECT_EQ(reused->status(), "ready");
  EXPECT_EQ(authzUrls(*reused), std::vector<std::string>{pre->url});
  clock_->advance(std::chrono::seconds(1000));  // 3200 s left: less than the margin
  auto fresh = c.newOrder(ids);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status(), "pending");
  EXPECT_NE(authzUrls(*fresh), std::vector<std::string>{pre->url});
  // The earlier order still lists the old one; once it expires, that order is invalid.
  clock_->advance(std::chrono::seconds(3300));
  EXPECT_EQ(str(fetch(c, reused->url), "status"), "invalid");
  EXPECT_EQ(str(fetch(c, pre->url), "status"), "expired");
}

}  // namespace
}  // namespace akamu::itest
