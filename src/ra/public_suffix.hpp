#pragma once
// The public suffix list (https://publicsuffix.org/list/), parsed once at start-up into an
// immutable structure the server owns and hands to the rate limiter: CertificatesPerDomain
// counts certificates per *registered* domain (the public suffix plus one label), as Boulder
// does. Debian's `publicsuffix` package ships the list at kDefaultPublicSuffixFile.
#include <boost/asio/ip/address.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/problem.hpp"
#include "core/result.hpp"

namespace akamu::ra {

inline constexpr const char* kDefaultPublicSuffixFile =
    "/usr/share/publicsuffix/public_suffix_list.dat";

class PublicSuffixList {
 public:
  // The list's text: one rule per line, `//` comments, `*.` wildcards, `!` exceptions (the
  // ICANN and private sections alike, as Boulder uses both). Rules are matched on lower-case
  // ASCII labels; the list's Unicode rules therefore never match an A-label name, which then
  // falls back to the default rule `*` (its TLD is the suffix).
  static PublicSuffixList parse(std::string_view text);
  static core::Result<std::shared_ptr<const PublicSuffixList>> load(const std::string& path);

  // The public suffix of `name` (lower-case, no trailing dot), by the longest matching rule.
  std::string publicSuffix(std::string_view name) const;
  // The suffix plus one label ("www.example.co.uk" -> "example.co.uk"); a name that is a
  // public suffix itself is its own registered domain.
  std::string registeredDomain(std::string_view name) const;
  std::size_t ruleCount() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

 private:
  std::unordered_set<std::string> rules_;       // "co.uk"
  std::unordered_set<std::string> wildcards_;   // "*.ck" stored as "ck"
  std::unordered_set<std::string> exceptions_;  // "!www.ck" stored as "www.ck"
};

// The bucket key of an identifier for the per-domain limits: a DNS name's registered domain
// (a wildcard counts for its base name), an IPv4 address itself, an IPv6 address its /64.
std::string domainBucketKey(const PublicSuffixList& psl, const core::Identifier& identifier);
// "2001:db8:1::/48": the network of `address` with `prefix` bits (IPv6; IPv4 as is).
std::string addressRange(const boost::asio::ip::address& address, int prefix);

}  // namespace akamu::ra
