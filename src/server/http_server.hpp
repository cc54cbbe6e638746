#pragma once
// HTTP/1.1 transport on Beast: accepts connections on the given io_context, parses requests
// within size limits, hands each to the handler and writes its response (keep-alive). Several
// listeners (TCP, Unix stream sockets, sockets inherited from systemd), each plain or TLS; the
// session code is a template over the stream type, so the plain path carries no TLS cost.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "server/http_types.hpp"
#include "server/tls_context.hpp"

namespace akamu::server {

// What a listener is bound to, as the server reports it: "127.0.0.1:43210", "[::1]:443",
// "unix:/run/akamu/akamu.sock".
struct BoundListener {
  std::string addr;
  std::uint16_t port = 0;  // 0 for Unix sockets
  bool tls = false;
};

class HttpServer {
 public:
  using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;
  HttpServer(boost::asio::io_context& ioc, Handler handler, std::size_t max_body_bytes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on "host:port", "[v6]:port" or "unix:/path". `tls` null = plain HTTP;
  // otherwise every connection handshakes with the slot's current context (the slot must
  // outlive the server). A Unix socket file left by a process that is gone is replaced; one
  // that still accepts connections is refused. The socket file gets `unix_mode` (0660: the
  // owner and its group, e.g. a reverse proxy's) before it accepts connections; every request
  // from a Unix socket carries the peer's uid.
  core::Result<BoundListener> listen(const std::string& addr, const TlsContextSlot* tls,
                                     unsigned unix_mode = 0660);
  // Serves an inherited listening socket (systemd socket activation): TCP or Unix stream.
  core::Result<BoundListener> adopt(int fd, const TlsContextSlot* tls);
  // Accepts on the io_context given at construction. Each accepted connection lives on one of
  // `session_executors` in turn (all on that io_context when the list is empty): a connection
  // and everything its requests start stay on one event loop and one thread.
  void start(std::vector<boost::asio::any_io_executor> session_executors = {});
  // Closes the listeners and removes the Unix socket files this server created.
  void stop();

  const std::vector<BoundListener>& listeners() const { return bound_; }

 private:
  struct Listener;

  boost::asio::io_context& ioc_;
  Handler handler_;
  std::size_t max_body_bytes_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<BoundListener> bound_;
  std::vector<boost::asio::any_io_executor> session_executors_;
};

}  // namespace akamu::server
