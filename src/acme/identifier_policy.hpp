#pragma once
// Which identifiers this CA will put in an order (pure; no I/O).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace akamu::acme {

// Lower-cases and checks a DNS identifier. Returns the normalised name or a rejectedIdentifier
// problem naming it. The rules:
// - ASCII only: an identifier is written with A-labels (RFC 8555 §7.1.4); raw UTF-8 is refused.
// - LDH labels of 1..63 octets, no leading or trailing hyphen, total <= 253, no trailing dot.
// - A label with "--" in positions 3-4 must be a valid A-label ("xn--", RFC 5890 §2.3.1): its
//   punycode decodes to a U-label that is valid IDNA2008 (RFC 5891 §5.4, libidn2) and encodes
//   back to the same A-label. Other R-LDH labels ("ab--c") are reserved and refused.
// - Not an IPv4/IPv6 address, and the last label is not all-numeric (RFC 3696 §2).
// - A wildcard is exactly "*." followed by a name of at least two labels that passes all of the
//   above: "*", "*.com", "*.*.example.com", "a.*.example.com", "*example.com" are refused.
//   (CA/B Forum BR §3.2.2.6 refuses a wildcard directly under any public suffix; without a
//   public suffix list only the single-label case is caught here.)
core::Result<std::string> normalizeDnsName(std::string_view name);

// Canonical text of an IPv4 or IPv6 address (RFC 8738), or malformed.
core::Result<std::string> normalizeIpAddress(std::string_view text);

bool isWildcard(const core::Identifier& id);

// RFC 9444: the domains whose subdomain authorization covers the (normalized) DNS name
// `base`, nearest first: its proper ancestors of at least two labels, and for a wildcard
// (`base` is then the wildcard's base name) `base` itself. Like wildcards, a bare
// single-label name is never an ancestor (no public suffix list here).
std::vector<std::string> ancestorDomains(std::string_view base, bool wildcard);
// Whether `ancestor` is one of ancestorDomains(base, wildcard).
bool isAncestorDomain(std::string_view ancestor, std::string_view base, bool wildcard);

// Validates and deduplicates a newOrder identifier list. Every refused identifier becomes a
// subproblem; the result fails when any is refused.
core::Result<std::vector<core::Identifier>> checkOrderIdentifiers(
    const std::vector<core::Identifier>& requested, std::size_t max_identifiers = 100);

// Untrusted text for a problem detail or a log line: in double quotes, bytes outside printable
// ASCII (and '"', '\\') escaped as \xNN, cut after `max_bytes` input bytes with "...".
std::string quoteForDetail(std::string_view text, std::size_t max_bytes = 100);

}  // namespace akamu::acme
