#pragma once
// http-01 validation (RFC 8555 §8.3), asynchronous on the caller's event loop.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/problem.hpp"
#include "core/result.hpp"
#include "validation/resolver.hpp"

namespace akamu::validation {

struct Http01Settings {
  std::uint16_t port = 80;         // where to connect for the first request
  bool allow_private_ips = false;  // loopback/private targets only when the operator says so
  std::chrono::milliseconds timeout{10000};  // for the whole validation, redirects included
  std::size_t max_body_bytes = 8192;         // a key authorization is ~90 bytes
  int max_redirects = 10;
  // Redirects may go to http on port 80 or `port`, and to https on 443 or `https_port`
  // (tests move both off the privileged ports). Certificates are not checked on https
  // redirects: the key authorization in the body is what proves control.
  std::uint16_t https_port = 443;
};

// Fetches http://<identifier>:<port>/.well-known/acme-challenge/<token> and checks that the
// body (trailing whitespace trimmed) equals `key_authorization`. Follows at most
// `max_redirects` redirects, only to http (port 80 or the configured port) or https (443 or
// `https_port`). Every host (the identifier's and each redirect's) is resolved through
// `resolver` by resolveTargets (localhost names are loopback, RFC 6761; the SSRF policy
// applies), and every wait (lookups, connect, TLS handshake, write, read) ends within
// `settings.timeout` of the call. Failures are problems of type dns, rejectedIdentifier,
// connection, tls, unauthorized or incorrectResponse, naming the identifier.
boost::asio::awaitable<core::Status> validateHttp01(Resolver& resolver, core::Identifier identifier,
                                                    std::string token,
                                                    std::string key_authorization,
                                                    Http01Settings settings);

}  // namespace akamu::validation
