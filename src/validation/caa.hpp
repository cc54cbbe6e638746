#pragma once
// CAA checking (RFC 8659) with the account and method binding parameters of RFC 8657.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/problem.hpp"
#include "core/result.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

// One issue/issuewild value: "ca.example; accounturi=https://…; validationmethods=dns-01,http-01".
struct CaaIssueValue {
  std::string issuer;  // empty: "no CA may issue" (the value was "" or ";…")
  std::vector<std::pair<std::string, std::string>> parameters;  // tag (lower-cased), value
};
// nullopt when the value does not follow RFC 8659 §4.2's grammar (such a record authorizes
// nobody).
std::optional<CaaIssueValue> parseCaaIssueValue(std::string_view value);

struct CaaRequest {
  bool wildcard = false;                    // the identifier was "*.<name>"
  std::string account_url;                  // RFC 8657 accounturi
  std::string validation_method;            // RFC 8657 validationmethods, e.g. "dns-01"
  std::vector<std::string> caa_identities;  // our issuer domain names
};

// The pure decision. `records_by_level` holds the CAA RRsets found while climbing from the
// name towards the root, first the name itself; the first non-empty one is the relevant
// RRset (RFC 8659 §3); none at all → allowed. Within it: a critical record (flag bit 128) with
// an unknown tag forbids; for a wildcard, issuewild records are used if there are any, else
// issue records; no such records → allowed; otherwise allowed iff some record names one of
// `caa_identities` (case-insensitive, trailing dot ignored) and its accounturi (if present)
// equals the account URL and its validationmethods (if present) lists the method. On refusal
// the error is a `caa` problem saying why (without the identifier; the caller adds it).
// `levels` (optional) names each level for the detail, parallel to `records_by_level`.
core::Status evaluateCaa(const std::vector<std::vector<CaaRecord>>& records_by_level,
                         const CaaRequest& request, const std::vector<std::string>& levels = {});

// Climbs from the identifier's name (a leading "*." removed) to its top-level domain, looking
// up CAA at each level until an RRset is found (at most 32 levels), then applies evaluateCaa.
// IP identifiers have no CAA (RFC 8738 §7) and pass. Errors: `caa` naming the identifier on
// refusal; `dns` when a lookup fails (SERVFAIL, timeout: fail closed, RFC 8659 §3).
boost::asio::awaitable<core::Status> checkCaa(Resolver& resolver, core::Identifier identifier,
                                              std::string account_url,
                                              std::string validation_method,
                                              std::vector<std::string> caa_identities);

}  // namespace akamu::validation
