// Certificate download and revocation (RFC 8555 §7.4.2, §7.6): payload parsing and rendering;
// the decisions are the RA's.
#include <boost/json.hpp>

#include "core/base64url.hpp"
#include "server/acme_service.hpp"

namespace akamu::server {

HttpResponse AcmeService::certificateResponse(const acme::Certificate& cert) const {
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/pem-certificate-chain";
  r.body = cert.pem_chain;
  return r;
}

AcmeService::Task<HttpResponse> AcmeService::getCertificate(const HttpRequest&,
                                                            std::array<std::string_view, 2> ids) {
  auto cert = co_await deps_.ra.certificate(std::nullopt, std::string(ids[0]));
  if (!cert) co_return core::fail(cert.error());
  co_return certificateResponse(*cert);
}

AcmeService::Task<HttpResponse> AcmeService::renewalInfo(const HttpRequest&,
                                                         std::array<std::string_view, 2> ids) {
  auto info = co_await deps_.ra.renewalInfo(std::string(ids[0]));
  if (!info) co_return core::fail(info.error());
  boost::json::object window;
  window["start"] = core::formatRfc3339(info->window.start);
  window["end"] = core::formatRfc3339(info->window.end);
  boost::json::object body;
  body["suggestedWindow"] = std::move(window);
  if (info->explanation_url) body["explanationURL"] = *info->explanation_url;
  HttpResponse r = json(200, body);
  r.addHeader("Retry-After", std::to_string(info->retry_after.count()));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::certificate(AcmeRequest& request) {
  auto cert =
      co_await deps_.ra.certificate(request.requester.account->id, std::string(request.ids[0]));
  if (!cert) co_return core::fail(cert.error());
  co_return certificateResponse(*cert);
}

AcmeService::Task<HttpResponse> AcmeService::revokeCert(AcmeRequest& request) {
  const auto& payload = *request.payload;
  auto* cert_member = payload.if_contains("certificate");
  if (cert_member == nullptr || !cert_member->is_string()) {
    co_return core::fail(core::malformed("\"certificate\" must be a base64url DER certificate"));
  }
  ra::RevocationRequest in;
  if (auto* r = payload.if_contains("reason")) {
    if (!r->is_int64() && !r->is_uint64()) {
      co_return core::fail(core::makeProblem(core::ProblemType::kBadRevocationReason,
                                             "\"reason\" must be an integer"));
    }
    in.reason = r->is_int64() ? r->as_int64()
                              : static_cast<std::int64_t>(std::min<std::uint64_t>(
                                    r->as_uint64(), std::numeric_limits<std::int64_t>::max()));
  }
  auto der = core::base64urlDecode(cert_member->as_string());
  if (!der) co_return core::fail(core::malformed("\"certificate\" is not base64url"));
  in.certificate_der = std::move(*der);
  auto done = co_await deps_.ra.revoke(request.requester, std::move(in));
  if (!done) co_return core::fail(done.error());
  HttpResponse r;
  r.status = 200;
  co_return r;
}

}  // namespace akamu::server
