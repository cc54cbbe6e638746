// Challenge responses and their validation (RFC 8555 §7.5.1, §8.3).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include "core/strict_json.hpp"
#include "jose/jwk.hpp"
#include "server/acme_service.hpp"
#include "server/render.hpp"
#include "validation/http01.hpp"

namespace akamu::server {

core::Result<HttpResponse> AcmeService::challenge(const HttpRequest& request,
                                                  const std::string& authz_id,
                                                  const std::string& chall_id,
                                                  std::shared_ptr<ValidationSignal>* started) {
  auto auth = authenticate(request, KeyMode::kKid);
  if (!auth) return core::fail(auth.error());
  auto authz = deps_.store.getAuthorization(authz_id);
  if (!authz) return core::fail(authz.error());
  if (!*authz) return core::fail(core::notFound("no such challenge"));
  acme::Authorization& a = **authz;
  if (a.account_id != auth->account->id) {
    return core::fail(core::unauthorized("the challenge belongs to another account"));
  }
  auto it = std::find_if(a.challenges.begin(), a.challenges.end(),
                         [&](const acme::Challenge& c) { return c.id == chall_id; });
  if (it == a.challenges.end()) return core::fail(core::notFound("no such challenge"));
  acme::Challenge c = *it;

  if (!auth->jws.isPostAsGet()) {
    // RFC 8555 §7.5.1: the client says it is ready with an empty JSON object.
    auto payload = core::parseStrictJsonObject(auth->jws.payload);
    if (!payload) return core::fail(payload.error());
    if (c.status == acme::ChallengeStatus::kPending) {
      if (a.status != acme::AuthzStatus::kPending) {
        return core::fail(
            core::malformed("the authorization is " + std::string(acme::toString(a.status))));
      }
      if (deps_.clock.now() >= a.expires) {
        return core::fail(core::malformed("the authorization has expired"));
      }
      acme::Challenge processing = c;
      processing.status = acme::ChallengeStatus::kProcessing;
      auto claimed =
          deps_.store.updateChallengeIfStatus(processing, acme::ChallengeStatus::kPending);
      if (!claimed) return core::fail(claimed.error());
      if (*claimed) {
        c = processing;
        auto signal =
            startValidation(a, c, jose::keyAuthorization(c.token, auth->account->thumbprint));
        if (started != nullptr) *started = std::move(signal);
      } else if (auto fresh = deps_.store.getAuthorization(authz_id); fresh && *fresh) {
        for (const auto& fc : (*fresh)->challenges)
          if (fc.id == chall_id) c = fc;
      }
    }
  }
  HttpResponse r = json(200, renderChallenge(c, urls_));
  r.addHeader("Link", "<" + urls_.authz(a.id) + ">;rel=\"up\"");
  if (c.status == acme::ChallengeStatus::kProcessing) r.addHeader("Retry-After", "1");
  return r;
}

core::Result<HttpResponse> AcmeService::renderStoredChallenge(const std::string& authz_id,
                                                              const std::string& chall_id) {
  auto authz = deps_.store.getAuthorization(authz_id);
  if (!authz) return core::fail(authz.error());
  if (!*authz) return core::fail(core::notFound("no such challenge"));
  for (const auto& c : (*authz)->challenges) {
    if (c.id != chall_id) continue;
    HttpResponse r = json(200, renderChallenge(c, urls_));
    r.addHeader("Link", "<" + urls_.authz(authz_id) + ">;rel=\"up\"");
    if (c.status == acme::ChallengeStatus::kProcessing) r.addHeader("Retry-After", "1");
    return r;
  }
  return core::fail(core::notFound("no such challenge"));
}

std::shared_ptr<ValidationSignal> AcmeService::startValidation(
    const acme::Authorization& authz, const acme::Challenge& challenge,
    const std::string& key_authorization) {
  auto signal = std::make_shared<ValidationSignal>(deps_.validation_executor);
  validation::Http01Settings settings;
  settings.port = static_cast<std::uint16_t>(deps_.config.server.http_validation_port);
  settings.allow_private_ips = deps_.config.server.http_validation_allow_private_ips;
  settings.timeout = std::chrono::seconds(deps_.config.server.validation_timeout_secs);
  std::string principal = "acme:" + key_authorization.substr(key_authorization.find('.') + 1);
  boost::asio::co_spawn(
      deps_.validation_executor,
      validation::validateHttp01(authz.identifier, challenge.token, key_authorization, settings),
      [this, authz_id = authz.id, chall_id = challenge.id, principal, signal](
          std::exception_ptr error, core::Status outcome) {
        if (error) {
          outcome = core::fail(core::serverInternal("validation failed unexpectedly"));
        }
        finishValidation(authz_id, chall_id, outcome, principal);
        signal->notify();
      });
  return signal;
}

void AcmeService::finishValidation(const std::string& authz_id, const std::string& challenge_id,
                                   const core::Status& outcome, const std::string& principal) {
  auto authz = deps_.store.getAuthorization(authz_id);
  if (!authz || !*authz) return;
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
  if (!deps_.store.updateAuthorization(a)) return;
  // Move the order on now, so that a client polling it sees "ready" without another step.
  if (auto order = deps_.store.getOrder(a.order_id); order && *order) {
    (void)refreshOrder(std::move(**order));
  }
}

}  // namespace akamu::server
