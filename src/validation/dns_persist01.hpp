#pragma once
// dns-persist-01 validation (Let's Encrypt's persistent DNS validation draft): a long-lived
// TXT record at _validation-persist.<base domain> authorizes one ACME account at this CA.
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/problem.hpp"
#include "core/result.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

// "_validation-persist.<name>" with a leading "*." removed, lower-cased.
std::string dnsPersistRecordName(std::string_view identifier_value);

// Decides whether one TXT record authorizes `account_url` for an identifier. The record is
// "<issuer-domain>; accounturi=<url>[; policy=wildcard][; persistUntil=<RFC 3339>]", fields
// separated by ';' with optional whitespace; parameter names are case-insensitive, unknown
// ones are ignored, a repeated known one rejects the record. Accepted iff the issuer domain
// equals one of `issuer_domains` (case-insensitive, a trailing dot ignored on either side),
// accounturi equals `account_url` exactly, policy=wildcard is present when `wildcard`, and
// persistUntil, if present, parses and is not before `now`. The error is an `unauthorized`
// problem whose detail says which rule failed.
core::Status matchPersistRecord(std::string_view record, std::string_view account_url,
                                const std::vector<std::string>& issuer_domains, bool wildcard,
                                core::TimePoint now);

// Looks up TXT at dnsPersistRecordName(identifier) and accepts if any record (in answer
// order; at most 64 are examined) matches. Failures: `unauthorized` (none matches: the detail
// names the records' rejection reasons, truncated), `dns` (lookup failure), `malformed`
// (non-DNS identifier).
boost::asio::awaitable<core::Status> validateDnsPersist01(Resolver& resolver,
                                                          core::Identifier identifier,
                                                          std::string account_url,
                                                          std::vector<std::string> issuer_domains,
                                                          core::TimePoint now);

}  // namespace akamu::validation
