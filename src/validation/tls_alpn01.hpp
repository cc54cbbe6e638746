#pragma once
// tls-alpn-01 validation (RFC 8737; IP identifiers per RFC 8738 §6).
#include <openssl/x509.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/problem.hpp"
#include "core/result.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

struct TlsAlpnSettings {
  std::uint16_t port = 443;
  bool allow_private_ips = false;  // loopback/private targets only when the operator says so
  std::chrono::milliseconds timeout{10000};  // resolve + connect + handshake
};

inline constexpr std::string_view kAcmeTlsAlpnProtocol = "acme-tls/1";
inline constexpr std::string_view kAcmeIdentifierOid = "1.3.6.1.5.5.7.1.31";

// "4.3.2.1.in-addr.arpa" / nibble-reversed "….ip6.arpa" (RFC 8738 §6: the SNI for IPs).
std::string reverseDnsName(const boost::asio::ip::address& address);

// The certificate checks, pure: exactly one SAN, equal to the identifier (dNSName compared
// case-insensitively, or iPAddress), and exactly one acmeIdentifier extension, critical, whose
// value is a DER OCTET STRING holding SHA-256(key_authorization). Errors: `unauthorized`
// (SAN or extension missing/wrong shape), `incorrectResponse` (digest mismatch).
core::Status checkTlsAlpnCertificate(const X509* cert, const core::Identifier& identifier,
                                     std::string_view key_authorization);

// Connects to the identifier on settings.port (addresses from resolveTargets: looked up through
// `resolver`, "localhost" names are loopback (RFC 6761), the SSRF policy applies), handshakes
// with ALPN acme-tls/1 and SNI = the DNS name (the reverse-DNS name for IPs), TLS 1.2 or 1.3,
// without certificate verification, requires the server to select acme-tls/1 and checks the
// certificate. Lookups, connect and handshake all end within `settings.timeout` of the call.
// Errors: `malformed` (wildcard), `dns`, `rejectedIdentifier` (non-public address not
// allowed), `connection`, `tls`, `unauthorized`, `incorrectResponse`; all name the target.
boost::asio::awaitable<core::Status> validateTlsAlpn01(Resolver& resolver,
                                                       core::Identifier identifier,
                                                       std::string key_authorization,
                                                       TlsAlpnSettings settings);

}  // namespace akamu::validation
