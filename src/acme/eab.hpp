#pragma once
// External account binding credentials (RFC 8555 §7.3.4) as the CA keeps them, and the pure
// rules about them: whether one may bind another account now, and what an account bound with
// one may ask for (its scope). No I/O: the store keeps them, the RA decides with these.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/problem.hpp"
#include "core/result.hpp"

namespace akamu::acme {

using core::TimePoint;

// unused: no account bound yet; bound: at least one account bound (a credential with uses
// left can bind more); revoked: binds nothing more, and the accounts bound with it may not
// order any more (an operator revokes a key that leaked or whose holder left).
enum class EabState { kUnused, kBound, kRevoked };

// The HMAC key the server generates: 256 bits, the strength of HS256 (RFC 7518 §3.2 wants a
// key at least as long as the hash output).
inline constexpr std::size_t kEabKeyBytes = 32;

struct EabCredential {
  std::string key_id;                  // random, URL-safe; the inner JWS's "kid"
  std::vector<std::uint8_t> hmac_key;  // raw bytes; shown once (base64url) at creation
  EabState state = EabState::kUnused;
  TimePoint created_at{};
  std::optional<TimePoint> expires;       // no new binding at or after this time
  std::optional<std::uint32_t> max_uses;  // accounts it may bind; nullopt = unlimited
  std::uint32_t uses = 0;                 // accounts bound so far
  std::optional<TimePoint> revoked_at;
  // Scope of the accounts bound with it; empty = no restriction.
  std::vector<std::string> allowed_profiles;
  // "example.com" (that name), "*.example.com" (any name below example.com, not example.com
  // itself), or an IP address (that address). Lower case.
  std::vector<std::string> identifier_patterns;
};

const char* toString(EabState s);
std::optional<EabState> eabStateFrom(std::string_view s);

// Why a credential may not bind an account at `now`, or nullopt when it may. The detail is
// safe to send to the client that presented the key id.
std::optional<std::string> eabBindRefusal(const EabCredential& credential, TimePoint now);

// The profile scope: true when the credential names no profiles, or names `profile`. The
// front end calls it at newOrder (and finalize) for accounts bound with a scoped credential.
bool eabScopeAllowsProfile(const EabCredential& credential, std::string_view profile);

// The identifier scope: true when the credential has no patterns, or one matches. `id` is a
// normalised newOrder identifier ("*.example.com" for a wildcard, which a pattern
// "*.example.com" or "*.com"-style parent pattern covers, but the exact pattern
// "example.com" does not).
bool eabScopeAllowsIdentifier(const EabCredential& credential, const core::Identifier& id);

// Checks and normalises one pattern as an operator typed it: a DNS name, "*." + a DNS name,
// or an IP address. malformed (with the reason) otherwise.
core::Result<std::string> normalizeEabIdentifierPattern(std::string_view pattern);

}  // namespace akamu::acme
