#include "validation/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "validation/caa.hpp"
#include "validation/deadline.hpp"
#include "validation/dns01.hpp"
#include "validation/dns_persist01.hpp"
#include "validation/identifier_problem.hpp"

namespace akamu::validation {
namespace asio = boost::asio;

namespace {

constexpr acme::ChallengeType kAllTypes[] = {
    acme::ChallengeType::kHttp01, acme::ChallengeType::kDns01, acme::ChallengeType::kTlsAlpn01,
    acme::ChallengeType::kDnsPersist01};

std::chrono::milliseconds timeLeft(Deadline deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()));
}

// `work` (DNS lookups only) abandoned at `deadline`: the lookups are cancelled (the Resolver
// honours cancellation) and the outcome is a `dns` problem about `identifier`. The methods that
// connect (http-01, tls-alpn-01) bound their own waits instead, for precise problems.
asio::awaitable<core::Status> lookupsWithin(asio::awaitable<core::Status> work, Deadline deadline,
                                            core::Identifier identifier, std::string what) {
  auto outcome = co_await untilDeadline(std::move(work), deadline);
  if (outcome) co_return std::move(*outcome);
  co_return core::fail(identifierProblem(
      core::ProblemType::kDns, identifier,
      fmt::format("DNS problem: {} for {} did not complete within the validation time", what,
                  identifier.value)));
}

core::Identifier asOrdered(const ValidationRequest& request) {
  core::Identifier id = request.identifier;
  if (request.wildcard) id.value = "*." + id.value;
  return id;
}

// A challenge method as a Validator. The methods are plain functions taking everything by
// value, so the function here only picks the arguments (no coroutine lambda, no capture that
// an awaitable could outlive: the engine owns the validators and outlives their calls).
class MethodValidator final : public Validator {
 public:
  using Method = std::function<asio::awaitable<core::Status>(const ValidationRequest&, Deadline)>;
  explicit MethodValidator(Method method) : method_(std::move(method)) {}
  asio::awaitable<core::Status> validate(const ValidationRequest& request,
                                         Deadline deadline) override {
    return method_(request, deadline);
  }

 private:
  Method method_;
};

}  // namespace

ValidationEngine::ValidationEngine(Resolver& resolver, Resolver& persist_resolver,
                                   ValidationSettings settings)
    : resolver_(resolver), settings_(std::move(settings)) {
  // http-01 and tls-alpn-01 bound their own waits (capped by what is left of the deadline),
  // for precise problems; the DNS methods are bounded here.
  Resolver* dns = &resolver_;
  Resolver* persist = &persist_resolver;
  const ValidationSettings* cfg = &settings_;
  validators_.resize(std::size(kAllTypes));
  for (const auto type : kAllTypes) {
    MethodValidator::Method method;
    switch (type) {
      case acme::ChallengeType::kHttp01:
        method = [dns, cfg](const ValidationRequest& r, Deadline deadline) {
          Http01Settings http = cfg->http;
          http.timeout = std::min(http.timeout, timeLeft(deadline));
          return validateHttp01(*dns, r.identifier, r.token, r.key_authorization, http);
        };
        break;
      case acme::ChallengeType::kDns01:
        method = [dns](const ValidationRequest& r, Deadline deadline) {
          return lookupsWithin(validateDns01(*dns, r.identifier, r.key_authorization), deadline,
                               r.identifier, "the dns-01 TXT lookup");
        };
        break;
      case acme::ChallengeType::kTlsAlpn01:
        method = [dns, cfg](const ValidationRequest& r, Deadline deadline) {
          TlsAlpnSettings tls = cfg->tls;
          tls.timeout = std::min(tls.timeout, timeLeft(deadline));
          return validateTlsAlpn01(*dns, r.identifier, r.key_authorization, tls);
        };
        break;
      case acme::ChallengeType::kDnsPersist01:
        // The identifier as ordered: a wildcard's record must say policy=wildcard.
        method = [persist, cfg](const ValidationRequest& r, Deadline deadline) {
          const core::Identifier as_ordered = asOrdered(r);
          return lookupsWithin(validateDnsPersist01(*persist, as_ordered, r.account_url,
                                                    cfg->dns_persist_issuer_domains, r.now),
                               deadline, as_ordered, "the dns-persist-01 TXT lookup");
        };
        break;
    }
    validators_[static_cast<std::size_t>(type)] =
        std::make_unique<MethodValidator>(std::move(method));
  }
}

ValidationEngine::~ValidationEngine() = default;

asio::awaitable<core::Status> ValidationEngine::validate(ValidationRequest request) {
  const core::Identifier identifier = request.identifier;
  core::Status outcome;
  bool threw = false;
  try {
    outcome = co_await validateOrThrow(std::move(request));
  } catch (...) {
    threw = true;  // answered below: no co_await inside a handler
  }
  if (threw) {
    // The exception's text stays here: internal details do not reach the client.
    outcome = core::fail(aboutIdentifier(
        core::serverInternal("internal error while validating " + identifier.value), identifier));
  }
  co_return outcome;
}

asio::awaitable<core::Status> ValidationEngine::validateOrThrow(ValidationRequest request) {
  const Deadline deadline = std::chrono::steady_clock::now() + settings_.timeout;
  const auto index = static_cast<std::size_t>(request.type);
  if (index >= validators_.size() || !validators_[index]) {
    co_return core::fail(core::serverInternal("no validator for this challenge type"));
  }
  core::Status outcome = co_await validators_[index]->validate(request, deadline);
  if (outcome && !settings_.caa_identities.empty() && request.identifier.type == "dns") {
    // RFC 8659 §3 allows the check at validation time; the wildcard's "*." selects issuewild.
    outcome = co_await caaWithin(asOrdered(request), request.account_url, request.type, deadline);
  }
  co_return outcome;
}

asio::awaitable<core::Status> ValidationEngine::recheckCaa(core::Identifier identifier_as_ordered,
                                                           std::string account_url,
                                                           acme::ChallengeType method) {
  const core::Identifier identifier = identifier_as_ordered;
  core::Status outcome;
  bool threw = false;
  try {
    outcome = co_await caaWithin(std::move(identifier_as_ordered), std::move(account_url), method,
                                 std::chrono::steady_clock::now() + settings_.timeout);
  } catch (...) {
    threw = true;
  }
  if (threw) {
    outcome = core::fail(aboutIdentifier(
        core::serverInternal("internal error while checking CAA for " + identifier.value),
        identifier));
  }
  co_return outcome;
}

asio::awaitable<core::Status> ValidationEngine::caaWithin(core::Identifier identifier_as_ordered,
                                                          std::string account_url,
                                                          acme::ChallengeType method,
                                                          Deadline deadline) {
  if (settings_.caa_identities.empty() || identifier_as_ordered.type != "dns") {
    co_return core::Status{};
  }
  const core::Identifier identifier = identifier_as_ordered;
  co_return co_await lookupsWithin(
      checkCaa(resolver_, std::move(identifier_as_ordered), std::move(account_url),
               acme::toString(method), settings_.caa_identities),
      deadline, identifier, "the CAA lookups");
}

}  // namespace akamu::validation
