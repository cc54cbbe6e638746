#include "acme/challenge_type.hpp"

namespace akamu::acme {

const char* toString(ChallengeType type) {
  switch (type) {
    case ChallengeType::kHttp01:
      return "http-01";
    case ChallengeType::kDns01:
      return "dns-01";
    case ChallengeType::kTlsAlpn01:
      return "tls-alpn-01";
    case ChallengeType::kDnsPersist01:
      return "dns-persist-01";
  }
  return "unknown";
}

std::optional<ChallengeType> challengeTypeFrom(std::string_view name) {
  for (auto t : {ChallengeType::kHttp01, ChallengeType::kDns01, ChallengeType::kTlsAlpn01,
                 ChallengeType::kDnsPersist01}) {
    if (name == toString(t)) return t;
  }
  return std::nullopt;
}

}  // namespace akamu::acme
