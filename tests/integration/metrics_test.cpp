// The metrics listener and the health probes, on a server of their own (the counters are
// compared with exact values, so no other test may send it requests).
#include <sqlite3.h>

#include <map>
#include <sstream>

#include "harness.hpp"

namespace akamu::itest {
namespace {

using Labels = std::map<std::string, std::string>;

// The value of the sample `name` whose labels include `labels`, from a text exposition; nullopt
// when there is none. Label values here never hold '"', ',' or '}', which keeps the parse simple.
std::optional<double> sample(const std::string& text, std::string_view name,
                             const Labels& labels = {}) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    std::string series = line.substr(0, space);
    Labels have;
    if (const auto brace = series.find('{'); brace != std::string::npos) {
      std::string body = series.substr(brace + 1, series.size() - brace - 2);
      series.resize(brace);
      std::istringstream pairs(body);
      for (std::string pair; std::getline(pairs, pair, ',');) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || pair.size() < eq + 3) continue;
        have[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
      }
    }
    if (series != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = have.find(k);
      if (it == have.end() || it->second != v) match = false;
    }
    if (match) return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

class Metrics : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.configure = [](config::Config& cfg) { cfg.server.metrics_listen_addr = "127.0.0.1:0"; };
    ts = TestServer::start(options);
    ASSERT_TRUE(ts);
    ASSERT_NE(ts->server().metricsPort(), 0);
  }
  std::string metricsUrl(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(ts->server().metricsPort()) + std::string(path);
  }
  std::string scrape() {
    auto r = http.request("GET", metricsUrl("/metrics"));
    EXPECT_TRUE(r && r->status == 200) << (r ? describe(*r) : r.error().detail);
    if (!r) return {};
    EXPECT_EQ(r->header("content-type").rfind("text/plain; version=0.0.4", 0), 0u)
        << r->header("content-type");
    return r->body;
  }

  std::unique_ptr<TestServer> ts;
  client::HttpClient http;
};

TEST_F(Metrics, NotFoundAndBadNonceAreCountedUnderTheirRouteAndStatus) {
  auto missing = http.request("GET", ts->url("/acme/no-such-thing"));
  ASSERT_TRUE(isProblem(missing, 404, ProblemType::kNotFound));

  AcmeClient c = ts->client();
  auto nonce = c.fetchNonce();
  ASSERT_TRUE(nonce) << nonce.error().detail;
  jose::SignOptions o;
  o.url = ts->url("/acme/new-account");
  o.nonce = "AAAAAAAAAAAAAAAAAAAAAA";  // never issued
  auto body = jose::signJws(c.accountKey(), o, R"({"termsOfServiceAgreed":true})");
  ASSERT_TRUE(body);
  ASSERT_TRUE(
      isProblem(c.postRaw(ts->url("/acme/new-account"), *body), 400, ProblemType::kBadNonce));

  const std::string text = scrape();
  EXPECT_EQ(sample(text, "response_time_count",
                   {{"endpoint", "unknown"}, {"method", "GET"}, {"code", "404"}}),
            1.0)
      << text;
  EXPECT_EQ(sample(text, "response_time_count",
                   {{"endpoint", "new-account"}, {"method", "POST"}, {"code", "400"}}),
            1.0);
  EXPECT_EQ(sample(text, "http_errors_total", {{"type", "notFound"}}), 1.0);
  EXPECT_EQ(sample(text, "http_errors_total", {{"type", "badNonce"}}), 1.0);
  EXPECT_EQ(sample(text, "jose_errors_total", {{"type", "badNonce"}}), 1.0);
  // The raw path never becomes a label: only route names do.
  EXPECT_EQ(text.find("no-such-thing"), std::string::npos);
  // Each series is one route's: the nonce the client fetched is under new-nonce.
  EXPECT_GE(sample(text, "response_time_count", {{"endpoint", "new-nonce"}}).value_or(0), 1.0);
  EXPECT_EQ(sample(text, "in_flight_requests"), 0.0);
}

TEST_F(Metrics, IssuanceValidationRevocationAndStoreCallsAreRecorded) {
  AcmeClient c = ts->account();
  auto issued = issue(c, ts->responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  auto der = derOf(issued->certificate_pem);
  ASSERT_TRUE(c.revokeCertificate(der, 4));  // superseded

  const std::string text = scrape();
  EXPECT_EQ(sample(text, "new_certificates_total"), 1.0) << text;
  EXPECT_EQ(sample(text, "issuance_latency_seconds_count"), 1.0);
  EXPECT_EQ(sample(text, "validation_latency_count",
                   {{"challenge_type", "http-01"}, {"result", "valid"}, {"problem_type", ""}}),
            1.0);
  EXPECT_EQ(sample(text, "validations_in_flight"), 0.0);
  EXPECT_EQ(sample(text, "revocation_reason_total", {{"reason", "superseded"}}), 1.0);
  EXPECT_EQ(sample(text, "revocation_reason_total", {{"reason", "keyCompromise"}}), 0.0);
  EXPECT_EQ(sample(text, "response_time_count",
                   {{"endpoint", "finalize"}, {"method", "POST"}, {"code", "200"}}),
            1.0);
  // The store call that committed the certificate, under its operation's name.
  EXPECT_GE(
      sample(text, "store_call_latency_seconds_count", {{"operation", "insertCertificateForOrder"}})
          .value_or(0),
      1.0);
  EXPECT_GE(
      sample(text, "store_call_latency_seconds_count", {{"operation", "getAccount"}}).value_or(0),
      1.0);
  EXPECT_EQ(sample(text, "store_call_latency_seconds_count", {{"operation", "other"}}), 0.0);
  // State read at scrape time.
  EXPECT_EQ(sample(text, "nonce_pool_capacity"),
            static_cast<double>(ts->server().config().server.nonce_capacity));
  EXPECT_GE(sample(text, "nonce_pool_redeemed").value_or(0), 4.0);
  EXPECT_GT(sample(text, "ca_certificate_expiry_seconds").value_or(0), 86400.0);
  EXPECT_GT(sample(text, "process_resident_memory_bytes").value_or(0), 0.0);
  EXPECT_GT(sample(text, "process_open_fds").value_or(0), 0.0);
}

TEST_F(Metrics, LiveAndReadyOnBothListeners) {
  for (const std::string& base : {ts->url(""), metricsUrl("")}) {
    auto live = http.request("GET", base + "/health/live");
    ASSERT_TRUE(live && live->status == 200) << (live ? describe(*live) : live.error().detail);
    EXPECT_EQ(str(jsonBody(*live), "status"), "live");
    auto ready = http.request("GET", base + "/health/ready");
    ASSERT_TRUE(ready && ready->status == 200) << (ready ? describe(*ready) : base);
    auto body = jsonBody(*ready);
    EXPECT_EQ(str(body, "status"), "ready") << ready->body;
    ASSERT_TRUE(body.contains("checks"));
    const auto& checks = body.at("checks").as_object();
    EXPECT_EQ(str(checks, "database"), "ok");
    EXPECT_EQ(str(checks, "ca_key"), "ok");
    EXPECT_EQ(str(checks, "audit_log"), "ok");
  }
  // A POST is not a probe.
  auto post = http.request("POST", ts->url("/health/ready"), "{}", "application/jose+json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

// A rotation that moves the audit log away without telling the server: events would go to a
// file nobody reads, so the server is not ready until the file is back. (Running as root, a
// chmod would not stop writes, so this is the failure the test can provoke honestly.)
TEST_F(Metrics, ReadyIs503WhileTheAuditLogIsMovedAway) {
  const std::string moved = ts->auditPath() + ".1";
  ASSERT_EQ(std::rename(ts->auditPath().c_str(), moved.c_str()), 0);
  for (const std::string& base : {ts->url(""), metricsUrl("")}) {
    auto ready = http.request("GET", base + "/health/ready");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503) << describe(*ready);
    auto body = jsonBody(*ready);
    EXPECT_EQ(str(body, "status"), "unready");
    const auto& checks = body.at("checks").as_object();
    EXPECT_EQ(str(checks, "audit_log").rfind("failed: ", 0), 0u) << ready->body;
    EXPECT_EQ(str(checks, "database"), "ok");
    // The reason names the check, never the path.
    EXPECT_EQ(ready->body.find(ts->dir()), std::string::npos) << ready->body;
  }
  ASSERT_EQ(std::rename(moved.c_str(), ts->auditPath().c_str()), 0);
  auto again = http.request("GET", metricsUrl("/health/ready"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << describe(*again);
}

// The database stops answering lookups (its accounts table is gone: dropped behind the server's
// back, on a file SQLite database or the test PostgreSQL schema).
TEST(MetricsDatabase, ReadyIs503WhenTheDatabaseFails) {
  ServerOptions options;
  options.configure = [](config::Config& cfg) {
    cfg.server.metrics_listen_addr = "127.0.0.1:0";
    if (cfg.database.url.rfind("sqlite:", 0) == 0) {
      const auto dir = std::filesystem::path(cfg.server.audit_log_file).parent_path();
      cfg.database.url = "sqlite:" + (dir / "akamu.db").string();
    }
  };
  auto ts = TestServer::start(options);
  ASSERT_TRUE(ts);
  client::HttpClient http;
  const std::string ready_url =
      "http://127.0.0.1:" + std::to_string(ts->server().metricsPort()) + "/health/ready";
  auto before = http.request("GET", ready_url);
  ASSERT_TRUE(before && before->status == 200) << (before ? describe(*before) : "");

  const std::string url = ts->server().config().database.url;
  if (url.rfind("sqlite:", 0) == 0) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(url.substr(7).c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, "DROP TABLE accounts", nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  } else {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
    std::unique_ptr<PGresult, decltype(&PQclear)> res(
        PQexec(conn.get(), "DROP TABLE accounts CASCADE"), &PQclear);
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(res.get());
  }

  auto after = http.request("GET", ready_url);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 503) << describe(*after);
  auto body = jsonBody(*after);
  const auto& checks = body.at("checks").as_object();
  EXPECT_EQ(str(checks, "database"), "failed: the database does not answer") << after->body;
  EXPECT_EQ(str(checks, "audit_log"), "ok");
  // No database error text reaches the prober.
  EXPECT_EQ(after->body.find("accounts"), std::string::npos) << after->body;
}

}  // namespace
}  // namespace akamu::itest
