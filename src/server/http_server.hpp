#pragma once
// HTTP/1.1 transport on Beast: accepts connections on the given io_context, parses requests
// within size limits, hands each to the handler and writes its response (keep-alive).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "core/result.hpp"
#include "server/http_types.hpp"

namespace akamu::server {

class HttpServer {
 public:
  using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;
  HttpServer(boost::asio::io_context& ioc, Handler handler, std::size_t max_body_bytes);
  // Binds and listens; returns the bound port (useful with port 0).
  core::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  void start();
  void stop();

 private:
  boost::asio::io_context& ioc_;
  Handler handler_;
  std::size_t max_body_bytes_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace akamu::server
