#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace akamu::bench {

namespace json = boost::json;

double percentile(const std::vector<double>& sorted_values, double p) {
  if (sorted_values.empty()) return 0;
  const double n = static_cast<double>(sorted_values.size());
  auto rank = static_cast<std::size_t>(std::ceil(n * p / 100.0));
  if (rank < 1) rank = 1;
  if (rank > sorted_values.size()) rank = sorted_values.size();
  return sorted_values[rank - 1];
}

LatencyStats latencyStats(std::vector<double> values) {
  LatencyStats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  s.p50 = percentile(values, 50);
  s.p95 = percentile(values, 95);
  s.p99 = percentile(values, 99);
  s.min = values.front();
  s.max = values.back();
  return s;
}

std::string normalizeError(const std::string& message) {
  std::string out;
  out.reserve(message.size());
  std::size_t i = 0;
  while (i < message.size()) {
    const bool url =
        message.compare(i, 7, "http://") == 0 || message.compare(i, 8, "https://") == 0;
    if (!url) {
      out += message[i++];
      continue;
    }
    out += "<url>";
    while (i < message.size() && message[i] != ' ' && message[i] != '\'' && message[i] != '"' &&
           message[i] != ',' && message[i] != ')') {
      ++i;
    }
  }
  return out;
}

std::vector<ErrorGroup> groupErrors(const std::vector<std::string>& messages) {
  std::map<std::string, std::uint64_t> counts;
  for (const auto& m : messages) ++counts[normalizeError(m)];
  std::vector<ErrorGroup> groups;
  groups.reserve(counts.size());
  for (auto& [message, count] : counts) groups.push_back({message, count});
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.count > b.count; });
  return groups;
}

Report summarize(const Options& o, const RunResult& run, const MemoryMilestones& mem) {
  Report r;
  std::vector<double> totals;
  std::vector<std::string> errors;
  std::int64_t first_start = 0, last_end = 0;
  bool any = false;
  double sums[8] = {};
  for (const auto& is : run.issuances) {
    if (!is.measured) continue;
    ++r.total;
    if (!any || is.start_ns < first_start) first_start = is.start_ns;
    if (!any || is.end_ns > last_end) last_end = is.end_ns;
    any = true;
    if (!is.ok) {
      ++r.err;
      errors.push_back(is.error);
      continue;
    }
    ++r.ok;
    totals.push_back(is.total_ms);
    sums[0] += is.new_order_ms;
    sums[1] += is.authz_ms;
    sums[2] += is.challenge_ms;
    sums[3] += is.finalize_ms;
    sums[4] += is.download_ms;
    sums[5] += is.verify_ms;
    sums[6] += is.ari_ms;
    sums[7] += is.ocsp_ms;
  }
  r.wall_sec = any ? static_cast<double>(last_end - first_start) / 1e9 : 0;
  r.throughput_per_sec = r.wall_sec > 0 ? static_cast<double>(r.ok) / r.wall_sec : 0;
  r.latency = latencyStats(std::move(totals));
  if (r.ok > 0) {
    const double n = static_cast<double>(r.ok);
    r.new_order_ms = sums[0] / n;
    r.authz_ms = sums[1] / n;
    r.challenge_ms = sums[2] / n;
    r.finalize_ms = sums[3] / n;
    r.download_ms = sums[4] / n;
    r.verify_ms = sums[5] / n;
    r.ari_ms = sums[6] / n;
    r.ocsp_ms = sums[7] / n;
  }
  r.errors = groupErrors(errors);

  r.window_issuances =
      static_cast<std::uint64_t>(o.warmup) + static_cast<std::uint64_t>(o.requests);
  const auto n = static_cast<std::int64_t>(std::max<std::uint64_t>(1, r.window_issuances));
  r.start_live_bytes = mem.start.live_bytes;
  r.server_ready_live_bytes = mem.server_ready.live_bytes;
  r.after_bench_live_bytes = mem.after_bench.live_bytes;
  r.peak_live_bytes = run.window_end.peak_live_bytes;
  r.server_overhead_bytes = r.server_ready_live_bytes - r.start_live_bytes;
  r.issuance_growth_bytes = r.after_bench_live_bytes - r.server_ready_live_bytes;
  r.per_issuance_growth_bytes = r.issuance_growth_bytes / n;
  r.issuance_alloc_bytes = run.window_end.alloc_bytes - run.window_start.alloc_bytes;
  r.per_issuance_alloc_bytes = r.issuance_alloc_bytes / static_cast<std::uint64_t>(n);
  r.total_alloc_count = mem.after_bench.alloc_count;
  return r;
}

namespace {

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

json::object latencyJson(const LatencyStats& s) {
  return {{"mean", round3(s.mean)}, {"p50", round3(s.p50)}, {"p95", round3(s.p95)},
          {"p99", round3(s.p99)},   {"max", round3(s.max)}, {"min", round3(s.min)}};
}

std::string kb(double bytes) {
  if (std::abs(bytes) >= 10.0 * 1024 * 1024) return fmt::format("{:.1f} MB", bytes / 1048576.0);
  return fmt::format("{:.0f} KB", bytes / 1024.0);
}

}  // namespace

json::object toJson(const Options& o, const Environment& env, const Report& r, const RunResult& run,
                    const std::optional<Floor>& floor) {
  json::object out;
  const bool external = !o.server_url.empty();
  out["config"] = json::object{
      {"spawn", external ? "external" : o.spawn},
      {"nodes", o.nodes},
      {"clients", o.clients},
      {"requests", o.requests},
      {"warmup", o.warmup},
      {"challenge", o.challenge},
      {"key_type", o.key_type},
      {"ca_key_type", o.ca_key_type},
      {"account_key_type", o.account_key_type},
      {"topology", o.topology},
      {"no_gossip", o.no_gossip},
      {"db", maskDbPassword(o.db_url)},
      {"pool_connections", o.pool_connections},
      {"ro_connections", o.ro_connections},
      {"wildcard", o.wildcard},
      {"output", o.output},
      {"verify_cert", o.verify_cert},
      {"poll_ms", o.poll_ms},
      {"server", external ? json::value(o.server_url) : json::value(nullptr)},
      {"ca_bundle", o.ca_bundle.empty() ? json::value(nullptr) : json::value(o.ca_bundle)},
      {"server_threads", o.server_threads},
      {"floor", o.floor},
      {"save_certs", o.save_certs.empty() ? json::value(nullptr) : json::value(o.save_certs)},
      {"ari", o.ari},
      {"ocsp", o.ocsp},
      {"profile", o.profile.empty() ? json::value(nullptr) : json::value(o.profile)},
      {"directory_url", env.directory_url},
      {"openssl", env.openssl},
      {"cores", env.cores},
  };
  out["summary"] = json::object{
      {"ok", r.ok},
      {"err", r.err},
      {"total", r.total},
      {"throughput_per_sec", round3(r.throughput_per_sec)},
      {"wall_sec", std::round(r.wall_sec * 1e6) / 1e6},
      {"total_latency_ms", latencyJson(r.latency)},
  };
  json::object phases{
      {"new_order_ms", round3(r.new_order_ms)}, {"authz_ms", round3(r.authz_ms)},
      {"challenge_ms", round3(r.challenge_ms)}, {"finalize_ms", round3(r.finalize_ms)},
      {"download_ms", round3(r.download_ms)},
  };
  if (o.verify_cert) phases["verify_ms"] = round3(r.verify_ms);
  if (o.ari) phases["ari_ms"] = round3(r.ari_ms);
  if (o.ocsp) phases["ocsp_ms"] = round3(r.ocsp_ms);
  out["phases"] = std::move(phases);
  out["memory"] = json::object{
      {"start_live_bytes", r.start_live_bytes},
      {"server_ready_live_bytes", r.server_ready_live_bytes},
      {"after_bench_live_bytes", r.after_bench_live_bytes},
      {"peak_live_bytes", r.peak_live_bytes},
      {"server_overhead_bytes", r.server_overhead_bytes},
      {"issuance_growth_bytes", r.issuance_growth_bytes},
      {"per_issuance_growth_bytes", r.per_issuance_growth_bytes},
      {"issuance_alloc_bytes", r.issuance_alloc_bytes},
      {"per_issuance_alloc_bytes", r.per_issuance_alloc_bytes},
      {"total_alloc_count", r.total_alloc_count},
      {"window_issuances", r.window_issuances},
      {"counts_openssl", memory::g_openssl_counted},
      {"counts_sqlite", memory::g_sqlite_counted},
      {"includes_server", !external && o.spawn == "inprocess"},
  };
  out["nodes"] = json::array{json::object{
      {"url", env.directory_url},
      {"ok", r.ok},
      {"err", r.err},
      {"mean_ms", round3(r.latency.mean)},
      {"p99_ms", round3(r.latency.p99)},
      {"connections_opened", env.connections_opened},
  }};
  json::array errors;
  for (const auto& g : r.errors)
    errors.push_back(json::object{{"message", g.message}, {"count", g.count}});
  out["errors"] = std::move(errors);
  if (floor) {
    json::array breakdown;
    for (const auto& item : floor->items) {
      breakdown.push_back(json::object{{"op", item.name},
                                       {"per_issuance", item.per_issuance},
                                       {"us_each", round3(item.us_each)},
                                       {"iterations", item.iterations}});
    }
    const double eff = floor->bound_per_sec > 0 ? r.throughput_per_sec / floor->bound_per_sec : 0;
    out["floor"] = json::object{
        {"cpu_us_per_issuance", round3(floor->cpu_us_per_issuance)},
        {"cores", floor->cores},
        {"bound_per_sec", round3(floor->bound_per_sec)},
        {"efficiency", std::round(eff * 1e4) / 1e4},
        {"breakdown", std::move(breakdown)},
    };
  }
  json::array raw;
  if (!o.no_raw) {
    raw.reserve(static_cast<std::size_t>(o.requests));
    for (const auto& is : run.issuances) {
      if (!is.measured) continue;
      json::object e{
          {"id", is.id},
          {"ok", is.ok},
          {"total_ms", round3(is.total_ms)},
          {"new_order_ms", round3(is.new_order_ms)},
          {"authz_ms", round3(is.authz_ms)},
          {"challenge_ms", round3(is.challenge_ms)},
          {"finalize_ms", round3(is.finalize_ms)},
          {"download_ms", round3(is.download_ms)},
      };
      if (o.verify_cert) e["verify_ms"] = round3(is.verify_ms);
      if (o.ari) e["ari_ms"] = round3(is.ari_ms);
      if (o.ocsp) e["ocsp_ms"] = round3(is.ocsp_ms);
      if (!is.ok) e["error"] = is.error;
      raw.push_back(std::move(e));
    }
  }
  out["raw"] = std::move(raw);
  return out;
}

std::string toText(const Options& o, const Environment& env, const Report& r,
                   const std::optional<Floor>& floor) {
  const bool external = !o.server_url.empty();
  std::string s;
  s += fmt::format("acme-bench: {} issuances ({} warmup) by {} clients against {} ({})\n",
                   o.requests, o.warmup, o.clients, env.directory_url,
                   external ? "external server" : "spawn " + o.spawn);
  s += fmt::format("  CSR key {}, account key {}, CA key {}, {}, db {}{}\n", o.key_type,
                   o.account_key_type, external ? "(server's)" : o.ca_key_type,
                   o.wildcard ? o.challenge + " (wildcard)" : o.challenge,
                   external ? "(server's)" : maskDbPassword(o.db_url),
                   o.verify_cert ? ", --verify-cert" : "");
  s += fmt::format("  {}, {} cores\n\n", env.openssl, env.cores);
  s += fmt::format("  ok {}   err {}   wall {:.3f} s   throughput {:.1f} iss/s\n", r.ok, r.err,
                   r.wall_sec, r.throughput_per_sec);
  const auto& l = r.latency;
  s += fmt::format(
      "  latency ms   mean {:.2f}   p50 {:.2f}   p95 {:.2f}   p99 {:.2f}   min {:.2f}   "
      "max {:.2f}\n\n",
      l.mean, l.p50, l.p95, l.p99, l.min, l.max);
  s += "  phase          mean ms   share\n";
  const double sum = r.new_order_ms + r.authz_ms + r.challenge_ms + r.finalize_ms + r.download_ms +
                     r.ari_ms + r.ocsp_ms;
  auto row = [&](const char* name, double v) {
    s += fmt::format("  {:<12} {:>9.3f}   {:>4.0f}%\n", name, v, sum > 0 ? 100.0 * v / sum : 0.0);
  };
  row("new_order", r.new_order_ms);
  row("authz", r.authz_ms);
  row("challenge", r.challenge_ms);
  row("finalize", r.finalize_ms);
  row("download", r.download_ms);
  if (o.ari) row("renewal_info", r.ari_ms);
  if (o.ocsp) row("ocsp", r.ocsp_ms);
  if (o.verify_cert)
    s += fmt::format("  {:<12} {:>9.3f}   (after download, not in latency)\n", "verify",
                     r.verify_ms);

  s += fmt::format(
      "\n  memory ({}{}): per issuance {} allocated, {} retained; peak live {}; "
      "server overhead {}; {} allocations in all\n",
      external || o.spawn == "process" ? "client side only" : "client + server",
      memory::g_openssl_counted ? "" : ", OpenSSL not counted",
      kb(static_cast<double>(r.per_issuance_alloc_bytes)),
      kb(static_cast<double>(r.per_issuance_growth_bytes)),
      kb(static_cast<double>(r.peak_live_bytes)), kb(static_cast<double>(r.server_overhead_bytes)),
      r.total_alloc_count);
  if (floor) {
    s += fmt::format(
        "\n  crypto floor: {:.0f} CPU us per issuance -> bound {:.0f} iss/s on {} cores; "
        "efficiency {:.1f}%\n",
        floor->cpu_us_per_issuance, floor->bound_per_sec, floor->cores,
        floor->bound_per_sec > 0 ? 100.0 * r.throughput_per_sec / floor->bound_per_sec : 0.0);
    for (const auto& item : floor->items) {
      s += fmt::format("    {:<36} {} x {:>9.1f} us = {:>9.1f} us\n", item.name, item.per_issuance,
                       item.us_each, item.per_issuance * item.us_each);
    }
    if (external)
      s += "    (server side estimated with this machine's OpenSSL and --ca-key-type)\n";
  }
  if (!r.errors.empty()) {
    constexpr std::size_t kTop = 5;
    s += fmt::format("\n  errors ({} groups", r.errors.size());
    s += r.errors.size() > kTop ? fmt::format(", top {}):\n", kTop) : std::string("):\n");
    for (std::size_t i = 0; i < r.errors.size() && i < kTop; ++i) {
      s += fmt::format("    {:>6} x {}\n", r.errors[i].count, r.errors[i].message);
    }
  }
  return s;
}

}  // namespace akamu::bench
