// Rate limits (RFC 8555 §6.6, Boulder's limits): each limit denies at the right request with
// 429 rateLimited, Retry-After and Link rel="help"; the window passes on the fake clock and the
// request succeeds; renewals and in-window ARI replacements are exempt; repeated validation
// failures pause an account until it is unpaused; an operator's override takes effect at run
// time; X-Forwarded-For counts only from a trusted proxy.
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "harness.hpp"
#include "ra/cert_id.hpp"

namespace akamu::itest {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr const char* kHelp = "https://ca.example/docs/rate-limits";
constexpr std::int64_t kYear = 31536000;

config::RateLimitConfig limit(std::int64_t burst, std::int64_t count, std::int64_t period) {
  return {burst, count, period};
}

class RateLimits : public ::testing::Test {
 protected:
  void start(std::vector<std::pair<std::string, config::RateLimitConfig>> limits,
             std::vector<std::string> trusted_proxies = {}) {
    clock_ = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
    ts_ = TestServer::start({.configure =
                                 [&](config::Config& c) {
                                   c.rate_limits.enabled = true;
                                   c.rate_limits.help_url = kHelp;
                                   c.rate_limits.override_cache_secs = 5;
                                   c.rate_limits.limits = limits;
                                   c.server.trusted_proxies = trusted_proxies;
                                 },
                             .clock = clock_});
    ASSERT_TRUE(ts_);
  }

  // newOrder as sent, so that the test sees the status and headers.
  core::Result<HttpResponse> order(AcmeClient& c, const std::vector<Identifier>& ids,
                                   std::optional<std::string> replaces = std::nullopt) {
    json::array arr;
    for (const auto& id : ids) arr.push_back(json::object{{"type", id.type}, {"value", id.value}});
    json::object payload{{"identifiers", std::move(arr)}};
    if (replaces) payload["replaces"] = *replaces;
    return c.post(ts_->url("/acme/new-order"), json::serialize(payload));
  }

  client::IssueResult issue(AcmeClient& c, const std::vector<Identifier>& ids) {
    auto kt = crypto::parseKeyType("ec:P-256");
    auto r = client::issueCertificate(c, ts_->responder(), ids, *kt, std::chrono::milliseconds(20));
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    return r ? std::move(*r) : client::IssueResult{};
  }

  std::string accountIdOf(AcmeClient& c) {
    const std::string kid = c.accountUrl();
    return kid.substr(kid.rfind('/') + 1);
  }

  std::shared_ptr<core::FakeClock> clock_;
  std::unique_ptr<TestServer> ts_;
};

// 429 rateLimited naming `limit`, with Retry-After `retry_after` and the help link.
::testing::AssertionResult rateLimited(const core::Result<HttpResponse>& r, std::string_view limit,
                                       std::int64_t retry_after) {
  if (auto p = isProblem(r, 429, ProblemType::kRateLimited); !p) return p;
  if (r->body.find(std::string(limit)) == std::string::npos) {
    return ::testing::AssertionFailure() << "does not name " << limit << ": " << describe(*r);
  }
  if (r->header("retry-after") != std::to_string(retry_after)) {
    return ::testing::AssertionFailure()
           << "Retry-After \"" << r->header("retry-after") << "\", expected " << retry_after;
  }
  if (!hasLink(*r, kHelp, "help")) {
    return ::testing::AssertionFailure() << "no Link rel=\"help\": " << describe(*r);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult isCreated(const core::Result<HttpResponse>& r) {
  if (!r) return ::testing::AssertionFailure() << r.error().detail;
  if (r->status != 201) return ::testing::AssertionFailure() << describe(*r);
  return ::testing::AssertionSuccess();
}

std::size_t auditCount(const TestServer& ts, std::string_view type) {
  std::size_t n = 0;
  for (const auto& e : ts.auditEvents()) {
    if (str(e, "event_type") == type) ++n;
  }
  return n;
}

TEST_F(RateLimits, NewOrdersPerAccountDeniesTheThirdThenRefills) {
  start({{"NewOrdersPerAccount", limit(2, 2, 60)}});
  AcmeClient a = ts_->account();
  EXPECT_TRUE(isCreated(order(a, {dns(uniqueName())})));
  EXPECT_TRUE(isCreated(order(a, {dns(uniqueName())})));
  auto denied = order(a, {dns(uniqueName())});
  EXPECT_TRUE(rateLimited(denied, "NewOrdersPerAccount", 30));
  // Another account has its own bucket.
  AcmeClient b = ts_->account();
  EXPECT_TRUE(isCreated(order(b, {dns(uniqueName())})));
  // Counted and audited.
  ASSERT_NE(ts_->server().rateLimiter(), nullptr);
  EXPECT_EQ(ts_->server().rateLimiter()->denied("NewOrdersPerAccount"), 1u);
  EXPECT_EQ(ts_->server().rateLimiter()->deniedTotal(), 1u);
  EXPECT_EQ(auditCount(*ts_, "ratelimit.deny"), 1u);
  clock_->advance(seconds(29));
  EXPECT_TRUE(rateLimited(order(a, {dns(uniqueName())}), "NewOrdersPerAccount", 1));
  clock_->advance(seconds(1));
  EXPECT_TRUE(isCreated(order(a, {dns(uniqueName())})));
}

TEST_F(RateLimits, NewRegistrationsPerIPAddress) {
  start({{"NewRegistrationsPerIPAddress", limit(2, 1, 600)}});
  EXPECT_TRUE(isCreated(ts_->client().newAccount()));
  EXPECT_TRUE(isCreated(ts_->client().newAccount()));
  AcmeClient third = ts_->client();
  EXPECT_TRUE(rateLimited(third.newAccount(), "NewRegistrationsPerIPAddress", 600));
  clock_->advance(seconds(600));
  EXPECT_TRUE(isCreated(third.newAccount()));
  // An existing account's key is answered as before (200) while the bucket is empty: nothing
  // is created, so nothing is limited.
  auto again = third.newAccount();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(RateLimits, CertificatesPerDomainCountsIssuanceAndExemptsRenewals) {
  start({{"CertificatesPerDomain", limit(1, 1, kYear)}});
  AcmeClient a = ts_->account();
  const std::string domain = uniqueName();
  const std::vector<Identifier> first{dns("www." + domain)};
  // Orders alone spend nothing: two orders for the domain are fine.
  EXPECT_TRUE(isCreated(order(a, {dns("x." + domain)})));
  issue(a, first);
  // The registered domain's one certificate is spent: another name under it is refused ...
  EXPECT_TRUE(rateLimited(order(a, {dns("api." + domain)}), "CertificatesPerDomain", kYear));
  // ... by any account (the limit is per domain).
  AcmeClient b = ts_->account();
  EXPECT_TRUE(rateLimited(order(b, {dns("mail." + domain)}), "CertificatesPerDomain", kYear));
  // A renewal (exactly the same set) is exempt, and issues.
  issue(a, first);
  // Another registered domain is unaffected.
  EXPECT_TRUE(isCreated(order(a, {dns(uniqueName())})));
}

TEST_F(RateLimits, CertificatesPerFqdnSetAppliesToRenewalsToo) {
  start({{"CertificatesPerFQDNSet", limit(1, 1, 3600)}});
  AcmeClient a = ts_->account();
  const std::vector<Identifier> names{dns(uniqueName()), dns(uniqueName())};
  issue(a, names);
  // The same set in another order counts as the same set.
  EXPECT_TRUE(rateLimited(order(a, {names[1], names[0]}), "CertificatesPerFQDNSet", 3600));
  // A subset is another set.
  EXPECT_TRUE(isCreated(order(a, {names[0]})));
  clock_->advance(seconds(3600));
  EXPECT_TRUE(isCreated(order(a, names)));
}

TEST_F(RateLimits, RenewalIsExemptFromNewOrdersPerAccount) {
  start({{"NewOrdersPerAccount", limit(1, 1, kYear)}});
  AcmeClient a = ts_->account();
  const std::vector<Identifier> names{dns(uniqueName())};
  issue(a, names);
  EXPECT_TRUE(rateLimited(order(a, {dns(uniqueName())}), "NewOrdersPerAccount", kYear));
  EXPECT_TRUE(isCreated(order(a, names)));
}

TEST_F(RateLimits, AriReplacementInsideTheWindowSkipsTheLimits) {
  start({{"NewOrdersPerAccount", limit(1, 1, kYear)}});
  AcmeClient a = ts_->account();
  const std::string kept = uniqueName();
  auto issued = issue(a, {dns(kept), dns(uniqueName())});
  auto chain = crypto::certChainFromPem(issued.certificate_pem);
  ASSERT_TRUE(chain && !chain->empty());
  auto aki = crypto::authorityKeyIdFor(ts_->server().ca().certificate());
  ASSERT_TRUE(aki);
  const std::string cert_id = ra::makeCertId(*aki, crypto::serialHex((*chain)[0].get()));
  // Not a renewal (another set), and before the suggested window: limited.
  EXPECT_TRUE(rateLimited(order(a, {dns(kept)}, cert_id), "NewOrdersPerAccount", kYear));
  // Inside the window (two thirds into the 90 days): the CA asked for it, nothing limits it.
  clock_->advance(hours(24 * 61));
  EXPECT_TRUE(isCreated(order(a, {dns(kept)}, cert_id)));
  // The exemption is for that replacement only.
  EXPECT_TRUE(isProblem(order(a, {dns(uniqueName())}), 429, ProblemType::kRateLimited));
}

TEST_F(RateLimits, PendingAuthorizationsPerAccount) {
  start({{"PendingAuthorizationsPerAccount", limit(2, 2, 60)}});
  AcmeClient a = ts_->account();
  EXPECT_TRUE(isCreated(order(a, {dns(uniqueName()), dns(uniqueName())})));
  EXPECT_TRUE(rateLimited(order(a, {dns(uniqueName())}), "PendingAuthorizationsPerAccount", 60));
  // Per account.
  AcmeClient b = ts_->account();
  EXPECT_TRUE(isCreated(order(b, {dns(uniqueName())})));
}

// Answers the order's http-01 challenge with nothing published: the validation fails.
void failValidation(AcmeClient& c, const json::object& order) {
  const std::string authz_url(order.at("authorizations").as_array()[0].as_string());
  auto authz = c.getAuthorization(authz_url);
  ASSERT_TRUE(authz);
  for (const auto& ch : authz->at("challenges").as_array()) {
    if (str(ch.as_object(), "type") != "http-01") continue;
    ASSERT_TRUE(c.respondChallenge(str(ch.as_object(), "url")));
  }
  ASSERT_TRUE(waitUntil([&] {
    auto a = c.getAuthorization(authz_url);
    return a && str(*a, "status") == "invalid";
  }));
}

TEST_F(RateLimits, FailedAuthorizationsPerDomainPerAccount) {
  start({{"FailedAuthorizationsPerDomainPerAccount", limit(1, 1, 3600)}});
  AcmeClient a = ts_->account();
  const Identifier name = dns(uniqueName());
  auto first = a.newOrder({name});
  ASSERT_TRUE(first);
  failValidation(a, first->json);
  // The failure was spent when it happened: the next order for the name is refused.
  EXPECT_TRUE(waitUntil([&] { return order(a, {name}).value_or(HttpResponse{}).status == 429; }));
  EXPECT_TRUE(rateLimited(order(a, {name}), "FailedAuthorizationsPerDomainPerAccount", 3600));
  // Other names, and other accounts, are not affected.
  EXPECT_TRUE(isCreated(order(a, {dns(uniqueName())})));
  AcmeClient b = ts_->account();
  EXPECT_TRUE(isCreated(order(b, {name})));
}

TEST_F(RateLimits, RepeatedFailuresPauseUntilUnpaused) {
  start({{"FailedAuthorizationsForPausingPerDomainPerAccount", limit(2, 2, 86400)}});
  AcmeClient a = ts_->account();
  const Identifier name = dns(uniqueName());
  for (int i = 0; i < 3; ++i) {
    auto o = a.newOrder({name});
    ASSERT_TRUE(o) << i << ": " << o.error().detail;
    failValidation(a, o->json);
  }
  // The third failure exhausted the pausing limit: the account is paused for the name.
  ASSERT_TRUE(waitUntil([&] { return auditCount(*ts_, "ratelimit.pause") == 1; }));
  auto paused = order(a, {name});
  EXPECT_TRUE(rateLimited(paused, "FailedAuthorizationsForPausingPerDomainPerAccount", 86400));
  EXPECT_NE(paused->body.find("paused"), std::string::npos) << paused->body;
  // Time does not lift it.
  clock_->advance(hours(48));
  EXPECT_TRUE(isProblem(order(a, {name}), 429, ProblemType::kRateLimited));
  // Other accounts are not paused.
  AcmeClient b = ts_->account();
  EXPECT_TRUE(isCreated(order(b, {name})));
  // The operator unpauses it.
  auto removed = ts_->server().unpauseRateLimit(accountIdOf(a), "dns:" + name.value);
  ASSERT_TRUE(removed && *removed);
  EXPECT_TRUE(isCreated(order(a, {name})));
}

TEST_F(RateLimits, OverrideRaisesTheLimitForOneAccountAtRunTime) {
  start({{"NewOrdersPerAccount", limit(1, 1, kYear)}});
  AcmeClient a = ts_->account();
  AcmeClient b = ts_->account();
  EXPECT_TRUE(isCreated(order(a, {dns(uniqueName())})));
  EXPECT_TRUE(isCreated(order(b, {dns(uniqueName())})));
  EXPECT_TRUE(rateLimited(order(a, {dns(uniqueName())}), "NewOrdersPerAccount", kYear));
  store::RateLimitOverride raised{accountIdOf(a), "NewOrdersPerAccount", 10, 10,
                                  3600,           clock_->now()};
  ASSERT_TRUE(ts_->server().setRateLimitOverride(raised));
  // Seen once the cache (override_cache_secs = 5) expires.
  clock_->advance(seconds(5));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(isCreated(order(a, {dns(uniqueName())}))) << i;
  EXPECT_TRUE(rateLimited(order(b, {dns(uniqueName())}), "NewOrdersPerAccount", kYear - 5));
}

// ---- X-Forwarded-For

struct RawAnswer {
  int status = 0;
  std::string text;
};

// One HTTP/1.1 request over a plain socket, with an X-Forwarded-For header.
RawAnswer rawPost(std::uint16_t port, const std::string& path, const std::string& body,
                  const std::string& xff) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {};
  const std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              "Content-Type: application/jose+json\r\nX-Forwarded-For: " + xff +
                              "\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
  asio::write(socket, asio::buffer(request), ec);
  std::string text;
  std::array<char, 4096> buf{};
  for (;;) {
    const std::size_t n = socket.read_some(asio::buffer(buf), ec);
    text.append(buf.data(), n);
    if (ec) break;
  }
  RawAnswer out;
  out.text = text;
  if (text.size() > 12) out.status = std::atoi(text.substr(9, 3).c_str());
  return out;
}

// newAccount for a fresh key, sent with `xff`.
RawAnswer newAccountVia(TestServer& ts, const std::string& xff) {
  auto key = makeKey();
  AcmeClient c = ts.client();
  auto nonce = c.fetchNonce();
  EXPECT_TRUE(nonce);
  const std::string url = ts.url("/acme/new-account");
  const std::string body = craftJws(key.get(), protectedHeader("ES256", key.get(), "", *nonce, url),
                                    R"({"termsOfServiceAgreed":true})");
  return rawPost(ts.server().port(), "/acme/new-account", body, xff);
}

TEST_F(RateLimits, ForwardedForCountsOnlyFromATrustedProxy) {
  start({{"NewRegistrationsPerIPAddress", limit(1, 1, 600)}}, {"127.0.0.1/32"});
  // The test talks from 127.0.0.1, a trusted proxy here: each forwarded client has its bucket.
  EXPECT_EQ(newAccountVia(*ts_, "198.51.100.1").status, 201);
  auto second = newAccountVia(*ts_, "198.51.100.1");
  EXPECT_EQ(second.status, 429) << second.text;
  EXPECT_NE(second.text.find("198.51.100.1"), std::string::npos) << second.text;
  EXPECT_NE(second.text.find("Retry-After: 600"), std::string::npos) << second.text;
  EXPECT_EQ(newAccountVia(*ts_, "10.1.1.1, 198.51.100.2").status, 201);
}

TEST_F(RateLimits, ForwardedForIsIgnoredFromAnUntrustedPeer) {
  start({{"NewRegistrationsPerIPAddress", limit(1, 1, 600)}}, {"192.0.2.0/24"});
  EXPECT_EQ(newAccountVia(*ts_, "198.51.100.1").status, 201);
  // Another forwarded address does not help: the peer (127.0.0.1) is the client.
  auto second = newAccountVia(*ts_, "198.51.100.2");
  EXPECT_EQ(second.status, 429) << second.text;
  EXPECT_NE(second.text.find("127.0.0.1"), std::string::npos) << second.text;
}

TEST(RateLimitsOff, NoTableNoLimiter) {
  auto ts = TestServer::start();
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->server().rateLimiter(), nullptr);
}

}  // namespace
}  // namespace akamu::itest
