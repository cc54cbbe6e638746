#include "core/problem.hpp"

#include <boost/json.hpp>

namespace akamu::core {

std::string_view problemTypeUri(ProblemType type) {
  switch (type) {
    case ProblemType::kAccountDoesNotExist:
      return "urn:ietf:params:acme:error:accountDoesNotExist";
    case ProblemType::kAlreadyReplaced:
      return "urn:ietf:params:acme:error:alreadyReplaced";
    case ProblemType::kInvalidProfile:
      return "urn:ietf:params:acme:error:invalidProfile";
    case ProblemType::kAlreadyRevoked:
      return "urn:ietf:params:acme:error:alreadyRevoked";
    case ProblemType::kBadCsr:
      return "urn:ietf:params:acme:error:badCSR";
    case ProblemType::kBadNonce:
      return "urn:ietf:params:acme:error:badNonce";
    case ProblemType::kBadPublicKey:
      return "urn:ietf:params:acme:error:badPublicKey";
    case ProblemType::kBadRevocationReason:
      return "urn:ietf:params:acme:error:badRevocationReason";
    case ProblemType::kBadSignatureAlgorithm:
      return "urn:ietf:params:acme:error:badSignatureAlgorithm";
    case ProblemType::kCaa:
      return "urn:ietf:params:acme:error:caa";
    case ProblemType::kCompound:
      return "urn:ietf:params:acme:error:compound";
    case ProblemType::kConnection:
      return "urn:ietf:params:acme:error:connection";
    case ProblemType::kDns:
      return "urn:ietf:params:acme:error:dns";
    case ProblemType::kExternalAccountRequired:
      return "urn:ietf:params:acme:error:externalAccountRequired";
    case ProblemType::kIncorrectResponse:
      return "urn:ietf:params:acme:error:incorrectResponse";
    case ProblemType::kInvalidContact:
      return "urn:ietf:params:acme:error:invalidContact";
    case ProblemType::kMalformed:
      return "urn:ietf:params:acme:error:malformed";
    case ProblemType::kOrderNotReady:
      return "urn:ietf:params:acme:error:orderNotReady";
    case ProblemType::kRateLimited:
      return "urn:ietf:params:acme:error:rateLimited";
    case ProblemType::kRejectedIdentifier:
      return "urn:ietf:params:acme:error:rejectedIdentifier";
    case ProblemType::kServerInternal:
      return "urn:ietf:params:acme:error:serverInternal";
    case ProblemType::kTls:
      return "urn:ietf:params:acme:error:tls";
    case ProblemType::kUnauthorized:
      return "urn:ietf:params:acme:error:unauthorized";
    case ProblemType::kUnsupportedContact:
      return "urn:ietf:params:acme:error:unsupportedContact";
    case ProblemType::kUnsupportedIdentifier:
      return "urn:ietf:params:acme:error:unsupportedIdentifier";
    case ProblemType::kUserActionRequired:
      return "urn:ietf:params:acme:error:userActionRequired";
    case ProblemType::kAutoRenewalCanceled:
      return "urn:ietf:params:acme:error:autoRenewalCanceled";
    case ProblemType::kAutoRenewalExpired:
      return "urn:ietf:params:acme:error:autoRenewalExpired";
    case ProblemType::kAutoRenewalCancellationInvalid:
      return "urn:ietf:params:acme:error:autoRenewalCancellationInvalid";
    case ProblemType::kAutoRenewalRevocationNotSupported:
      return "urn:ietf:params:acme:error:autoRenewalRevocationNotSupported";
    case ProblemType::kNotFound:
    case ProblemType::kMethodNotAllowed:
    case ProblemType::kUnsupportedMediaType:
    case ProblemType::kPayloadTooLarge:
    case ProblemType::kServiceUnavailable:
    case ProblemType::kConflict:
      return "about:blank";
  }
  return "urn:ietf:params:acme:error:serverInternal";
}

int problemHttpStatus(ProblemType type) {
  switch (type) {
    case ProblemType::kUnauthorized:
      return 403;
    case ProblemType::kAccountDoesNotExist:
      return 400;
    case ProblemType::kUserActionRequired:
      return 403;
    // RFC 8555 §7.3.4 names no status. 403 as Pebble answers it: the request is well formed,
    // the server refuses to act on it without the binding (400 would call it malformed).
    case ProblemType::kExternalAccountRequired:
      return 403;
    case ProblemType::kOrderNotReady:
      return 403;
    case ProblemType::kRateLimited:
      return 429;
    case ProblemType::kServerInternal:
      return 500;
    case ProblemType::kAlreadyReplaced:
      return 409;
    // RFC 8739 §3.1.2 and §3.3: 403 for the star-certificate of a canceled or expired order
    // and for revoking a STAR certificate; a cancellation that is not allowed is 400 (default).
    case ProblemType::kAutoRenewalCanceled:
    case ProblemType::kAutoRenewalExpired:
    case ProblemType::kAutoRenewalRevocationNotSupported:
      return 403;
    case ProblemType::kNotFound:
      return 404;
    case ProblemType::kMethodNotAllowed:
      return 405;
    case ProblemType::kUnsupportedMediaType:
      return 415;
    case ProblemType::kPayloadTooLarge:
      return 413;
    case ProblemType::kServiceUnavailable:
      return 503;
    case ProblemType::kConflict:
      return 409;
    default:
      return 400;
  }
}

Problem rateLimited(std::string detail, std::int64_t retry_after_secs, std::string help_url) {
  Problem p = makeProblem(ProblemType::kRateLimited, std::move(detail));
  p.retry_after_secs = retry_after_secs;
  p.help_url = std::move(help_url);
  return p;
}

Problem accountNotValid(std::string detail) {
  Problem p = makeProblem(ProblemType::kUnauthorized, std::move(detail));
  p.status = 401;
  return p;
}

namespace {
boost::json::object identifierJson(const Identifier& id) {
  return boost::json::object{{"type", id.type}, {"value", id.value}};
}
}  // namespace

std::string problemToJson(const Problem& problem) {
  boost::json::object obj;
  obj["type"] = problemTypeUri(problem.type);
  obj["detail"] = problem.detail;
  obj["status"] = problemHttpStatus(problem);
  if (!problem.algorithms.empty()) {
    boost::json::array algs;
    for (const auto& a : problem.algorithms) algs.emplace_back(a);
    obj["algorithms"] = std::move(algs);
  }
  // RFC 8555 §6.7.1 defines "identifier" for subproblems only: a problem about one identifier
  // is rendered as a problem with that one subproblem.
  if (problem.identifier && problem.subproblems.empty()) {
    boost::json::object so{{"type", problemTypeUri(problem.type)},
                           {"detail", problem.detail},
                           {"identifier", identifierJson(*problem.identifier)}};
    obj["subproblems"] = boost::json::array{std::move(so)};
  } else if (!problem.subproblems.empty()) {
    boost::json::array subs;
    for (const auto& s : problem.subproblems) {
      boost::json::object so{{"type", problemTypeUri(s.type)}, {"detail", s.detail}};
      if (s.identifier) so["identifier"] = identifierJson(*s.identifier);
      subs.emplace_back(std::move(so));
    }
    obj["subproblems"] = std::move(subs);
  }
  return boost::json::serialize(obj);
}

}  // namespace akamu::core
