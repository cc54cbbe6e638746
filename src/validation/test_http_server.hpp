#pragma once
// Test helper (header-only; not part of the library): a plain HTTP server that answers every
// request with either a redirect or the key authorization, and an HTTPS server (self-signed)
// that serves the key authorization, both on 127.0.0.1:<ephemeral> with their own thread.
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509.hpp"

namespace akamu::validation::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

class HttpChallengeServers {
  using tcp = asio::ip::tcp;

 public:
  // Serves `key_authorization` at /.well-known/acme-challenge/<token> (any Host).
  HttpChallengeServers(std::string token, std::string key_authorization)
      : token_(std::move(token)),
        key_authorization_(std::move(key_authorization)),
        plain_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
        tls_acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
        ctx_(asio::ssl::context::tls_server) {
    auto key = crypto::generateKey(*crypto::parseKeyType("ec:P-256"));
    crypto::CaRequest req;
    req.key = key->get();
    req.common_name = "localhost";
    req.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
    req.not_after = req.not_before + std::chrono::hours(48);
    auto cert = crypto::selfSignedCaCertificate(req);
    const std::string cert_pem = crypto::certToPem(cert->get());
    const std::string key_pem = crypto::privateKeyToPem(key->get());
    ctx_.use_certificate(asio::buffer(cert_pem), asio::ssl::context::pem);
    ctx_.use_private_key(asio::buffer(key_pem), asio::ssl::context::pem);
    asio::co_spawn(io_, acceptPlain(), asio::detached);
    asio::co_spawn(io_, acceptTls(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HttpChallengeServers() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t plainPort() const { return plain_.local_endpoint().port(); }
  std::uint16_t tlsPort() const { return tls_acceptor_.local_endpoint().port(); }
  void redirectTo(std::string location) {
    std::lock_guard lock(mutex_);
    location_ = std::move(location);
  }
  int tlsRequests() const { return tls_requests_.load(); }

 private:
  template <class Stream>
  asio::awaitable<void> answer(Stream& stream, bool plain) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [ec, n] =
        co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) co_return;
    http::response<http::string_body> res{http::status::ok, 11};
    std::string location;
    {
      std::lock_guard lock(mutex_);
      location = location_;
    }
    if (plain && !location.empty()) {
      res.result(http::status::found);
      res.set(http::field::location, location);
    } else if (req.target() == "/.well-known/acme-challenge/" + token_) {
      res.body() = key_authorization_;
    } else {
      res.result(http::status::not_found);
    }
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  }
  asio::awaitable<void> acceptPlain() {
    for (;;) {
      auto [ec, socket] = co_await plain_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      beast::tcp_stream stream(std::move(socket));
      co_await answer(stream, true);
    }
  }
  asio::awaitable<void> acceptTls() {
    for (;;) {
      auto [ec, socket] = co_await tls_acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), ctx_);
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                   asio::as_tuple(asio::use_awaitable));
      if (hec) continue;
      ++tls_requests_;
      co_await answer(stream, false);
    }
  }

  std::string token_;
  std::string key_authorization_;
  asio::io_context io_;
  tcp::acceptor plain_;
  tcp::acceptor tls_acceptor_;
  asio::ssl::context ctx_;
  std::thread thread_;
  std::mutex mutex_;
  std::string location_;
  std::atomic<int> tls_requests_{0};
};

}  // namespace akamu::validation::testing
