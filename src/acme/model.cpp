#include "acme/model.hpp"

namespace akamu::acme {

const char* toString(AccountStatus s) {
  switch (s) {
    case AccountStatus::kValid:
      return "valid";
    case AccountStatus::kDeactivated:
      return "deactivated";
    case AccountStatus::kRevoked:
      return "revoked";
  }
  return "valid";
}
const char* toString(OrderStatus s) {
  switch (s) {
    case OrderStatus::kPending:
      return "pending";
    case OrderStatus::kReady:
      return "ready";
    case OrderStatus::kProcessing:
      return "processing";
    case OrderStatus::kValid:
      return "valid";
    case OrderStatus::kInvalid:
      return "invalid";
    case OrderStatus::kCanceled:
      return "canceled";
  }
  return "invalid";
}
const char* toString(AuthzStatus s) {
  switch (s) {
    case AuthzStatus::kPending:
      return "pending";
    case AuthzStatus::kValid:
      return "valid";
    case AuthzStatus::kInvalid:
      return "invalid";
    case AuthzStatus::kDeactivated:
      return "deactivated";
    case AuthzStatus::kExpired:
      return "expired";
    case AuthzStatus::kRevoked:
      return "revoked";
  }
  return "invalid";
}
const char* toString(ChallengeStatus s) {
  switch (s) {
    case ChallengeStatus::kPending:
      return "pending";
    case ChallengeStatus::kProcessing:
      return "processing";
    case ChallengeStatus::kValid:
      return "valid";
    case ChallengeStatus::kInvalid:
      return "invalid";
  }
  return "invalid";
}

std::optional<AccountStatus> accountStatusFrom(std::string_view s) {
  for (auto v : {AccountStatus::kValid, AccountStatus::kDeactivated, AccountStatus::kRevoked})
    if (s == toString(v)) return v;
  return std::nullopt;
}
std::optional<OrderStatus> orderStatusFrom(std::string_view s) {
  for (auto v : {OrderStatus::kPending, OrderStatus::kReady, OrderStatus::kProcessing,
                 OrderStatus::kValid, OrderStatus::kInvalid, OrderStatus::kCanceled})
    if (s == toString(v)) return v;
  return std::nullopt;
}
std::optional<AuthzStatus> authzStatusFrom(std::string_view s) {
  for (auto v : {AuthzStatus::kPending, AuthzStatus::kValid, AuthzStatus::kInvalid,
                 AuthzStatus::kDeactivated, AuthzStatus::kExpired, AuthzStatus::kRevoked})
    if (s == toString(v)) return v;
  return std::nullopt;
}
std::optional<ChallengeStatus> challengeStatusFrom(std::string_view s) {
  for (auto v : {ChallengeStatus::kPending, ChallengeStatus::kProcessing, ChallengeStatus::kValid,
                 ChallengeStatus::kInvalid})
    if (s == toString(v)) return v;
  return std::nullopt;
}

const char* toString(IncidentScope s) {
  switch (s) {
    case IncidentScope::kSerial:
      return "serial";
    case IncidentScope::kAccount:
      return "account";
    case IncidentScope::kProfile:
      return "profile";
  }
  return "serial";
}

std::optional<IncidentScope> incidentScopeFrom(std::string_view s) {
  if (s == "serial") return IncidentScope::kSerial;
  if (s == "account") return IncidentScope::kAccount;
  if (s == "profile") return IncidentScope::kProfile;
  return std::nullopt;
}

}  // namespace akamu::acme
