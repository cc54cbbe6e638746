#include "admin_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace akamuctl {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
using akamu::core::fail;

namespace {

constexpr std::size_t kMaxReplyBytes = 64u << 20;  // a page of 1000 certificates with chains

asio::awaitable<akamu::core::Result<AdminReply>> exchange(std::string socket_path,
                                                          std::string method, std::string target,
                                                          std::string body,
                                                          std::chrono::seconds timeout) {
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  beast::basic_stream<local, asio::any_io_executor, beast::unlimited_rate_policy> stream(
      co_await asio::this_coro::executor);
  stream.expires_after(timeout);
  auto [cec] = co_await stream.async_connect(local::endpoint(socket_path), kTuple);
  if (cec) {
    co_return fail(akamu::core::serverInternal("cannot connect to the admin socket " + socket_path +
                                               ": " + cec.message()));
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "akamu-admin");
  req.set(http::field::user_agent, "akamuctl");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
  (void)wn;
  if (wec) {
    co_return fail(akamu::core::serverInternal("cannot send to the admin socket " + socket_path +
                                               ": " + wec.message()));
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kTuple);
  (void)rn;
  if (rec) {
    co_return fail(akamu::core::serverInternal("no answer from the admin socket " + socket_path +
                                               ": " + rec.message()));
  }
  auto& res = parser.get();
  AdminReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.content_type = std::string(res[http::field::content_type]);
  reply.body = std::move(res.body());
  beast::error_code ignored;
  stream.socket().shutdown(local::socket::shutdown_both, ignored);
  co_return reply;
}

}  // namespace

akamu::core::Result<AdminReply> adminRequest(const std::string& socket_path,
                                             const std::string& method, const std::string& target,
                                             const std::string& body,
                                             std::chrono::seconds timeout) {
  asio::io_context ioc;
  auto done =
      asio::co_spawn(ioc, exchange(socket_path, method, target, body, timeout), asio::use_future);
  ioc.run();
  return done.get();
}

}  // namespace akamuctl
