#pragma once
// Which identifiers this CA will put in an order (pure; no I/O).
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace akamu::acme {

// Lower-cases and checks a DNS identifier: LDH labels of 1..63 octets, total <= 253, no
// trailing dot, not an IP address in disguise; "*.<name>" is accepted as a wildcard. Returns the
// normalised name or a rejectedIdentifier/unsupportedIdentifier problem naming it.
core::Result<std::string> normalizeDnsName(std::string_view name);

// Canonical text of an IPv4 or IPv6 address (RFC 8738), or malformed.
core::Result<std::string> normalizeIpAddress(std::string_view text);

bool isWildcard(const core::Identifier& id);

// Validates and deduplicates a newOrder identifier list. Every refused identifier becomes a
// subproblem; the result fails when any is refused.
core::Result<std::vector<core::Identifier>> checkOrderIdentifiers(
    const std::vector<core::Identifier>& requested, std::size_t max_identifiers = 100);

}  // namespace akamu::acme
