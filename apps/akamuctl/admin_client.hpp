#pragma once
// The admin API's HTTP/1.1 client: one request per connection over the [admin] Unix socket,
// with a deadline on every step.
#include <chrono>
#include <string>

#include "core/result.hpp"

namespace akamuctl {

struct AdminReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// `target` is the path and query below the socket ("/admin/v1/stats"). A connection that fails
// (no such socket, permission denied, timeout) is a Problem naming the socket and the reason.
akamu::core::Result<AdminReply> adminRequest(const std::string& socket_path,
                                             const std::string& method, const std::string& target,
                                             const std::string& body, std::chrono::seconds timeout);

}  // namespace akamuctl
