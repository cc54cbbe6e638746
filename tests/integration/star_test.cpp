// STAR (RFC 8739): auto-renewal orders followed across periods with the fake clock and the
// schedule's hook (Server::runStarNow), across a restart on the same database, cancellation,
// the four error types, unauthenticated GET, and refused auto-renewal objects.
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "acme/star_period.hpp"
#include "harness.hpp"

namespace akamu::itest {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr std::int64_t kDay = 86400;

struct Leaf {
  core::TimePoint not_before, not_after;
  std::string serial;
  std::vector<std::uint8_t> der;
};
Leaf leafOf(const std::string& pem_chain) {
  Leaf out;
  auto chain = crypto::certChainFromPem(pem_chain);
  EXPECT_TRUE(chain && !chain->empty());
  if (!chain || chain->empty()) return out;
  auto info = crypto::inspectCertificate((*chain)[0].get());
  EXPECT_TRUE(info);
  if (!info) return out;
  out.not_before = info->not_before;
  out.not_after = info->not_after;
  out.serial = crypto::serialHex((*chain)[0].get());
  out.der = crypto::certToDer((*chain)[0].get());
  return out;
}

core::TimePoint wholeSeconds(core::TimePoint t) {
  return core::fromUnixSeconds(core::toUnixSeconds(t));
}

void starConfig(config::Config& c) {
  c.star.enabled = true;
  c.star.min_lifetime_secs = 3600;
  c.star.max_duration_secs = 30 * kDay;
  c.star.allow_certificate_get = true;
  c.star.check_interval_secs = 0;  // the tests drive the passes with runStarNow
}

// How many certificates the audit log says were issued for `order_url`'s order.
int issuedFor(const std::string& audit_path, const std::string& order_id) {
  std::ifstream in(audit_path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.find("\"cert.issue\"") != std::string::npos &&
        line.find("STAR order " + order_id + " ") != std::string::npos) {
      ++n;
    }
  }
  return n;
}

std::string orderIdOf(const std::string& order_url) {
  return order_url.substr(order_url.rfind('/') + 1);
}

class Star : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<core::FakeClock>(wholeSeconds(std::chrono::system_clock::now()));
    ts_ = TestServer::start({.configure = starConfig, .clock = clock_});
    ASSERT_TRUE(ts_);
  }

  json::object autoRenewal(std::int64_t lifetime, std::int64_t duration,
                           std::optional<std::int64_t> adjust = {}) {
    json::object ar{{"end-date", core::formatRfc3339(clock_->now() + seconds(duration))},
                    {"lifetime", lifetime}};
    if (adjust) ar["lifetime-adjust"] = *adjust;
    return ar;
  }

  // newOrder with `ar`, challenges, finalize: the order as finalize answered it.
  core::Result<OrderInfo> starOrder(AcmeClient& c, const json::object& ar,
                                    TestServer* server = nullptr) {
    TestServer& s = server ? *server : *ts_;
    const std::vector<Identifier> ids{dns(uniqueName())};
    client::NewOrderOptions options;
    options.auto_renewal = ar;
    auto order = c.newOrder(ids, options);
    if (!order) return order;
    auto ready = completeChallenges(c, s.responder(), *order);
    if (!ready) return ready;
    key_ = makeKey();
    auto csr = crypto::buildCsr(key_.get(), ids, std::nullopt);
    if (!csr) return tl::unexpected(csr.error());
    return c.finalize(*ready, *csr);
  }

  core::Result<HttpResponse> fetch(AcmeClient& c, const OrderInfo& order) {
    return c.post(str(order.json, "star-certificate"), "");
  }

  std::shared_ptr<core::FakeClock> clock_;
  std::unique_ptr<TestServer> ts_;
  crypto::PKey key_;
};

TEST_F(Star, DirectoryAdvertisesTheLimitsOnlyWhenEnabled) {
  AcmeClient c = ts_->client();
  ASSERT_TRUE(c.loadDirectory());
  const auto& ar = c.directory().at("meta").as_object().at("auto-renewal").as_object();
  EXPECT_EQ(ar.at("min-lifetime").as_int64(), 3600);
  EXPECT_EQ(ar.at("max-duration").as_int64(), 30 * kDay);
  EXPECT_TRUE(ar.at("allow-certificate-get").as_bool());

  // Off by default: no meta, and an order asking for it is refused.
  AcmeClient d = sharedServer().account();
  ASSERT_TRUE(d.loadDirectory());
  EXPECT_FALSE(d.directory().at("meta").as_object().contains("auto-renewal"));
  client::NewOrderOptions options;
  options.auto_renewal = autoRenewal(kDay, 3 * kDay);
  auto refused = d.newOrder({dns(uniqueName())}, options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, ProblemType::kMalformed);
}

// Three periods of one order, one certificate each, with the validity of RFC 8739 §3.5.
TEST_F(Star, ThreePeriodsOneCertificateEach) {
  AcmeClient c = ts_->account();
  auto order = starOrder(c, autoRenewal(kDay, 3 * kDay));
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(str(order->json, "status"), "valid");
  EXPECT_FALSE(order->json.contains("certificate"));
  ASSERT_TRUE(order->json.contains("star-certificate"));
  const auto& echoed = order->json.at("auto-renewal").as_object();
  EXPECT_EQ(echoed.at("lifetime").as_int64(), kDay);
  EXPECT_EQ(echoed.at("lifetime-adjust").as_int64(), 0);
  core::TimePoint start{};
  ASSERT_TRUE(core::parseRfc3339(str(echoed, "start-date"), start));
  EXPECT_EQ(start, clock_->now());
  const std::string id = orderIdOf(order->url);

  acme::AutoRenewal r;
  r.start_date = start;
  r.end_date = start + seconds(3 * kDay);
  r.lifetime = seconds(kDay);
  std::vector<std::string> serials;
  auto expectCurrent = [&](std::int64_t period) {
    auto got = fetch(c, *order);
    ASSERT_TRUE(got && got->status == 200) << (got ? describe(*got) : got.error().detail);
    EXPECT_EQ(got->header("content-type"), "application/pem-certificate-chain");
    const Leaf leaf = leafOf(got->body);
    auto p = acme::starPeriod(r, period);
    ASSERT_TRUE(p);
    EXPECT_EQ(leaf.not_before, p->not_before) << period;
    EXPECT_EQ(leaf.not_after, p->not_after) << period;
    EXPECT_FALSE(got->header("cert-not-before").empty());
    EXPECT_NE(got->header("cert-not-after").find("GMT"), std::string::npos);
    if (serials.empty() || serials.back() != leaf.serial) serials.push_back(leaf.serial);
  };
  expectCurrent(0);
  // Period 0: notBefore = start-date, notAfter = start + lifetime.
  ASSERT_TRUE(ts_->server().runStarNow());
  EXPECT_EQ(issuedFor(ts_->auditPath(), id), 1);

  // Period 1 is due half a lifetime before its nominal start (adjustment max(0, T/2)). Two
  // passes at once (as two nodes would): one certificate.
  clock_->advance(hours(12));
  std::vector<std::thread> passes;
  for (int i = 0; i < 2; ++i) passes.emplace_back([&] { (void)ts_->server().runStarNow(); });
  for (auto& t : passes) t.join();
  ASSERT_TRUE(ts_->server().runStarNow());
  EXPECT_EQ(issuedFor(ts_->auditPath(), id), 2);
  expectCurrent(1);
  // Not yet period 2.
  clock_->advance(hours(23));
  ASSERT_TRUE(ts_->server().runStarNow());
  EXPECT_EQ(issuedFor(ts_->auditPath(), id), 2);
  clock_->advance(hours(1));
  auto pass = ts_->server().runStarNow();
  ASSERT_TRUE(pass) << pass.error().detail;
  EXPECT_EQ(pass->issued, 1u);
  EXPECT_EQ(issuedFor(ts_->auditPath(), id), 3);
  expectCurrent(2);
  EXPECT_EQ(serials.size(), 3u);
  EXPECT_EQ(ts_->server().starCounters().issued, 2u);
  EXPECT_EQ(ts_->server().starCounters().missed, 0u);

  // The last period ends at end-date; after it, autoRenewalExpired and nothing more.
  clock_->advance(hours(36));
  ASSERT_TRUE(ts_->server().runStarNow());
  EXPECT_EQ(issuedFor(ts_->auditPath(), id), 3);
  EXPECT_TRUE(isProblem(fetch(c, *order), 403, ProblemType::kAutoRenewalExpired));
  auto after = c.pollOrder(order->url, {"valid"});
  ASSERT_TRUE(after);
  EXPECT_EQ(str(after->json, "status"), "valid");  // §3.3: the order stays valid
}

// The server is down across two periods; the next server on the same database issues the
// current one (never a period twice) and counts the missed ones.
TEST(StarRestart, RenewalSurvivesARestartAndCountsMissedPeriods) {
  auto clock = std::make_shared<core::FakeClock>(wholeSeconds(std::chrono::system_clock::now()));
  char tmpl[] = "/tmp/akamu-star-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string db_url = std::getenv("AKAMU_TEST_PG_URL_FILE") != nullptr &&
                                     *std::getenv("AKAMU_TEST_PG_URL_FILE") != '\0'
                                 ? testDatabaseUrl()
                                 : "sqlite:" + dir + "/akamu.db";
  auto configure = [&](config::Config& c) {
    starConfig(c);
    c.database.url = db_url;
    c.ca.key_file = dir + "/ca.key";
    c.ca.cert_file = dir + "/ca.pem";
    c.server.audit_log_file = dir + "/audit.log";
  };
  std::string order_url, order_id;
  core::TimePoint start{};
  crypto::PKey account_key = makeKey();
  {
    auto first = TestServer::start({.configure = configure, .clock = clock});
    ASSERT_TRUE(first);
    AcmeClient c(first->directoryUrl(), crypto::PKey(EVP_PKEY_dup(account_key.get())));
    ASSERT_TRUE(c.newAccount({}));
    const std::vector<Identifier> ids{dns(uniqueName())};
    client::NewOrderOptions options;
    options.auto_renewal = json::object{
        {"end-date", core::formatRfc3339(clock->now() + seconds(5 * kDay))}, {"lifetime", kDay}};
    auto order = c.newOrder(ids, options);
    ASSERT_TRUE(order) << order.error().detail;
    auto ready = completeChallenges(c, first->responder(), *order);
    ASSERT_TRUE(ready);
    auto key = makeKey();
    auto csr = crypto::buildCsr(key.get(), ids, std::nullopt);
    ASSERT_TRUE(csr);
    auto done = c.finalize(*ready, *csr);
    ASSERT_TRUE(done) << done.error().detail;
    ASSERT_EQ(str(done->json, "status"), "valid");
    order_url = done->url;
    order_id = orderIdOf(order_url);
    start = clock->now();
    EXPECT_EQ(issuedFor(dir + "/audit.log", order_id), 1);
  }
  // Down for 2.5 days: periods 1 and 2 pass without their certificates; period 3 is due
  // (notBefore = start + 3 days - 12 hours).
  clock->advance(hours(60));
  // This time the schedule runs (hourly): its first pass, right at start, catches up.
  auto second = TestServer::start({.configure =
                                       [&](config::Config& c) {
                                         configure(c);
                                         c.star.check_interval_secs = 3600;
                                       },
                                   .clock = clock});
  ASSERT_TRUE(second);
  ASSERT_TRUE(waitUntil([&] { return second->server().starCounters().issued == 1; }));
  EXPECT_EQ(second->server().starCounters().missed, 2u);
  auto again = second->server().runStarNow();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->issued, 0u);
  EXPECT_EQ(issuedFor(dir + "/audit.log", order_id), 2);

  AcmeClient c(second->directoryUrl(), crypto::PKey(EVP_PKEY_dup(account_key.get())));
  ASSERT_TRUE(c.newAccount({}));  // the existing account (200)
  // The same order on the new server (its port differs).
  auto order = c.pollOrder(second->url("/acme/order/" + order_id), {"valid"});
  ASSERT_TRUE(order) << order.error().detail;
  auto got = c.post(str(order->json, "star-certificate"), "");
  ASSERT_TRUE(got && got->status == 200);
  const Leaf leaf = leafOf(got->body);
  EXPECT_EQ(leaf.not_before, start + hours(60));
  EXPECT_EQ(leaf.not_after, start + hours(96));
  second.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_F(Star, CancellationStopsRenewalAndEachErrorType) {
  AcmeClient c = ts_->account();
  auto order = starOrder(c, autoRenewal(kDay, 3 * kDay));
  ASSERT_TRUE(order) << order.error().detail;
  const std::string id = orderIdOf(order->url);

  // RFC 8739 §3.1.2: STAR certificates are not revoked.
  auto got = fetch(c, *order);
  ASSERT_TRUE(got && got->status == 200);
  auto revoked = c.revokeCertificate(leafOf(got->body).der);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().type, ProblemType::kAutoRenewalRevocationNotSupported);

  // Another account may not cancel it.
  AcmeClient other = ts_->account();
  EXPECT_TRUE(isProblem(other.post(order->url, R"({"status":"canceled"})"), 403,
                        ProblemType::kUnauthorized));
  // Anything but {"status":"canceled"} is malformed.
  EXPECT_TRUE(isProblem(c.post(order->url, R"({"status":"valid"})"), 400, ProblemType::kMalformed));

  auto canceled = c.post(order->url, R"({"status":"canceled"})");
  ASSERT_TRUE(canceled && canceled->status == 200) << describe(*canceled);
  auto body = json::parse(canceled->body).as_object();
  EXPECT_EQ(str(body, "status"), "canceled");
  EXPECT_TRUE(isProblem(fetch(c, *order), 403, ProblemType::kAutoRenewalCanceled));
  EXPECT_TRUE(isProblem(c.post(order->url, R"({"status":"canceled"})"), 400,
                        ProblemType::kAutoRenewalCancellationInvalid));
  clock_->advance(hours(13));
  ASSERT_TRUE(ts_->server().runStarNow());
  EXPECT_EQ(issuedFor(ts_->auditPath(), id), 1);

  // A non-STAR order cannot be canceled.
  auto plain = issue(c, ts_->responder(), {dns(uniqueName())});
  ASSERT_TRUE(plain) << plain.error().detail;
  EXPECT_TRUE(isProblem(c.post(plain->order_url, R"({"status":"canceled"})"), 400,
                        ProblemType::kAutoRenewalCancellationInvalid));
}

TEST_F(Star, UnauthenticatedGetOnlyWhenTheOrderAskedForIt) {
  AcmeClient c = ts_->account();
  json::object with = autoRenewal(kDay, 3 * kDay);
  with["allow-certificate-get"] = true;
  auto open = starOrder(c, with);
  ASSERT_TRUE(open) << open.error().detail;
  EXPECT_TRUE(open->json.at("auto-renewal").as_object().at("allow-certificate-get").as_bool());
  auto got = c.http().request("GET", str(open->json, "star-certificate"));
  ASSERT_TRUE(got && got->status == 200) << (got ? describe(*got) : got.error().detail);
  const Leaf leaf = leafOf(got->body);
  EXPECT_EQ(leaf.not_before, clock_->now());
  EXPECT_FALSE(got->header("cert-not-before").empty());

  auto closed = starOrder(c, autoRenewal(kDay, 3 * kDay));
  ASSERT_TRUE(closed);
  EXPECT_TRUE(isProblem(c.http().request("GET", str(closed->json, "star-certificate")), 403,
                        ProblemType::kUnauthorized));
  // Another account's POST-as-GET neither.
  AcmeClient other = ts_->account();
  EXPECT_TRUE(isProblem(fetch(other, *closed), 403, ProblemType::kUnauthorized));
}

TEST(StarConfig, AllowCertificateGetRefusedWhenTheServerDoesNotOfferIt) {
  auto ts = TestServer::start({.configure = [](config::Config& c) {
    starConfig(c);
    c.star.allow_certificate_get = false;
  }});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  client::NewOrderOptions options;
  options.auto_renewal =
      json::object{{"end-date", core::formatRfc3339(std::chrono::system_clock::now() + hours(72))},
                   {"lifetime", kDay},
                   {"allow-certificate-get", true}};
  auto refused = c.newOrder({dns(uniqueName())}, options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, ProblemType::kMalformed);
}

TEST_F(Star, BadAutoRenewalObjectsAreMalformed) {
  AcmeClient c = ts_->account();
  auto expectMalformed = [&](json::value ar, std::string_view why,
                             std::optional<std::string> not_after = {}) {
    auto url = ts_->url("/acme/new-order");
    json::object payload{
        {"identifiers", json::array{json::object{{"type", "dns"}, {"value", uniqueName()}}}},
        {"auto-renewal", ar}};
    if (not_after) payload["notAfter"] = *not_after;
    EXPECT_TRUE(isProblem(c.post(url, json::serialize(payload)), 400, ProblemType::kMalformed))
        << why;
  };
  const auto now = clock_->now();
  auto date = [&](std::int64_t from_now) { return core::formatRfc3339(now + seconds(from_now)); };
  expectMalformed("soon", "not an object");
  expectMalformed(json::object{{"lifetime", kDay}}, "no end-date");
  expectMalformed(json::object{{"end-date", date(3 * kDay)}}, "no lifetime");
  expectMalformed(json::object{{"end-date", date(3 * kDay)}, {"lifetime", 60}}, "lifetime short");
  expectMalformed(json::object{{"end-date", date(3 * kDay)}, {"lifetime", "86400"}},
                  "lifetime a string");
  expectMalformed(json::object{{"end-date", "tomorrow"}, {"lifetime", kDay}}, "bad date");
  expectMalformed(
      json::object{{"start-date", date(2 * kDay)}, {"end-date", date(kDay)}, {"lifetime", kDay}},
      "end before start");
  expectMalformed(json::object{{"end-date", date(31 * kDay)}, {"lifetime", kDay}},
                  "longer than max-duration");
  expectMalformed(json::object{{"end-date", date(3 * kDay)}, {"lifetime", 70 * kDay}},
                  "lifetime above the profile's validity (90 days with the pre-dating)");
  expectMalformed(
      json::object{{"end-date", date(3 * kDay)}, {"lifetime", kDay}, {"lifetime-adjust", -1}},
      "negative adjustment");
  expectMalformed(
      json::object{
          {"end-date", date(3 * kDay)}, {"lifetime", kDay}, {"allow-certificate-get", "yes"}},
      "allow-certificate-get a string");
  expectMalformed(json::object{{"end-date", date(3 * kDay)}, {"lifetime", kDay}},
                  "notAfter with auto-renewal", date(kDay));
}

TEST_F(Star, AFutureStartDateKeepsTheOrderProcessingUntilThen) {
  AcmeClient c = ts_->account();
  json::object ar = autoRenewal(kDay, 4 * kDay);
  ar["start-date"] = core::formatRfc3339(clock_->now() + hours(6));
  auto order = starOrder(c, ar);
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(str(order->json, "status"), "processing");
  EXPECT_FALSE(order->json.contains("star-certificate"));
  ASSERT_TRUE(ts_->server().runStarNow());
  EXPECT_EQ(issuedFor(ts_->auditPath(), orderIdOf(order->url)), 0);
  clock_->advance(hours(6));
  auto pass = ts_->server().runStarNow();
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->issued, 1u);
  EXPECT_EQ(pass->missed, 0u);
  auto valid = c.pollOrder(order->url, {"valid"});
  ASSERT_TRUE(valid);
  auto got = fetch(c, *valid);
  ASSERT_TRUE(got && got->status == 200);
  EXPECT_EQ(leafOf(got->body).not_before, clock_->now());
}

// §3.5: the client's adjustment counts up to one lifetime; the server's is at least half one.
TEST_F(Star, LifetimeAdjustIsCountedUpToOneLifetime) {
  AcmeClient c = ts_->account();
  auto order = starOrder(c, autoRenewal(kDay, 3 * kDay, 2 * kDay));
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->json.at("auto-renewal").as_object().at("lifetime-adjust").as_int64(), kDay);
  const auto start = clock_->now();
  // With A = T the next certificate starts (and is published) with the current one.
  auto pass = ts_->server().runStarNow();
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->issued, 1u);
  auto got = fetch(c, *order);
  ASSERT_TRUE(got && got->status == 200);
  const Leaf leaf = leafOf(got->body);
  EXPECT_EQ(leaf.not_before, start);
  EXPECT_EQ(leaf.not_after, start + seconds(2 * kDay));
}

TEST_F(Star, ADeactivatedAccountsOrderStops) {
  AcmeClient c = ts_->account();
  auto order = starOrder(c, autoRenewal(kDay, 3 * kDay));
  ASSERT_TRUE(order) << order.error().detail;
  ASSERT_TRUE(c.deactivateAccount());
  clock_->advance(hours(12));
  auto pass = ts_->server().runStarNow();
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->stopped, 1u);
  EXPECT_EQ(pass->issued, 0u);
  EXPECT_EQ(issuedFor(ts_->auditPath(), orderIdOf(order->url)), 1);
}

}  // namespace
}  // namespace akamu::itest
