#include "server/acme_service.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "core/strict_json.hpp"
#include "jose/jwk.hpp"
#include "validation/caa.hpp"

namespace akamu::server {
namespace {

constexpr std::string_view kJoseJson = "application/jose+json";
// How long a challenge POST waits for the validation it started before answering
// "processing" (RFC 8555 lets the server answer with any current status).
constexpr std::chrono::milliseconds kFastPathWait{10};

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Splits "/acme/x/a/b" after `prefix` into its segments.
std::vector<std::string> segmentsAfter(std::string_view path, std::string_view prefix) {
  std::vector<std::string> out;
  path.remove_prefix(prefix.size());
  while (!path.empty()) {
    auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) out.emplace_back();
  }
  return out;
}

bool validId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

core::Problem methodNotAllowed(std::string_view allowed) {
  return core::makeProblem(core::ProblemType::kMethodNotAllowed,
                           "method not allowed; use " + std::string(allowed));
}

}  // namespace

AcmeService::AcmeService(ServiceDeps deps, std::string base_url)
    : deps_(std::move(deps)),
      urls_(std::move(base_url)),
      nonces_(deps_.config.server.nonce_capacity) {
  boost::json::object dir;
  dir["newNonce"] = urls_.newNonce();
  dir["newAccount"] = urls_.newAccount();
  dir["newOrder"] = urls_.newOrder();
  dir["revokeCert"] = urls_.revokeCert();
  dir["keyChange"] = urls_.keyChange();
  boost::json::object meta;
  if (deps_.config.server.terms_of_service_url) {
    meta["termsOfService"] = *deps_.config.server.terms_of_service_url;
  }
  if (deps_.config.server.website_url) meta["website"] = *deps_.config.server.website_url;
  if (!deps_.config.server.caa_identities.empty()) {
    boost::json::array caa;
    for (const auto& c : deps_.config.server.caa_identities) caa.emplace_back(c);
    meta["caaIdentities"] = std::move(caa);
  }
  meta["externalAccountRequired"] = deps_.config.server.external_account_required;
  dir["meta"] = std::move(meta);
  directory_body_ = boost::json::serialize(dir);
}

HttpResponse AcmeService::json(int status, const boost::json::object& body) const {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = boost::json::serialize(body);
  return r;
}

HttpResponse AcmeService::problemResponse(const core::Problem& problem) const {
  HttpResponse r;
  r.status = core::problemHttpStatus(problem.type);
  r.content_type = "application/problem+json";
  r.body = core::problemToJson(problem);
  return r;
}

core::Status AcmeService::audit(std::string type, bool success, std::string subject,
                                std::string principal, std::string detail) {
  return deps_.audit.record(ra::AuditEvent{std::move(type), success, std::move(subject),
                                       std::move(principal), std::move(detail)});
}

boost::asio::awaitable<HttpResponse> AcmeService::handleAsync(HttpRequest request) {
  std::shared_ptr<ValidationSignal> started;
  std::shared_ptr<PendingFinalize> pending;
  auto result = co_await route(request, &started, &pending);
  if (result && pending) {
    core::Status caa;
    for (const auto& [identifier, method] : pending->caa_rechecks) {
      caa = co_await validation::checkCaa(deps_.resolver, identifier, pending->account_url, method,
                                          deps_.config.server.caa_identities);
      if (!caa) break;
    }
    if (caa) {
      result = co_await issueForOrder(pending->order, pending->csr, pending->principal);
    } else {
      result = core::fail(caa.error());
    }
  }
  if (result && started) {
    co_await started->waitFor(kFastPathWait);
    if (started->finished()) {
      auto segs = segmentsAfter(request.path, "/acme/chall/");
      auto fresh = co_await renderStoredChallenge(segs[0], segs[1]);
      if (fresh) result = std::move(*fresh);
    }
  }
  co_return finish(request, std::move(result));
}

HttpResponse AcmeService::finish(const HttpRequest& request, core::Result<HttpResponse> result) {
  HttpResponse response = result ? std::move(*result) : problemResponse(result.error());
  // Every response carries a fresh nonce (so a client can always retry after badNonce) and
  // the directory link (RFC 8555 §7.1).
  if (request.method != "GET" || request.path == "/acme/new-nonce") {
    response.addHeader("Replay-Nonce", nonces_.issue());
  }
  response.addHeader("Link", "<" + urls_.directory() + ">;rel=\"index\"");
  if (response.status == 405) {
    std::string_view allow = "POST";
    if (request.path == "/acme/new-nonce") allow = "GET, HEAD";
    if (request.path == "/acme/directory") allow = "GET, HEAD";
    if (startsWith(request.path, "/acme/cert/")) allow = "GET, POST";
    response.addHeader("Allow", std::string(allow));
  }
  return response;
}

AcmeService::Task<HttpResponse> AcmeService::route(const HttpRequest& request,
                                                   std::shared_ptr<ValidationSignal>* started,
                                                   std::shared_ptr<PendingFinalize>* pending) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  const bool post = method == "POST";

  if (path == "/acme/directory") {
    if (method != "GET" && method != "HEAD") co_return core::fail(methodNotAllowed("GET"));
    co_return directory();
  }
  if (path == "/acme/new-nonce") {
    if (method == "HEAD" || method == "GET") {
      HttpResponse r;
      r.status = method == "HEAD" ? 200 : 204;
      r.addHeader("Cache-Control", "no-store");
      co_return r;
    }
    co_return core::fail(methodNotAllowed("HEAD or GET"));
  }
  if (startsWith(path, "/acme/cert/")) {
    auto segs = segmentsAfter(path, "/acme/cert/");
    if (segs.size() != 1 || !validId(segs[0]))
      co_return core::fail(core::notFound("no such certificate"));
    if (method != "GET" && !post) co_return core::fail(methodNotAllowed("GET or POST"));
    co_return co_await certificate(request, segs[0]);
  }
  if (!startsWith(path, "/acme/")) co_return core::fail(core::notFound("no such resource"));
  if (!post) {
    co_return core::fail(
        methodNotAllowed("POST (RFC 8555 resources other than the directory, "
                         "nonces and certificates are POST-only)"));
  }
  if (path == "/acme/new-account") co_return co_await newAccount(request);
  if (path == "/acme/new-order") co_return co_await newOrder(request);
  if (path == "/acme/revoke-cert") co_return co_await revokeCert(request);
  if (path == "/acme/key-change") co_return co_await keyChange(request);
  if (startsWith(path, "/acme/account/")) {
    auto segs = segmentsAfter(path, "/acme/account/");
    if (segs.size() == 1 && validId(segs[0])) co_return co_await account(request, segs[0]);
    if (segs.size() == 2 && validId(segs[0]) && segs[1] == "orders") {
      co_return co_await accountOrders(request, segs[0]);
    }
    co_return core::fail(core::notFound("no such account resource"));
  }
  if (startsWith(path, "/acme/order/")) {
    auto segs = segmentsAfter(path, "/acme/order/");
    if (segs.size() == 1 && validId(segs[0])) co_return co_await order(request, segs[0]);
    if (segs.size() == 2 && validId(segs[0]) && segs[1] == "finalize") {
      co_return co_await finalize(request, segs[0], pending);
    }
    co_return core::fail(core::notFound("no such order resource"));
  }
  if (startsWith(path, "/acme/authz/")) {
    auto segs = segmentsAfter(path, "/acme/authz/");
    if (segs.size() == 1 && validId(segs[0])) co_return co_await authorization(request, segs[0]);
    co_return core::fail(core::notFound("no such authorization"));
  }
  if (startsWith(path, "/acme/chall/")) {
    auto segs = segmentsAfter(path, "/acme/chall/");
    if (segs.size() == 2 && validId(segs[0]) && validId(segs[1])) {
      co_return co_await challenge(request, segs[0], segs[1], started);
    }
    co_return core::fail(core::notFound("no such challenge"));
  }
  co_return core::fail(core::notFound("no such resource"));
}

HttpResponse AcmeService::directory() const {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = directory_body_;
  return r;
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

AcmeService::Task<AcmeService::Authenticated> AcmeService::authenticate(const HttpRequest& request,
                                                                        KeyMode mode) {
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
  Authenticated out;
  out.jws = std::move(*jws);
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
  if (!header.nonce)
    co_return core::fail(core::makeProblem(core::ProblemType::kBadNonce, "the JWS has no nonce"));
  if (header.url != urls_.requestUrl(request.path)) {
    co_return core::fail(core::unauthorized("the JWS url \"" + header.url +
                                            "\" does not match the request URL \"" +
                                            urls_.requestUrl(request.path) + "\""));
  }
  if (header.kid) {
    if (mode == KeyMode::kJwk) {
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
      co_return core::fail(
          core::makeProblem(core::ProblemType::kAccountDoesNotExist, "no account " + *header.kid));
    }
    auto key = accountKey(**account);
    if (!key) co_return core::fail(key.error());
    out.key = std::move(*key);
    out.account = std::move(**account);
    out.thumbprint = out.account->thumbprint;
  } else {
    if (mode == KeyMode::kKid) {
      co_return core::fail(
          core::malformed("this request must be signed with a \"kid\", not a \"jwk\""));
    }
    auto key = jose::publicKeyFromJwk(*header.jwk);
    if (!key) co_return core::fail(key.error());
    auto tp = jose::jwkThumbprint(*header.jwk);
    if (!tp) co_return core::fail(tp.error());
    out.thumbprint = std::move(*tp);
    out.key = std::shared_ptr<EVP_PKEY>(key->release(), EVP_PKEY_free);
  }
  if (auto ok = jose::verifyJwsSignature(out.jws, out.key.get()); !ok) {
    (void)audit("auth.jws.fail", false, request.path, "acme:" + out.thumbprint, ok.error().detail);
    co_return core::fail(ok.error());
  }
  // The nonce is spent only by a correctly signed request: a forged request cannot burn a
  // client's nonce.
  if (!nonces_.consume(*header.nonce)) {
    co_return core::fail(core::makeProblem(core::ProblemType::kBadNonce,
                                           "the nonce is unknown, expired or already used"));
  }
  if (out.account && out.account->status != acme::AccountStatus::kValid) {
    co_return core::fail(
        core::unauthorized("account is " + std::string(acme::toString(out.account->status))));
  }
  co_return out;
}

}  // namespace akamu::server
