#pragma once
// dns-01 validation (RFC 8555 §8.4).
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.hpp"
#include "core/result.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

// base64url(SHA-256(key_authorization)): the TXT value a client publishes.
std::string dns01TxtValue(std::string_view key_authorization);

// "example.com" for "*.example.com" and "example.com"; lower-cased, trailing dot removed.
std::string baseDomain(std::string_view identifier_value);

// Untrusted text for a problem detail: quoted, control characters replaced, truncated.
std::string quoteForDetail(std::string_view value);
// Up to three quoted values, then "(and N more)".
std::string describeTxtRecords(const std::vector<std::string>& values);

// Looks up TXT _acme-challenge.<name> (a leading "*." removed); succeeds if any record equals
// dns01TxtValue(key_authorization). Failures: `unauthorized` (no matching record; the detail
// names what was found, truncated), `dns` (lookup failure, naming the name).
boost::asio::awaitable<core::Status> validateDns01(Resolver& resolver, core::Identifier identifier,
                                                   std::string key_authorization);

}  // namespace akamu::validation
