#include "acme/eab.hpp"

#include <algorithm>

#include "acme/identifier_policy.hpp"

namespace akamu::acme {

const char* toString(EabState s) {
  switch (s) {
    case EabState::kUnused:
      return "unused";
    case EabState::kBound:
      return "bound";
    case EabState::kRevoked:
      return "revoked";
  }
  return "revoked";
}

std::optional<EabState> eabStateFrom(std::string_view s) {
  if (s == "unused") return EabState::kUnused;
  if (s == "bound") return EabState::kBound;
  if (s == "revoked") return EabState::kRevoked;
  return std::nullopt;
}

std::optional<std::string> eabBindRefusal(const EabCredential& credential, TimePoint now) {
  if (credential.state == EabState::kRevoked) {
    return "the external account binding key has been revoked";
  }
  if (credential.expires && now >= *credential.expires) {
    return "the external account binding key has expired";
  }
  if (credential.max_uses && credential.uses >= *credential.max_uses) {
    return *credential.max_uses == 1
               ? "the external account binding key has already been used"
               : "the external account binding key has been used the most times it may be";
  }
  return std::nullopt;
}

bool eabScopeAllowsProfile(const EabCredential& credential, std::string_view profile) {
  const auto& allowed = credential.allowed_profiles;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), profile) != allowed.end();
}

namespace {

// `name` is `parent` or below it, label-aligned ("a.example.com" is below "example.com",
// "badexample.com" is not).
bool isBelow(std::string_view name, std::string_view parent) {
  return name.size() > parent.size() && name.ends_with(parent) &&
         name[name.size() - parent.size() - 1] == '.';
}

// Patterns are normalised by normalizeEabIdentifierPattern, which takes these for addresses.
bool isIpPattern(std::string_view pattern) {
  return pattern.find_first_not_of("0123456789.") == std::string_view::npos ||
         pattern.find(':') != std::string_view::npos;
}

bool patternMatches(std::string_view pattern, const core::Identifier& id) {
  if (isIpPattern(pattern)) return id.type == "ip" && pattern == id.value;
  if (id.type != "dns") return false;
  if (pattern.starts_with("*.")) {
    const std::string_view parent = pattern.substr(2);
    // A wildcard identifier "*.x.example.com" asks for every name below x.example.com; they
    // are all below example.com, so the pattern covers it, and "*.example.com" itself too.
    const std::string_view name =
        id.value.starts_with("*.") ? std::string_view(id.value).substr(2) : id.value;
    if (id.value.starts_with("*.") && name == parent) return true;
    return isBelow(name, parent);
  }
  return pattern == id.value;
}

}  // namespace

bool eabScopeAllowsIdentifier(const EabCredential& credential, const core::Identifier& id) {
  const auto& patterns = credential.identifier_patterns;
  if (patterns.empty()) return true;
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return patternMatches(p, id); });
}

core::Result<std::string> normalizeEabIdentifierPattern(std::string_view pattern) {
  if (isIpPattern(pattern)) {
    auto ip = normalizeIpAddress(pattern);
    if (!ip) {
      return core::fail(
          core::malformed("identifier pattern " + quoteForDetail(pattern) + " is not a valid IP"));
    }
    return ip;
  }
  // normalizeDnsName accepts "*." + name and lower-cases; its problem names the pattern.
  auto name = normalizeDnsName(pattern);
  if (!name) {
    return core::fail(
        core::malformed("identifier pattern " + quoteForDetail(pattern) +
                        " is not a DNS name or \"*.\" + a DNS name: " + name.error().detail));
  }
  return name;
}

}  // namespace akamu::acme
