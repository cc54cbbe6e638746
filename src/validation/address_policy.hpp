#pragma once
// Which addresses a validation request may connect to. Without the operator's explicit
// permission, a CA must not be turned into a probe of its own private network (SSRF).
#include <boost/asio/ip/address.hpp>

namespace akamu::validation {

// True for loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast,
// documentation and other reserved ranges.
bool isNonPublicAddress(const boost::asio::ip::address& address);

}  // namespace akamu::validation
