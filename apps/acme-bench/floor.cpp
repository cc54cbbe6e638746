#include "floor.hpp"

#include <time.h>

#include <chrono>
#include <functional>
#include <thread>

#include "crypto/csr.hpp"
#include "crypto/key_type.hpp"
#include "crypto/x509.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace akamu::bench {

namespace {

constexpr int kMaxIterations = 200;
constexpr double kMaxSeconds = 0.3;

double threadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `op` until kMaxIterations or kMaxSeconds of CPU time (at least once); the first error
// stops the measurement.
core::Result<FloorItem> timeOp(std::string name, int per_issuance,
                               const std::function<core::Status()>& op) {
  if (auto s = op(); !s) {  // warm-up call (algorithm fetches, lazy tables), not timed
    return core::fail(core::serverInternal("floor " + name + ": " + s.error().detail));
  }
  const double start = threadCpuSeconds();
  double elapsed = 0;
  int n = 0;
  while (n < kMaxIterations && (n == 0 || elapsed < kMaxSeconds)) {
    if (auto s = op(); !s) {
      return core::fail(core::serverInternal("floor " + name + ": " + s.error().detail));
    }
    ++n;
    elapsed = threadCpuSeconds() - start;
  }
  return FloorItem{std::move(name), per_issuance, elapsed * 1e6 / n, n};
}

}  // namespace

core::Result<Floor> measureFloor(const Options& o) {
  Floor floor;
  const std::vector<core::Identifier> ids = {{"dns", "bench-0.localhost"}};
  const std::optional<std::string> cn = "bench-0.localhost";

  auto account = crypto::generateKey(o.account_key);
  if (!account) return core::fail(account.error());
  auto csr_key = crypto::generateKey(o.csr_key);
  if (!csr_key) return core::fail(csr_key.error());
  auto ca_key = crypto::generateKey(o.ca_key);
  if (!ca_key) return core::fail(ca_key.error());
  const auto now = std::chrono::system_clock::now();
  crypto::CaRequest ca_req;
  ca_req.key = ca_key->get();
  ca_req.common_name = "acme-bench floor CA";
  ca_req.not_before = now - std::chrono::hours(1);
  ca_req.not_after = now + std::chrono::hours(24 * 365);
  auto ca_cert = crypto::selfSignedCaCertificate(ca_req);
  if (!ca_cert) return core::fail(ca_cert.error());

  // A representative signed request: POST-as-GET with kid, the shape of most of the six.
  jose::SignOptions sign_opts;
  sign_opts.url = "http://127.0.0.1:4000/acme/order/12345";
  sign_opts.nonce = "2b3f8c0d9a7e4f1b6c5d4e3f2a1b0c9d";
  sign_opts.kid = "http://127.0.0.1:4000/acme/account/1";
  const std::string payload = R"({"identifiers":[{"type":"dns","value":"bench-0.localhost"}]})";
  auto jws_text = jose::signJws(account->get(), sign_opts, payload);
  if (!jws_text) return core::fail(jws_text.error());
  auto jws = jose::parseJws(*jws_text);
  if (!jws) return core::fail(jws.error());
  auto csr = crypto::buildCsr(csr_key->get(), ids, cn);
  if (!csr) return core::fail(csr.error());
  auto parsed_csr = crypto::parseCsr(*csr);
  if (!parsed_csr) return core::fail(parsed_csr.error());

  auto leaf = [&]() -> core::Result<crypto::X509Ptr> {
    crypto::LeafRequest req;
    req.subject_public_key = parsed_csr->public_key.get();
    req.subject_spki = parsed_csr->spki();  // as the server issues: the CSR's key, not re-encoded
    req.identifiers = ids;
    req.common_name = cn;
    req.not_before = now - std::chrono::minutes(1);
    req.not_after = now + std::chrono::hours(24 * 90);
    req.serial = crypto::randomSerial();
    req.issuer_cert = ca_cert->get();
    req.issuer_key = ca_key->get();
    return crypto::issueLeafCertificate(req);
  };
  auto sample_leaf = leaf();
  if (!sample_leaf) return core::fail(sample_leaf.error());

  std::vector<std::pair<std::string, std::pair<int, std::function<core::Status()>>>> ops;
  ops.push_back({"client.jws_sign " + o.account_key_type,
                 {kSignedRequestsPerIssuance, [&]() -> core::Status {
                    auto r = jose::signJws(account->get(), sign_opts, payload);
                    if (!r) return core::fail(r.error());
                    return {};
                  }}});
  ops.push_back({"client.csr_keygen " + o.key_type, {1, [&]() -> core::Status {
                                                       auto r = crypto::generateKey(o.csr_key);
                                                       if (!r) return core::fail(r.error());
                                                       return {};
                                                     }}});
  ops.push_back({"client.csr_sign " + o.key_type, {1, [&]() -> core::Status {
                                                     auto r =
                                                         crypto::buildCsr(csr_key->get(), ids, cn);
                                                     if (!r) return core::fail(r.error());
                                                     return {};
                                                   }}});
  ops.push_back({"server.jws_verify " + o.account_key_type,
                 {kSignedRequestsPerIssuance, [&]() -> core::Status {
                    return jose::verifyJwsSignature(*jws, account->get());
                  }}});
  ops.push_back({"server.csr_parse_verify " + o.key_type, {1, [&]() -> core::Status {
                                                             auto r = crypto::parseCsr(*csr);
                                                             if (!r) return core::fail(r.error());
                                                             return {};
                                                           }}});
  ops.push_back({"server.cert_sign " + o.ca_key_type, {1, [&]() -> core::Status {
                                                         auto r = leaf();
                                                         if (!r) return core::fail(r.error());
                                                         return {};
                                                       }}});
  if (o.verify_cert) {
    ops.push_back({"client.cert_verify " + o.ca_key_type,
                   {1, [&]() -> core::Status {
                      auto info = crypto::inspectCertificate(sample_leaf->get());
                      if (!info) return core::fail(info.error());
                      return crypto::verifyChain(sample_leaf->get(), ca_cert->get());
                    }}});
  }

  for (auto& [name, spec] : ops) {
    auto item = timeOp(name, spec.first, spec.second);
    if (!item) return core::fail(item.error());
    floor.cpu_us_per_issuance += item->us_each * item->per_issuance;
    floor.items.push_back(std::move(*item));
  }
  floor.cores = std::max(1u, std::thread::hardware_concurrency());
  floor.bound_per_sec =
      floor.cpu_us_per_issuance > 0 ? floor.cores * 1e6 / floor.cpu_us_per_issuance : 0;
  return floor;
}

}  // namespace akamu::bench
