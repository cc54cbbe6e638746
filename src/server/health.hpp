#pragma once
// Liveness and readiness probes, answered on the ACME listener (/health/live, /health/ready)
// and on the metrics listener. Live: the process answers. Ready: the database answers a cheap
// lookup, the CA key signs (and its certificate verifies the signature; cached for a few
// seconds, so a probe storm does not become a signing load), and the audit log can be written
// (AuditLog::check). A failing check is named with a short reason only: never a database
// error or a path, since the probe is unauthenticated.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "ca/certificate_authority.hpp"
#include "ra/audit_log.hpp"
#include "server/http_types.hpp"
#include "store/store.hpp"

namespace akamu::server {

struct HealthDeps {
  store::Store& store;
  const ca::CertificateAuthority& ca;
  ra::AuditLog& audit;
};

class Health {
 public:
  explicit Health(HealthDeps deps) : deps_(deps) {}
  // 200 {"status":"live"}.
  static HttpResponse live();
  // 200 {"status":"ready","checks":{"database":"ok","ca_key":"ok","audit_log":"ok"}}, or 503
  // {"status":"unready","checks":{...,"audit_log":"failed: <short reason>"}}.
  boost::asio::awaitable<HttpResponse> ready();

 private:
  // The CA key check, at most once per kCaKeyCacheFor; the short reason when it fails.
  std::optional<std::string> caKeyProblem();

  static constexpr std::chrono::seconds kCaKeyCacheFor{5};
  HealthDeps deps_;
  std::mutex ca_mutex_;
  std::chrono::steady_clock::time_point ca_checked_{};
  bool ca_checked_once_ = false;
  std::optional<std::string> ca_problem_;
};

}  // namespace akamu::server
