#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 that answers http-01 challenges (RFC 8555 §8.3) for
// tests and the load generator. It runs its own io_context on its own thread; set/remove may
// be called from any thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"

namespace akamu::client {

namespace detail {
struct Http01ResponderState;  // defined in http01_responder.cpp
}

class Http01Responder {
 public:
  // Binds 127.0.0.1:port (0 = ephemeral) and starts serving.
  static core::Result<std::unique_ptr<Http01Responder>> start(std::uint16_t port = 0);

  Http01Responder(const Http01Responder&) = delete;
  Http01Responder& operator=(const Http01Responder&) = delete;
  // Stops the loop and joins the thread; open connections are dropped.
  ~Http01Responder();

  std::uint16_t port() const;
  // GET /.well-known/acme-challenge/<token> answers key_authorization as text/plain.
  void set(std::string token, std::string key_authorization);
  void remove(const std::string& token);
  // Controlled timing for tests: requests for a held token are not answered until release().
  void hold(const std::string& token);
  void release(const std::string& token);
  // Blocks until a request for the held `token` has arrived (and waits), or `limit` passed
  // (a safety bound only); true when it arrived.
  bool waitForHeldRequest(const std::string& token, std::chrono::milliseconds limit);
  // Challenge GETs answered with 200 (tests assert that validation really happened).
  std::size_t requestCount() const;
  // TCP connections accepted (tests assert that clients keep connections alive).
  std::size_t connectionCount() const;

 private:
  explicit Http01Responder(std::unique_ptr<detail::Http01ResponderState> state);
  std::unique_ptr<detail::Http01ResponderState> state_;
};

}  // namespace akamu::client
