#pragma once
// The server's metrics, exported in the Prometheus text format on the metrics listener
// ([server] metrics_listen_addr). One ServerMetrics is owned by each Server (no global
// registry): the roles below the front end record through core::Metrics, the front end through
// the request methods here, and gauges that describe state (nonce pool, queues, CA expiry,
// process) are read when /metrics is scraped.
//
// Recording is meant for the hot path: each series is looked up once and its handle cached
// (request series per route, method and status in a table of atomic pointers; store series per
// call site), so a request costs a few atomic operations and one uncontended per-series
// histogram mutex (prometheus-cpp's), never a label map.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "core/metrics.hpp"
#include "core/problem.hpp"
#include "server/routes.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace akamu::server {

// What a scrape reads from the running server.
struct MetricsSnapshot {
  std::size_t nonces_redeemed = 0;     // redeemed nonces remembered by the pool
  std::size_t nonce_capacity = 0;      // how many it remembers at most
  std::size_t writes_queued = 0;       // SQLite writer: jobs queued or running
  std::size_t connection_waiters = 0;  // PostgreSQL: calls waiting for a connection
  double ca_expiry_seconds = 0;        // CA certificate notAfter minus now
};

class ServerMetrics final : public core::Metrics {
 public:
  using Duration = core::Metrics::Duration;
  // Request route slots: the route table's, then these two.
  static constexpr std::size_t kUnmatched = kRouteCount;       // label "unknown"
  static constexpr std::size_t kRevocation = kRouteCount + 1;  // CRL and OCSP paths
  static constexpr std::size_t kRouteSlots = kRouteCount + 2;

  ServerMetrics();
  ~ServerMetrics() override;
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // core::Metrics
  void storeCall(const char* function_name, Duration took) override;
  void certificateIssued(Duration latency) override;
  void certificateRevoked(int reason) override;
  void validationStarted() override;
  void validationDone(std::string_view challenge_type, std::optional<core::ProblemType> problem,
                      Duration took) override;
  void ariReplacement() override;

  // The front end. `route_slot` is a RouteId's index, kUnmatched or kRevocation.
  void requestStarted();
  void requestDone(std::size_t route_slot, std::string_view method, int status, Duration took);
  // A problem document answered (http_errors), and one of them a failure of the JWS checks
  // before any handler ran (jose_errors).
  void problemAnswered(core::ProblemType type);
  void joseError(core::ProblemType type);

  // The text exposition (format 0.0.4) with the gauges set from `snapshot` and /proc.
  std::string render(const MetricsSnapshot& snapshot);

 private:
  static constexpr std::size_t kMethods = 4;        // GET, HEAD, POST, other
  static constexpr std::size_t kStatusSlots = 500;  // 100..599
  static constexpr std::size_t kStoreSlots = 256;   // call sites, open addressing
  static constexpr std::size_t kProblemSlots = 64;  // > number of core::ProblemType values
  static constexpr std::size_t kReasonSlots = 11;   // RFC 5280 reason codes 0..10

  // Series created on first use and cached by index: a lookup is one atomic load.
  template <class T, std::size_t N>
  struct LazySeries {
    std::array<std::atomic<T*>, N> slots{};
  };
  prometheus::Counter& problemCounter(prometheus::Family<prometheus::Counter>& family,
                                      LazySeries<prometheus::Counter, kProblemSlots>& cache,
                                      core::ProblemType type);

  std::unique_ptr<prometheus::Registry> registry_;
  std::mutex create_mutex_;  // serialises the creation of series (not their use)

  prometheus::Family<prometheus::Histogram>* response_time_;
  std::unique_ptr<LazySeries<prometheus::Histogram, kRouteSlots * kMethods * kStatusSlots>>
      request_series_;
  prometheus::Gauge* in_flight_;
  prometheus::Family<prometheus::Counter>* http_errors_;
  LazySeries<prometheus::Counter, kProblemSlots> http_error_series_;
  prometheus::Family<prometheus::Counter>* jose_errors_;
  LazySeries<prometheus::Counter, kProblemSlots> jose_error_series_;

  prometheus::Family<prometheus::Histogram>* store_latency_;
  struct StoreSlot {
    std::atomic<const char*> key{nullptr};
    std::atomic<prometheus::Histogram*> series{nullptr};
  };
  std::array<StoreSlot, kStoreSlots> store_series_;
  prometheus::Histogram* store_overflow_;  // call sites beyond kStoreSlots: "other"

  prometheus::Counter* new_certificates_;
  prometheus::Histogram* issuance_latency_;
  prometheus::Family<prometheus::Counter>* revocation_reason_;
  std::array<prometheus::Counter*, kReasonSlots> revocation_series_{};
  prometheus::Counter* ari_replacements_;

  prometheus::Family<prometheus::Histogram>* validation_latency_;
  std::mutex validation_mutex_;
  std::map<std::pair<std::string, int>, prometheus::Histogram*> validation_series_;
  prometheus::Gauge* validations_in_flight_;

  prometheus::Gauge* nonces_redeemed_;
  prometheus::Gauge* nonce_capacity_;
  prometheus::Gauge* writes_queued_;
  prometheus::Gauge* connection_waiters_;
  prometheus::Gauge* ca_expiry_;

  prometheus::Counter* process_cpu_;
  double process_cpu_seen_ = 0;  // under render_mutex_
  prometheus::Gauge* process_rss_;
  prometheus::Gauge* process_fds_;
  prometheus::Gauge* process_start_;
  std::mutex render_mutex_;
};

// The label for a problem type: the ACME URN's last part ("badNonce"), or for the plain HTTP
// failures their own name ("notFound", "methodNotAllowed", ...).
std::string_view problemLabel(core::ProblemType type);

}  // namespace akamu::server
