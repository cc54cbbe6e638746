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
  auto order = co_await deps_.ra.newOrder(request.requester, std::move(in));
  if (!order) co_return core::fail(order.error());
  HttpResponse r = json(201, renderOrder(*order, urls_));
  r.addHeader("Location", urls_.order(order->id));
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::order(AcmeRequest& request) {
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
