#include "server/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/problem.hpp"
#include "server/http_framing.hpp"

namespace akamu::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kIdleTimeout{60};

http::response<http::string_body> toBeast(HttpResponse&& r, unsigned version, bool keep_alive,
                                          bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "akamu");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  if (head) res.body().clear();
  return res;
}

// Pass-by-value parameters: the coroutine outlives the caller's frame.
asio::awaitable<void> session(tcp::socket socket, HttpServer::Handler* handler,
                              std::size_t max_body) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    RequestParser parser;
    configureRequestParser(parser, max_body);
    stream.expires_after(kIdleTimeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    (void)n;
    if (ec && !isRefusedFraming(ec)) break;  // closed or timed out: nothing useful to answer
    auto& req = parser.get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    std::string_view target = req.target();
    request.target = std::string(target);
    if (auto q = target.find('?'); q != std::string_view::npos) {
      request.query = std::string(target.substr(q + 1));
      target = target.substr(0, q);
    }
    request.path = std::string(target);
    request.content_type = std::string(req[http::field::content_type]);
    request.transport_problem = requestProblem(ec, parser, buffer, max_body);
    if (!request.transport_problem) request.body = std::move(req.body());
    // A refused request is answered by the pipeline too (a nonce for POST, the index link, the
    // request log), and then the connection closes: the message boundary may be lost.
    const bool keep_alive = req.keep_alive() && !request.transport_problem;
    const unsigned version = req.version();
    const bool head = req.method() == http::verb::head;
    // The handler writes the request log line (it knows the route, account and problem).
    HttpResponse response = co_await (*handler)(std::move(request));
    auto res = toBeast(std::move(response), version, keep_alive, head);
    stream.expires_after(kIdleTimeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kUseTuple);
    (void)wn;
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> acceptLoop(tcp::acceptor* acceptor, HttpServer::Handler* handler,
                                 std::size_t max_body,
                                 const std::vector<asio::any_io_executor>* session_executors) {
  std::size_t next = 0;
  for (;;) {
    auto accept_on = session_executors->empty()
                         ? acceptor->get_executor()
                         : (*session_executors)[next++ % session_executors->size()];
    auto [ec, socket] = co_await acceptor->async_accept(accept_on, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket), handler, max_body), asio::detached);
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, Handler handler, std::size_t max_body_bytes)
    : ioc_(ioc), handler_(std::move(handler)), max_body_bytes_(max_body_bytes), acceptor_(ioc) {}

core::Result<std::uint16_t> HttpServer::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return core::fail(core::serverInternal("invalid listen address " + host));
  tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::fail(core::serverInternal("cannot listen on " + host + ":" + std::to_string(port) +
                                           ": " + ec.message()));
  }
  return acceptor_.local_endpoint().port();
}

void HttpServer::start(std::vector<asio::any_io_executor> session_executors) {
  session_executors_ = std::move(session_executors);
  asio::co_spawn(ioc_, acceptLoop(&acceptor_, &handler_, max_body_bytes_, &session_executors_),
                 asio::detached);
}

void HttpServer::stop() {
  beast::error_code ec;
  acceptor_.close(ec);
}

}  // namespace akamu::server
