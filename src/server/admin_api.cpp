#include "server/admin_api.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <memory>

#include "server/request_ids.hpp"

namespace akamu::server {
namespace json = boost::json;
using core::fail;
using core::Problem;
using core::ProblemType;

namespace {

constexpr std::string_view kPrefix = "/admin/v1/";

struct ReasonName {
  int code;
  std::string_view name;
};
// RFC 5280 §5.3.1 (7 is unassigned).
constexpr ReasonName kReasons[] = {{0, "unspecified"},        {1, "keyCompromise"},
                                   {2, "cACompromise"},       {3, "affiliationChanged"},
                                   {4, "superseded"},         {5, "cessationOfOperation"},
                                   {6, "certificateHold"},    {8, "removeFromCRL"},
                                   {9, "privilegeWithdrawn"}, {10, "aACompromise"}};

Problem badParameter(std::string_view name, std::string why) {
  return core::malformed("parameter \"" + std::string(name) + "\": " + why);
}

// Each name=value of a query string, percent-decoded; a name given twice is refused.
core::Result<std::vector<std::pair<std::string, std::string>>> queryParams(
    std::string_view query, std::initializer_list<std::string_view> known) {
  std::vector<std::pair<std::string, std::string>> out;
  if (query.empty()) return out;
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return fail(core::malformed("the query string is not valid"));
  for (const auto& param : *parsed) {
    const auto decoded_key = param.key.decode();
    std::string key(decoded_key.begin(), decoded_key.end());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return fail(core::malformed("unknown parameter \"" + key + "\""));
    }
    for (const auto& [seen, value] : out) {
      if (seen == key) return fail(badParameter(key, "given twice"));
    }
    std::string value;
    if (param.has_value) {
      const auto decoded = param.value.decode();
      value.assign(decoded.begin(), decoded.end());
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

core::Result<std::size_t> parseCount(std::string_view name, const std::string& value,
                                     std::size_t min, std::size_t max) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n < min ||
      n > max) {
    return fail(badParameter(name, "\"" + value + "\" is not a number from " + std::to_string(min) +
                                       " to " + std::to_string(max)));
  }
  return n;
}

core::Result<core::TimePoint> parseTime(std::string_view name, const std::string& value) {
  core::TimePoint t;
  if (!core::parseRfc3339(value, t)) {
    return fail(badParameter(name, "\"" + value + "\" is not an RFC 3339 time"));
  }
  return t;
}

core::Result<bool> parseBool(std::string_view name, const std::string& value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return fail(badParameter(name, "\"" + value + "\" is not true or false"));
}

// Names as identifiers hold them (DNS names, IP addresses), optionally "*." in front: anything
// else cannot match and is most likely a mistake worth saying so.
bool plausibleName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == ':';
  });
}

const char* certificateStatus(const acme::Certificate& c, core::TimePoint now) {
  if (c.revoked) return "revoked";
  return c.not_after < now ? "expired" : "valid";
}

json::array namesJson(const std::vector<core::Identifier>& ids) {
  json::array names;
  for (const auto& id : ids) names.emplace_back(id.value);
  return names;
}

HttpResponse jsonResponse(int status, const json::value& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = json::serialize(body);
  r.body.push_back('\n');
  return r;
}

const char* errorKind(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    default:
      return "internal";
  }
}

int statusFor(const Problem& p) {
  switch (p.type) {
    case ProblemType::kMalformed:
    case ProblemType::kBadRevocationReason:
      return 400;
    case ProblemType::kUnauthorized:
      return 403;
    case ProblemType::kNotFound:
      return 404;
    case ProblemType::kMethodNotAllowed:
      return 405;
    case ProblemType::kAlreadyRevoked:
    case ProblemType::kConflict:
      return 409;
    default:
      return 500;
  }
}

json::object orderJson(const acme::Order& o) {
  json::object out;
  out["id"] = o.id;
  out["account"] = o.account_id;
  out["status"] = acme::toString(o.status);
  out["names"] = namesJson(o.identifiers);
  out["created_at"] = core::formatRfc3339(o.created_at);
  out["expires"] = core::formatRfc3339(o.expires);
  out["profile"] = o.profile;
  out["certificate"] = o.certificate_id ? json::value(*o.certificate_id) : json::value(nullptr);
  json::array authzs;
  for (const auto& a : o.authz_ids) authzs.emplace_back(a);
  out["authorizations"] = std::move(authzs);
  if (o.not_before) out["not_before"] = core::formatRfc3339(*o.not_before);
  if (o.not_after) out["not_after"] = core::formatRfc3339(*o.not_after);
  if (o.error) out["error"] = o.error->detail;
  if (o.replaces) out["replaces"] = *o.replaces;
  if (o.auto_renewal) out["star"] = true;
  return out;
}

json::object accountJson(const acme::Account& a) {
  json::object out;
  out["id"] = a.id;
  out["status"] = acme::toString(a.status);
  json::array contacts;
  for (const auto& c : a.contacts) contacts.emplace_back(c);
  out["contacts"] = std::move(contacts);
  out["created_at"] = core::formatRfc3339(a.created_at);
  out["thumbprint"] = a.thumbprint;
  out["terms_of_service_agreed"] = a.tos_agreed;
  out["eab_key_id"] = a.eab_key_id ? json::value(*a.eab_key_id) : json::value(nullptr);
  return out;
}

// Does this audit line (its text and parsed object) pass the filters?
bool auditMatches(std::string_view line, const json::object& event, const AuditQuery& q) {
  if (q.grep && line.find(*q.grep) == std::string_view::npos) return false;
  if (q.event) {
    const auto* type = event.if_contains("event_type");
    if (type == nullptr || !type->is_string()) return false;
    std::string_view t = type->as_string();
    const bool prefix = q.event->ends_with('.');
    if (prefix ? !t.starts_with(*q.event) : t != *q.event) return false;
  }
  if (q.since) {
    const auto* at = event.if_contains("occurred_at");
    core::TimePoint when;
    if (at == nullptr || !at->is_string() || !core::parseRfc3339(at->as_string(), when) ||
        when < *q.since) {
      return false;
    }
  }
  return true;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

// ---- parameters ----------------------------------------------------------------------------

std::optional<std::string> normalizeSerial(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    if (out.empty() && c == '0') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.empty()) {
    // All zeros is the serial 0; no digit at all is nothing.
    if (text.find('0') == std::string_view::npos) return std::nullopt;
    return std::string("0");
  }
  if (out.size() > 64) return std::nullopt;  // RFC 5280: at most 20 octets; be generous
  return out;
}

core::Result<store::CertificateFilter> parseCertificateQuery(std::string_view query) {
  auto params = queryParams(query, {"name", "serial", "account", "expires_before", "expires_after",
                                    "revoked", "limit", "offset"});
  if (!params) return fail(params.error());
  store::CertificateFilter f;
  f.limit = kAdminDefaultLimit;
  for (const auto& [key, value] : *params) {
    if (key == "name") {
      if (!plausibleName(value)) {
        return fail(badParameter(key, "\"" + value + "\" is not a name or *.suffix"));
      }
      f.name = value;
    } else if (key == "serial") {
      auto serial = normalizeSerial(value);
      if (!serial) return fail(badParameter(key, "\"" + value + "\" is not a hex serial"));
      f.serial_hex = std::move(*serial);
    } else if (key == "account") {
      if (value.empty()) return fail(badParameter(key, "empty"));
      f.account_id = value;
    } else if (key == "expires_before" || key == "expires_after") {
      auto t = parseTime(key, value);
      if (!t) return fail(t.error());
      (key == "expires_before" ? f.expires_before : f.expires_after) = *t;
    } else if (key == "revoked") {
      auto b = parseBool(key, value);
      if (!b) return fail(b.error());
      f.revoked = *b;
    } else if (key == "limit") {
      auto n = parseCount(key, value, 1, kAdminMaxLimit);
      if (!n) return fail(n.error());
      f.limit = *n;
    } else {
      auto n = parseCount(key, value, 0, 1'000'000'000);
      if (!n) return fail(n.error());
      f.offset = *n;
    }
  }
  return f;
}

core::Result<std::pair<std::size_t, std::size_t>> parsePageQuery(std::string_view query) {
  auto params = queryParams(query, {"limit", "offset"});
  if (!params) return fail(params.error());
  std::size_t limit = kAdminDefaultLimit, offset = 0;
  for (const auto& [key, value] : *params) {
    auto n = key == "limit" ? parseCount(key, value, 1, kAdminMaxLimit)
                            : parseCount(key, value, 0, 1'000'000'000);
    if (!n) return fail(n.error());
    (key == "limit" ? limit : offset) = *n;
  }
  return std::make_pair(limit, offset);
}

core::Result<AuditQuery> parseAuditQuery(std::string_view query) {
  auto params = queryParams(query, {"tail", "event", "since", "grep"});
  if (!params) return fail(params.error());
  AuditQuery q;
  for (const auto& [key, value] : *params) {
    if (key == "tail") {
      auto n = parseCount(key, value, 1, kAdminMaxLimit);
      if (!n) return fail(n.error());
      q.tail = *n;
    } else if (key == "since") {
      auto t = parseTime(key, value);
      if (!t) return fail(t.error());
      q.since = *t;
    } else if (value.empty()) {
      return fail(badParameter(key, "empty"));
    } else {
      (key == "event" ? q.event : q.grep) = value;
    }
  }
  return q;
}

std::string_view revocationReasonName(int reason) {
  for (const auto& r : kReasons) {
    if (r.code == reason) return r.name;
  }
  return {};
}

core::Result<std::int64_t> parseRevocationReason(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return 0;
  json::value doc;
  try {
    doc = json::parse(body);
  } catch (const std::exception&) {
    return fail(core::malformed("the body is not JSON"));
  }
  if (!doc.is_object()) return fail(core::malformed("the body must be a JSON object"));
  for (const auto& member : doc.as_object()) {
    if (member.key() != "reason") {
      return fail(core::malformed("unknown member \"" + std::string(member.key()) + "\""));
    }
  }
  const json::value* reason = doc.as_object().if_contains("reason");
  if (reason == nullptr) return 0;
  if (reason->is_int64()) return reason->as_int64();
  if (reason->is_uint64()) {
    return fail(makeProblem(ProblemType::kBadRevocationReason, "reason out of range"));
  }
  if (reason->is_string()) {
    std::string_view name = reason->as_string();
    for (const auto& r : kReasons) {
      if (r.name == name) return r.code;
    }
    return fail(makeProblem(ProblemType::kBadRevocationReason,
                            "unknown reason \"" + std::string(name) +
                                "\" (RFC 5280 names: keyCompromise, superseded, ...)"));
  }
  return fail(core::malformed("\"reason\" must be a reason name or code"));
}

// ---- audit log -----------------------------------------------------------------------------

core::Result<AuditTail> tailAuditLog(const std::string& path, const AuditQuery& query) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return fail(core::serverInternal("cannot open the audit log " + path));
  if (std::fseek(file.get(), 0, SEEK_END) != 0) {
    return fail(core::serverInternal("cannot seek in the audit log " + path));
  }
  const long size = std::ftell(file.get());
  if (size < 0) return fail(core::serverInternal("cannot seek in the audit log " + path));
  AuditTail out;
  constexpr std::size_t kChunk = 64 * 1024;
  std::string carry;  // the start of a line whose beginning lies in an earlier chunk
  std::size_t pos = static_cast<std::size_t>(size);
  std::size_t scanned = 0;
  std::vector<json::object> newest_first;
  auto take = [&](std::string_view line) {
    if (line.empty()) return;
    json::value v;
    try {
      v = json::parse(line);
    } catch (const std::exception&) {
      return;  // a line being written right now, or damage: not an event
    }
    if (!v.is_object()) return;
    if (auditMatches(line, v.as_object(), query)) newest_first.push_back(std::move(v.as_object()));
  };
  while (pos > 0 && newest_first.size() < query.tail) {
    if (scanned >= kMaxAuditScanBytes) {
      out.truncated = true;
      break;
    }
    const std::size_t n = std::min(kChunk, pos);
    pos -= n;
    scanned += n;
    std::string chunk(n, '\0');
    if (std::fseek(file.get(), static_cast<long>(pos), SEEK_SET) != 0 ||
        std::fread(chunk.data(), 1, n, file.get()) != n) {
      return fail(core::serverInternal("cannot read the audit log " + path));
    }
    chunk += carry;
    // Every complete line of the chunk, last first; what precedes the first newline may
    // continue in the chunk before.
    std::size_t end = chunk.size();
    for (;;) {
      const std::size_t nl = end == 0 ? std::string::npos : chunk.rfind('\n', end - 1);
      if (nl == std::string::npos) break;
      take(std::string_view(chunk).substr(nl + 1, end - nl - 1));
      if (newest_first.size() >= query.tail) break;
      end = nl;
    }
    carry = chunk.substr(0, end);
    if (carry.size() > kMaxAuditScanBytes) break;  // one absurd line: stop
  }
  if (pos == 0 && newest_first.size() < query.tail) take(carry);
  std::reverse(newest_first.begin(), newest_first.end());
  out.events = std::move(newest_first);
  return out;
}

std::string operatorNameForUid(std::uint32_t uid) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(static_cast<std::size_t>(size > 0 ? size : 16384));
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(static_cast<uid_t>(uid), &pw, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return "uid:" + std::to_string(uid);
}

// ---- the API -------------------------------------------------------------------------------

namespace {

enum class Endpoint {
  kListCertificates,
  kShowCertificate,
  kCertificatePem,
  kRevokeCertificate,
  kShowAccount,
  kAccountOrders,
  kDeactivateAccount,
  kShowOrder,
  kAudit,
  kStats,
};

// The route table: paths below /admin/v1/, "*" is one id segment.
struct Route {
  std::string_view method;
  std::array<std::string_view, 3> pattern;
  Endpoint endpoint;
};

constexpr Route kRoutes[] = {
    {"GET", {"certificates", "", ""}, Endpoint::kListCertificates},
    {"GET", {"certificates", "*", ""}, Endpoint::kShowCertificate},
    {"GET", {"certificates", "*", "pem"}, Endpoint::kCertificatePem},
    {"POST", {"certificates", "*", "revoke"}, Endpoint::kRevokeCertificate},
    {"GET", {"accounts", "*", ""}, Endpoint::kShowAccount},
    {"GET", {"accounts", "*", "orders"}, Endpoint::kAccountOrders},
    {"POST", {"accounts", "*", "deactivate"}, Endpoint::kDeactivateAccount},
    {"GET", {"orders", "*", ""}, Endpoint::kShowOrder},
    {"GET", {"audit", "", ""}, Endpoint::kAudit},
    {"GET", {"stats", "", ""}, Endpoint::kStats},
};

// The path's segments below the prefix (at most 3, none empty), or nullopt.
std::optional<std::array<std::string_view, 3>> segments(std::string_view path) {
  if (!path.starts_with(kPrefix)) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  std::array<std::string_view, 3> out{};
  for (std::size_t i = 0;; ++i) {
    if (i == out.size()) return std::nullopt;
    const auto slash = path.find('/');
    out[i] = path.substr(0, slash);
    if (out[i].empty()) return std::nullopt;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool matches(const Route& route, const std::array<std::string_view, 3>& segs) {
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const auto want = route.pattern[i];
    if (want.empty() != segs[i].empty()) return false;
    if (want != "*" && want != segs[i]) return false;
  }
  return true;
}

}  // namespace

AdminApi::AdminApi(AdminDeps deps) : deps_(std::move(deps)) {}

boost::asio::awaitable<HttpResponse> AdminApi::handle(HttpRequest request) {
  static RequestIds ids("admin-");
  std::string principal;
  Reply reply = fail(core::notFound("no such admin endpoint; see docs/operations.md"));
  try {
    if (!request.peer_uid) {
      reply = fail(core::unauthorized("the admin API needs an operator identity (Unix socket)"));
    } else if (request.transport_problem) {
      reply = fail(core::malformed(request.transport_problem->detail));
    } else if (auto segs = segments(request.path)) {
      principal = "operator:" + operatorNameForUid(*request.peer_uid);
      const Route* found = nullptr;
      bool path_known = false;
      for (const Route& route : kRoutes) {
        if (!matches(route, *segs)) continue;
        path_known = true;
        if (route.method == request.method || (route.method == "GET" && request.method == "HEAD")) {
          found = &route;
          break;
        }
      }
      if (found == nullptr && path_known) {
        reply = fail(core::makeProblem(ProblemType::kMethodNotAllowed,
                                       "method " + request.method + " is not allowed here"));
      } else if (found != nullptr) {
        const std::string id((*segs)[1]);
        switch (found->endpoint) {
          case Endpoint::kListCertificates:
            reply = co_await listCertificates(request);
            break;
          case Endpoint::kShowCertificate:
            reply = co_await showCertificate(id);
            break;
          case Endpoint::kCertificatePem:
            reply = co_await certificatePem(id);
            break;
          case Endpoint::kRevokeCertificate:
            reply = co_await revokeCertificate(id, request, principal);
            break;
          case Endpoint::kShowAccount:
            reply = co_await showAccount(id);
            break;
          case Endpoint::kAccountOrders:
            reply = co_await accountOrders(id, request);
            break;
          case Endpoint::kDeactivateAccount:
            reply = co_await deactivateAccount(id, principal);
            break;
          case Endpoint::kShowOrder:
            reply = co_await showOrder(id);
            break;
          case Endpoint::kAudit:
            reply = co_await audit(request);
            break;
          case Endpoint::kStats:
            reply = co_await stats();
            break;
        }
      }
    }
  } catch (const std::exception& e) {
    reply = fail(core::serverInternal(std::string("exception: ") + e.what()));
  }
  HttpResponse response;
  if (reply) {
    response = std::move(*reply);
  } else {
    const int status = statusFor(reply.error());
    std::string detail = reply.error().detail;
    if (status >= 500) {
      // What went wrong inside stays in the log.
      const std::string id = ids.next();
      spdlog::error("admin: request id={} {} {} internal error: {}", id, request.method,
                    request.path, detail);
      detail = "internal error; the server log has the details under request id " + id;
    }
    response = jsonResponse(status, json::object{{"error", errorKind(status)}, {"detail", detail}});
  }
  spdlog::info("admin: {} {} {} status={}", principal.empty() ? "-" : principal, request.method,
               request.target, response.status);
  co_return response;
}

boost::asio::awaitable<core::Result<acme::Certificate>> AdminApi::findCertificate(
    const std::string& ref) {
  auto by_id = co_await deps_.store.getCertificate(ref);
  if (!by_id) co_return fail(by_id.error());
  if (*by_id) co_return std::move(**by_id);
  if (auto serial = normalizeSerial(ref)) {
    auto by_serial = co_await deps_.store.findCertificateBySerial(*serial);
    if (!by_serial) co_return fail(by_serial.error());
    if (*by_serial) co_return std::move(**by_serial);
  }
  co_return fail(core::notFound("no certificate has the id or serial " + ref));
}

json::object AdminApi::renderCertificate(const acme::Certificate& c,
                                         const std::vector<core::Identifier>& names) const {
  json::object out;
  out["id"] = c.id;
  out["serial"] = c.serial_hex;
  out["names"] = namesJson(names);
  out["account"] = c.account_id;
  out["order"] = c.order_id;
  out["profile"] = c.profile;
  out["issued_at"] = core::formatRfc3339(c.issued_at);
  out["not_before"] = core::formatRfc3339(c.not_before);
  out["not_after"] = core::formatRfc3339(c.not_after);
  out["status"] = certificateStatus(c, deps_.clock.now());
  if (c.revoked) {
    out["revoked_at"] = c.revoked_at ? json::value(core::formatRfc3339(*c.revoked_at)) : nullptr;
    const int reason = c.revocation_reason.value_or(0);
    out["revocation_reason"] = reason;
    out["revocation_reason_name"] = revocationReasonName(reason);
  }
  out["renewal_window"] = json::object{{"start", core::formatRfc3339(c.renewal_start)},
                                       {"end", core::formatRfc3339(c.renewal_end)}};
  out["crl_shard"] = c.crl_shard;
  return out;
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::listCertificates(const HttpRequest& request) {
  auto filter = parseCertificateQuery(request.query);
  if (!filter) co_return fail(filter.error());
  auto found = co_await deps_.store.searchCertificates(*filter);
  if (!found) co_return fail(found.error());
  json::array certs;
  for (const auto& listing : *found) {
    certs.push_back(renderCertificate(listing.certificate, listing.identifiers));
  }
  co_return jsonResponse(200, json::object{{"certificates", std::move(certs)},
                                           {"limit", filter->limit},
                                           {"offset", filter->offset}});
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::showCertificate(std::string id) {
  auto cert = co_await findCertificate(id);
  if (!cert) co_return fail(cert.error());
  auto order = co_await deps_.store.getOrder(cert->order_id);
  if (!order) co_return fail(order.error());
  std::vector<core::Identifier> names;
  if (*order) names = (*order)->identifiers;
  co_return jsonResponse(200, renderCertificate(*cert, names));
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::certificatePem(std::string id) {
  auto cert = co_await findCertificate(id);
  if (!cert) co_return fail(cert.error());
  HttpResponse r;
  r.content_type = "application/pem-certificate-chain";
  r.body = cert->pem_chain;
  co_return r;
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::revokeCertificate(std::string id,
                                                                    const HttpRequest& request,
                                                                    std::string principal) {
  auto reason = parseRevocationReason(request.body);
  if (!reason) co_return fail(reason.error());
  auto cert = co_await findCertificate(id);
  if (!cert) co_return fail(cert.error());
  auto revoked = co_await deps_.ra.revokeByOperator(std::move(principal), cert->id, *reason);
  if (!revoked) co_return fail(revoked.error());
  auto order = co_await deps_.store.getOrder(revoked->order_id);
  std::vector<core::Identifier> names;
  if (order && *order) names = (*order)->identifiers;
  co_return jsonResponse(200, renderCertificate(*revoked, names));
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::showAccount(std::string id) {
  auto account = co_await deps_.store.getAccount(id);
  if (!account) co_return fail(account.error());
  if (!*account) co_return fail(core::notFound("no account " + id));
  co_return jsonResponse(200, accountJson(**account));
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::accountOrders(std::string id,
                                                                const HttpRequest& request) {
  auto page = parsePageQuery(request.query);
  if (!page) co_return fail(page.error());
  auto account = co_await deps_.store.getAccount(id);
  if (!account) co_return fail(account.error());
  if (!*account) co_return fail(core::notFound("no account " + id));
  auto order_ids = co_await deps_.store.listOrderIds(id, page->second, page->first);
  if (!order_ids) co_return fail(order_ids.error());
  json::array orders;
  for (const auto& order_id : *order_ids) {
    auto order = co_await deps_.store.getOrder(order_id);
    if (!order) co_return fail(order.error());
    if (*order) orders.push_back(orderJson(**order));  // pruned in between: left out
  }
  co_return jsonResponse(200, json::object{{"account", id},
                                           {"orders", std::move(orders)},
                                           {"limit", page->first},
                                           {"offset", page->second}});
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::deactivateAccount(std::string id,
                                                                    std::string principal) {
  auto account = co_await deps_.ra.deactivateAccountByOperator(std::move(principal), id);
  if (!account) co_return fail(account.error());
  co_return jsonResponse(200, accountJson(*account));
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::showOrder(std::string id) {
  auto order = co_await deps_.store.getOrder(id);
  if (!order) co_return fail(order.error());
  if (!*order) co_return fail(core::notFound("no order " + id));
  co_return jsonResponse(200, orderJson(**order));
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::audit(const HttpRequest& request) {
  auto query = parseAuditQuery(request.query);
  if (!query) co_return fail(query.error());
  // A bounded read of a local file: short enough to do on the loop for an operator's request.
  auto tail = tailAuditLog(deps_.audit_log_file, *query);
  if (!tail) co_return fail(tail.error());
  json::array events;
  for (auto& e : tail->events) events.emplace_back(std::move(e));
  co_return jsonResponse(
      200, json::object{{"events", std::move(events)}, {"truncated", tail->truncated}});
}

boost::asio::awaitable<AdminApi::Reply> AdminApi::stats() {
  const auto now = deps_.clock.now();
  auto c = co_await deps_.store.countAll(now, now - std::chrono::hours(24));
  if (!c) co_return fail(c.error());
  json::object out;
  out["accounts"] = json::object{{"valid", c->accounts_valid},
                                 {"deactivated", c->accounts_deactivated},
                                 {"revoked", c->accounts_revoked}};
  out["orders"] =
      json::object{{"pending", c->orders_pending},       {"ready", c->orders_ready},
                   {"processing", c->orders_processing}, {"valid", c->orders_valid},
                   {"invalid", c->orders_invalid},       {"canceled", c->orders_canceled}};
  out["certificates"] = json::object{{"valid", c->certificates_valid},
                                     {"revoked", c->certificates_revoked},
                                     {"expired", c->certificates_expired},
                                     {"issued_last_24h", c->certificates_issued_since}};
  out["at"] = core::formatRfc3339(now);
  co_return jsonResponse(200, out);
}

}  // namespace akamu::server
