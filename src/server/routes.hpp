#pragma once
// The paths of every ACME resource, declared once. Routing matches a request path against this
// table and AcmeUrls builds every URL the server hands out from it, so a link we emit always
// routes back to the resource it names.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace akamu::server {

enum class RouteId {
  kDirectory,
  kNewNonce,
  kNewAccount,
  kNewOrder,
  kRevokeCert,
  kKeyChange,
  kAccount,
  kAccountOrders,
  kOrder,
  kFinalize,
  kAuthz,
  kChallenge,
  kCertificate,
  kRenewalInfo,
  kStarCertificate,
  kHealthLive,
  kHealthReady,
  kNewAuthz,
};
inline constexpr std::size_t kRouteCount = 18;

struct RoutePath {
  RouteId id;
  std::string_view name;  // for the request log: "new-order", "finalize", …
  // "{}" stands for one resource id segment; "{*}" for one segment of any printable
  // characters but "/" (ids that are not ours, such as RFC 9773 certIDs, checked by their
  // handler so that a bad one gets a precise problem instead of a 404).
  std::string_view pattern;
};

// Indexed by RouteId.
inline constexpr std::array<RoutePath, kRouteCount> kRoutePaths{{
    {RouteId::kDirectory, "directory", "/acme/directory"},
    {RouteId::kNewNonce, "new-nonce", "/acme/new-nonce"},
    {RouteId::kNewAccount, "new-account", "/acme/new-account"},
    {RouteId::kNewOrder, "new-order", "/acme/new-order"},
    {RouteId::kRevokeCert, "revoke-cert", "/acme/revoke-cert"},
    {RouteId::kKeyChange, "key-change", "/acme/key-change"},
    {RouteId::kAccount, "account", "/acme/account/{}"},
    {RouteId::kAccountOrders, "orders", "/acme/account/{}/orders"},
    {RouteId::kOrder, "order", "/acme/order/{}"},
    {RouteId::kFinalize, "finalize", "/acme/order/{}/finalize"},
    {RouteId::kAuthz, "authz", "/acme/authz/{}"},
    {RouteId::kChallenge, "challenge", "/acme/chall/{}/{}"},
    {RouteId::kCertificate, "certificate", "/acme/cert/{}"},
    {RouteId::kRenewalInfo, "renewal-info", "/acme/renewal-info/{*}"},
    // RFC 8739 §3.3: the rolling certificate of a STAR order, named by the order's id.
    {RouteId::kStarCertificate, "star-certificate", "/acme/star-cert/{}"},
    // Probes for load balancers and orchestrators (also on the metrics listener): plain GETs,
    // no JWS, no nonce.
    {RouteId::kHealthLive, "health-live", "/health/live"},
    {RouteId::kHealthReady, "health-ready", "/health/ready"},
    // RFC 8555 §7.4.1: routed only when [server] allow_pre_authorization is on.
    {RouteId::kNewAuthz, "new-authz", "/acme/new-authz"},
}};

inline const RoutePath& routePath(RouteId id) { return kRoutePaths[static_cast<std::size_t>(id)]; }

// A resource id as we generate them (core::randomToken: base64url), 1..64 characters.
bool isResourceId(std::string_view segment);

// The path of `id` with each "{}" replaced by the next of `ids` (missing ids become "").
std::string buildPath(RouteId id, std::string_view id1 = {}, std::string_view id2 = {});

struct RouteMatch {
  RouteId id;
  std::array<std::string_view, 2> ids{};  // views into the matched path
};
// The route whose pattern the path matches exactly, each "{}" by one isResourceId segment.
std::optional<RouteMatch> matchRoute(std::string_view path);

}  // namespace akamu::server
