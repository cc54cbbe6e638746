// Challenge responses (RFC 8555 §7.5.1): the RA starts the validation; this answers with the
// challenge, waiting a few milliseconds for a validation that finishes at once.
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include "server/acme_service.hpp"
#include "server/render.hpp"

namespace akamu::server {
namespace {

// How long a challenge POST waits for the validation it started before answering
// "processing" (RFC 8555 lets the server answer with any current status).
constexpr std::chrono::milliseconds kFastPathWait{10};

}  // namespace

AcmeService::Task<HttpResponse> AcmeService::challenge(AcmeRequest& request) {
  const std::string authz_id(request.ids[0]);
  const std::string chall_id(request.ids[1]);
  // RFC 8555 §7.5.1: the client says it is ready with a JSON object (normally empty).
  const bool respond = request.payload.has_value();
  auto executor = co_await boost::asio::this_coro::executor;
  auto result =
      co_await deps_.ra.challenge(request.requester, authz_id, chall_id, respond, executor);
  if (!result) co_return core::fail(result.error());
  if (result->started) {
    co_await result->started->waitFor(kFastPathWait);
    if (result->started->finished()) {
      auto fresh =
          co_await deps_.ra.challenge(request.requester, authz_id, chall_id, false, executor);
      if (fresh) result->challenge = std::move(fresh->challenge);
    }
  }
  const acme::Challenge& c = result->challenge;
  HttpResponse r =
      json(200, renderChallenge(c, urls_, deps_.config.server.dns_persist_issuer_domains));
  r.addHeader("Link", "<" + urls_.authz(authz_id) + ">;rel=\"up\"");
  if (c.status == acme::ChallengeStatus::kProcessing) r.addHeader("Retry-After", "1");
  co_return r;
}

}  // namespace akamu::server
