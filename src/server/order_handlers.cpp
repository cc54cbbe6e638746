// newOrder, order, finalize and authorization (RFC 8555 §7.4, §7.5): payload parsing and
// rendering; the decisions are the RA's.
#include <boost/json.hpp>

#include "core/base64url.hpp"
#include "server/acme_service.hpp"
#include "server/render.hpp"

namespace akamu::server {
namespace {

core::Result<std::optional<core::TimePoint>> optionalTime(const boost::json::object& obj,
                                                          std::string_view name) {
  auto* v = obj.if_contains(name);
  if (v == nullptr) return std::optional<core::TimePoint>{};
  core::TimePoint t;
  if (!v->is_string() || !core::parseRfc3339(v->as_string(), t)) {
    return core::fail(core::malformed("\"" + std::string(name) + "\" must be an RFC 3339 date"));
  }
  return std::optional<core::TimePoint>(t);
}

// RFC 8739 §3.1.1: the JSON types only; the RA decides what is acceptable.
core::Result<ra::AutoRenewalRequest> autoRenewalFrom(const boost::json::value& value) {
  if (!value.is_object()) return core::fail(core::malformed("\"auto-renewal\" must be an object"));
  const auto& obj = value.as_object();
  ra::AutoRenewalRequest out;
  auto start = optionalTime(obj, "start-date");
  if (!start) return core::fail(start.error());
  out.start_date = *start;
  auto end = optionalTime(obj, "end-date");
  if (!end) return core::fail(end.error());
  out.end_date = *end;
  for (auto [name, field] :
       {std::pair{"lifetime", &out.lifetime}, std::pair{"lifetime-adjust", &out.lifetime_adjust}}) {
    if (auto* v = obj.if_contains(name)) {
      if (!v->is_int64() && !v->is_uint64()) {
        return core::fail(
            core::malformed("auto-renewal \"" + std::string(name) + "\" must be an integer"));
      }
      if (v->is_uint64() && v->as_uint64() > 315360000u) {
        return core::fail(
            core::malformed("auto-renewal \"" + std::string(name) + "\" is too large"));
      }
      *field = v->is_int64() ? v->as_int64() : static_cast<std::int64_t>(v->as_uint64());
    }
  }
  if (auto* v = obj.if_contains("allow-certificate-get")) {
    if (!v->is_bool()) {
      return core::fail(
          core::malformed("auto-renewal \"allow-certificate-get\" must be a boolean"));
    }
    out.allow_certificate_get = v->as_bool();
  }
  return out;
}

}  // namespace

AcmeService::Task<HttpResponse> AcmeService::newOrder(AcmeRequest& request) {
  const auto& payload = *request.payload;
  auto* ids_value = payload.if_contains("identifiers");
  if (ids_value == nullptr || !ids_value->is_array()) {
    co_return core::fail(core::malformed("\"identifiers\" must be an array"));
  }
  ra::NewOrderRequest in;
  for (const auto& v : ids_value->as_array()) {
    if (!v.is_object()) co_return core::fail(core::malformed("identifiers must be objects"));
    const auto& o = v.as_object();
    auto* type = o.if_contains("type");
    auto* value = o.if_contains("value");
    if (type == nullptr || !type->is_string() || value == nullptr || !value->is_string()) {
      co_return core::fail(core::malformed("an identifier needs string \"type\" and \"value\""));
    }
    in.identifiers.push_back({std::string(type->as_string()), std::string(value->as_string())});
    if (in.identifiers.size() > 1000) co_return core::fail(core::malformed("too many identifiers"));
    // RFC 9444 §4.3 (the RA refuses it when subdomain authorizations are off).
    if (auto* ancestor = o.if_contains("ancestorDomain")) {
      if (!ancestor->is_string()) {
        co_return core::fail(core::malformed("\"ancestorDomain\" must be a string"));
      }
      in.ancestor_domains.resize(in.identifiers.size());
      in.ancestor_domains.back() = std::string(ancestor->as_string());
    }
  }
  auto not_before = optionalTime(payload, "notBefore");
  if (!not_before) co_return core::fail(not_before.error());
  in.not_before = *not_before;
  auto not_after = optionalTime(payload, "notAfter");
  if (!not_after) co_return core::fail(not_after.error());
  in.not_after = *not_after;
  for (auto [name, out] :
       {std::pair{"profile", &in.profile}, std::pair{"replaces", &in.replaces}}) {
    if (auto* v = payload.if_contains(name)) {
      if (!v->is_string()) {
        co_return core::fail(core::malformed("\"" + std::string(name) + "\" must be a string"));
      }
      *out = std::string(v->as_string());
    }
  }
  if (auto* ar = payload.if_contains("auto-renewal")) {
    auto parsed = autoRenewalFrom(*ar);
    if (!parsed) co_return core::fail(parsed.error());
    in.auto_renewal = std::move(*parsed);
  }
  auto order = co_await deps_.ra.newOrder(request.requester, std::move(in));
  if (!order) co_return core::fail(order.error());
  HttpResponse r = json(201, renderOrder(*order, urls_));
  r.addHeader("Location", urls_.order(order->id));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::newAuthz(AcmeRequest& request) {
  const auto& payload = *request.payload;
  auto* id_value = payload.if_contains("identifier");
  const auto* o = id_value != nullptr ? id_value->if_object() : nullptr;
  auto* type = o != nullptr ? o->if_contains("type") : nullptr;
  auto* value = o != nullptr ? o->if_contains("value") : nullptr;
  if (type == nullptr || !type->is_string() || value == nullptr || !value->is_string()) {
    co_return core::fail(
        core::malformed("\"identifier\" must be an object with string \"type\" and \"value\""));
  }
  ra::NewAuthzRequest in;
  in.identifier = {std::string(type->as_string()), std::string(value->as_string())};
  if (auto* sub = payload.if_contains("subdomainAuthAllowed")) {
    if (!sub->is_bool()) {
      co_return core::fail(core::malformed("\"subdomainAuthAllowed\" must be a boolean"));
    }
    in.subdomain_auth_allowed = sub->as_bool();
  }
  auto authz = co_await deps_.ra.newAuthorization(request.requester, std::move(in));
  if (!authz) co_return core::fail(authz.error());
  HttpResponse r =
      json(201, renderAuthorization(*authz, urls_, deps_.config.server.dns_persist_issuer_domains));
  r.addHeader("Location", urls_.authz(authz->id));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::order(AcmeRequest& request) {
  if (request.payload) {
    // RFC 8739 §3.1.2: the one change a client may make to an order.
    auto* status = request.payload->if_contains("status");
    if (status == nullptr || !status->is_string() || status->as_string() != "canceled") {
      co_return core::fail(core::malformed(
          "the only change a client may make to an order is {\"status\":\"canceled\"}"));
    }
    auto canceled = co_await deps_.ra.cancelOrder(request.requester, std::string(request.ids[0]));
    if (!canceled) co_return core::fail(canceled.error());
    co_return json(200, renderOrder(*canceled, urls_));
  }
  // A read-only request: the lookups go to the read-only pool (a status refresh still writes
  // through it to the main store).
  auto order = co_await deps_.ra.order(request.requester, std::string(request.ids[0]),
                                       deps_.store.readOnly());
  if (!order) co_return core::fail(order.error());
  HttpResponse r = json(200, renderOrder(*order, urls_));
  if (order->status == acme::OrderStatus::kProcessing) r.addHeader("Retry-After", "1");
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::finalize(AcmeRequest& request) {
  auto* csr_member = request.payload->if_contains("csr");
  if (csr_member == nullptr || !csr_member->is_string()) {
    co_return core::fail(core::malformed("\"csr\" must be a base64url string"));
  }
  auto der = core::base64urlDecode(csr_member->as_string());
  if (!der) {
    co_return core::fail(core::makeProblem(core::ProblemType::kBadCsr, "csr is not base64url"));
  }
  auto order =
      co_await deps_.ra.finalize(request.requester, std::string(request.ids[0]), std::move(*der));
  if (!order) co_return core::fail(order.error());
  HttpResponse r = json(200, renderOrder(*order, urls_));
  // RFC 8555 §7.4's example answers with the order's URL; some clients build on it.
  r.addHeader("Location", urls_.order(order->id));
  if (order->status == acme::OrderStatus::kProcessing) r.addHeader("Retry-After", "1");
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::authorization(AcmeRequest& request) {
  const std::string id(request.ids[0]);
  core::Result<acme::Authorization> authz;
  if (!request.payload) {
    // POST-as-GET only reads (an expiry update writes through the read-only view).
    authz = co_await deps_.ra.authorization(request.requester, id, deps_.store.readOnly());
  } else {
    auto* status = request.payload->if_contains("status");
    if (status == nullptr || !status->is_string() || status->as_string() != "deactivated") {
      co_return core::fail(
          core::malformed("the only change a client may make to an "
                          "authorization is {\"status\":\"deactivated\"}"));
    }
    authz = co_await deps_.ra.deactivateAuthorization(request.requester, id);
  }
  if (!authz) co_return core::fail(authz.error());
  co_return json(
      200, renderAuthorization(*authz, urls_, deps_.config.server.dns_persist_issuer_domains));
}

}  // namespace akamu::server
