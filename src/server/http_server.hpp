#pragma once
// HTTP/1.1 transport on Beast: accepts connections on the given io_context, parses requests
// within size limits, hands each to the handler and writes its response (keep-alive).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "server/http_types.hpp"

namespace akamu::server {

class HttpServer {
 public:
  using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;
  HttpServer(boost::asio::io_context& ioc, Handler handler, std::size_t max_body_bytes);
  // Binds and listens; returns the bound port (useful with port 0).
  core::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  // Accepts on the io_context given at construction. Each accepted connection lives on one of
  // `session_executors` in turn (all on that io_context when the list is empty): a connection
  // and everything its requests start stay on one event loop and one thread.
  void start(std::vector<boost::asio::any_io_executor> session_executors = {});
  void stop();

 private:
  boost::asio::io_context& ioc_;
  Handler handler_;
  std::size_t max_body_bytes_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<boost::asio::any_io_executor> session_executors_;
};

}  // namespace akamu::server
