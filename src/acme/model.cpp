#include "acme/model.hpp"

#include <openssl/evp.h>

#include <algorithm>

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

std::string fqdnSetHash(const std::vector<core::Identifier>& identifiers) {
  std::vector<std::string> names;
  names.reserve(identifiers.size());
  for (const auto& id : identifiers) {
    std::string v = id.type + ":" + id.value;
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    names.push_back(std::move(v));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string joined;
  for (const auto& n : names) joined += n + "\n";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(joined.data(), joined.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

}  // namespace akamu::acme
