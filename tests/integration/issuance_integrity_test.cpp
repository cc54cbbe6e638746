// Issuance integrity (the outside review's findings): every state change is conditional on
// the state it was decided from. Timing is controlled by events: the http-01 responder holds
// the validator's request until the test releases it, and a FakeClock moves expiry.
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <set>

#include "harness.hpp"

namespace akamu::itest {
namespace {

std::string firstAuthzUrl(const OrderInfo& order) {
  return std::string(order.json.at("authorizations").as_array().at(0).as_string());
}

const json::object* challengeOfType(const json::object& authz, std::string_view type) {
  for (const auto& ch : authz.at("challenges").as_array()) {
    if (str(ch.as_object(), "type") == type) return &ch.as_object();
  }
  return nullptr;
}

std::size_t countEvents(const TestServer& ts, std::string_view type, std::string_view subject) {
  std::size_t n = 0;
  for (const auto& e : ts.auditEvents()) {
    if (str(e, "event_type") == type && (subject.empty() || str(e, "subject") == subject)) ++n;
  }
  return n;
}

std::vector<std::uint8_t> csrFor(const std::vector<Identifier>& ids) {
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), ids, std::nullopt);
  EXPECT_TRUE(csr);
  return csr ? *csr : std::vector<std::uint8_t>{};
}

// A second client object for the same account key (each client keeps its own nonces, so
// threads can use one each).
AcmeClient sameAccount(TestServer& ts, const EVP_PKEY* key) {
  EVP_PKEY_up_ref(const_cast<EVP_PKEY*>(key));
  AcmeClient c(ts.directoryUrl(), crypto::PKey(const_cast<EVP_PKEY*>(key)));
  auto r = c.newAccount({}, true, true);
  EXPECT_TRUE(r && r->status == 200) << (r ? describe(*r) : r.error().detail);
  return c;
}

TEST(IssuanceIntegrity, ValidationFinishingAfterDeactivationLeavesTheAuthorizationDeactivated) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("deact"))};
  auto order = c.newOrder(ids);
  ASSERT_TRUE(order) << order.error().detail;
  const std::string authz_url = firstAuthzUrl(*order);
  auto authz = c.getAuthorization(authz_url);
  ASSERT_TRUE(authz);
  const auto* ch = challengeOfType(*authz, "http-01");
  ASSERT_NE(ch, nullptr);
  const std::string token = str(*ch, "token");
  ts.responder().set(token, jose::keyAuthorization(token, *c.thumbprint()));
  ts.responder().hold(token);
  ASSERT_TRUE(c.respondChallenge(str(*ch, "url")));
  // The validator is now waiting for our answer: deactivate in between.
  ASSERT_TRUE(ts.responder().waitForHeldRequest(token, std::chrono::seconds(30)));
  auto deactivated = c.post(authz_url, R"({"status":"deactivated"})");
  ASSERT_TRUE(deactivated && deactivated->status == 200)
      << (deactivated ? describe(*deactivated) : deactivated.error().detail);
  ts.responder().release(token);  // the correct answer arrives, too late

  // Wait for the validation to end: its challenge leaves "processing".
  json::object challenge;
  for (int i = 0; i < 3000; ++i) {
    challenge = fetch(c, str(*ch, "url"));
    if (str(challenge, "status") != "processing") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling, not an assumption
  }
  ASSERT_NE(str(challenge, "status"), "processing");
  EXPECT_EQ(str(fetch(c, authz_url), "status"), "deactivated");
  EXPECT_EQ(str(fetch(c, order->url), "status"), "invalid");
  auto fin = finalizeRaw(c, *order, csrFor(ids));
  EXPECT_TRUE(isProblem(fin, 403, ProblemType::kOrderNotReady));
  EXPECT_EQ(countEvents(ts, "order.finalize", order->url), 0u);
  EXPECT_EQ(countEvents(ts, "auth.challenge.ok", str(*ch, "url")), 0u);
  EXPECT_EQ(countEvents(ts, "auth.challenge.ignored", str(*ch, "url")), 1u);
}

TEST(IssuanceIntegrity, ReadyOrderWhoseAuthorizationWasDeactivatedIsNotFinalized) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("rdy")), dns(uniqueName("rdy"))};
  auto ready = readyOrder(c, ts.responder(), ids);
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready");
  const std::string second =
      std::string(ready->json.at("authorizations").as_array().at(1).as_string());
  auto r = c.post(second, R"({"status":"deactivated"})");
  ASSERT_TRUE(r && r->status == 200) << (r ? describe(*r) : r.error().detail);
  auto fin = finalizeRaw(c, *ready, csrFor(ids));
  EXPECT_TRUE(isProblem(fin, 403, ProblemType::kOrderNotReady));
  auto after = fetch(c, ready->url);
  EXPECT_EQ(str(after, "status"), "invalid");
  EXPECT_FALSE(after.contains("certificate"));
  EXPECT_EQ(countEvents(ts, "order.finalize", ready->url), 0u);
}

TEST(IssuanceIntegrity, FinalizeAfterAuthorizationExpiryIsRefused) {
  auto clock = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
  auto ts = TestServer::start({.configure =
                                   [](config::Config& cfg) {
                                     cfg.server.order_expiry_secs = 3600;
                                     cfg.server.authz_expiry_secs = 600;
                                   },
                               .clock = clock});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  const std::vector<Identifier> ids{dns(uniqueName("exp"))};
  auto ready = readyOrder(c, ts->responder(), ids);
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready");
  clock->advance(std::chrono::seconds(601));  // the authorization expired, the order has not
  auto fin = finalizeRaw(c, *ready, csrFor(ids));
  EXPECT_TRUE(isProblem(fin, 403, ProblemType::kOrderNotReady));
  EXPECT_EQ(countEvents(*ts, "cert.issue", ""), 0u);
}

TEST(IssuanceIntegrity, ConcurrentFinalizeOfOneOrderSignsOnce) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::vector<Identifier> ids{dns(uniqueName("race"))};
  auto ready = readyOrder(c, ts.responder(), ids);
  ASSERT_TRUE(ready) << ready.error().detail;
  const auto csr = csrFor(ids);
  constexpr int kClients = 6;
  std::vector<AcmeClient> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(sameAccount(ts, c.accountKey()));
  std::vector<core::Result<HttpResponse>> results(kClients, core::fail(core::malformed("unset")));
  std::atomic<int> go{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      go.fetch_add(1);
      while (go.load() < kClients) std::this_thread::yield();  // start together
      results[i] = finalizeRaw(clients[i], *ready, csr);
    });
  }
  for (auto& t : threads) t.join();
  int valid = 0, refused = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().detail;
    if (r->status == 200 && str(jsonBody(*r), "status") == "valid") ++valid;
    if (isProblem(*r, 403, ProblemType::kOrderNotReady)) ++refused;
  }
  EXPECT_EQ(valid, 1);
  EXPECT_EQ(refused, kClients - 1);
  auto order = fetch(c, ready->url);
  ASSERT_EQ(str(order, "status"), "valid");
  EXPECT_EQ(countEvents(ts, "cert.issue", str(order, "certificate")), 1u);
}

TEST(IssuanceIntegrity, ConcurrentAccountUpdatesNeverReviveADeactivatedAccount) {
  auto ts = TestServer::start();
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  AcmeClient updater = sameAccount(*ts, c.accountKey());
  std::atomic<bool> deactivated{false};
  std::vector<int> statuses;
  std::thread t([&] {
    // Updates until one is refused after the deactivation committed.
    for (int i = 0; i < 100000; ++i) {
      const bool after = deactivated.load();
      auto r = updater.post(updater.accountUrl(), R"({"contact":["mailto:u@example.com"]})");
      if (!r) break;
      statuses.push_back(r->status);
      if (after) break;
    }
  });
  auto d = c.post(c.accountUrl(), R"({"status":"deactivated"})");
  deactivated = true;
  t.join();
  ASSERT_TRUE(d && d->status == 200) << (d ? describe(*d) : d.error().detail);
  ASSERT_FALSE(statuses.empty());
  for (int s : statuses) EXPECT_TRUE(s == 200 || s == 401) << s;
  EXPECT_EQ(statuses.back(), 401);  // the update after the deactivation was refused
  // The account stays deactivated: its key authorizes nothing.
  auto again = updater.post(updater.accountUrl(), "");
  EXPECT_TRUE(isProblem(again, 401, ProblemType::kUnauthorized));
}

TEST(IssuanceIntegrity, OrdersListPagesWithTheExactNextUrl) {
  auto ts = TestServer::start();
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  std::set<std::string> created;
  for (int i = 0; i < 205; ++i) {
    auto order = c.newOrder({dns(uniqueName("page"))});
    ASSERT_TRUE(order) << order.error().detail;
    created.insert(order->url);
  }
  std::string url = c.accountUrl() + "/orders";
  std::set<std::string> listed;
  int pages = 0;
  while (!url.empty()) {
    auto r = c.post(url, "");
    ASSERT_TRUE(r && r->status == 200) << url << ": " << (r ? describe(*r) : r.error().detail);
    ++pages;
    const json::object body = jsonBody(*r);
    for (const auto& o : body.at("orders").as_array()) {
      listed.insert(std::string(o.as_string()));
    }
    url.clear();
    for (const auto& link : r->headerValues("link")) {
      if (link.find("rel=\"next\"") == std::string::npos) continue;
      url = link.substr(link.find('<') + 1, link.find('>') - link.find('<') - 1);
    }
    ASSERT_LE(pages, 3);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed, created);
}

TEST(IssuanceIntegrity, QueryAddedToTheRequestUrlIsRefused) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  // The JWS names the URL without the query; the request goes to it with one (RFC 8555 §6.4).
  const std::string url = c.accountUrl();
  auto nonce = c.fetchNonce();
  ASSERT_TRUE(nonce);
  jose::SignOptions opts;
  opts.url = url;
  opts.nonce = *nonce;
  opts.kid = c.accountUrl();
  auto signed_body = jose::signJws(c.accountKey(), opts, "");
  ASSERT_TRUE(signed_body);
  auto r = c.postRaw(url + "?x=1", *signed_body);
  EXPECT_TRUE(isProblem(r, 403, ProblemType::kUnauthorized));
}

TEST(IssuanceIntegrity, DatabaseErrorIsServerInternalWithoutItsTextAndIsLogged) {
  TempDir dir;
  const std::string db = dir.path() + "/akamu.db";
  auto ts = TestServer::start(
      {.configure = [&](config::Config& cfg) { cfg.database.url = "sqlite://" + db; }});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> conn(raw, &sqlite3_close);
    ASSERT_EQ(sqlite3_exec(raw, "ALTER TABLE orders RENAME TO orders_gone_xyz", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
  }
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  const auto old_level = logger->level();
  logger->set_level(spdlog::level::info);
  auto r = c.post(ts->url("/acme/new-order"),
                  R"({"identifiers":[{"type":"dns","value":")" + uniqueName("dberr") + R"("}]})");
  logger->set_level(old_level);
  logger->sinks().pop_back();
  ASSERT_TRUE(isProblem(r, 500, ProblemType::kServerInternal));
  const std::string detail = str(jsonBody(*r), "detail");
  EXPECT_EQ(detail.find("orders"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("sqlite"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("SQL"), std::string::npos) << detail;
  const auto id_at = detail.find("request id ");
  ASSERT_NE(id_at, std::string::npos) << detail;
  const std::string request_id = detail.substr(id_at + 11);
  bool logged = false;
  for (const auto& line : sink->last_formatted()) {
    if (line.find("id=" + request_id) != std::string::npos &&
        line.find("internal error") != std::string::npos &&
        line.find("orders") != std::string::npos) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged) << "no log line with the database's error for request " << request_id;
}

}  // namespace
}  // namespace akamu::itest
