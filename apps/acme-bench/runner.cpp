#include "runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <latch>
#include <mutex>
#include <thread>

#include "client/acme_client.hpp"
#include "client/issue_flow.hpp"
#include "client/ocsp_query.hpp"
#include "core/problem.hpp"
#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509.hpp"
#include "persist_flow.hpp"
#include "ra/cert_id.hpp"
#include "validation/dns_persist01.hpp"

namespace akamu::bench {

namespace {

using SteadyClock = std::chrono::steady_clock;

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

// "badNonce: detail" from a problem; the URN prefix is noise in a report.
std::string describe(const core::Problem& p) {
  std::string type(core::problemTypeUri(p.type));
  constexpr std::string_view kPrefix = "urn:ietf:params:acme:error:";
  if (type.rfind(kPrefix, 0) == 0) type = type.substr(kPrefix.size());
  return type + ": " + p.detail;
}

std::vector<core::Identifier> sorted(std::vector<core::Identifier> ids) {
  std::sort(ids.begin(), ids.end(), [](const auto& a, const auto& b) {
    return a.type != b.type ? a.type < b.type : a.value < b.value;
  });
  return ids;
}

// The name issuance `id` requests.
std::string identifierFor(const Options& o, std::uint64_t id) {
  const std::string label = "bench-" + std::to_string(id);
  if (o.challenge != "dns-persist-01") return label + ".localhost";
  return (o.wildcard ? "*." : "") + label + "." + kPersistZone;
}

// --verify-cert: the leaf's SANs are exactly the requested names, it carries the CSR key, and it
// verifies against the CA (or, for an external server, the chain's issuer).
std::optional<std::string> verifyIssued(const client::IssueResult& issued,
                                        const std::vector<core::Identifier>& requested,
                                        const X509* anchor) {
  auto chain = crypto::certChainFromPem(issued.certificate_pem);
  if (!chain) return "certificate verification: cannot parse the chain: " + chain.error().detail;
  if (chain->empty()) return "certificate verification: empty chain";
  const X509* leaf = (*chain)[0].get();
  auto info = crypto::inspectCertificate(leaf);
  if (!info) return "certificate verification: " + info.error().detail;
  if (sorted(info->identifiers) != sorted(requested)) {
    return std::string("certificate verification: SAN does not match the order's identifiers");
  }
  if (!crypto::publicKeysEqual(info->public_key.get(), issued.certificate_key.get())) {
    return std::string("certificate verification: certificate key is not the CSR key");
  }
  const X509* issuer = anchor;
  if (issuer == nullptr && chain->size() >= 2) issuer = (*chain)[1].get();
  if (issuer == nullptr) return std::string("certificate verification: no issuer to verify with");
  if (auto s = crypto::verifyChain(leaf, issuer); !s) return s.error().detail;
  return std::nullopt;
}

struct Shared {
  const RunContext& ctx;
  SteadyClock::time_point origin;
  std::uint64_t total = 0;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<bool> abort{false};
  std::latch ready;
  std::latch go{1};
  std::mutex mutex;
  std::string setup_error;
  std::vector<Issuance>* out = nullptr;  // pre-sized; each id written by one worker
  std::atomic<std::size_t> connections{0};

  Shared(const RunContext& c, int clients) : ctx(c), ready(clients) {}
  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - origin)
        .count();
  }
};

// --ari: the certID of the leaf, computed here from the certificate as a client would, and one
// renewal-info GET; the answer must carry a window. nullopt on success, else why not.
std::optional<std::string> fetchRenewalInfo(client::AcmeClient& client,
                                            const std::string& pem_chain) {
  auto chain = crypto::certChainFromPem(pem_chain);
  if (!chain || chain->empty()) return "renewal-info: the chain does not parse";
  auto info = crypto::inspectCertificate((*chain)[0].get());
  if (!info) return "renewal-info: " + describe(info.error());
  auto answer = client.renewalInfo(ra::makeCertId(info->authority_key_id, info->serial_hex));
  if (!answer) return "renewal-info: " + describe(answer.error());
  if (!answer->json.contains("suggestedWindow")) return "renewal-info: no suggestedWindow";
  return std::nullopt;
}

// --ocsp: the leaf's status from the responder its AIA names, on the worker's connection when
// the responder is the ACME server; it must be "good". nullopt on success, else why not.
std::optional<std::string> checkOcsp(client::HttpClient& http, const std::string& pem_chain) {
  auto chain = crypto::certChainFromPem(pem_chain);
  if (!chain || chain->size() < 2) return "ocsp: the chain has no issuer";
  const std::string url = client::ocspUrlOf((*chain)[0].get());
  if (url.empty()) return "ocsp: the certificate names no OCSP responder";
  auto status = client::queryOcsp(http, (*chain)[0].get(), (*chain)[1].get(), url);
  if (!status) return describe(status.error());
  if (*status != "good") return "ocsp: the certificate is " + *status;
  return std::nullopt;
}

void worker(Shared& shared, int index) {
  const Options& o = shared.ctx.options;
  auto fail_setup = [&shared](const std::string& why) {
    std::lock_guard lock(shared.mutex);
    if (shared.setup_error.empty()) shared.setup_error = why;
  };

  // Setup (not measured): the account key, the account, the CA certificate to verify against.
  std::optional<client::AcmeClient> client;
  crypto::X509Ptr anchor;
  bool ok = true;
  if (o.verify_cert && shared.ctx.ca_pem) {
    auto ca = crypto::certFromPem(*shared.ctx.ca_pem);
    if (!ca) {
      fail_setup("cannot parse the CA certificate: " + ca.error().detail);
      ok = false;
    } else {
      anchor = std::move(*ca);
    }
  }
  if (ok) {
    auto key = crypto::generateKey(o.account_key);
    if (!key) {
      fail_setup("account key: " + key.error().detail);
      ok = false;
    } else {
      client::ClientOptions copts;
      copts.http.ca_file = o.ca_bundle;
      client.emplace(shared.ctx.directory_url, std::move(*key), copts);
      auto account = client->newAccount({}, true);
      if (!account) {
        fail_setup("newAccount: " + describe(account.error()));
        ok = false;
      } else if (account->status != 201 && account->status != 200) {
        auto problem = client::parseProblem(*account);
        fail_setup("newAccount answered HTTP " + std::to_string(account->status) +
                   (problem ? ": " + describe(*problem) : std::string()));
        ok = false;
      }
    }
  }
  shared.ready.count_down();
  shared.go.wait();
  if (!ok || shared.abort.load()) return;

  const auto warmup = static_cast<std::uint64_t>(o.warmup);
  const auto max_poll = std::chrono::milliseconds(o.poll_ms);
  validation::TestDnsServer* const dns = shared.ctx.dns;
  std::uint64_t saved = 0;  // --save-certs: this worker's downloads so far
  for (;;) {
    const std::uint64_t id = shared.next.fetch_add(1, std::memory_order_relaxed);
    if (id >= shared.total) break;
    Issuance& rec = (*shared.out)[id];
    rec.id = id;
    rec.measured = id >= warmup;
    const std::vector<core::Identifier> ids = {{"dns", identifierFor(o, id)}};
    core::Result<client::IssueResult> issued;
    if (dns != nullptr) {
      // The standing dns-persist-01 record of this name, published before the clock starts (a
      // table update in the bench's DNS server, not an ACME request).
      const std::string& name = ids[0].value;
      dns->setTxt(validation::dnsPersistRecordName(name),
                  {persistRecordValue(kPersistIssuerDomain, client->accountUrl(), name)});
      rec.start_ns = shared.now();
      issued = issueDnsPersist(*client, ids, o.csr_key, max_poll);
    } else {
      rec.start_ns = shared.now();
      client::NewOrderOptions order_options;
      if (!o.profile.empty()) order_options.profile = o.profile;
      issued = client::issueCertificate(*client, shared.ctx.responder, ids, o.csr_key, max_poll,
                                        order_options);
    }
    std::optional<std::string> ari_error;
    if (issued && o.ari) {
      const std::int64_t ari_start = shared.now();
      ari_error = fetchRenewalInfo(*client, issued->certificate_pem);
      rec.ari_ms = static_cast<double>(shared.now() - ari_start) / 1e6;
    }
    if (issued && o.ocsp && !ari_error) {
      const std::int64_t ocsp_start = shared.now();
      ari_error = checkOcsp(client->http(), issued->certificate_pem);
      rec.ocsp_ms = static_cast<double>(shared.now() - ocsp_start) / 1e6;
    }
    const std::int64_t downloaded = shared.now();
    if (issued) {
      const auto& t = issued->timings;
      rec.new_order_ms = ms(t.new_order);
      rec.authz_ms = ms(t.authz);
      rec.challenge_ms = ms(t.challenge);
      rec.finalize_ms = ms(t.finalize);
      rec.download_ms = ms(t.download);
      rec.total_ms = static_cast<double>(downloaded - rec.start_ns) / 1e6;
      rec.ok = !ari_error;
      if (ari_error) rec.error = *ari_error;
      if (o.verify_cert && rec.ok) {
        if (auto err = verifyIssued(*issued, ids, anchor.get())) {
          rec.ok = false;
          rec.error = *err;
        }
      }
    } else {
      rec.total_ms = static_cast<double>(downloaded - rec.start_ns) / 1e6;
      rec.error = describe(issued.error());
    }
    rec.end_ns = shared.now();
    if (o.verify_cert) rec.verify_ms = static_cast<double>(rec.end_ns - downloaded) / 1e6;
    // After the clock stops: the fsyncs are the record's cost, not the server's.
    if (issued && shared.ctx.saver != nullptr) {
      auto s =
          shared.ctx.saver->save(index, saved++, issued->certificate_url, issued->certificate_pem);
      if (!s) {
        rec.ok = false;
        rec.error = describe(s.error());
      }
    }
    if (!rec.ok) shared.failed.fetch_add(1, std::memory_order_relaxed);
    shared.done.fetch_add(1, std::memory_order_relaxed);
  }
  shared.connections.fetch_add(client->http().connectionsOpened());
}

}  // namespace

RunResult runWorkers(const RunContext& ctx) {
  const Options& o = ctx.options;
  RunResult result;
  Shared shared(ctx, o.clients);
  shared.total = static_cast<std::uint64_t>(o.warmup) + static_cast<std::uint64_t>(o.requests);
  result.issuances.resize(shared.total);
  shared.out = &result.issuances;

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(o.clients));
  for (int i = 0; i < o.clients; ++i) threads.emplace_back([&shared, i] { worker(shared, i); });
  shared.ready.wait();
  {
    std::lock_guard lock(shared.mutex);
    if (!shared.setup_error.empty()) {
      result.setup_error = shared.setup_error;
      shared.abort = true;
    }
  }
  shared.origin = SteadyClock::now();
  memory::resetPeak();
  result.window_start = memory::snapshot();
  shared.go.count_down();

  // Progress on a terminal only: a line rewritten in place.
  const bool tty = ::isatty(STDERR_FILENO) == 1 && !shared.abort.load();
  if (tty) {
    while (shared.done.load() < shared.total) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const auto done = shared.done.load();
      const double secs = static_cast<double>(shared.now()) / 1e9;
      std::fprintf(stderr, "\r  %llu/%llu issued, %llu failed, %.1f s, %.0f iss/s   ",
                   static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(shared.total),
                   static_cast<unsigned long long>(shared.failed.load()), secs,
                   secs > 0 ? static_cast<double>(done) / secs : 0.0);
      std::fflush(stderr);
    }
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  for (auto& t : threads) t.join();
  result.window_end = memory::snapshot();
  result.connections_opened = shared.connections.load();
  if (!result.setup_error.empty()) result.issuances.clear();
  return result;
}

}  // namespace akamu::bench
