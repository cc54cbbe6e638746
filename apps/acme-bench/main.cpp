// acme-bench: the load generator and benchmark harness (docs/benchmark chapter). Runs full ACME
// issuances (new-order -> authz -> challenge -> finalize -> download) from --clients worker
// threads against a server it spawns (in this process or as a child `akamu serve`) or any
// external ACME server (--server), and reports throughput, latency, per-phase means, heap
// figures and, with --floor, how far the run is from the cryptographic bound of this machine.
//
// Exit codes: 0 no failed issuance, 1 a failed issuance or a setup failure, 2 usage error, an
// impossible combination of options or a feature that is not built yet.
#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>
#include <thread>

#include "cert_saver.hpp"
#include "client/http01_responder.hpp"
#include "crypto/key_type.hpp"
#include "floor.hpp"
#include "memory_stats.hpp"
#include "options.hpp"
#include "report.hpp"
#include "runner.hpp"
#include "target.hpp"
#include "validation/test_dns_server.hpp"

namespace {

using akamu::bench::Options;

constexpr int kExitOk = 0;
constexpr int kExitFailures = 1;
constexpr int kExitUsage = 2;

void addOptions(CLI::App& app, Options& o) {
  app.add_option("--spawn", o.spawn, "inprocess or process (a child `akamu serve`)")
      ->capture_default_str();
  app.add_option("--nodes", o.nodes, "number of akamu nodes (only 1 so far)")
      ->capture_default_str();
  app.add_option("--clients", o.clients, "concurrent workers, one account each")
      ->capture_default_str();
  app.add_option("--requests", o.requests, "issuances to measure (warmup not counted)")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "issuances run and discarded before measurement")
      ->capture_default_str();
  app.add_option("--challenge", o.challenge,
                 "http-01 or dns-persist-01 (records in a loopback DNS server the bench runs)")
      ->capture_default_str();
  app.add_option("--key-type", o.key_type, "CSR key type")->capture_default_str();
  app.add_option("--ca-key-type", o.ca_key_type, "CA key type of a spawned server")
      ->capture_default_str();
  app.add_option("--account-key-type", o.account_key_type, "account (JWS) key type")
      ->capture_default_str();
  app.add_option("--topology", o.topology, "direct or proxy (multi-node)")->capture_default_str();
  app.add_flag("--no-gossip", o.no_gossip, "disable gossip in multi-node runs");
  app.add_option("--db", o.db,
                 "sqlite::memory:, :memory:, sqlite:///path.db, a file, postgres://... or a "
                 "PostgreSQL key=value conninfo")
      ->capture_default_str();
  app.add_option("--pool-connections", o.pool_connections, "write connection pool size")
      ->capture_default_str();
  app.add_option("--ro-connections", o.ro_connections, "read-only connections (0 = no split)")
      ->capture_default_str();
  app.add_flag("--wildcard", o.wildcard,
               "issue *.bench-N.acme-bench.test (needs --challenge dns-persist-01)");
  app.add_option("--output", o.output, "text or json")->capture_default_str();
  app.add_flag("--verify-cert", o.verify_cert,
               "check SAN, key and signature of every issued certificate");
  app.add_option("--poll-ms", o.poll_ms, "longest pause between order polls (ms)")
      ->capture_default_str();
  app.add_option("--server", o.server_url,
                 "directory URL of an external ACME server (nothing is spawned)");
  app.add_option("--ca-bundle", o.ca_bundle, "PEM trust anchors for an https --server");
  app.add_flag("--floor", o.floor,
               "measure the CPU cost of one issuance's cryptography and the bound it implies");
  app.add_option("--server-threads", o.server_threads,
                 "worker threads of a spawned server (0 = one per core)")
      ->capture_default_str();
  app.add_option("--responder-port", o.responder_port,
                 "port of the http-01 responder (0 = any; a spawned server is told)")
      ->capture_default_str();
  app.add_option("--akamu-bin", o.akamu_bin, "akamu executable for --spawn process")
      ->default_str(akamu::bench::defaultAkamuBinary());
  app.add_option("--audit-log", o.audit_log, "audit log of a spawned server")
      ->capture_default_str();
  app.add_flag("--no-raw", o.no_raw, "omit the per-issuance array from the JSON output");
  app.add_flag("--rate-limits", o.rate_limits,
               "spawned servers check every rate limit (limits too high to deny): measures what "
               "checking them costs");
  app.add_flag("--ari", o.ari,
               "after each download, GET the certificate's renewal info (a phase of its own)");
  app.add_flag("--ocsp", o.ocsp,
               "after each download, ask the certificate's OCSP responder (a phase of its own)");
  app.add_option("--profile", o.profile,
                 "request this certificate profile in every newOrder (spawned servers offer "
                 "default and shortlived)");
  app.add_option("--save-certs", o.save_certs,
                 "write every downloaded chain to DIR/<worker>-<n>.pem and list it in "
                 "DIR/index.tsv (fsynced)");
}

}  // namespace

int main(int argc, char** argv) {
  namespace bench = akamu::bench;
  const auto start_memory = bench::memory::snapshot();

  Options o;
  CLI::App app{"acme-bench: ACME issuance load generator and benchmark"};
  addOptions(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!o.server_url.empty() && app.count("--spawn") > 0) {
    std::cerr << "acme-bench: --server and --spawn exclude each other\n";
    return kExitUsage;
  }
  if (auto error = bench::validate(o)) {
    std::cerr << "acme-bench: " << *error << "\n";
    return kExitUsage;
  }

  auto work_dir = bench::TempDir::create("acme-bench-");
  if (!work_dir) {
    std::cerr << "acme-bench: " << work_dir.error().detail << "\n";
    return kExitFailures;
  }
  auto responder =
      akamu::client::Http01Responder::start(static_cast<std::uint16_t>(o.responder_port));
  if (!responder) {
    std::cerr << "acme-bench: http-01 responder: " << responder.error().detail << "\n";
    return kExitFailures;
  }
  // dns-persist-01: a loopback DNS server holds the workers' standing records; the spawned
  // server's dns-persist-01 resolver points at it.
  std::unique_ptr<akamu::validation::TestDnsServer> dns;
  if (o.challenge == "dns-persist-01") {
    auto started = akamu::validation::TestDnsServer::start();
    if (!started) {
      std::cerr << "acme-bench: DNS server for dns-persist-01: " << started.error().detail << "\n";
      return kExitFailures;
    }
    dns = std::move(*started);
  }
  auto target =
      bench::startTarget(o, (*responder)->port(), dns ? dns->address() : "", work_dir->path());
  if (!target) {
    // The server's message or log may quote the database string.
    std::cerr << "acme-bench: " << bench::scrubDbPassword(target.error().detail, o.db_url) << "\n";
    return kExitFailures;
  }
  std::unique_ptr<bench::CertSaver> saver;
  if (!o.save_certs.empty()) {
    auto opened = bench::CertSaver::open(o.save_certs);
    if (!opened) {
      std::cerr << "acme-bench: " << opened.error().detail << "\n";
      return kExitFailures;
    }
    saver = std::move(*opened);
  }
  bench::MemoryMilestones milestones;
  milestones.start = start_memory;
  milestones.server_ready = bench::memory::snapshot();

  bench::RunContext ctx{o,
                        (*target)->directoryUrl(),
                        **responder,
                        dns.get(),
                        o.verify_cert ? (*target)->caCertificatePem() : std::nullopt,
                        saver.get()};
  bench::RunResult run = bench::runWorkers(ctx);
  milestones.after_bench = bench::memory::snapshot();
  (*target)->stop();
  if (!run.setup_error.empty()) {
    std::cerr << "acme-bench: setup failed, nothing measured: " << run.setup_error << "\n";
    return kExitFailures;
  }

  std::optional<bench::Floor> floor;
  if (o.floor) {
    auto measured = bench::measureFloor(o);
    if (!measured) {
      std::cerr << "acme-bench: --floor: " << measured.error().detail << "\n";
    } else {
      floor = std::move(*measured);
    }
  }

  bench::Environment env{(*target)->directoryUrl(), akamu::crypto::opensslVersion(),
                         std::max(1u, std::thread::hardware_concurrency()), run.connections_opened};
  const bench::Report report = bench::summarize(o, run, milestones);
  if (o.output == "json") {
    std::cout << boost::json::serialize(bench::toJson(o, env, report, run, floor)) << "\n";
  } else {
    std::cout << bench::toText(o, env, report, floor);
  }
  std::cout.flush();
  return report.err == 0 ? kExitOk : kExitFailures;
}
