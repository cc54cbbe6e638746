// HttpClient over TLS against an in-process HTTPS server with a throwaway CA.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

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
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "client/http_client.hpp"
#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509.hpp"

namespace akamu::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct TestPki {
  crypto::PKey ca_key;
  crypto::X509Ptr ca_cert;
  crypto::PKey leaf_key;
  crypto::X509Ptr leaf_cert;
  std::string ca_file;
};

TestPki makePki(std::vector<core::Identifier> names, const std::string& file_name) {
  TestPki pki;
  auto now = std::chrono::system_clock::now();
  auto ca_key = crypto::generateKey(crypto::KeyType{});
  auto leaf_key = crypto::generateKey(crypto::KeyType{});
  EXPECT_TRUE(ca_key && leaf_key);
  pki.ca_key = std::move(*ca_key);
  pki.leaf_key = std::move(*leaf_key);
  crypto::CaRequest ca_req;
  ca_req.key = pki.ca_key.get();
  ca_req.common_name = "client test CA";
  ca_req.not_before = now - std::chrono::hours(1);
  ca_req.not_after = now + std::chrono::hours(1);
  auto ca_cert = crypto::selfSignedCaCertificate(ca_req);
  EXPECT_TRUE(ca_cert) << (ca_cert ? "" : ca_cert.error().detail);
  pki.ca_cert = std::move(*ca_cert);
  crypto::LeafRequest leaf_req;
  leaf_req.subject_public_key = pki.leaf_key.get();
  leaf_req.identifiers = std::move(names);
  leaf_req.not_before = ca_req.not_before;
  leaf_req.not_after = ca_req.not_after;
  leaf_req.serial = crypto::randomSerial();
  leaf_req.issuer_cert = pki.ca_cert.get();
  leaf_req.issuer_key = pki.ca_key.get();
  auto leaf = crypto::issueLeafCertificate(leaf_req);
  EXPECT_TRUE(leaf) << (leaf ? "" : leaf.error().detail);
  pki.leaf_cert = std::move(*leaf);
  pki.ca_file = ::testing::TempDir() + file_name;
  std::ofstream(pki.ca_file) << crypto::certToPem(pki.ca_cert.get());
  return pki;
}

// Answers every request with 200 "hello <target>" over TLS, keeping connections alive.
class TlsServer {
 public:
  explicit TlsServer(const TestPki& pki)
      : context_(ssl::context::tls_server),
        acceptor_(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    SSL_CTX_use_certificate(context_.native_handle(), pki.leaf_cert.get());
    SSL_CTX_use_PrivateKey(context_.native_handle(), pki.leaf_key.get());
    asio::co_spawn(ioc_, acceptLoop(this), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TlsServer() {
    ioc_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_.load(); }
  std::string lastServerName() {
    std::lock_guard lock(mutex_);
    return last_sni_;
  }

 private:
  static asio::awaitable<void> acceptLoop(TlsServer* self) {
    for (;;) {
      auto [ec, socket] =
          co_await self->acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(self->ioc_, session(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> session(TlsServer* self, tcp::socket socket) {
    ssl::stream<tcp::socket> stream(std::move(socket), self->context_);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server,
                                                 asio::as_tuple(asio::use_awaitable));
    if (hec) co_return;
    self->accepted_.fetch_add(1);
    {
      const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      std::lock_guard lock(self->mutex_);
      self->last_sni_ = sni != nullptr ? sni : "";
    }
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] =
          co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = "hello " + std::string(req.target());
      res.keep_alive(true);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  asio::io_context ioc_{1};
  ssl::context context_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::string last_sni_;
};

TEST(HttpsClientTest, VerifiesNameSendsSniAndKeepsConnection) {
  TestPki pki = makePki({{"dns", "localhost"}, {"ip", "127.0.0.1"}}, "akamu_client_ca1.pem");
  TlsServer server(pki);
  HttpClient client(HttpClientOptions{pki.ca_file, std::chrono::milliseconds(5000)});
  const std::string base = "https://localhost:" + std::to_string(server.port());
  for (int i = 0; i < 10; ++i) {
    auto res = client.request("GET", base + "/n" + std::to_string(i));
    ASSERT_TRUE(res) << res.error().detail;
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "hello /n" + std::to_string(i));
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.connectionsOpened(), 1u);
  EXPECT_EQ(server.lastServerName(), "localhost");
}

TEST(HttpsClientTest, IpLiteralMatchesIpSanWithoutSni) {
  TestPki pki = makePki({{"dns", "localhost"}, {"ip", "127.0.0.1"}}, "akamu_client_ca2.pem");
  TlsServer server(pki);
  HttpClient client(HttpClientOptions{pki.ca_file, std::chrono::milliseconds(5000)});
  auto res = client.request("GET", "https://127.0.0.1:" + std::to_string(server.port()) + "/ip");
  ASSERT_TRUE(res) << res.error().detail;
  EXPECT_EQ(res->body, "hello /ip");
  EXPECT_EQ(server.lastServerName(), "");
}

TEST(HttpsClientTest, RejectsCertificateForAnotherName) {
  TestPki pki = makePki({{"dns", "other.example"}}, "akamu_client_ca3.pem");
  TlsServer server(pki);
  HttpClient client(HttpClientOptions{pki.ca_file, std::chrono::milliseconds(5000)});
  auto res = client.request("GET", "https://127.0.0.1:" + std::to_string(server.port()) + "/");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().type, core::ProblemType::kTls) << res.error().detail;
}

TEST(HttpsClientTest, RejectsUntrustedCa) {
  TestPki pki = makePki({{"dns", "localhost"}, {"ip", "127.0.0.1"}}, "akamu_client_ca4.pem");
  TestPki other = makePki({{"dns", "localhost"}}, "akamu_client_ca5.pem");
  TlsServer server(pki);
  HttpClient client(HttpClientOptions{other.ca_file, std::chrono::milliseconds(5000)});
  auto res = client.request("GET", "https://localhost:" + std::to_string(server.port()) + "/");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().type, core::ProblemType::kTls) << res.error().detail;
}

}  // namespace
}  // namespace akamu::client
