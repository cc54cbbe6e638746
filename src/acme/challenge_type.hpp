#pragma once
// The challenge types this CA offers (RFC 8555 §8, RFC 8737, draft dns-persist-01). The model
// stores a challenge's type as its wire name; everything that decides by type converts it here
// once, so an unknown name is an error at the edge rather than a silent fall-through.
#include <optional>
#include <string_view>

namespace akamu::acme {

enum class ChallengeType { kHttp01, kDns01, kTlsAlpn01, kDnsPersist01 };

// "http-01", "dns-01", "tls-alpn-01", "dns-persist-01".
const char* toString(ChallengeType type);
std::optional<ChallengeType> challengeTypeFrom(std::string_view name);

}  // namespace akamu::acme
