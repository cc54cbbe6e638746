#include "server/metrics.hpp"

#include <gtest/gtest.h>

#include <source_location>

namespace akamu::server {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

const char* callSite(std::source_location loc = std::source_location::current()) {
  return loc.function_name();
}
const char* getOrderSite() { return callSite(); }
const char* insertOrderSite() { return callSite(); }

TEST(ServerMetrics, RequestsAreCountedByRouteMethodAndStatus) {
  ServerMetrics m;
  for (int i = 0; i < 3; ++i) {
    m.requestStarted();
    m.requestDone(static_cast<std::size_t>(RouteId::kNewOrder), "POST", 201, 2ms);
  }
  m.requestStarted();
  m.requestDone(ServerMetrics::kUnmatched, "GET", 404, 1ms);
  m.requestStarted();
  m.requestDone(ServerMetrics::kRevocation, "BREW", 405, 1ms);
  m.requestStarted();  // still running at the scrape
  const std::string text = m.render({});
  EXPECT_TRUE(has(text, R"(response_time_count{code="201",endpoint="new-order",method="POST"} 3)"))
      << text;
  EXPECT_TRUE(has(text, R"(response_time_count{code="404",endpoint="unknown",method="GET"} 1)"));
  EXPECT_TRUE(
      has(text, R"(response_time_count{code="405",endpoint="revocation",method="other"} 1)"));
  // 2 ms falls in the 2.5 ms bucket, not in the 1 ms one.
  EXPECT_TRUE(has(
      text, R"(response_time_bucket{code="201",endpoint="new-order",method="POST",le="0.001"} 0)"));
  EXPECT_TRUE(
      has(text,
          R"(response_time_bucket{code="201",endpoint="new-order",method="POST",le="0.0025"} 3)"));
  EXPECT_TRUE(has(text, "in_flight_requests 1"));
}

TEST(ServerMetrics, ProblemsAndJoseErrorsByType) {
  ServerMetrics m;
  m.problemAnswered(core::ProblemType::kBadNonce);
  m.problemAnswered(core::ProblemType::kBadNonce);
  m.problemAnswered(core::ProblemType::kNotFound);
  m.joseError(core::ProblemType::kBadNonce);
  const std::string text = m.render({});
  EXPECT_TRUE(has(text, R"(http_errors_total{type="badNonce"} 2)")) << text;
  EXPECT_TRUE(has(text, R"(http_errors_total{type="notFound"} 1)"));
  EXPECT_TRUE(has(text, R"(jose_errors_total{type="badNonce"} 1)"));
}

TEST(ServerMetrics, StoreCallsByOperationOfTheirCallSite) {
  ServerMetrics m;
  core::Metrics& roles = m;
  roles.storeCall(getOrderSite(), 1ms);
  roles.storeCall(getOrderSite(), 1ms);
  roles.storeCall(insertOrderSite(), 1ms);
  const std::string text = m.render({});
  EXPECT_TRUE(has(text, R"(store_call_latency_seconds_count{operation="getOrderSite"} 2)")) << text;
  EXPECT_TRUE(has(text, R"(store_call_latency_seconds_count{operation="insertOrderSite"} 1)"));
  EXPECT_TRUE(has(text, R"(store_call_latency_seconds_count{operation="other"} 0)"));
}

TEST(ServerMetrics, IssuanceRevocationValidationAndReplacements) {
  ServerMetrics m;
  core::Metrics& roles = m;
  roles.certificateIssued(30ms);
  roles.certificateIssued(40ms);
  roles.certificateRevoked(1);
  roles.certificateRevoked(7);   // not a reason in use: ignored
  roles.certificateRevoked(99);  // out of range: ignored
  roles.validationStarted();
  roles.validationDone("http-01", std::nullopt, 5ms);
  roles.validationStarted();
  roles.validationDone("dns-01", core::ProblemType::kDns, 5ms);
  roles.validationStarted();
  roles.ariReplacement();
  const std::string text = m.render({});
  EXPECT_TRUE(has(text, "new_certificates_total 2")) << text;
  EXPECT_TRUE(has(text, "issuance_latency_seconds_count 2"));
  EXPECT_TRUE(has(text, R"(revocation_reason_total{reason="keyCompromise"} 1)"));
  EXPECT_TRUE(has(text, R"(revocation_reason_total{reason="unspecified"} 0)"));
  EXPECT_TRUE(has(
      text,
      R"(validation_latency_count{challenge_type="http-01",problem_type="",result="valid"} 1)"));
  EXPECT_TRUE(has(
      text,
      R"(validation_latency_count{challenge_type="dns-01",problem_type="dns",result="invalid"} 1)"));
  EXPECT_TRUE(has(text, "validations_in_flight 1"));
  EXPECT_TRUE(has(text, "ari_replacements_total 1"));
}

TEST(ServerMetrics, GaugesComeFromTheSnapshot) {
  ServerMetrics m;
  MetricsSnapshot s;
  s.nonces_redeemed = 12;
  s.nonce_capacity = 100;
  s.writes_queued = 3;
  s.connection_waiters = 2;
  s.ca_expiry_seconds = 86400;
  const std::string text = m.render(s);
  EXPECT_TRUE(has(text, "nonce_pool_redeemed 12")) << text;
  EXPECT_TRUE(has(text, "nonce_pool_capacity 100"));
  EXPECT_TRUE(has(text, R"(store_queue_depth{queue="sqlite_writes"} 3)"));
  EXPECT_TRUE(has(text, R"(store_queue_depth{queue="postgres_connection_waiters"} 2)"));
  EXPECT_TRUE(has(text, "ca_certificate_expiry_seconds 86400"));
  EXPECT_NE(text.find("\nprocess_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
}

TEST(ProblemLabel, ShortNames) {
  EXPECT_EQ(problemLabel(core::ProblemType::kBadNonce), "badNonce");
  EXPECT_EQ(problemLabel(core::ProblemType::kBadCsr), "badCSR");
  EXPECT_EQ(problemLabel(core::ProblemType::kNotFound), "notFound");
  EXPECT_EQ(problemLabel(core::ProblemType::kMethodNotAllowed), "methodNotAllowed");
}

}  // namespace
}  // namespace akamu::server
