#pragma once
// The load: --clients worker threads, each with its own account and keep-alive connection,
// draining one shared queue of warmup + requests issuance ids. Issuance N requests
// bench-N.localhost (http-01), bench-N.acme-bench.test or, with --wildcard,
// *.bench-N.acme-bench.test (dns-persist-01).
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cert_saver.hpp"
#include "client/http01_responder.hpp"
#include "memory_stats.hpp"
#include "options.hpp"
#include "validation/test_dns_server.hpp"

namespace akamu::bench {

// One issuance. Times are nanoseconds since the run's origin (steady clock).
struct Issuance {
  std::uint64_t id = 0;
  bool measured = false;  // false for warmup
  bool ok = false;
  std::int64_t start_ns = 0;  // new-order sent
  std::int64_t end_ns = 0;    // certificate downloaded (and verified with --verify-cert)
  double total_ms = 0;        // new-order start .. download end
  double new_order_ms = 0;
  double authz_ms = 0;
  double challenge_ms = 0;
  double finalize_ms = 0;
  double download_ms = 0;
  double ari_ms = 0;     // --ari: the renewal-info GET
  double ocsp_ms = 0;    // --ocsp: the OCSP request
  double verify_ms = 0;  // --verify-cert only; not part of total_ms
  std::string error;
};

struct RunResult {
  std::vector<Issuance> issuances;  // all, warmup included, in id order
  std::string setup_error;          // non-empty: accounts could not be created, nothing ran
  // Memory counters when the issuance window opened (accounts created, peak reset) and closed.
  memory::Snapshot window_start;
  memory::Snapshot window_end;
  std::size_t connections_opened = 0;  // across all workers (keep-alive check)
};

struct RunContext {
  const Options& options;
  std::string directory_url;
  client::Http01Responder& responder;
  // dns-persist-01: where each worker publishes its standing records (null for http-01).
  validation::TestDnsServer* dns = nullptr;
  std::optional<std::string> ca_pem;  // trust anchor for --verify-cert (else the chain's issuer)
  // --save-certs: where every downloaded chain is recorded (null without the option).
  CertSaver* saver = nullptr;
};

RunResult runWorkers(const RunContext& context);

}  // namespace akamu::bench
