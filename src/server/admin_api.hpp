#pragma once
// The operator's admin API (`akamuctl`), served on the [admin] Unix socket. Not the ACME
// pipeline: no JWS, no nonces; plain JSON over HTTP/1.1 with its own small route table under
// /admin/v1. Who may connect is decided by the socket file's permissions; who connected is the
// peer's uid (SO_PEERCRED, carried in HttpRequest::peer_uid), named as "operator:<user>" in the
// audit lines of the actions that change state (revoke, deactivate), which go through the
// registration authority like every other transition. Reads are not audited.
//
// Errors are {"error": "<kind>", "detail": "..."} with 400 (bad parameter), 403 (no operator
// identity), 404 (unknown id or path), 405, 409 (state conflict), 500 (logged with a request id,
// which is all the answer says).
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "ra/registration_authority.hpp"
#include "server/http_types.hpp"
#include "store/store.hpp"

namespace akamu::server {

struct AdminDeps {
  store::Store& store;
  ra::RegistrationAuthority& ra;
  const core::Clock& clock;
  std::string audit_log_file;  // read by GET /audit
};

// Bounds of the list endpoints.
inline constexpr std::size_t kAdminDefaultLimit = 50;
inline constexpr std::size_t kAdminMaxLimit = 1000;

// GET /audit's filters.
struct AuditQuery {
  std::size_t tail = kAdminDefaultLimit;  // the last N matching lines, 1..kAdminMaxLimit
  std::optional<std::string> event;       // event_type equal to this (or, ending in ".", prefix)
  std::optional<core::TimePoint> since;   // occurred_at at or after
  std::optional<std::string> grep;        // a substring of the line
};

// Parameter parsing, exposed for the unit tests. Unknown parameters are refused (a typo must not
// silently widen a search). A `malformed` problem names the parameter.
core::Result<store::CertificateFilter> parseCertificateQuery(std::string_view query);
core::Result<AuditQuery> parseAuditQuery(std::string_view query);
// "limit"/"offset" only.
core::Result<std::pair<std::size_t, std::size_t>> parsePageQuery(std::string_view query);
// Hex digits (either case, an optional "0x", optional ':' separators), leading zeros ignored:
// the stored form (lower case, no leading zeros); nullopt if not a serial.
std::optional<std::string> normalizeSerial(std::string_view text);
// {"reason": "keyCompromise"} or {"reason": 1}; an empty body or no "reason" is 0.
core::Result<std::int64_t> parseRevocationReason(std::string_view body);
// The RFC 5280 name of a reason code ("keyCompromise"), empty for unassigned ones.
std::string_view revocationReasonName(int reason);

// The last `query.tail` lines of the audit log (JSON lines) that match, oldest first, reading
// the file backwards and at most kMaxAuditScanBytes of it; `truncated` when the scan stopped at
// that bound before the start of the file.
struct AuditTail {
  std::vector<boost::json::object> events;
  bool truncated = false;
};
inline constexpr std::size_t kMaxAuditScanBytes = 64u << 20;
core::Result<AuditTail> tailAuditLog(const std::string& path, const AuditQuery& query);

// "alice" for the uid's passwd entry, "uid:1234" when it has none.
std::string operatorNameForUid(std::uint32_t uid);

class AdminApi {
 public:
  explicit AdminApi(AdminDeps deps);
  // Never throws; every failure is a JSON error response. Writes one log line per request.
  boost::asio::awaitable<HttpResponse> handle(HttpRequest request);

 private:
  using Reply = core::Result<HttpResponse>;
  boost::asio::awaitable<Reply> listCertificates(const HttpRequest& request);
  boost::asio::awaitable<Reply> showCertificate(std::string id);
  boost::asio::awaitable<Reply> certificatePem(std::string id);
  boost::asio::awaitable<Reply> revokeCertificate(std::string id, const HttpRequest& request,
                                                  std::string principal);
  boost::asio::awaitable<Reply> showAccount(std::string id);
  boost::asio::awaitable<Reply> accountOrders(std::string id, const HttpRequest& request);
  boost::asio::awaitable<Reply> deactivateAccount(std::string id, std::string principal);
  boost::asio::awaitable<Reply> showOrder(std::string id);
  boost::asio::awaitable<Reply> audit(const HttpRequest& request);
  boost::asio::awaitable<Reply> stats();

  // By id, else by serial; notFound when neither names one.
  boost::asio::awaitable<core::Result<acme::Certificate>> findCertificate(const std::string& ref);
  // The certificate as the API shows it, with its order's identifiers.
  boost::json::object renderCertificate(const acme::Certificate& cert,
                                        const std::vector<core::Identifier>& names) const;

  AdminDeps deps_;
};

}  // namespace akamu::server
