// Certificate download and revocation (RFC 8555 §7.4.2, §7.6).
#include <boost/json.hpp>

#include "core/base64url.hpp"
#include "core/strict_json.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509.hpp"
#include "server/acme_service.hpp"

namespace akamu::server {
namespace {

// RFC 5280 reason codes a subscriber may give (cACompromise and aACompromise are the CA's).
bool allowedReason(std::int64_t r) {
  return r == 0 || r == 1 || r == 3 || r == 4 || r == 5 || r == 9;
}

}  // namespace

AcmeService::Task<HttpResponse> AcmeService::certificate(const HttpRequest& request,
                                                         const std::string& id) {
  std::optional<std::string> account_id;
  if (request.method == "POST") {
    auto auth = co_await authenticate(request, KeyMode::kKid);
    if (!auth) co_return core::fail(auth.error());
    if (!auth->jws.isPostAsGet()) {
      co_return core::fail(core::malformed("download a certificate with POST-as-GET"));
    }
    account_id = auth->account->id;
  }
  // A download only reads: the read-only pool serves it.
  auto cert = co_await deps_.store.readOnly().getCertificate(id);
  if (!cert) co_return core::fail(cert.error());
  if (!*cert) co_return core::fail(core::notFound("no such certificate"));
  if (account_id && (*cert)->account_id != *account_id) {
    co_return core::fail(core::unauthorized("the certificate belongs to another account"));
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/pem-certificate-chain";
  r.body = (*cert)->pem_chain;
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::revokeCert(const HttpRequest& request) {
  auto auth = co_await authenticate(request, KeyMode::kEither);
  if (!auth) co_return core::fail(auth.error());
  if (auth->jws.isPostAsGet()) co_return core::fail(core::malformed("revokeCert needs a payload"));
  auto payload = core::parseStrictJsonObject(auth->jws.payload);
  if (!payload) co_return core::fail(payload.error());
  auto* cert_member = payload->if_contains("certificate");
  if (cert_member == nullptr || !cert_member->is_string()) {
    co_return core::fail(core::malformed("\"certificate\" must be a base64url DER certificate"));
  }
  int reason = 0;
  if (auto* r = payload->if_contains("reason")) {
    if (!r->is_int64() && !r->is_uint64()) {
      co_return core::fail(core::makeProblem(core::ProblemType::kBadRevocationReason,
                                             "\"reason\" must be an integer"));
    }
    std::int64_t v = r->is_int64() ? r->as_int64() : static_cast<std::int64_t>(r->as_uint64());
    if (!allowedReason(v)) {
      co_return core::fail(core::makeProblem(
          core::ProblemType::kBadRevocationReason,
          "reason " + std::to_string(v) + " is not allowed; use 0, 1, 3, 4, 5 or 9"));
    }
    reason = static_cast<int>(v);
  }
  auto der = core::base64urlDecode(cert_member->as_string());
  if (!der) co_return core::fail(core::malformed("\"certificate\" is not base64url"));
  auto x509 = crypto::certFromDer(*der);
  if (!x509) co_return core::fail(core::malformed("\"certificate\" is not a DER certificate"));
  const std::string serial = crypto::serialHex(x509->get());
  auto stored = co_await deps_.store.findCertificateBySerial(serial);
  if (!stored) co_return core::fail(stored.error());
  // Compare the whole certificate, not only the serial: a certificate we did not issue is
  // unknown here even if its serial collides with one of ours.
  bool ours = false;
  if (*stored) {
    auto chain = crypto::certChainFromPem((*stored)->pem_chain);
    ours = chain && !chain->empty() && crypto::certToDer((*chain)[0].get()) == *der;
  }
  if (!ours) co_return core::fail(core::notFound("this server did not issue that certificate"));
  const acme::Certificate& c = **stored;
  if (auth->account) {
    // RFC 8555 §7.6: the issuing account, or any account that holds valid authorizations
    // for every identifier in the certificate.
    if (c.account_id != auth->account->id) {
      auto info = crypto::inspectCertificate(x509->get());
      if (!info) co_return core::fail(info.error());
      const auto now = deps_.clock.now();
      auto authorized =
          co_await deps_.store.hasValidAuthorizations(auth->account->id, info->identifiers, now);
      if (!authorized) co_return core::fail(authorized.error());
      if (!*authorized) {
        co_return core::fail(core::unauthorized(
            "the certificate was issued to another account, and this account does not hold "
            "valid authorizations for all of its identifiers"));
      }
    }
  } else {
    auto info = crypto::inspectCertificate(x509->get());
    if (!info || EVP_PKEY_eq(info->public_key.get(), auth->key.get()) != 1) {
      co_return core::fail(core::unauthorized("the JWS key is not the certificate's key"));
    }
  }
  if (c.revoked)
    co_return core::fail(core::makeProblem(core::ProblemType::kAlreadyRevoked,
                                           "the certificate is already revoked"));
  if (auto s = audit("cert.revoke", true, urls_.certificate(c.id), "acme:" + auth->thumbprint,
                     "serial " + c.serial_hex + " reason " + std::to_string(reason));
      !s) {
    co_return core::fail(s.error());
  }
  const auto revoked_at = deps_.clock.now();
  auto done = co_await deps_.store.revokeCertificate(c.id, reason, revoked_at);
  if (!done) co_return core::fail(done.error());
  if (!*done)
    co_return core::fail(core::makeProblem(core::ProblemType::kAlreadyRevoked,
                                           "the certificate is already revoked"));
  HttpResponse r;
  r.status = 200;
  co_return r;
}

}  // namespace akamu::server
