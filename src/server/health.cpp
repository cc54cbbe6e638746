#include "server/health.hpp"

#include <openssl/x509.h>

#include <array>
#include <boost/json.hpp>
#include <cstdint>

#include "crypto/sign.hpp"

namespace akamu::server {
namespace {

HttpResponse jsonResponse(int status, const boost::json::object& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.addHeader("Cache-Control", "no-store");
  r.body = boost::json::serialize(body);
  return r;
}

crypto::SignatureScheme schemeFor(const crypto::KeyType& type) {
  switch (type.algorithm) {
    case crypto::KeyAlgorithm::kEc:
      return crypto::SignatureScheme::kEcdsaSha256;
    case crypto::KeyAlgorithm::kRsa:
      return crypto::SignatureScheme::kRsaPkcs1Sha256;
    case crypto::KeyAlgorithm::kEd25519:
      return crypto::SignatureScheme::kEd25519;
    case crypto::KeyAlgorithm::kMlDsa:
      return crypto::SignatureScheme::kMlDsa;
  }
  return crypto::SignatureScheme::kEcdsaSha256;
}

}  // namespace

HttpResponse Health::live() { return jsonResponse(200, {{"status", "live"}}); }

std::optional<std::string> Health::caKeyProblem() {
  std::lock_guard lock(ca_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (ca_checked_once_ && now - ca_checked_ < kCaKeyCacheFor) return ca_problem_;
  // A fixed 32-byte message: what matters is that the key signs and the CA certificate's
  // public key verifies it (the key in memory is the certificate's).
  static constexpr std::array<std::uint8_t, 32> kProbe{'a', 'k', 'a', 'm', 'u', '-',
                                                       'h', 'e', 'a', 'l', 't', 'h'};
  const auto scheme = schemeFor(deps_.ca.keyType());
  auto signature = crypto::signMessage(deps_.ca.key(), scheme, kProbe);
  if (!signature) {
    ca_problem_ = "the CA key cannot sign";
  } else if (!crypto::verifyMessage(X509_get0_pubkey(deps_.ca.certificate()), scheme, kProbe,
                                    *signature)) {
    ca_problem_ = "the CA certificate does not verify the CA key's signature";
  } else {
    ca_problem_.reset();
  }
  ca_checked_ = now;
  ca_checked_once_ = true;
  return ca_problem_;
}

boost::asio::awaitable<HttpResponse> Health::ready() {
  boost::json::object checks;
  bool ready = true;
  auto record = [&](const char* name, const std::optional<std::string>& problem) {
    if (problem) ready = false;
    checks[name] = problem ? "failed: " + *problem : std::string("ok");
  };
  // A lookup of an id no resource has: one round trip to the database, nothing found.
  std::optional<std::string> db_problem;
  try {
    auto probe = co_await deps_.store.getAccount("health-probe");
    if (!probe) db_problem = "the database does not answer";
  } catch (const std::exception&) {
    db_problem = "the database does not answer";
  }
  record("database", db_problem);
  record("ca_key", caKeyProblem());
  auto audit = deps_.audit.check();
  record("audit_log", audit ? std::nullopt : std::optional<std::string>(audit.error().detail));
  co_return jsonResponse(ready ? 200 : 503,
                         {{"status", ready ? "ready" : "unready"}, {"checks", std::move(checks)}});
}

}  // namespace akamu::server
