#pragma once
// The one resolve-and-filter step of the validations that connect to the identifier (http-01,
// its redirects, tls-alpn-01): which addresses may be connected to, looked up through the
// Resolver seam (the configured upstream or the system's nameservers and /etc/hosts, DNSSEC,
// never the C library's getaddrinfo), bounded by the validation's deadline, with the SSRF
// policy of address_policy.hpp applied.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.hpp"
#include "core/result.hpp"
#include "validation/deadline.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

// "localhost" and names below it (case-insensitive, a trailing dot ignored): loopback by
// definition (RFC 6761 §6.3), never looked up.
bool isLocalhostName(std::string_view host);

// The addresses to connect to for `host` (a DNS name, or an IP literal without brackets),
// reached on behalf of `identifier` (every problem names it):
// - an IP literal is itself;
// - a localhost name is 127.0.0.1, without a lookup;
// - any other name is looked up, A and AAAA at once, through `resolver`, each lookup
//   abandoned at `deadline`; IPv6 addresses come first, then IPv4 (connect in that order).
//   Addresses of one family suffice when the other family's lookup fails.
// Unless `allow_private_ips`, non-public addresses (isNonPublicAddress) are dropped.
// Problems: `dns` (lookup failure or timeout, NXDOMAIN, no A/AAAA records),
// `rejectedIdentifier` (only non-public addresses, loopback names included).
boost::asio::awaitable<core::Result<std::vector<boost::asio::ip::address>>> resolveTargets(
    Resolver& resolver, core::Identifier identifier, std::string host, bool allow_private_ips,
    Deadline deadline);

// The same for the identifier itself (its value is the host). An "ip" identifier must be an
// IP literal, and only "dns" and "ip" identifiers can be reached (`malformed` otherwise).
boost::asio::awaitable<core::Result<std::vector<boost::asio::ip::address>>> resolveTargets(
    Resolver& resolver, core::Identifier identifier, bool allow_private_ips, Deadline deadline);

// Connects `stream` to the first of `addresses` (on `port`) that accepts before `deadline`.
// `where` names the target in the `connection` problem ("could not connect to <where>: …").
boost::asio::awaitable<core::Status> connectToTargets(
    boost::beast::tcp_stream& stream, std::vector<boost::asio::ip::address> addresses,
    std::uint16_t port, Deadline deadline, core::Identifier identifier, std::string where);

}  // namespace akamu::validation
