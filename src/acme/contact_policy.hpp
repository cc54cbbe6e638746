#pragma once
// Which account contact URLs this CA accepts (RFC 8555 §7.3; pure, no I/O).
#include <cstddef>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace akamu::acme {

inline constexpr std::size_t kMaxContacts = 10;
// RFC 5321 §4.5.3.1: a local part of at most 64 octets, a path of at most 256 with its angle
// brackets, so an address of at most 254.
inline constexpr std::size_t kMaxEmailLocalPart = 64;
inline constexpr std::size_t kMaxEmailAddress = 254;

// Checks an account's contact list and returns it normalised ("mailto:" in lower case, the
// domain lower-cased), in the given order. At most kMaxContacts. Each contact must be a
// "mailto:" URI (any other scheme -> unsupportedContact) with exactly one address and no
// hfields, fragment or percent-encoding (RFC 6068; RFC 8555 §7.3 lets a server refuse them);
// the address is dot-atom "@" domain (RFC 5321 §4.1.2: no quoted local parts, no spaces,
// commas or quotes), within the RFC 5321 lengths, and the domain is a DNS name that
// normalizeDnsName accepts, neither a wildcard nor an address literal. Anything else ->
// invalidContact. The detail names the contact.
// (The JSON shape, "an array of strings", is the caller's to check: that is malformed.)
core::Result<std::vector<std::string>> checkContacts(const std::vector<std::string>& contacts);

}  // namespace akamu::acme
