#pragma once
// Transport-neutral request/response values: handlers never see Beast types, so the ACME
// logic can be driven directly by tests and by any transport.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/problem.hpp"

namespace akamu::server {

// HttpRequest::peer_address of a request on a Unix-socket listener: a local process (a proxy
// on this host) the socket file's mode let in.
inline constexpr std::string_view kUnixSocketPeer = "unix:";

struct HttpRequest {
  std::string method;  // "GET", "HEAD", "POST", ...
  std::string target;  // the request target as sent: path and "?query" if any
  std::string path;    // request target without the query
  std::string query;
  std::string content_type;
  std::string body;
  // The TCP peer's address ("192.0.2.1", "2001:db8::1"; kUnixSocketPeer on a Unix socket;
  // empty when not over a socket) and the
  // X-Forwarded-For header as sent; the front end believes the latter only from
  // [server] trusted_proxies (server/client_address).
  std::string peer_address;
  std::string forwarded_for;
  // Set by the transport when it could not read the request (body over max_body_bytes, framing
  // it refuses): the pipeline answers with this problem, and the connection then closes.
  std::optional<core::Problem> transport_problem;
  // Set by Unix-socket listeners: the uid of the connecting process (SO_PEERCRED), which the
  // admin API takes as the operator's identity.
  std::optional<std::uint32_t> peer_uid;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void addHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace akamu::server
