#pragma once
// The web front end (WFE): one route table and one request pipeline. A request is matched
// against the table; the pipeline does, once for every route, what RFC 8555 §6 requires of
// every request (content type, strict JWS, url equal to the full request URL, nonce, account
// lookup and status, payload shape) and adds the headers every response carries
// (Replay-Nonce, Link rel="index", Allow on 405). A handler receives the authenticated
// request, parses its payload into an RA call, and renders the result. Handlers never decide
// policy and never touch the store: that is the registration authority (ra/).
//
// The error boundary is here too: an internal failure is logged with the request's id and
// answered serverInternal with a detail naming only that id; one structured line is logged
// per request. Thread-safe: any number of event loops may call handleAsync at once.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/config.hpp"
#include "core/result.hpp"
#include "crypto/handles.hpp"
#include "jose/jws.hpp"
#include "ra/registration_authority.hpp"
#include "server/acme_urls.hpp"
#include "server/client_address.hpp"
#include "server/health.hpp"
#include "server/http_types.hpp"
#include "server/in_flight.hpp"
#include "server/metrics.hpp"
#include "server/nonce_pool.hpp"
#include "server/revocation_endpoints.hpp"
#include "store/store.hpp"

namespace akamu::server {

struct ServiceDeps {
  const config::Config& config;
  store::Store& store;  // only to look up the account of a kid
  ra::RegistrationAuthority& ra;
  ra::AuditLog& audit;
  // CRL and OCSP paths, answered before ACME routing; null = neither is served.
  RevocationEndpoints* revocation = nullptr;
  // /health/live and /health/ready; null = they answer 404.
  Health* health = nullptr;
  // Request counts and latencies; null = not recorded.
  ServerMetrics* metrics = nullptr;
};

// What a route accepts (RFC 8555 §6.2, §6.3).
enum class KeyMode { kJwk, kKid, kEither };
enum class PayloadRule {
  kPostAsGet,   // the payload must be empty
  kJsonObject,  // the payload must be a JSON object
  kEither,      // POST-as-GET to read, a JSON object to change
};

// An authenticated request, as a handler sees it.
struct AcmeRequest {
  const HttpRequest& http;
  std::array<std::string_view, 2> ids{};  // the route's id segments
  jose::Jws jws;
  std::shared_ptr<EVP_PKEY> key;
  ra::Requester requester;                     // account (kid) or none (jwk), thumbprint, key
  std::optional<boost::json::object> payload;  // nullopt for POST-as-GET
};

class AcmeService {
 public:
  AcmeService(ServiceDeps deps, const AcmeUrls& urls);
  ~AcmeService();
  boost::asio::awaitable<HttpResponse> handleAsync(HttpRequest request);
  const AcmeUrls& urls() const { return urls_; }
  // The requests handleAsync is running now (graceful shutdown waits for them).
  InFlightRequests& inFlight() { return in_flight_; }
  NoncePool& nonces() { return nonces_; }

  template <class T>
  using Task = boost::asio::awaitable<core::Result<T>>;
  using PostHandler = Task<HttpResponse> (AcmeService::*)(AcmeRequest&);
  using GetHandler = Task<HttpResponse> (AcmeService::*)(const HttpRequest&,
                                                         std::array<std::string_view, 2>);

  // One row per resource.
  struct Route {
    RouteId id;
    GetHandler get = nullptr;  // GET and HEAD, unauthenticated
    PostHandler post = nullptr;
    KeyMode key = KeyMode::kKid;
    PayloadRule payload = PayloadRule::kEither;
  };

 private:
  // `account_id` receives the authenticated account's id, for the request log.
  Task<HttpResponse> dispatch(const HttpRequest& request, const Route* route,
                              std::array<std::string_view, 2> ids, std::string* account_id);
  Task<AcmeRequest> authenticate(const HttpRequest& request, const Route& route,
                                 std::array<std::string_view, 2> ids);
  core::Result<std::shared_ptr<EVP_PKEY>> accountKey(const acme::Account& account);
  void forgetAccountKey(const std::string& account_id);
  HttpResponse finish(const HttpRequest& request, const Route* route,
                      core::Result<HttpResponse> result, std::string_view account_id,
                      std::chrono::steady_clock::time_point started);

  // GET routes.
  Task<HttpResponse> directory(const HttpRequest&, std::array<std::string_view, 2>);
  Task<HttpResponse> newNonce(const HttpRequest&, std::array<std::string_view, 2>);
  Task<HttpResponse> getCertificate(const HttpRequest&, std::array<std::string_view, 2>);
  Task<HttpResponse> renewalInfo(const HttpRequest&, std::array<std::string_view, 2>);
  Task<HttpResponse> getStarCertificate(const HttpRequest&, std::array<std::string_view, 2>);
  Task<HttpResponse> healthLive(const HttpRequest&, std::array<std::string_view, 2>);
  Task<HttpResponse> healthReady(const HttpRequest&, std::array<std::string_view, 2>);
  // POST routes (account_handlers.cpp, order_handlers.cpp, certificate_handlers.cpp).
  Task<HttpResponse> newAccount(AcmeRequest& request);
  Task<HttpResponse> account(AcmeRequest& request);
  Task<HttpResponse> accountOrders(AcmeRequest& request);
  Task<HttpResponse> keyChange(AcmeRequest& request);
  Task<HttpResponse> newOrder(AcmeRequest& request);
  Task<HttpResponse> newAuthz(AcmeRequest& request);
  Task<HttpResponse> order(AcmeRequest& request);
  Task<HttpResponse> finalize(AcmeRequest& request);
  Task<HttpResponse> authorization(AcmeRequest& request);
  Task<HttpResponse> challenge(AcmeRequest& request);
  Task<HttpResponse> certificate(AcmeRequest& request);
  Task<HttpResponse> revokeCert(AcmeRequest& request);
  Task<HttpResponse> starCertificate(AcmeRequest& request);

  HttpResponse json(int status, const boost::json::object& body) const;
  // The problem document as it is answered; the error boundary (finish) runs before it.
  static HttpResponse problemResponse(const core::Problem& problem);
  HttpResponse certificateResponse(const acme::Certificate& cert) const;
  // RFC 8739 §3.3: the chain with Cert-Not-Before / Cert-Not-After.
  HttpResponse starCertificateResponse(const acme::Certificate& cert) const;

  static const std::array<Route, kRouteCount>& routeTable();

  ServiceDeps deps_;
  const AcmeUrls& urls_;
  NoncePool nonces_;
  InFlightRequests in_flight_;
  TrustedProxies proxies_;  // [server] trusted_proxies, for the client address
  int success_log_level_;   // spdlog::level::level_enum of [log] request_level
  std::string directory_body_;

  struct CachedKey {
    std::string jwk_json;
    std::shared_ptr<EVP_PKEY> key;
  };
  std::mutex key_cache_mutex_;
  std::unordered_map<std::string, CachedKey> key_cache_;
};

}  // namespace akamu::server
