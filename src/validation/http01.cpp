#include "validation/http01.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include "validation/address_policy.hpp"

namespace akamu::validation {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

struct Target {
  bool tls = false;
  std::string host;  // DNS name or IP literal (no brackets)
  std::uint16_t port = 80;
  std::string path;
};

std::string hostHeader(const Target& t) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(t.host, ec);
  std::string host = (!ec && addr.is_v6()) ? "[" + t.host + "]" : t.host;
  return t.port == (t.tls ? 443 : 80) ? host : fmt::format("{}:{}", host, t.port);
}

core::Problem problem(core::ProblemType type, const core::Identifier& id, std::string detail) {
  core::Problem p = core::makeProblem(type, std::move(detail));
  p.identifier = id;
  return p;
}

std::string_view trimTrailingWhitespace(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

asio::awaitable<core::Status> validateHttp01(core::Identifier identifier, std::string token,
                                             std::string key_authorization,
                                             Http01Settings settings) {
  auto executor = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + settings.timeout;
  auto remaining = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(1);
  };

  Target target{false, identifier.value, settings.port, "/.well-known/acme-challenge/" + token};
  const std::string first_url =
      fmt::format("http://{}/.well-known/acme-challenge/{}", hostHeader(target), token);

  for (int hop = 0; hop <= settings.max_redirects; ++hop) {
    const std::string where =
        fmt::format("{}://{}{}", target.tls ? "https" : "http", hostHeader(target), target.path);

    // RFC 6761 §6.3: "localhost" and names below it are loopback by definition; no lookup.
    const bool loopback_name =
        target.host == "localhost" ||
        (target.host.size() > 10 &&
         target.host.compare(target.host.size() - 10, 10, ".localhost") == 0);
    const std::string lookup_host = loopback_name ? "127.0.0.1" : target.host;
    // Resolve, bounded by the deadline (the resolver itself has no timeout).
    tcp::resolver resolver(executor);
    asio::steady_timer timer(executor, remaining());
    auto resolved =
        co_await (resolver.async_resolve(lookup_host, std::to_string(target.port), kUseTuple) ||
                  timer.async_wait(kUseTuple));
    if (resolved.index() == 1) {
      co_return core::fail(
          problem(core::ProblemType::kDns, identifier, "DNS lookup timed out for " + target.host));
    }
    auto [rec, results] = std::get<0>(resolved);
    if (rec || results.empty()) {
      co_return core::fail(problem(core::ProblemType::kDns, identifier,
                                   fmt::format("no address found for {}: {}", target.host,
                                               rec ? rec.message() : "empty answer")));
    }
    std::vector<tcp::endpoint> endpoints;
    for (const auto& r : results) {
      if (!settings.allow_private_ips && isNonPublicAddress(r.endpoint().address())) continue;
      endpoints.push_back(r.endpoint());
    }
    if (endpoints.empty()) {
      co_return core::fail(
          problem(core::ProblemType::kRejectedIdentifier, identifier,
                  fmt::format("{} resolves only to non-public addresses; validation refused",
                              target.host)));
    }

    beast::tcp_stream stream(executor);
    stream.expires_after(remaining());
    auto [cec, ep] = co_await stream.async_connect(endpoints, kUseTuple);
    if (cec) {
      co_return core::fail(
          problem(core::ProblemType::kConnection, identifier,
                  fmt::format("could not connect to {}: {}", where, cec.message())));
    }
    http::request<http::empty_body> req{http::verb::get, target.path, 11};
    req.set(http::field::host, hostHeader(target));
    req.set(http::field::user_agent, "akamu-validation/1");
    req.set(http::field::accept, "*/*");
    req.set(http::field::connection, "close");
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(settings.max_body_bytes);
    parser.header_limit(16 * 1024);
    beast::error_code wec, rdec;
    if (!target.tls) {
      stream.expires_after(remaining());
      std::tie(wec, std::ignore) = co_await http::async_write(stream, req, kUseTuple);
      if (!wec) {
        stream.expires_after(remaining());
        std::tie(rdec, std::ignore) = co_await http::async_read(stream, buffer, parser, kUseTuple);
      }
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    } else {
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_verify_mode(asio::ssl::verify_none);
      beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), ctx);
      boost::system::error_code parse_ec;
      asio::ip::make_address(target.host, parse_ec);
      if (parse_ec) SSL_set_tlsext_host_name(tls.native_handle(), target.host.c_str());
      beast::get_lowest_layer(tls).expires_after(remaining());
      auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kUseTuple);
      if (hec) {
        co_return core::fail(
            problem(core::ProblemType::kTls, identifier,
                    fmt::format("TLS handshake with {} failed: {}", where, hec.message())));
      }
      beast::get_lowest_layer(tls).expires_after(remaining());
      std::tie(wec, std::ignore) = co_await http::async_write(tls, req, kUseTuple);
      if (!wec) {
        beast::get_lowest_layer(tls).expires_after(remaining());
        std::tie(rdec, std::ignore) = co_await http::async_read(tls, buffer, parser, kUseTuple);
      }
      beast::error_code ignored;
      beast::get_lowest_layer(tls).socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    if (wec) {
      co_return core::fail(
          problem(core::ProblemType::kConnection, identifier,
                  fmt::format("error sending request to {}: {}", where, wec.message())));
    }
    if (rdec == http::error::body_limit) {
      co_return core::fail(problem(
          core::ProblemType::kUnauthorized, identifier,
          fmt::format("response from {} is larger than {} bytes", where, settings.max_body_bytes)));
    }
    if (rdec) {
      co_return core::fail(
          problem(core::ProblemType::kConnection, identifier,
                  fmt::format("error reading from {}: {}", where, rdec.message())));
    }
    const auto& res = parser.get();
    const unsigned status = res.result_int();
    if (status >= 300 && status < 400 && status != 304) {
      auto location = res[http::field::location];
      auto parsed = boost::urls::parse_uri_reference(std::string_view(location));
      if (!parsed) {
        co_return core::fail(problem(core::ProblemType::kConnection, identifier,
                                     fmt::format("invalid redirect from {}", where)));
      }
      if (parsed->has_scheme()) {
        if (parsed->scheme() != "http" && parsed->scheme() != "https") {
          co_return core::fail(problem(core::ProblemType::kConnection, identifier,
                                       fmt::format("redirect from {} to unsupported scheme '{}'",
                                                   where, std::string(parsed->scheme()))));
        }
        Target next;
        next.tls = parsed->scheme() == "https";
        next.host = std::string(parsed->host_address());
        const std::uint16_t default_port = next.tls ? 443 : 80;
        const std::uint16_t allowed_port = next.tls ? settings.https_port : settings.port;
        next.port =
            parsed->has_port() ? static_cast<std::uint16_t>(parsed->port_number()) : default_port;
        if (next.port != default_port && next.port != allowed_port) {
          co_return core::fail(
              problem(core::ProblemType::kConnection, identifier,
                      fmt::format("redirect from {} to port {} refused", where, next.port)));
        }
        next.path = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
        if (parsed->has_query()) next.path += "?" + std::string(parsed->encoded_query());
        target = std::move(next);
      } else {
        std::string path(parsed->encoded_path());
        if (path.empty() || path[0] != '/') path = "/" + path;
        if (parsed->has_query()) path += "?" + std::string(parsed->encoded_query());
        target.path = path;
      }
      continue;
    }
    if (status != 200) {
      co_return core::fail(
          problem(core::ProblemType::kUnauthorized, identifier,
                  fmt::format("invalid response from {}: HTTP {}", where, status)));
    }
    if (trimTrailingWhitespace(res.body()) != key_authorization) {
      co_return core::fail(problem(
          core::ProblemType::kIncorrectResponse, identifier,
          fmt::format("the key authorization served at {} does not match the expected value",
                      first_url)));
    }
    co_return core::Status{};
  }
  co_return core::fail(problem(
      core::ProblemType::kConnection, identifier,
      fmt::format("too many redirects (more than {}) from {}", settings.max_redirects, first_url)));
}

}  // namespace akamu::validation
