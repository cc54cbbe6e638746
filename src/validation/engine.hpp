#pragma once
// The validation authority (VA): one validator per challenge type behind one interface, every
// name lookup through the Resolver seam (configured upstream or the system's nameservers and
// /etc/hosts, DNSSEC, timeouts that cancel), one resolve-and-filter step for the SSRF policy.
// The registration authority calls only this; it never names a validator.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "acme/challenge_type.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "validation/http01.hpp"
#include "validation/resolver.hpp"
#include "validation/tls_alpn01.hpp"

namespace akamu::validation {

// Everything one validation needs, by value: it outlives the request that started it.
struct ValidationRequest {
  acme::ChallengeType type = acme::ChallengeType::kHttp01;
  core::Identifier identifier;  // the authorization's (a wildcard's base domain)
  bool wildcard = false;
  std::string token;              // empty for dns-persist-01
  std::string key_authorization;  // token "." account thumbprint
  std::string account_url;        // RFC 8657 accounturi, dns-persist-01's account binding
  core::TimePoint now{};
};

struct ValidationSettings {
  Http01Settings http;  // its timeout is capped by `timeout`
  TlsAlpnSettings tls;  // its timeout is capped by `timeout`
  std::vector<std::string> dns_persist_issuer_domains;
  std::vector<std::string> caa_identities;  // empty: no CAA checks
  // The whole of one validate() (the challenge and its CAA check) or recheckCaa(): every
  // lookup, connect and read is abandoned when it runs out (validation_timeout_secs).
  std::chrono::milliseconds timeout{10000};
};

// One challenge method. `deadline` is when the validation's time runs out; a validator's
// every wait ends by then.
class Validator {
 public:
  virtual ~Validator() = default;
  virtual boost::asio::awaitable<core::Status> validate(
      const ValidationRequest& request, std::chrono::steady_clock::time_point deadline) = 0;
};

class ValidationEngine {
 public:
  // `resolver` serves every lookup (http-01 and tls-alpn-01 targets, dns-01 TXT, CAA);
  // `persist_resolver` serves dns-persist-01's TXT lookups (it may be the same object).
  ValidationEngine(Resolver& resolver, Resolver& persist_resolver, ValidationSettings settings);
  virtual ~ValidationEngine();
  ValidationEngine(const ValidationEngine&) = delete;  // the validators refer to settings_
  ValidationEngine& operator=(const ValidationEngine&) = delete;

  // Proves control with the request's challenge type, then, when the CA has CAA identities
  // and the identifier is a DNS name, checks CAA for it (RFC 8659 §3 allows the check at
  // validation time). Never throws; failures are problems that name the identifier.
  virtual boost::asio::awaitable<core::Status> validate(ValidationRequest request);

  // CAA again, for a finalize whose earlier check is older than RFC 8659 §3 allows.
  // `identifier_as_ordered` keeps a wildcard's "*." prefix. Without caa_identities, or for an
  // IP identifier, there is nothing to check and it succeeds. Never throws.
  virtual boost::asio::awaitable<core::Status> recheckCaa(core::Identifier identifier_as_ordered,
                                                          std::string account_url,
                                                          acme::ChallengeType method);

  const ValidationSettings& settings() const { return settings_; }

 private:
  boost::asio::awaitable<core::Status> validateOrThrow(ValidationRequest request);
  boost::asio::awaitable<core::Status> caaWithin(core::Identifier identifier_as_ordered,
                                                 std::string account_url,
                                                 acme::ChallengeType method,
                                                 std::chrono::steady_clock::time_point deadline);

  Resolver& resolver_;
  ValidationSettings settings_;
  std::vector<std::unique_ptr<Validator>> validators_;  // indexed by ChallengeType
};

}  // namespace akamu::validation
