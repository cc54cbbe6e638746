#pragma once
// Turns a run into numbers (summary, phases, memory, errors) and renders them as the text
// report or the one JSON object of --output json.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "floor.hpp"
#include "memory_stats.hpp"
#include "options.hpp"
#include "runner.hpp"

namespace akamu::bench {

// p-th percentile as the reference defines it: sorted[ceil(n·p/100) − 1]; 0 for no values.
double percentile(const std::vector<double>& sorted_values, double p);

struct LatencyStats {
  double mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0, min = 0;
};
LatencyStats latencyStats(std::vector<double> values);

struct ErrorGroup {
  std::string message;
  std::uint64_t count = 0;
};
// Groups failure messages (URLs inside replaced by "<url>" so that one cause is one group),
// largest group first.
std::vector<ErrorGroup> groupErrors(const std::vector<std::string>& messages);
std::string normalizeError(const std::string& message);

struct MemoryMilestones {
  memory::Snapshot start;
  memory::Snapshot server_ready;
  memory::Snapshot after_bench;
};

struct Report {
  std::uint64_t ok = 0, err = 0, total = 0;
  double wall_sec = 0;
  double throughput_per_sec = 0;
  LatencyStats latency;
  double new_order_ms = 0, authz_ms = 0, challenge_ms = 0, finalize_ms = 0, download_ms = 0,
         verify_ms = 0, ari_ms = 0, ocsp_ms = 0;
  std::vector<ErrorGroup> errors;
  // memory
  std::int64_t start_live_bytes = 0, server_ready_live_bytes = 0, after_bench_live_bytes = 0,
               peak_live_bytes = 0, server_overhead_bytes = 0, issuance_growth_bytes = 0,
               per_issuance_growth_bytes = 0;
  std::uint64_t issuance_alloc_bytes = 0, per_issuance_alloc_bytes = 0, total_alloc_count = 0;
  std::uint64_t window_issuances = 0;  // warmup + measured: the divisor of per_issuance_*
};

Report summarize(const Options& options, const RunResult& run, const MemoryMilestones& memory);

struct Environment {
  std::string directory_url;
  std::string openssl;
  unsigned cores = 0;
  std::size_t connections_opened = 0;
};

boost::json::object toJson(const Options& options, const Environment& env, const Report& report,
                           const RunResult& run, const std::optional<Floor>& floor);
std::string toText(const Options& options, const Environment& env, const Report& report,
                   const std::optional<Floor>& floor);

}  // namespace akamu::bench
