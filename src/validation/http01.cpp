#include "validation/http01.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "validation/http01_response.hpp"
#include "validation/identifier_problem.hpp"
#include "validation/resolve_targets.hpp"

namespace akamu::validation {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

using Response = Http01Response;

// Sends `request` on a connected (and, for https, handshaken) stream and reads the response,
// every wait ending at `deadline`.
template <class Stream>
asio::awaitable<core::Result<Response>> exchange(Stream& stream,
                                                 http::request<http::empty_body> request,
                                                 std::size_t max_body_bytes, Deadline deadline,
                                                 core::Identifier identifier, std::string where) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_at(deadline);
  auto [wec, written] = co_await http::async_write(stream, request, kUseTuple);
  (void)written;
  if (wec) {
    co_return core::fail(
        identifierProblem(core::ProblemType::kConnection, identifier,
                          fmt::format("error sending request to {}: {}", where, wec.message())));
  }
  beast::flat_buffer buffer;
  Http01Parser parser;
  configureHttp01Parser(parser, max_body_bytes);
  tcp_layer.expires_at(deadline);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
  (void)read;
  beast::error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (rec == http::error::body_limit) {
    co_return core::fail(identifierProblem(
        core::ProblemType::kUnauthorized, identifier,
        fmt::format("response from {} is larger than {} bytes", where, max_body_bytes)));
  }
  if (rec) {
    co_return core::fail(
        identifierProblem(core::ProblemType::kConnection, identifier,
                          fmt::format("error reading from {}: {}", where, rec.message())));
  }
  co_return parser.release();
}

// One GET of `target`, http or https: the one fetch for the first request and every redirect.
// Addresses come from resolveTargets (the SSRF policy applies to every hop). Certificates are
// not checked on https: the key authorization in the body is the proof.
asio::awaitable<core::Result<Response>> fetch(Resolver& resolver, core::Identifier identifier,
                                              Http01Target target, Http01Settings settings,
                                              Deadline deadline) {
  const std::string where = http01Url(target);
  auto addresses = co_await resolveTargets(resolver, identifier, target.host,
                                           settings.allow_private_ips, deadline);
  if (!addresses) co_return core::fail(std::move(addresses.error()));
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  auto connected = co_await connectToTargets(stream, std::move(*addresses), target.port, deadline,
                                             identifier, where);
  if (!connected) co_return core::fail(std::move(connected.error()));

  http::request<http::empty_body> request{http::verb::get, target.path, 11};
  request.set(http::field::host, http01HostHeader(target));
  request.set(http::field::user_agent, "akamu-validation/1");
  request.set(http::field::accept, "*/*");
  request.set(http::field::connection, "close");
  if (!target.tls) {
    co_return co_await exchange(stream, std::move(request), settings.max_body_bytes, deadline,
                                identifier, where);
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), ctx);
  boost::system::error_code literal_ec;
  asio::ip::make_address(target.host, literal_ec);
  if (literal_ec) SSL_set_tlsext_host_name(tls.native_handle(), target.host.c_str());
  beast::get_lowest_layer(tls).expires_at(deadline);
  auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kUseTuple);
  if (hec) {
    const auto type =
        hec == beast::error::timeout ? core::ProblemType::kConnection : core::ProblemType::kTls;
    co_return core::fail(identifierProblem(
        type, identifier, fmt::format("TLS handshake with {} failed: {}", where, hec.message())));
  }
  co_return co_await exchange(tls, std::move(request), settings.max_body_bytes, deadline,
                              identifier, where);
}

}  // namespace

asio::awaitable<core::Status> validateHttp01(Resolver& resolver, core::Identifier identifier,
                                             std::string token, std::string key_authorization,
                                             Http01Settings settings) {
  const Deadline deadline = std::chrono::steady_clock::now() + settings.timeout;
  Http01Target target{false, identifier.value, settings.port,
                      "/.well-known/acme-challenge/" + token};
  const std::string first_url = http01Url(target);

  for (int hop = 0; hop <= settings.max_redirects; ++hop) {
    auto response = co_await fetch(resolver, identifier, target, settings, deadline);
    if (!response) co_return core::fail(std::move(response.error()));
    auto next =
        judgeHttp01Response(target, *response, key_authorization, first_url, settings, identifier);
    if (!next) co_return core::fail(std::move(next.error()));
    if (!*next) co_return core::Status{};
    target = std::move(**next);
  }
  co_return core::fail(identifierProblem(
      core::ProblemType::kConnection, identifier,
      fmt::format("too many redirects (more than {}) from {}", settings.max_redirects, first_url)));
}

}  // namespace akamu::validation
