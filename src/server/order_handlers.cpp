// newOrder, order, authorization and finalize (RFC 8555 §7.4, §7.5).
#include <boost/json.hpp>

#include "acme/identifier_policy.hpp"
#include "acme/order_state.hpp"
#include "core/base64url.hpp"
#include "core/random.hpp"
#include "core/strict_json.hpp"
#include "crypto/csr.hpp"
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

constexpr auto kCaaReuseWindow = std::chrono::hours(8);

// Which challenges prove control of an identifier (RFC 8555 §8, RFC 8737, RFC 8738):
// wildcards only through DNS, IP addresses never through DNS.
std::vector<const char*> challengeTypesFor(const core::Identifier& id, bool persist_enabled) {
  if (id.type == "ip") return {"http-01", "tls-alpn-01"};
  std::vector<const char*> types;
  if (acme::isWildcard(id)) {
    types = {"dns-01"};
  } else {
    types = {"http-01", "dns-01", "tls-alpn-01"};
  }
  if (persist_enabled) types.push_back("dns-persist-01");
  return types;
}

bool sameIdentifierSet(std::vector<core::Identifier> a, std::vector<core::Identifier> b) {
  auto less = [](const core::Identifier& x, const core::Identifier& y) {
    return std::tie(x.type, x.value) < std::tie(y.type, y.value);
  };
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  a.erase(std::unique(a.begin(), a.end()), a.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return a == b;
}

// Gives up a claimed (processing) order: back to `to` (ready for a retry, or invalid with the
// reason), then fails with `why`.
boost::asio::awaitable<core::Result<HttpResponse>> revertClaim(store::Store& store,
                                                               acme::Order back,
                                                               acme::OrderStatus to,
                                                               core::Problem why) {
  back.status = to;
  if (to == acme::OrderStatus::kInvalid) back.error = why;
  (void)co_await store.updateOrderIfStatus(back, acme::OrderStatus::kProcessing);
  co_return core::fail(std::move(why));
}

}  // namespace

AcmeService::Task<HttpResponse> AcmeService::newOrder(const HttpRequest& request) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  if (auth->jws.isPostAsGet()) co_return core::fail(core::malformed("newOrder needs a payload"));
  auto payload = core::parseStrictJsonObject(auth->jws.payload);
  if (!payload) co_return core::fail(payload.error());
  auto* ids_value = payload->if_contains("identifiers");
  if (ids_value == nullptr || !ids_value->is_array()) {
    co_return core::fail(core::malformed("\"identifiers\" must be an array"));
  }
  std::vector<core::Identifier> requested;
  for (const auto& v : ids_value->as_array()) {
    if (!v.is_object()) co_return core::fail(core::malformed("identifiers must be objects"));
    const auto& o = v.as_object();
    auto* type = o.if_contains("type");
    auto* value = o.if_contains("value");
    if (type == nullptr || !type->is_string() || value == nullptr || !value->is_string()) {
      co_return core::fail(core::malformed("an identifier needs string \"type\" and \"value\""));
    }
    requested.push_back({std::string(type->as_string()), std::string(value->as_string())});
    if (requested.size() > 1000) co_return core::fail(core::malformed("too many identifiers"));
  }
  auto identifiers = acme::checkOrderIdentifiers(requested);
  if (!identifiers) co_return core::fail(identifiers.error());

  auto not_before = optionalTime(*payload, "notBefore");
  if (!not_before) co_return core::fail(not_before.error());
  auto not_after = optionalTime(*payload, "notAfter");
  if (!not_after) co_return core::fail(not_after.error());
  const auto now = deps_.clock.now();
  const auto max_validity = std::chrono::hours(24) * deps_.config.ca.validity_days;
  if (*not_before && *not_after && **not_after <= **not_before) {
    co_return core::fail(core::malformed("notAfter must be later than notBefore"));
  }
  if (*not_after && **not_after <= now) {
    co_return core::fail(core::malformed("notAfter is in the past"));
  }
  if (*not_after && **not_after - not_before->value_or(now) > max_validity) {
    co_return core::fail(core::malformed("the requested validity exceeds " +
                                         std::to_string(deps_.config.ca.validity_days) + " days"));
  }
  if (*not_before && **not_before > now + max_validity) {
    co_return core::fail(core::malformed("notBefore is too far in the future"));
  }

  acme::Order order;
  order.id = core::randomToken(12);
  order.account_id = auth->account->id;
  order.status = acme::OrderStatus::kPending;
  order.created_at = now;
  order.expires = now + std::chrono::seconds(deps_.config.server.order_expiry_secs);
  order.identifiers = *identifiers;
  order.not_before = *not_before;
  order.not_after = *not_after;
  std::vector<acme::Authorization> authzs;
  for (const auto& id : *identifiers) {
    acme::Authorization a;
    a.id = core::randomToken(12);
    a.account_id = order.account_id;
    a.order_id = order.id;
    // RFC 8555 §7.1.3: a wildcard's authorization names the base domain, flagged wildcard.
    a.wildcard = acme::isWildcard(id);
    a.identifier = a.wildcard ? core::Identifier{"dns", id.value.substr(2)} : id;
    a.status = acme::AuthzStatus::kPending;
    a.expires =
        std::min(order.expires, now + std::chrono::seconds(deps_.config.server.authz_expiry_secs));
    const bool persist = !deps_.config.server.dns_persist_issuer_domains.empty();
    for (const char* type : challengeTypesFor(id, persist)) {
      acme::Challenge c;
      c.id = core::randomToken(9);
      c.authz_id = a.id;
      c.type = type;
      // 256 bits; dns-persist-01 has no token (its record is keyed by the account).
      if (c.type != "dns-persist-01") c.token = core::randomToken(32);
      a.challenges.push_back(std::move(c));
    }
    order.authz_ids.push_back(a.id);
    authzs.push_back(std::move(a));
  }
  if (auto s = audit("order.create", true, urls_.order(order.id), "acme:" + auth->thumbprint,
                     std::to_string(order.identifiers.size()) + " identifiers");
      !s) {
    co_return core::fail(s.error());
  }
  auto inserted = co_await deps_.store.insertOrder(order, authzs);
  if (!inserted) co_return core::fail(inserted.error());
  HttpResponse r = json(201, renderOrder(order, urls_));
  r.addHeader("Location", urls_.order(order.id));
  co_return r;
}

AcmeService::Task<acme::Order> AcmeService::refreshOrder(store::Store& store, acme::Order order) {
  const auto before = order.status;
  if (before != acme::OrderStatus::kPending && before != acme::OrderStatus::kReady) co_return order;
  std::vector<acme::Authorization> authzs;
  if (before == acme::OrderStatus::kPending) {
    auto loaded = co_await store.getAuthorizations(order.authz_ids);
    if (!loaded) co_return core::fail(loaded.error());
    authzs = std::move(*loaded);
  }
  auto next = acme::nextOrderStatus(order, authzs, deps_.clock.now());
  order.status = next.status;
  order.error = std::move(next.error);
  if (order.status != before) {
    auto ok = co_await store.updateOrderIfStatus(order, before);
    if (!ok) co_return core::fail(ok.error());
    if (!*ok) {
      // Somebody else moved it first; theirs is the truth.
      auto fresh = co_await store.getOrder(order.id);
      if (!fresh) co_return core::fail(fresh.error());
      if (!*fresh) co_return core::fail(core::notFound("no such order"));
      co_return std::move(**fresh);
    }
  }
  co_return order;
}

AcmeService::Task<acme::Order> AcmeService::loadOwnedOrder(store::Store& store,
                                                           const std::string& id,
                                                           const std::string& account_id) {
  auto order = co_await store.getOrder(id);
  if (!order) co_return core::fail(order.error());
  if (!*order) co_return core::fail(core::notFound("no such order"));
  if ((*order)->account_id != account_id) {
    co_return core::fail(core::unauthorized("the order belongs to another account"));
  }
  co_return co_await refreshOrder(store, std::move(**order));
}

AcmeService::Task<HttpResponse> AcmeService::order(const HttpRequest& request,
                                                   const std::string& id) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  if (!auth->jws.isPostAsGet()) {
    co_return core::fail(core::malformed("fetch an order with POST-as-GET (empty payload)"));
  }
  // A read-only request: the lookups go to the read-only pool (a status refresh still writes
  // through it to the main store).
  auto order = co_await loadOwnedOrder(deps_.store.readOnly(), id, auth->account->id);
  if (!order) co_return core::fail(order.error());
  HttpResponse r = json(200, renderOrder(*order, urls_));
  if (order->status == acme::OrderStatus::kProcessing) r.addHeader("Retry-After", "1");
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::authorization(const HttpRequest& request,
                                                           const std::string& id) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  // POST-as-GET only reads (an expiry update writes through the read-only view to the main
  // store); a deactivation works on the main store throughout.
  const bool read_only = auth->jws.isPostAsGet();
  store::Store& store = read_only ? deps_.store.readOnly() : deps_.store;
  auto authz = co_await store.getAuthorization(id);
  if (!authz) co_return core::fail(authz.error());
  if (!*authz) co_return core::fail(core::notFound("no such authorization"));
  acme::Authorization& a = **authz;
  if (a.account_id != auth->account->id) {
    co_return core::fail(core::unauthorized("the authorization belongs to another account"));
  }
  if (auto now_status = acme::effectiveAuthzStatus(a, deps_.clock.now()); now_status != a.status) {
    a.status = now_status;
    auto expired = co_await store.updateAuthorization(a);
    if (!expired) co_return core::fail(expired.error());
  }
  if (!read_only) {
    auto payload = core::parseStrictJsonObject(auth->jws.payload);
    if (!payload) co_return core::fail(payload.error());
    auto* status = payload->if_contains("status");
    if (status == nullptr || !status->is_string() || status->as_string() != "deactivated") {
      co_return core::fail(
          core::malformed("the only change a client may make to an "
                          "authorization is {\"status\":\"deactivated\"}"));
    }
    if (a.status != acme::AuthzStatus::kPending && a.status != acme::AuthzStatus::kValid) {
      co_return core::fail(core::malformed("an authorization that is " +
                                           std::string(acme::toString(a.status)) +
                                           " cannot be deactivated"));
    }
    a.status = acme::AuthzStatus::kDeactivated;
    auto deactivated = co_await deps_.store.updateAuthorization(a);
    if (!deactivated) co_return core::fail(deactivated.error());
    auto o = co_await deps_.store.getOrder(a.order_id);
    if (o && *o) (void)co_await refreshOrder(deps_.store, std::move(**o));
  }
  co_return json(200,
                 renderAuthorization(a, urls_, deps_.config.server.dns_persist_issuer_domains));
}

AcmeService::Task<HttpResponse> AcmeService::finalize(const HttpRequest& request,
                                                      const std::string& id,
                                                      std::shared_ptr<PendingFinalize>* pending) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  if (auth->jws.isPostAsGet()) co_return core::fail(core::malformed("finalize needs a CSR"));
  auto payload = core::parseStrictJsonObject(auth->jws.payload);
  if (!payload) co_return core::fail(payload.error());
  auto order = co_await loadOwnedOrder(deps_.store, id, auth->account->id);
  if (!order) co_return core::fail(order.error());
  if (order->status != acme::OrderStatus::kReady) {
    co_return core::fail(core::makeProblem(
        core::ProblemType::kOrderNotReady,
        "the order is " + std::string(acme::toString(order->status)) + ", not ready"));
  }
  auto* csr_member = payload->if_contains("csr");
  if (csr_member == nullptr || !csr_member->is_string()) {
    co_return core::fail(core::malformed("\"csr\" must be a base64url string"));
  }
  auto der = core::base64urlDecode(csr_member->as_string());
  if (!der)
    co_return core::fail(core::makeProblem(core::ProblemType::kBadCsr, "csr is not base64url"));
  auto csr = crypto::parseCsr(*der);
  if (!csr) co_return core::fail(csr.error());
  std::vector<core::Identifier> wanted = csr->identifiers;
  if (csr->common_name) {
    core::Identifier cn{"dns", *csr->common_name};
    if (std::find(wanted.begin(), wanted.end(), cn) == wanted.end()) wanted.push_back(cn);
  }
  if (!sameIdentifierSet(wanted, order->identifiers)) {
    co_return core::fail(core::makeProblem(core::ProblemType::kBadCsr,
                                           "the CSR's names differ from the order's identifiers"));
  }
  if (EVP_PKEY_eq(csr->public_key.get(), auth->key.get()) == 1) {
    co_return core::fail(core::makeProblem(core::ProblemType::kBadCsr,
                                           "the certificate key must differ from the account key"));
  }
  const std::string principal = "acme:" + auth->thumbprint;
  // RFC 8659 §3: a CAA check may be relied on for 8 hours. Authorizations validated earlier
  // are looked up again (asynchronously, by handleAsync) before signing.
  std::vector<std::pair<core::Identifier, std::string>> rechecks;
  if (!deps_.config.server.caa_identities.empty()) {
    auto authzs = co_await deps_.store.getAuthorizations(order->authz_ids);
    if (!authzs) co_return core::fail(authzs.error());
    const auto now = deps_.clock.now();
    for (const auto& a : *authzs) {
      if (a.identifier.type != "dns") continue;
      for (const auto& c : a.challenges) {
        if (c.status != acme::ChallengeStatus::kValid || !c.validated) continue;
        if (now - *c.validated <= kCaaReuseWindow) continue;
        core::Identifier as_ordered = a.identifier;
        if (a.wildcard) as_ordered.value = "*." + as_ordered.value;
        rechecks.emplace_back(std::move(as_ordered), c.type);
      }
    }
  }
  if (!rechecks.empty()) {
    if (pending == nullptr) {
      co_return core::fail(core::serverInternal("CAA must be re-checked before issuance"));
    }
    *pending = std::make_shared<PendingFinalize>(
        PendingFinalize{std::move(*order), std::move(*csr), principal,
                        urls_.account(auth->account->id), std::move(rechecks)});
    co_return HttpResponse{};  // completed by handleAsync after the lookups
  }
  co_return co_await issueForOrder(*order, *csr, principal);
}

AcmeService::Task<HttpResponse> AcmeService::issueForOrder(const acme::Order& ready_order,
                                                           const crypto::ParsedCsr& csr,
                                                           const std::string& principal) {
  const acme::Order* order = &ready_order;
  if (auto s = audit("order.finalize", true, urls_.order(order->id), principal, ""); !s) {
    co_return core::fail(s.error());
  }
  acme::Order processing = *order;
  processing.status = acme::OrderStatus::kProcessing;
  auto claimed = co_await deps_.store.updateOrderIfStatus(processing, acme::OrderStatus::kReady);
  if (!claimed) co_return core::fail(claimed.error());
  if (!*claimed) {
    co_return core::fail(core::makeProblem(core::ProblemType::kOrderNotReady,
                                           "the order is already being finalized"));
  }
  auto issued = deps_.ca.issue(csr.public_key.get(), order->identifiers, csr.common_name,
                               order->not_before, order->not_after, csr.spki());
  if (!issued) {
    co_return co_await revertClaim(deps_.store, processing, acme::OrderStatus::kInvalid,
                                   issued.error());
  }

  acme::Certificate cert;
  cert.id = core::randomToken(12);
  cert.serial_hex = issued->serial_hex;
  cert.account_id = order->account_id;
  cert.order_id = order->id;
  cert.pem_chain = std::move(issued->pem_chain);
  cert.not_before = issued->not_before;
  cert.not_after = issued->not_after;
  // The issuance is audited before it becomes visible: no unaudited certificate.
  if (auto s = audit("cert.issue", true, urls_.certificate(cert.id), principal,
                     "serial " + cert.serial_hex);
      !s) {
    co_return co_await revertClaim(deps_.store, processing, acme::OrderStatus::kReady, s.error());
  }
  acme::Order valid = processing;
  valid.status = acme::OrderStatus::kValid;
  valid.certificate_id = cert.id;
  auto stored = co_await deps_.store.insertCertificateForOrder(cert, valid);
  if (!stored) {
    co_return co_await revertClaim(deps_.store, processing, acme::OrderStatus::kReady,
                                   stored.error());
  }
  if (!*stored) co_return core::fail(core::serverInternal("the order changed during issuance"));
  co_return json(200, renderOrder(valid, urls_));
}

}  // namespace akamu::server
