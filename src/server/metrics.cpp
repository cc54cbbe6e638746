#include "server/metrics.hpp"

#include <dirent.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace akamu::server {
namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

// Request and store latencies: from a fraction of a millisecond (an in-memory lookup) to the
// seconds of a slow validation or a finalize that re-checks CAA.
const Histogram::BucketBoundaries& latencyBuckets() {
  static const Histogram::BucketBoundaries buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                   1,      2.5,     5,      10,    30};
  return buckets;
}

double seconds(core::Metrics::Duration d) { return std::chrono::duration<double>(d).count(); }

std::string_view methodLabel(std::size_t index) {
  static constexpr std::array<std::string_view, 4> kNames{"GET", "HEAD", "POST", "other"};
  return kNames[index];
}

std::size_t methodIndex(std::string_view method) {
  if (method == "GET") return 0;
  if (method == "HEAD") return 1;
  if (method == "POST") return 2;
  return 3;
}

std::string_view routeLabel(std::size_t slot) {
  if (slot < kRouteCount) return kRoutePaths[slot].name;
  if (slot == ServerMetrics::kRevocation) return "revocation";
  return "unknown";
}

// RFC 5280 §5.3.1 CRLReason names; 7 is not used.
std::string_view reasonLabel(std::size_t code) {
  static constexpr std::array<std::string_view, 11> kNames{
      "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
      "superseded",    "cessationOfOperation", "certificateHold", "",
      "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
  return code < kNames.size() ? kNames[code] : "";
}

// utime + stime of this process in seconds, and its start as a Unix time; from /proc.
struct ProcessTimes {
  double cpu_seconds = 0;
  double start_unix = 0;
};
ProcessTimes readProcessTimes() {
  ProcessTimes out;
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return out;
  // The command name (field 2) may hold spaces: the fields that follow start after its ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string v; fields >> v && f.size() < 20;) f.push_back(v);
  // Here field 3 (state) is f[0]: utime is field 14, stime 15, starttime 22.
  if (f.size() < 20) return out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  out.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  std::ifstream proc_stat("/proc/stat");
  for (std::string l; std::getline(proc_stat, l);) {
    if (l.rfind("btime ", 0) == 0) {
      out.start_unix = std::stod(l.substr(6)) + std::stod(f[19]) / ticks;
      break;
    }
  }
  return out;
}

double residentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double openFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

std::string_view problemLabel(core::ProblemType type) {
  switch (type) {
    case core::ProblemType::kNotFound:
      return "notFound";
    case core::ProblemType::kMethodNotAllowed:
      return "methodNotAllowed";
    case core::ProblemType::kUnsupportedMediaType:
      return "unsupportedMediaType";
    case core::ProblemType::kPayloadTooLarge:
      return "payloadTooLarge";
    case core::ProblemType::kServiceUnavailable:
      return "serviceUnavailable";
    case core::ProblemType::kConflict:
      return "conflict";
    default:
      break;
  }
  const std::string_view uri = core::problemTypeUri(type);
  return uri.substr(uri.rfind(':') + 1);
}

ServerMetrics::ServerMetrics()
    : registry_(std::make_unique<prometheus::Registry>()),
      request_series_(
          std::make_unique<LazySeries<Histogram, kRouteSlots * kMethods * kStatusSlots>>()) {
  auto& r = *registry_;
  response_time_ = &prometheus::BuildHistogram()
                        .Name("response_time")
                        .Help(
                            "Time to answer a request in seconds, by route (endpoint), method "
                            "and HTTP status code")
                        .Register(r);
  in_flight_ = &prometheus::BuildGauge()
                    .Name("in_flight_requests")
                    .Help("Requests being handled now")
                    .Register(r)
                    .Add({});
  http_errors_ = &prometheus::BuildCounter()
                      .Name("http_errors_total")
                      .Help("Problem documents answered, by problem type")
                      .Register(r);
  jose_errors_ = &prometheus::BuildCounter()
                      .Name("jose_errors_total")
                      .Help(
                          "Requests refused by the JWS, nonce and account checks before any "
                          "handler ran, by problem type")
                      .Register(r);
  store_latency_ = &prometheus::BuildHistogram()
                        .Name("store_call_latency_seconds")
                        .Help(
                            "Time of one storage call in seconds (one transaction), by "
                            "operation")
                        .Register(r);
  store_overflow_ = &store_latency_->Add({{"operation", "other"}}, latencyBuckets());
  new_certificates_ = &prometheus::BuildCounter()
                           .Name("new_certificates_total")
                           .Help("Certificates issued and stored")
                           .Register(r)
                           .Add({});
  issuance_latency_ = &prometheus::BuildHistogram()
                           .Name("issuance_latency_seconds")
                           .Help(
                               "From a finalize request reaching the RA to its certificate "
                               "being stored, in seconds")
                           .Register(r)
                           .Add({}, latencyBuckets());
  revocation_reason_ = &prometheus::BuildCounter()
                            .Name("revocation_reason_total")
                            .Help("Certificates revoked, by RFC 5280 reason")
                            .Register(r);
  for (std::size_t code = 0; code < kReasonSlots; ++code) {
    if (const auto name = reasonLabel(code); !name.empty()) {
      revocation_series_[code] = &revocation_reason_->Add({{"reason", std::string(name)}});
    }
  }
  ari_replacements_ = &prometheus::BuildCounter()
                           .Name("ari_replacements_total")
                           .Help("Orders accepted that replace a certificate (RFC 9773)")
                           .Register(r)
                           .Add({});
  validation_latency_ = &prometheus::BuildHistogram()
                             .Name("validation_latency")
                             .Help(
                                 "Time of one challenge validation in seconds, by challenge "
                                 "type, problem type and result")
                             .Register(r);
  validations_in_flight_ = &prometheus::BuildGauge()
                                .Name("validations_in_flight")
                                .Help("Challenge validations running now")
                                .Register(r)
                                .Add({});
  nonces_redeemed_ = &prometheus::BuildGauge()
                          .Name("nonce_pool_redeemed")
                          .Help("Redeemed nonces the pool remembers (to refuse a replay)")
                          .Register(r)
                          .Add({});
  nonce_capacity_ = &prometheus::BuildGauge()
                         .Name("nonce_pool_capacity")
                         .Help(
                             "Redeemed nonces the pool remembers at most ([server] "
                             "nonce_capacity)")
                         .Register(r)
                         .Add({});
  auto& queues = prometheus::BuildGauge()
                     .Name("store_queue_depth")
                     .Help(
                         "Storage work waiting: SQLite writes queued for the writer thread, "
                         "PostgreSQL calls waiting for a connection")
                     .Register(r);
  writes_queued_ = &queues.Add({{"queue", "sqlite_writes"}});
  connection_waiters_ = &queues.Add({{"queue", "postgres_connection_waiters"}});
  ca_expiry_ = &prometheus::BuildGauge()
                    .Name("ca_certificate_expiry_seconds")
                    .Help("Seconds until the CA certificate expires (negative once expired)")
                    .Register(r)
                    .Add({});
  process_cpu_ = &prometheus::BuildCounter()
                      .Name("process_cpu_seconds_total")
                      .Help("User and system CPU time spent in seconds")
                      .Register(r)
                      .Add({});
  process_rss_ = &prometheus::BuildGauge()
                      .Name("process_resident_memory_bytes")
                      .Help("Resident memory size in bytes")
                      .Register(r)
                      .Add({});
  process_fds_ = &prometheus::BuildGauge()
                      .Name("process_open_fds")
                      .Help("Number of open file descriptors")
                      .Register(r)
                      .Add({});
  process_start_ = &prometheus::BuildGauge()
                        .Name("process_start_time_seconds")
                        .Help("Start time of the process since the Unix epoch in seconds")
                        .Register(r)
                        .Add({});
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::storeCall(const char* function_name, Duration took) {
  // Open addressing on the call site's address: a hit is one or two atomic loads; a new call
  // site is named and inserted once, under the mutex.
  const auto hash = std::hash<const void*>{}(function_name);
  for (std::size_t probe = 0; probe < kStoreSlots; ++probe) {
    StoreSlot& slot = store_series_[(hash + probe) % kStoreSlots];
    const char* key = slot.key.load(std::memory_order_acquire);
    if (key == function_name) {
      if (Histogram* h = slot.series.load(std::memory_order_acquire)) {
        h->Observe(seconds(took));
        return;
      }
    }
    if (key == nullptr) {
      std::lock_guard lock(create_mutex_);
      key = slot.key.load(std::memory_order_acquire);
      if (key == nullptr) {
        auto& h = store_latency_->Add(
            {{"operation", std::string(core::operationName(function_name))}}, latencyBuckets());
        slot.series.store(&h, std::memory_order_release);
        slot.key.store(function_name, std::memory_order_release);
        h.Observe(seconds(took));
        return;
      }
      if (key == function_name) {
        slot.series.load(std::memory_order_acquire)->Observe(seconds(took));
        return;
      }
    }
  }
  store_overflow_->Observe(seconds(took));
}

void ServerMetrics::certificateIssued(Duration latency) {
  new_certificates_->Increment();
  issuance_latency_->Observe(seconds(latency));
}

void ServerMetrics::certificateRevoked(int reason) {
  if (reason >= 0 && static_cast<std::size_t>(reason) < kReasonSlots &&
      revocation_series_[static_cast<std::size_t>(reason)] != nullptr) {
    revocation_series_[static_cast<std::size_t>(reason)]->Increment();
  }
}

void ServerMetrics::validationStarted() { validations_in_flight_->Increment(); }

void ServerMetrics::validationDone(std::string_view challenge_type,
                                   std::optional<core::ProblemType> problem, Duration took) {
  validations_in_flight_->Decrement();
  const int problem_key = problem ? static_cast<int>(*problem) : -1;
  Histogram* series = nullptr;
  {
    std::lock_guard lock(validation_mutex_);
    auto key = std::make_pair(std::string(challenge_type), problem_key);
    auto it = validation_series_.find(key);
    if (it == validation_series_.end()) {
      auto& h = validation_latency_->Add(
          {{"challenge_type", std::string(challenge_type)},
           {"problem_type", problem ? std::string(problemLabel(*problem)) : std::string()},
           {"result", problem ? "invalid" : "valid"}},
          latencyBuckets());
      it = validation_series_.emplace(std::move(key), &h).first;
    }
    series = it->second;
  }
  series->Observe(seconds(took));
}

void ServerMetrics::ariReplacement() { ari_replacements_->Increment(); }

void ServerMetrics::requestStarted() { in_flight_->Increment(); }

void ServerMetrics::requestDone(std::size_t route_slot, std::string_view method, int status,
                                Duration took) {
  in_flight_->Decrement();
  if (route_slot >= kRouteSlots) route_slot = kUnmatched;
  if (status < 100 || status > 599) status = 500;
  const std::size_t m = methodIndex(method);
  auto& slot = request_series_->slots[(route_slot * kMethods + m) * kStatusSlots +
                                      static_cast<std::size_t>(status - 100)];
  Histogram* h = slot.load(std::memory_order_acquire);
  if (h == nullptr) {
    std::lock_guard lock(create_mutex_);
    h = slot.load(std::memory_order_acquire);
    if (h == nullptr) {
      h = &response_time_->Add({{"endpoint", std::string(routeLabel(route_slot))},
                                {"method", std::string(methodLabel(m))},
                                {"code", std::to_string(status)}},
                               latencyBuckets());
      slot.store(h, std::memory_order_release);
    }
  }
  h->Observe(seconds(took));
}

prometheus::Counter& ServerMetrics::problemCounter(prometheus::Family<prometheus::Counter>& family,
                                                   LazySeries<Counter, kProblemSlots>& cache,
                                                   core::ProblemType type) {
  auto index = static_cast<std::size_t>(type);
  if (index >= kProblemSlots) index = static_cast<std::size_t>(core::ProblemType::kServerInternal);
  auto& slot = cache.slots[index];
  if (Counter* c = slot.load(std::memory_order_acquire)) return *c;
  std::lock_guard lock(create_mutex_);
  Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &family.Add({{"type", std::string(problemLabel(type))}});
    slot.store(c, std::memory_order_release);
  }
  return *c;
}

void ServerMetrics::problemAnswered(core::ProblemType type) {
  problemCounter(*http_errors_, http_error_series_, type).Increment();
}

void ServerMetrics::joseError(core::ProblemType type) {
  problemCounter(*jose_errors_, jose_error_series_, type).Increment();
}

std::string ServerMetrics::render(const MetricsSnapshot& snapshot) {
  std::lock_guard lock(render_mutex_);
  nonces_redeemed_->Set(static_cast<double>(snapshot.nonces_redeemed));
  nonce_capacity_->Set(static_cast<double>(snapshot.nonce_capacity));
  writes_queued_->Set(static_cast<double>(snapshot.writes_queued));
  connection_waiters_->Set(static_cast<double>(snapshot.connection_waiters));
  ca_expiry_->Set(snapshot.ca_expiry_seconds);
  const auto times = readProcessTimes();
  // A counter only goes up: add what was spent since the last scrape.
  if (times.cpu_seconds > process_cpu_seen_) {
    process_cpu_->Increment(times.cpu_seconds - process_cpu_seen_);
    process_cpu_seen_ = times.cpu_seconds;
  }
  process_start_->Set(times.start_unix);
  process_rss_->Set(residentBytes());
  process_fds_->Set(openFds());
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace akamu::server
