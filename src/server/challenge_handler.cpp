// Challenge responses and their validation (RFC 8555 §7.5.1, §8.3).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include "core/strict_json.hpp"
#include "jose/jwk.hpp"
#include "server/acme_service.hpp"
#include "server/render.hpp"
#include "validation/caa.hpp"
#include "validation/dns01.hpp"
#include "validation/dns_persist01.hpp"
#include "validation/http01.hpp"
#include "validation/tls_alpn01.hpp"

namespace akamu::server {

AcmeService::Task<HttpResponse> AcmeService::challenge(const HttpRequest& request,
                                                       const std::string& authz_id,
                                                       const std::string& chall_id,
                                                       std::shared_ptr<ValidationSignal>* started) {
  auto auth = co_await authenticate(request, KeyMode::kKid);
  if (!auth) co_return core::fail(auth.error());
  auto authz = co_await deps_.store.getAuthorization(authz_id);
  if (!authz) co_return core::fail(authz.error());
  if (!*authz) co_return core::fail(core::notFound("no such challenge"));
  acme::Authorization& a = **authz;
  if (a.account_id != auth->account->id) {
    co_return core::fail(core::unauthorized("the challenge belongs to another account"));
  }
  auto it = std::find_if(a.challenges.begin(), a.challenges.end(),
                         [&](const acme::Challenge& c) { return c.id == chall_id; });
  if (it == a.challenges.end()) co_return core::fail(core::notFound("no such challenge"));
  acme::Challenge c = *it;

  if (!auth->jws.isPostAsGet()) {
    // RFC 8555 §7.5.1: the client says it is ready with an empty JSON object.
    auto payload = core::parseStrictJsonObject(auth->jws.payload);
    if (!payload) co_return core::fail(payload.error());
    if (c.status == acme::ChallengeStatus::kPending) {
      if (a.status != acme::AuthzStatus::kPending) {
        co_return core::fail(
            core::malformed("the authorization is " + std::string(acme::toString(a.status))));
      }
      if (deps_.clock.now() >= a.expires) {
        co_return core::fail(core::malformed("the authorization has expired"));
      }
      acme::Challenge processing = c;
      processing.status = acme::ChallengeStatus::kProcessing;
      auto claimed =
          co_await deps_.store.updateChallengeIfStatus(processing, acme::ChallengeStatus::kPending);
      if (!claimed) co_return core::fail(claimed.error());
      if (*claimed) {
        c = processing;
        auto signal =
            startValidation(a, c, jose::keyAuthorization(c.token, auth->account->thumbprint),
                            co_await boost::asio::this_coro::executor);
        if (started != nullptr) *started = std::move(signal);
      } else {
        auto fresh = co_await deps_.store.getAuthorization(authz_id);
        if (fresh && *fresh) {
          for (const auto& fc : (*fresh)->challenges)
            if (fc.id == chall_id) c = fc;
        }
      }
    }
  }
  HttpResponse r =
      json(200, renderChallenge(c, urls_, deps_.config.server.dns_persist_issuer_domains));
  r.addHeader("Link", "<" + urls_.authz(a.id) + ">;rel=\"up\"");
  if (c.status == acme::ChallengeStatus::kProcessing) r.addHeader("Retry-After", "1");
  co_return r;
}

AcmeService::Task<HttpResponse> AcmeService::renderStoredChallenge(const std::string& authz_id,
                                                                   const std::string& chall_id) {
  auto authz = co_await deps_.store.getAuthorization(authz_id);
  if (!authz) co_return core::fail(authz.error());
  if (!*authz) co_return core::fail(core::notFound("no such challenge"));
  for (const auto& c : (*authz)->challenges) {
    if (c.id != chall_id) continue;
    HttpResponse r =
        json(200, renderChallenge(c, urls_, deps_.config.server.dns_persist_issuer_domains));
    r.addHeader("Link", "<" + urls_.authz(authz_id) + ">;rel=\"up\"");
    if (c.status == acme::ChallengeStatus::kProcessing) r.addHeader("Retry-After", "1");
    co_return r;
  }
  co_return core::fail(core::notFound("no such challenge"));
}

namespace {

// Everything one validation needs, by value: it outlives the request that started it.
struct ValidationJob {
  std::string type;
  core::Identifier identifier;  // the authorization's (a wildcard's base domain)
  bool wildcard = false;
  std::string token;
  std::string key_authorization;
  std::string account_url;
  validation::Http01Settings http;
  validation::TlsAlpnSettings tls;
  std::vector<std::string> issuer_domains;
  std::vector<std::string> caa_identities;
  validation::Resolver* resolver = nullptr;
  validation::Resolver* persist_resolver = nullptr;
  core::TimePoint now{};
};

// Proves control with the chosen challenge, then (when the CA has CAA identities) checks CAA
// for the name, with the validation method and account the records may restrict
// (RFC 8659, RFC 8657). CAA is checked here, at validation time, as RFC 8659 §3 permits.
boost::asio::awaitable<core::Status> runValidation(ValidationJob job) {
  core::Identifier as_ordered = job.identifier;
  if (job.wildcard) as_ordered.value = "*." + job.identifier.value;
  core::Status outcome;
  if (job.type == "http-01") {
    outcome = co_await validation::validateHttp01(job.identifier, job.token, job.key_authorization,
                                                  job.http);
  } else if (job.type == "dns-01") {
    outcome =
        co_await validation::validateDns01(*job.resolver, job.identifier, job.key_authorization);
  } else if (job.type == "tls-alpn-01") {
    outcome =
        co_await validation::validateTlsAlpn01(job.identifier, job.key_authorization, job.tls);
  } else if (job.type == "dns-persist-01") {
    outcome = co_await validation::validateDnsPersist01(
        *job.persist_resolver, as_ordered, job.account_url, job.issuer_domains, job.now);
  } else {
    outcome = core::fail(core::serverInternal("unknown challenge type " + job.type));
  }
  if (outcome && !job.caa_identities.empty() && job.identifier.type == "dns") {
    outcome = co_await validation::checkCaa(*job.resolver, as_ordered, job.account_url, job.type,
                                            job.caa_identities);
  }
  co_return outcome;
}

}  // namespace

std::shared_ptr<ValidationSignal> AcmeService::startValidation(
    const acme::Authorization& authz, const acme::Challenge& challenge,
    const std::string& key_authorization, const boost::asio::any_io_executor& executor) {
  auto signal = std::make_shared<ValidationSignal>(executor);
  const auto& cfg = deps_.config.server;
  ValidationJob job;
  job.type = challenge.type;
  job.identifier = authz.identifier;
  job.wildcard = authz.wildcard;
  job.token = challenge.token;
  job.key_authorization = key_authorization;
  job.account_url = urls_.account(authz.account_id);
  job.http.port = static_cast<std::uint16_t>(cfg.http_validation_port);
  job.http.allow_private_ips = cfg.http_validation_allow_private_ips;
  job.http.timeout = std::chrono::seconds(cfg.validation_timeout_secs);
  job.tls.port = static_cast<std::uint16_t>(cfg.tls_alpn_validation_port);
  job.tls.allow_private_ips = cfg.http_validation_allow_private_ips;
  job.tls.timeout = std::chrono::seconds(cfg.validation_timeout_secs);
  job.issuer_domains = cfg.dns_persist_issuer_domains;
  job.caa_identities = cfg.caa_identities;
  job.resolver = &deps_.resolver;
  job.persist_resolver = &deps_.persist_resolver;
  job.now = deps_.clock.now();
  std::string principal = "acme:" + key_authorization.substr(key_authorization.find('.') + 1);
  boost::asio::co_spawn(executor,
                        completeValidation(runValidation(std::move(job)), authz.id, challenge.id,
                                           std::move(principal), signal),
                        boost::asio::detached);
  return signal;
}

boost::asio::awaitable<void> AcmeService::completeValidation(
    boost::asio::awaitable<core::Status> validation, std::string authz_id, std::string challenge_id,
    std::string principal, std::shared_ptr<ValidationSignal> signal) {
  core::Status outcome;
  bool threw = false;
  try {
    outcome = co_await std::move(validation);
  } catch (...) {
    threw = true;  // recorded below: no co_await inside a handler
  }
  if (threw) outcome = core::fail(core::serverInternal("validation failed unexpectedly"));
  co_await finishValidation(authz_id, challenge_id, outcome, principal);
  signal->notify();
}

boost::asio::awaitable<void> AcmeService::finishValidation(const std::string& authz_id,
                                                           const std::string& challenge_id,
                                                           const core::Status& outcome,
                                                           const std::string& principal) {
  auto authz = co_await deps_.store.getAuthorization(authz_id);
  if (!authz || !*authz) co_return;
  acme::Authorization a = std::move(**authz);
  for (auto& c : a.challenges) {
    if (c.id != challenge_id) continue;
    if (outcome) {
      c.status = acme::ChallengeStatus::kValid;
      c.validated = deps_.clock.now();
    } else {
      c.status = acme::ChallengeStatus::kInvalid;
      c.error = outcome.error();
    }
  }
  const bool ok = static_cast<bool>(outcome);
  a.status = ok ? acme::AuthzStatus::kValid : acme::AuthzStatus::kInvalid;
  (void)audit(ok ? "auth.challenge.ok" : "auth.challenge.fail", ok,
              urls_.challenge(authz_id, challenge_id), principal,
              a.identifier.type + ":" + a.identifier.value +
                  (ok ? std::string() : " " + outcome.error().detail));
  auto stored = co_await deps_.store.updateAuthorization(a);
  if (!stored) co_return;
  // Move the order on now, so that a client polling it sees "ready" without another step.
  auto order = co_await deps_.store.getOrder(a.order_id);
  if (order && *order) (void)co_await refreshOrder(deps_.store, std::move(**order));
}

}  // namespace akamu::server
