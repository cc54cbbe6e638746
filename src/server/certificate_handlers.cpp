// Certificate download and revocation (RFC 8555 §7.4.2, §7.6): payload parsing and rendering;
// the decisions are the RA's.
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

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

namespace {

// RFC 9110 §5.6.7 IMF-fixdate, e.g. "Mon, 01 Feb 2016 00:00:00 GMT" (no locale involved).
std::string httpDate(core::TimePoint t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = static_cast<std::time_t>(core::toUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return out;
}

}  // namespace

HttpResponse AcmeService::starCertificateResponse(const acme::Certificate& cert) const {
  HttpResponse r = certificateResponse(cert);
  // RFC 8739 §3.3: equal to the leaf's fields, in double quotes.
  r.addHeader("Cert-Not-Before", "\"" + httpDate(cert.not_before) + "\"");
  r.addHeader("Cert-Not-After", "\"" + httpDate(cert.not_after) + "\"");
  // §5.3: caches must consider it stale by the time the next certificate is due.
  r.addHeader("Cache-Control", "no-cache");
  return r;
}

AcmeService::Task<HttpResponse> AcmeService::getStarCertificate(
    const HttpRequest&, std::array<std::string_view, 2> ids) {
  auto cert = co_await deps_.ra.starCertificate(std::nullopt, std::string(ids[0]));
  if (!cert) co_return core::fail(cert.error());
  co_return starCertificateResponse(*cert);
}

AcmeService::Task<HttpResponse> AcmeService::starCertificate(AcmeRequest& request) {
  auto cert =
      co_await deps_.ra.starCertificate(request.requester.account->id, std::string(request.ids[0]));
  if (!cert) co_return core::fail(cert.error());
  co_return starCertificateResponse(*cert);
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
