#pragma once
// ACME problem documents (RFC 8555 §6.7). This is the one place where problem types map to
// their URNs and HTTP statuses; every module reports failures as a Problem value.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace akamu::core {

enum class ProblemType {
  kAccountDoesNotExist,
  kAlreadyReplaced,
  kAlreadyRevoked,
  kBadCsr,
  kBadNonce,
  kBadPublicKey,
  kBadRevocationReason,
  kBadSignatureAlgorithm,
  kCaa,
  kCompound,
  kConnection,
  kDns,
  kExternalAccountRequired,
  kIncorrectResponse,
  kInvalidProfile,  // draft-ietf-acme-profiles
  kInvalidContact,
  kMalformed,
  kOrderNotReady,
  kRateLimited,
  kRejectedIdentifier,
  kServerInternal,
  kTls,
  kUnauthorized,
  kUnsupportedContact,
  kUnsupportedIdentifier,
  kUserActionRequired,
  // RFC 8739 §3.1.2, §3.3, §6 (STAR).
  kAutoRenewalCanceled,
  kAutoRenewalExpired,
  kAutoRenewalCancellationInvalid,
  kAutoRenewalRevocationNotSupported,
  // Not ACME URNs: plain HTTP failures that still get a problem+json body.
  kNotFound,
  kMethodNotAllowed,
  kUnsupportedMediaType,
  kPayloadTooLarge,
  kServiceUnavailable,
  kConflict,
};

struct Identifier {
  std::string type;  // "dns" or "ip"
  std::string value;
  bool operator==(const Identifier&) const = default;
};

struct Subproblem {
  ProblemType type;
  std::string detail;
  std::optional<Identifier> identifier;
  // The HTTP status when RFC 8555 names one other than the type's usual one (0 = the type's):
  // a request from a deactivated account is `unauthorized` with 401 (§7.3.6), not 403.
  int status = 0;
};

struct Problem {
  ProblemType type = ProblemType::kServerInternal;
  std::string detail;
  std::vector<Subproblem> subproblems;
  // For badSignatureAlgorithm: the algorithms we accept (RFC 8555 §6.2).
  std::vector<std::string> algorithms;
  std::optional<Identifier> identifier;
  // The HTTP status when RFC 8555 names one other than the type's usual one (0 = the type's):
  // a request from a deactivated account is `unauthorized` with 401 (§7.3.6), not 403.
  int status = 0;
  // rateLimited (RFC 8555 §6.6): whole seconds for the Retry-After header (0 = none) and the
  // documentation URL for its Link rel="help" header (empty = none). Headers, not body.
  std::int64_t retry_after_secs = 0;
  std::string help_url;
};

// "urn:ietf:params:acme:error:malformed", or "about:blank" for the plain HTTP ones.
std::string_view problemTypeUri(ProblemType type);
int problemHttpStatus(ProblemType type);
// The status this problem is answered with: its own, else its type's.
inline int problemHttpStatus(const Problem& problem) {
  return problem.status != 0 ? problem.status : problemHttpStatus(problem.type);
}
// The application/problem+json body, with "status".
std::string problemToJson(const Problem& problem);

inline Problem makeProblem(ProblemType type, std::string detail) {
  return Problem{type, std::move(detail), {}, {}, {}};
}
inline Problem malformed(std::string detail) {
  return makeProblem(ProblemType::kMalformed, std::move(detail));
}
// RFC 8555 §6.6: 429 rateLimited, answered with Retry-After and Link rel="help".
Problem rateLimited(std::string detail, std::int64_t retry_after_secs, std::string help_url);
// RFC 8555 §7.3.6: requests signed by a deactivated (or revoked) account's key.
Problem accountNotValid(std::string detail);
inline Problem unauthorized(std::string detail) {
  return makeProblem(ProblemType::kUnauthorized, std::move(detail));
}
inline Problem serverInternal(std::string detail) {
  return makeProblem(ProblemType::kServerInternal, std::move(detail));
}
inline Problem notFound(std::string detail) {
  return makeProblem(ProblemType::kNotFound, std::move(detail));
}

}  // namespace akamu::core
