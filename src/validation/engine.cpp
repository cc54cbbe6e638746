#include "validation/engine.hpp"

#include <fmt/format.h>

#include <algorithm>

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

class Http01Validator final : public Validator {
 public:
  Http01Validator(Resolver& resolver, const ValidationSettings& settings)
      : resolver_(resolver), settings_(settings) {}
  asio::awaitable<core::Status> validate(const ValidationRequest& request,
                                         Deadline deadline) override {
    Http01Settings http = settings_.http;
    http.timeout = std::min(http.timeout, timeLeft(deadline));
    co_return co_await validateHttp01(resolver_, request.identifier, request.token,
                                      request.key_authorization, http);
  }

 private:
  Resolver& resolver_;
  const ValidationSettings& settings_;
};

class TlsAlpn01Validator final : public Validator {
 public:
  TlsAlpn01Validator(Resolver& resolver, const ValidationSettings& settings)
      : resolver_(resolver), settings_(settings) {}
  asio::awaitable<core::Status> validate(const ValidationRequest& request,
                                         Deadline deadline) override {
    TlsAlpnSettings tls = settings_.tls;
    tls.timeout = std::min(tls.timeout, timeLeft(deadline));
    co_return co_await validateTlsAlpn01(resolver_, request.identifier, request.key_authorization,
                                         tls);
  }

 private:
  Resolver& resolver_;
  const ValidationSettings& settings_;
};

class Dns01Validator final : public Validator {
 public:
  explicit Dns01Validator(Resolver& resolver) : resolver_(resolver) {}
  asio::awaitable<core::Status> validate(const ValidationRequest& request,
                                         Deadline deadline) override {
    co_return co_await lookupsWithin(
        validateDns01(resolver_, request.identifier, request.key_authorization), deadline,
        request.identifier, "the dns-01 TXT lookup");
  }

 private:
  Resolver& resolver_;
};

// dns-persist-01 sees the identifier as ordered: a wildcard's record must say policy=wildcard.
class DnsPersist01Validator final : public Validator {
 public:
  DnsPersist01Validator(Resolver& resolver, const ValidationSettings& settings)
      : resolver_(resolver), settings_(settings) {}
  asio::awaitable<core::Status> validate(const ValidationRequest& request,
                                         Deadline deadline) override {
    const core::Identifier as_ordered = asOrdered(request);
    co_return co_await lookupsWithin(
        validateDnsPersist01(resolver_, as_ordered, request.account_url,
                             settings_.dns_persist_issuer_domains, request.now),
        deadline, as_ordered, "the dns-persist-01 TXT lookup");
  }

 private:
  Resolver& resolver_;
  const ValidationSettings& settings_;
};

}  // namespace

ValidationEngine::ValidationEngine(Resolver& resolver, Resolver& persist_resolver,
                                   ValidationSettings settings)
    : resolver_(resolver), settings_(std::move(settings)) {
  validators_.resize(std::size(kAllTypes));
  for (const auto type : kAllTypes) {
    std::unique_ptr<Validator> v;
    switch (type) {
      case acme::ChallengeType::kHttp01:
        v = std::make_unique<Http01Validator>(resolver_, settings_);
        break;
      case acme::ChallengeType::kDns01:
        v = std::make_unique<Dns01Validator>(resolver_);
        break;
      case acme::ChallengeType::kTlsAlpn01:
        v = std::make_unique<TlsAlpn01Validator>(resolver_, settings_);
        break;
      case acme::ChallengeType::kDnsPersist01:
        v = std::make_unique<DnsPersist01Validator>(persist_resolver, settings_);
        break;
    }
    validators_[static_cast<std::size_t>(type)] = std::move(v);
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
