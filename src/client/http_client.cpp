#include "client/http_client.hpp"

#include <poll.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <exception>
#include <optional>
#include <unordered_map>

namespace akamu::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::uint64_t kBodyLimit = 16 * 1024 * 1024;
constexpr std::string_view kUserAgent = "akamu-client/0.1";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

core::Problem connectionProblem(std::string_view what, std::string_view url, const error_code& ec) {
  std::string detail(what);
  detail += " ";
  detail += url;
  detail += ": ";
  detail += ec == beast::error::timeout ? std::string("timed out") : ec.message();
  return core::makeProblem(core::ProblemType::kConnection, std::move(detail));
}

// Errors that mean "the server had already closed this kept-alive connection".
bool isStaleConnectionError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

bool isIdempotent(http::verb verb) {
  switch (verb) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
      return true;
    default:
      return false;
  }
}

// True when an idle socket has something to read: EOF, a reset, or bytes nobody asked for.
// Any of them means the connection cannot carry the next request.
bool idleSocketIsDirty(tcp::socket& socket) {
  pollfd fd{socket.native_handle(), POLLIN, 0};
  return ::poll(&fd, 1, 0) != 0;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::vector<std::string> HttpResponse::headerValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) out.push_back(value);
  }
  return out;
}

struct HttpClient::Impl {
  struct Connection {
    bool tls = false;
    std::string host;  // without brackets: what we resolve, verify and send as SNI
    std::string port;
    std::vector<tcp::endpoint> endpoints;  // resolved once, kept across reconnects
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    // Kept per connection: bytes read past one response belong to the next.
    beast::flat_buffer buffer;
    bool open = false;

    beast::tcp_stream& tcpStream() { return tls ? secure->next_layer() : *plain; }
  };

  explicit Impl(HttpClientOptions opts) : options(std::move(opts)) {}

  HttpClientOptions options;
  asio::io_context ioc{1};
  std::optional<ssl::context> tls_context;
  std::unordered_map<std::string, std::unique_ptr<Connection>> connections;
  std::size_t connections_opened = 0;

  // Runs one asynchronous operation to completion on our private io_context: Beast applies
  // tcp_stream timeouts only to asynchronous operations, which is how every wait stays bounded.
  template <class Start>
  error_code run(Start&& start) {
    error_code result = asio::error::would_block;
    std::forward<Start>(start)([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  core::Status ensureTlsContext() {
    if (tls_context) return {};
    try {
      tls_context.emplace(ssl::context::tls_client);
    } catch (const std::exception& e) {
      return core::fail(core::ProblemType::kTls, std::string("TLS context: ") + e.what());
    }
    tls_context->set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (options.ca_file.empty()) {
      tls_context->set_default_verify_paths(ec);
    } else {
      tls_context->load_verify_file(options.ca_file, ec);
    }
    if (ec) {
      tls_context.reset();
      return core::fail(core::ProblemType::kTls,
                        "loading CA certificates '" + options.ca_file + "': " + ec.message());
    }
    return {};
  }

  void close(Connection& conn) {
    if (conn.open) {
      error_code ignored;
      conn.tcpStream().socket().shutdown(tcp::socket::shutdown_both, ignored);
      conn.tcpStream().socket().close(ignored);
    }
    conn.open = false;
    conn.plain.reset();
    conn.secure.reset();
    conn.buffer.clear();
  }

  error_code resolve(Connection& conn) {
    error_code ec;
    auto address = asio::ip::make_address(conn.host, ec);
    if (!ec) {
      conn.endpoints.assign(1, tcp::endpoint(address, 0));
      unsigned long port = std::stoul(conn.port);
      conn.endpoints.front().port(static_cast<std::uint16_t>(port));
      return {};
    }
    tcp::resolver resolver(ioc);
    asio::steady_timer timer(ioc);
    timer.expires_after(options.timeout);
    bool timed_out = false;
    timer.async_wait([&](error_code timer_ec) {
      if (!timer_ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    tcp::resolver::results_type results;
    ec = run([&](auto handler) {
      resolver.async_resolve(conn.host, conn.port,
                             [&, handler](error_code resolve_ec, tcp::resolver::results_type r) {
                               timer.cancel();
                               results = std::move(r);
                               handler(resolve_ec);
                             });
    });
    if (timed_out) return beast::error::timeout;
    if (ec) return ec;
    conn.endpoints.clear();
    for (const auto& entry : results) conn.endpoints.push_back(entry.endpoint());
    if (conn.endpoints.empty()) return asio::error::host_not_found;
    return {};
  }

  error_code connect(Connection& conn) {
    close(conn);
    if (conn.endpoints.empty()) {
      if (auto ec = resolve(conn)) return ec;
    }
    if (conn.tls) {
      conn.secure.emplace(ioc, *tls_context);
    } else {
      conn.plain.emplace(ioc);
    }
    beast::tcp_stream& stream = conn.tcpStream();
    stream.expires_after(options.timeout);
    error_code ec = run([&](auto handler) { stream.async_connect(conn.endpoints, handler); });
    if (ec) {
      conn.endpoints.clear();  // perhaps the name moved: resolve again next time
      close(conn);
      return ec;
    }
    conn.open = true;
    ++connections_opened;
    error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    if (conn.tls) {
      SSL* handle = conn.secure->native_handle();
      error_code addr_ec;
      asio::ip::make_address(conn.host, addr_ec);
      // RFC 6066: SNI carries DNS names only, never IP literals.
      if (addr_ec && SSL_set_tlsext_host_name(handle, conn.host.c_str()) != 1) {
        close(conn);
        return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
      }
      conn.secure->set_verify_callback(ssl::host_name_verification(conn.host), ec);
      if (ec) {
        close(conn);
        return ec;
      }
      stream.expires_after(options.timeout);
      ec = run(
          [&](auto handler) { conn.secure->async_handshake(ssl::stream_base::client, handler); });
      if (ec) {
        close(conn);
        return ec;
      }
    }
    return {};
  }

  template <class Stream, class Request>
  error_code exchange(Stream& stream, Connection& conn, Request& req,
                      http::response_parser<http::string_body>& parser) {
    conn.tcpStream().expires_after(options.timeout);
    error_code ec = run([&](auto handler) { http::async_write(stream, req, handler); });
    if (ec) return ec;
    return run([&](auto handler) { http::async_read(stream, conn.buffer, parser, handler); });
  }

  core::Result<HttpResponse> request(std::string_view method, std::string_view url,
                                     std::string_view body, std::string_view content_type) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return core::fail(core::malformed("invalid URL '" + std::string(url) + "'"));
    const auto& u = *parsed;
    const bool tls = u.scheme_id() == boost::urls::scheme::https;
    if (!tls && u.scheme_id() != boost::urls::scheme::http) {
      return core::fail(core::malformed("unsupported URL scheme in '" + std::string(url) + "'"));
    }
    if (!u.has_authority() || u.host_address().empty()) {
      return core::fail(core::malformed("URL without host: '" + std::string(url) + "'"));
    }
    const http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      return core::fail(core::malformed("unknown HTTP method '" + std::string(method) + "'"));
    }
    std::string port = u.has_port() ? std::string(u.port()) : std::string(tls ? "443" : "80");
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(port) > 65535) {
      return core::fail(core::malformed("invalid port in '" + std::string(url) + "'"));
    }
    if (tls) {
      if (auto status = ensureTlsContext(); !status) return tl::unexpected(status.error());
    }
    std::string host = u.host_address();
    std::string key;
    key.reserve(host.size() + port.size() + 10);
    key.append(tls ? "https://" : "http://").append(host).append(":").append(port);
    auto& slot = connections[key];
    if (!slot) {
      slot = std::make_unique<Connection>();
      slot->tls = tls;
      slot->host = std::move(host);
      slot->port = std::move(port);
    }
    Connection& conn = *slot;

    std::string_view target = u.encoded_target();
    http::request<http::span_body<const char>> req{verb, target.empty() ? "/" : target, 11};
    req.set(http::field::host, u.encoded_host_and_port());
    req.set(http::field::user_agent, kUserAgent);
    req.keep_alive(true);
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = {body.data(), body.size()};
    if (!body.empty() || verb == http::verb::post || verb == http::verb::put) {
      req.prepare_payload();
    }

    for (int attempt = 0;; ++attempt) {
      bool reused = conn.open;
      if (reused && (conn.buffer.size() != 0 || idleSocketIsDirty(conn.tcpStream().socket()))) {
        close(conn);
        reused = false;
      }
      if (!conn.open) {
        if (auto ec = connect(conn)) {
          if (ec.category() == asio::error::get_ssl_category()) {
            return core::fail(core::ProblemType::kTls, "TLS handshake with " + std::string(url) +
                                                           " failed: " + ec.message());
          }
          return core::fail(connectionProblem("connecting to", url, ec));
        }
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      if (verb == http::verb::head) parser.skip(true);
      error_code ec = conn.tls ? exchange(*conn.secure, conn, req, parser)
                               : exchange(*conn.plain, conn, req, parser);
      if (ec) {
        close(conn);
        if (reused && attempt == 0 && isIdempotent(verb) && isStaleConnectionError(ec)) continue;
        return core::fail(connectionProblem(std::string(method) + " request to", url, ec));
      }
      auto& msg = parser.get();
      HttpResponse response;
      response.status = static_cast<int>(msg.result_int());
      response.headers.reserve(16);
      for (const auto& field : msg) {
        response.headers.emplace_back(lowered(field.name_string()), std::string(field.value()));
      }
      if (!msg.keep_alive()) close(conn);
      response.body = std::move(parser.release().body());
      return response;
    }
  }
};

HttpClient::HttpClient(HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

core::Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view url,
                                               std::string_view body,
                                               std::string_view content_type) {
  try {
    return impl_->request(method, url, body, content_type);
  } catch (const std::exception& e) {
    // Only allocation failures and similar get here; Beast/Asio calls use error codes.
    return core::fail(core::ProblemType::kConnection,
                      "HTTP request to " + std::string(url) + " failed: " + e.what());
  }
}

std::size_t HttpClient::connectionsOpened() const { return impl_->connections_opened; }
const HttpClientOptions& HttpClient::options() const { return impl_->options; }

}  // namespace akamu::client
