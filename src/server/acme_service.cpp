#include "server/acme_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cctype>

#include "core/random.hpp"
#include "core/strict_json.hpp"
#include "jose/jwk.hpp"
#include "server/request_ids.hpp"

namespace akamu::server {
namespace {

constexpr std::string_view kJoseJson = "application/jose+json";

core::Problem methodNotAllowed(std::string_view allowed) {
  return core::makeProblem(core::ProblemType::kMethodNotAllowed,
                           "method not allowed; use " + std::string(allowed));
}

// What the Allow header lists for a route (RFC 9110 §15.5.6).
std::string_view allowedMethods(const AcmeService::Route& route) {
  if (route.get && route.post) return "GET, HEAD, POST";
  if (route.get) return "GET, HEAD";
  return "POST";
}

spdlog::level::level_enum levelFor(int status, spdlog::level::level_enum success_level) {
  if (status >= 500) return spdlog::level::err;
  if (status >= 400) return spdlog::level::info;
  return success_level;
}

}  // namespace

const std::array<AcmeService::Route, kRouteCount>& AcmeService::routeTable() {
  using S = AcmeService;
  // Indexed by RouteId, in the order of kRoutePaths.
  static const std::array<Route, kRouteCount> table{{
      {RouteId::kDirectory, &S::directory, nullptr},
      {RouteId::kNewNonce, &S::newNonce, nullptr},
      {RouteId::kNewAccount, nullptr, &S::newAccount, KeyMode::kJwk, PayloadRule::kJsonObject},
      {RouteId::kNewOrder, nullptr, &S::newOrder, KeyMode::kKid, PayloadRule::kJsonObject},
      {RouteId::kRevokeCert, nullptr, &S::revokeCert, KeyMode::kEither, PayloadRule::kJsonObject},
      {RouteId::kKeyChange, nullptr, &S::keyChange, KeyMode::kKid, PayloadRule::kJsonObject},
      {RouteId::kAccount, nullptr, &S::account, KeyMode::kKid, PayloadRule::kEither},
      {RouteId::kAccountOrders, nullptr, &S::accountOrders, KeyMode::kKid, PayloadRule::kPostAsGet},
      // A JSON object only to cancel a STAR order (RFC 8739 §3.1.2).
      {RouteId::kOrder, nullptr, &S::order, KeyMode::kKid, PayloadRule::kEither},
      {RouteId::kFinalize, nullptr, &S::finalize, KeyMode::kKid, PayloadRule::kJsonObject},
      {RouteId::kAuthz, nullptr, &S::authorization, KeyMode::kKid, PayloadRule::kEither},
      {RouteId::kChallenge, nullptr, &S::challenge, KeyMode::kKid, PayloadRule::kEither},
      {RouteId::kCertificate, &S::getCertificate, &S::certificate, KeyMode::kKid,
       PayloadRule::kPostAsGet},
      {RouteId::kRenewalInfo, &S::renewalInfo, nullptr},
      {RouteId::kStarCertificate, &S::getStarCertificate, &S::starCertificate, KeyMode::kKid,
       PayloadRule::kPostAsGet},
      {RouteId::kHealthLive, &S::healthLive, nullptr},
      {RouteId::kHealthReady, &S::healthReady, nullptr},
      {RouteId::kNewAuthz, nullptr, &S::newAuthz, KeyMode::kKid, PayloadRule::kJsonObject},
  }};
  return table;
}

AcmeService::AcmeService(ServiceDeps deps, const AcmeUrls& urls)
    : deps_(std::move(deps)),
      urls_(urls),
      nonces_(deps_.config.server.nonce_capacity),
      proxies_(deps_.config.server.trusted_proxies),
      success_log_level_(spdlog::level::from_str(deps_.config.log.request_level)) {
  for (std::size_t i = 0; i < kRouteCount; ++i) {
    // The table and the paths must stay in step; a mismatch is a programming error.
    if (routeTable()[i].id != kRoutePaths[i].id) std::abort();
  }
  boost::json::object dir;
  dir["newNonce"] = urls_.newNonce();
  dir["newAccount"] = urls_.newAccount();
  dir["newOrder"] = urls_.newOrder();
  // RFC 8555 §7.4.1: "If the ACME server does not implement pre-authorization it MUST omit
  // the newAuthz field of the directory."
  if (deps_.config.server.allow_pre_authorization) dir["newAuthz"] = urls_.newAuthz();
  dir["revokeCert"] = urls_.revokeCert();
  dir["keyChange"] = urls_.keyChange();
  dir["renewalInfo"] = urls_.renewalInfo();
  boost::json::object meta;
  const auto& cfg = deps_.config.server;
  if (cfg.terms_of_service_url) meta["termsOfService"] = *cfg.terms_of_service_url;
  if (cfg.website_url) meta["website"] = *cfg.website_url;
  if (!cfg.caa_identities.empty()) {
    boost::json::array caa;
    for (const auto& c : cfg.caa_identities) caa.emplace_back(c);
    meta["caaIdentities"] = std::move(caa);
  }
  meta["externalAccountRequired"] = cfg.external_account_required;
  // draft-ietf-acme-profiles §3: name -> description.
  boost::json::object profiles;
  for (const auto& p : deps_.config.profiles) profiles[p.name] = p.description;
  meta["profiles"] = std::move(profiles);
  // RFC 8739 §3.2: present only when the server offers STAR.
  if (const auto& star = deps_.config.star; star.enabled) {
    meta["auto-renewal"] =
        boost::json::object{{"min-lifetime", star.min_lifetime_secs},
                            {"max-duration", star.max_duration_secs},
                            {"allow-certificate-get", star.allow_certificate_get}};
  }
  // RFC 9444 §4.4.
  if (cfg.allow_subdomain_authorizations) meta["subdomainAuthAllowed"] = true;
  dir["meta"] = std::move(meta);
  directory_body_ = boost::json::serialize(dir);
}

AcmeService::~AcmeService() = default;

HttpResponse AcmeService::problemResponse(const core::Problem& problem) {
  HttpResponse r;
  r.status = core::problemHttpStatus(problem);
  r.content_type = "application/problem+json";
  r.body = core::problemToJson(problem);
  // RFC 8555 §6.6: a rate-limited client learns when to retry and where the limits are told.
  if (problem.retry_after_secs > 0) {
    r.addHeader("Retry-After", std::to_string(problem.retry_after_secs));
  }
  if (!problem.help_url.empty()) r.addHeader("Link", "<" + problem.help_url + ">;rel=\"help\"");
  return r;
}

HttpResponse AcmeService::json(int status, const boost::json::object& body) const {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = boost::json::serialize(body);
  return r;
}

boost::asio::awaitable<HttpResponse> AcmeService::handleAsync(HttpRequest request) {
  const auto in_flight = in_flight_.enter();
  const auto started = std::chrono::steady_clock::now();
  if (deps_.metrics) deps_.metrics->requestStarted();
  // CRL and OCSP are not ACME resources: no JWS, no nonce, no Link, no problem documents.
  if (deps_.revocation && !request.transport_problem && deps_.revocation->matches(request.path)) {
    int status = 500;
    HttpResponse response;
    try {
      response = co_await deps_.revocation->handle(request);
      status = response.status;
    } catch (const std::exception& e) {
      spdlog::error("revocation request path={} failed: {}", request.path, e.what());
      response = HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"};
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    spdlog::log(levelFor(status, static_cast<spdlog::level::level_enum>(success_log_level_)),
                "request method={} route=revocation status={} us={}", request.method, status, us);
    if (deps_.metrics) {
      deps_.metrics->requestDone(ServerMetrics::kRevocation, request.method, status,
                                 std::chrono::steady_clock::now() - started);
    }
    co_return response;
  }
  const Route* route = nullptr;
  std::string account_id;
  core::Result<HttpResponse> result = core::fail(core::serverInternal("no response"));
  bool threw = false;
  std::string what;
  try {
    auto m = matchRoute(request.path);
    // Without pre-authorization, newAuthz is no resource of this server (the directory
    // omits it), whatever the request.
    if (m && m->id == RouteId::kNewAuthz && !deps_.config.server.allow_pre_authorization) {
      m.reset();
    }
    if (m) route = &routeTable()[static_cast<std::size_t>(m->id)];
    if (request.transport_problem) {
      result = core::fail(std::move(*request.transport_problem));
    } else if (!m) {
      result = core::fail(core::notFound("no such resource"));
    } else {
      result = co_await dispatch(request, route, m->ids, &account_id);
    }
  } catch (const std::exception& e) {
    threw = true;
    what = e.what();
  } catch (...) {
    threw = true;
    what = "unknown exception";
  }
  if (threw) result = core::fail(core::serverInternal("exception: " + what));
  co_return finish(request, route, std::move(result), account_id, started);
}

AcmeService::Task<HttpResponse> AcmeService::dispatch(const HttpRequest& request,
                                                      const Route* route,
                                                      std::array<std::string_view, 2> ids,
                                                      std::string* account_id) {
  const std::string& method = request.method;
  if ((method == "GET" || method == "HEAD") && route->get) {
    co_return co_await (this->*(route->get))(request, ids);
  }
  if (method != "POST" || route->post == nullptr) {
    co_return core::fail(methodNotAllowed(allowedMethods(*route)));
  }
  auto authenticated = co_await authenticate(request, *route, ids);
  if (!authenticated) {
    if (deps_.metrics) deps_.metrics->joseError(authenticated.error().type);
    co_return core::fail(authenticated.error());
  }
  if (authenticated->requester.account) *account_id = authenticated->requester.account->id;
  co_return co_await (this->*(route->post))(*authenticated);
}

HttpResponse AcmeService::finish(const HttpRequest& request, const Route* route,
                                 core::Result<HttpResponse> result, std::string_view account_id,
                                 std::chrono::steady_clock::time_point started) {
  static RequestIds ids;
  // Made only when a log line or an answer names it: most requests need none.
  std::string request_id;
  auto requestId = [&]() -> const std::string& {
    if (request_id.empty()) request_id = ids.next();
    return request_id;
  };
  HttpResponse response;
  std::string_view problem_name;
  if (result) {
    response = std::move(*result);
  } else {
    core::Problem problem = std::move(result.error());
    if (core::problemHttpStatus(problem) >= 500) {
      // The error boundary: what went wrong inside stays in the log.
      spdlog::error("request id={} route={} internal error: {}", requestId(),
                    route ? routePath(route->id).name : "-", problem.detail);
      problem.detail =
          "internal error; the server log has the details under request id " + requestId();
      problem.subproblems.clear();
      problem.identifier.reset();
    }
    problem_name = core::problemTypeUri(problem.type);
    if (deps_.metrics) deps_.metrics->problemAnswered(problem.type);
    response = problemResponse(problem);
  }
  // Every POST response carries a fresh nonce (so a client can always retry after badNonce),
  // and every response the directory link (RFC 8555 §6.5, §7.1).
  if (request.method == "POST" || (route && route->id == RouteId::kNewNonce)) {
    response.addHeader("Replay-Nonce", nonces_.issue());
  }
  response.addHeader("Link", "<" + urls_.directory() + ">;rel=\"index\"");
  if (response.status == 405 && route) {
    response.addHeader("Allow", std::string(allowedMethods(*route)));
  }
  const auto level =
      levelFor(response.status, static_cast<spdlog::level::level_enum>(success_log_level_));
  if (spdlog::should_log(level)) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    const std::string_view account = account_id.empty() ? std::string_view("-") : account_id;
    spdlog::log(level, "request id={} method={} route={} status={} problem={} account={} us={}",
                requestId(), request.method, route ? routePath(route->id).name : "-",
                response.status, problem_name.empty() ? "-" : problem_name, account, us);
  }
  if (deps_.metrics) {
    deps_.metrics->requestDone(
        route ? static_cast<std::size_t>(route->id) : ServerMetrics::kUnmatched, request.method,
        response.status, std::chrono::steady_clock::now() - started);
  }
  return response;
}

AcmeService::Task<HttpResponse> AcmeService::directory(const HttpRequest&,
                                                       std::array<std::string_view, 2>) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = directory_body_;
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::newNonce(const HttpRequest& request,
                                                      std::array<std::string_view, 2>) {
  HttpResponse r;
  // RFC 8555 §7.2: 200 for HEAD, 204 for GET; the nonce is added by finish().
  r.status = request.method == "HEAD" ? 200 : 204;
  r.addHeader("Cache-Control", "no-store");
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::healthLive(const HttpRequest&,
                                                        std::array<std::string_view, 2>) {
  if (!deps_.health) co_return core::fail(core::notFound("no such resource"));
  co_return Health::live();
}

AcmeService::Task<HttpResponse> AcmeService::healthReady(const HttpRequest&,
                                                         std::array<std::string_view, 2>) {
  if (!deps_.health) co_return core::fail(core::notFound("no such resource"));
  co_return co_await deps_.health->ready();
}

core::Result<std::shared_ptr<EVP_PKEY>> AcmeService::accountKey(const acme::Account& account) {
  {
    std::lock_guard lock(key_cache_mutex_);
    auto it = key_cache_.find(account.id);
    if (it != key_cache_.end() && it->second.jwk_json == account.jwk_json) return it->second.key;
  }
  auto jwk = core::parseStrictJsonObject(account.jwk_json);
  if (!jwk) return core::fail(core::serverInternal("stored account key is unreadable"));
  auto key = jose::publicKeyFromJwk(*jwk);
  if (!key) return core::fail(core::serverInternal("stored account key is unusable"));
  std::shared_ptr<EVP_PKEY> shared(key->release(), EVP_PKEY_free);
  std::lock_guard lock(key_cache_mutex_);
  key_cache_[account.id] = CachedKey{account.jwk_json, shared};
  return shared;
}

void AcmeService::forgetAccountKey(const std::string& account_id) {
  std::lock_guard lock(key_cache_mutex_);
  key_cache_.erase(account_id);
}

AcmeService::Task<AcmeRequest> AcmeService::authenticate(const HttpRequest& request,
                                                         const Route& route,
                                                         std::array<std::string_view, 2> ids) {
  // Media type parameters are tolerated ("application/jose+json; charset=utf-8").
  std::string_view ct = request.content_type;
  if (auto semi = ct.find(';'); semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  if (ct != kJoseJson) {
    co_return core::fail(core::makeProblem(core::ProblemType::kUnsupportedMediaType,
                                           "Content-Type must be application/jose+json"));
  }
  auto jws = jose::parseJws(request.body);
  if (!jws) co_return core::fail(jws.error());
  AcmeRequest out{request, ids, std::move(*jws), nullptr, {}, std::nullopt};
  const auto& header = out.jws.header;
  // An algorithm we cannot verify is reported as such before the key is even parsed, so a
  // client learns what to use (RFC 8555 §6.2) rather than that its key is "bad".
  const auto& algorithms = jose::supportedAlgorithms();
  if (std::find(algorithms.begin(), algorithms.end(), header.alg) == algorithms.end()) {
    const bool printable =
        header.alg.size() <= 32 && std::all_of(header.alg.begin(), header.alg.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
    core::Problem p =
        core::makeProblem(core::ProblemType::kBadSignatureAlgorithm,
                          printable ? "JWS algorithm \"" + header.alg + "\" is not supported here"
                                    : std::string("unsupported JWS algorithm"));
    p.algorithms = algorithms;
    co_return core::fail(std::move(p));
  }
  if (!header.nonce) {
    co_return core::fail(core::makeProblem(core::ProblemType::kBadNonce, "the JWS has no nonce"));
  }
  // RFC 8555 §6.4: the url is the full request URL, query included.
  if (const std::string expected = urls_.requestUrl(request.target); header.url != expected) {
    co_return core::fail(
        core::unauthorized("the JWS url does not match the request URL \"" + expected + "\""));
  }
  if (header.kid) {
    if (route.key == KeyMode::kJwk) {
      co_return core::fail(
          core::malformed("this request must be signed with a \"jwk\", not a \"kid\""));
    }
    const std::string id = urls_.accountIdFromKid(*header.kid);
    if (id.empty()) {
      co_return core::fail(core::makeProblem(core::ProblemType::kAccountDoesNotExist,
                                             "kid is not an account URL of this server"));
    }
    auto account = co_await deps_.store.getAccount(id);
    if (!account) co_return core::fail(account.error());
    if (!*account) {
      co_return core::fail(core::makeProblem(core::ProblemType::kAccountDoesNotExist,
                                             "no account " + urls_.account(id)));
    }
    auto key = accountKey(**account);
    if (!key) co_return core::fail(key.error());
    out.key = std::move(*key);
    out.requester.thumbprint = (*account)->thumbprint;
    out.requester.account = std::move(**account);
  } else {
    if (route.key == KeyMode::kKid) {
      co_return core::fail(
          core::malformed("this request must be signed with a \"kid\", not a \"jwk\""));
    }
    // RFC 7517 §4.4: a JWK that names its algorithm must be used with that one.
    if (const auto* alg = header.jwk->if_contains("alg");
        alg != nullptr && (!alg->is_string() || alg->as_string() != header.alg)) {
      core::Problem p = core::makeProblem(core::ProblemType::kBadSignatureAlgorithm,
                                          "the JWK's \"alg\" differs from the JWS algorithm");
      p.algorithms = algorithms;
      co_return core::fail(std::move(p));
    }
    auto key = jose::publicKeyFromJwk(*header.jwk);
    if (!key) co_return core::fail(key.error());
    auto tp = jose::jwkThumbprint(*header.jwk);
    if (!tp) co_return core::fail(tp.error());
    out.requester.thumbprint = std::move(*tp);
    out.key = std::shared_ptr<EVP_PKEY>(key->release(), EVP_PKEY_free);
  }
  out.requester.key = out.key.get();
  if (auto ok = jose::verifyJwsSignature(out.jws, out.key.get()); !ok) {
    // Anyone can send a bad signature: these lines are rate-limited and counted.
    deps_.audit.recordUnauthenticated(ra::AuditEvent{"auth.jws.fail", false, request.path,
                                                     out.requester.principal(), ok.error().detail});
    co_return core::fail(ok.error());
  }
  // The nonce is spent only by a correctly signed request: a forged request cannot burn a
  // client's nonce.
  if (!nonces_.consume(*header.nonce)) {
    co_return core::fail(core::makeProblem(core::ProblemType::kBadNonce,
                                           "the nonce is unknown, expired or already used"));
  }
  if (out.requester.account && out.requester.account->status != acme::AccountStatus::kValid) {
    co_return core::fail(ra::accountNotValid(out.requester.account->status));
  }
  const bool post_as_get = out.jws.isPostAsGet();
  switch (route.payload) {
    case PayloadRule::kPostAsGet:
      if (!post_as_get) {
        co_return core::fail(
            core::malformed("this resource is read with POST-as-GET (an empty payload)"));
      }
      break;
    case PayloadRule::kJsonObject:
      if (post_as_get) co_return core::fail(core::malformed("this request needs a JSON payload"));
      [[fallthrough]];
    case PayloadRule::kEither:
      if (!post_as_get) {
        auto payload = core::parseStrictJsonObject(out.jws.payload);
        if (!payload) co_return core::fail(payload.error());
        out.payload = std::move(*payload);
      }
      break;
  }
  co_return out;
}

}  // namespace akamu::server
