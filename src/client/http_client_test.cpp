#include "client/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "client/http01_responder.hpp"

namespace akamu::client {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::unique_ptr<Http01Responder> startResponder(std::uint16_t port = 0) {
  auto responder = Http01Responder::start(port);
  if (!responder) ADD_FAILURE() << responder.error().detail;
  return responder ? std::move(*responder) : nullptr;
}

std::string challengeUrl(const Http01Responder& responder, std::string_view token) {
  return "http://127.0.0.1:" + std::to_string(responder.port()) + "/.well-known/acme-challenge/" +
         std::string(token);
}

TEST(HttpClientTest, GetsKeyAuthorizationOfSetToken) {
  auto responder = startResponder();
  ASSERT_NE(responder, nullptr);
  EXPECT_NE(responder->port(), 0);
  responder->set("tok-1", "tok-1.thumb");
  HttpClient client;
  auto res = client.request("GET", challengeUrl(*responder, "tok-1"));
  ASSERT_TRUE(res) << res.error().detail;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "tok-1.thumb");
  EXPECT_EQ(res->header("Content-Type"), "text/plain");
  EXPECT_EQ(responder->requestCount(), 1u);
}

TEST(HttpClientTest, UnknownOrRemovedTokenIsNotFound) {
  auto responder = startResponder();
  ASSERT_NE(responder, nullptr);
  HttpClient client;
  auto unknown = client.request("GET", challengeUrl(*responder, "nope"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);

  responder->set("tok", "tok.a");
  responder->remove("tok");
  auto removed = client.request("GET", challengeUrl(*responder, "tok"));
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->status, 404);

  auto other_path = client.request(
      "GET", "http://127.0.0.1:" + std::to_string(responder->port()) + "/somewhere/else");
  ASSERT_TRUE(other_path);
  EXPECT_EQ(other_path->status, 404);
  EXPECT_EQ(responder->requestCount(), 0u);
}

TEST(HttpClientTest, SetReplacesKeyAuthorization) {
  auto responder = startResponder();
  ASSERT_NE(responder, nullptr);
  responder->set("t", "first");
  responder->set("t", "second");
  HttpClient client;
  auto res = client.request("GET", challengeUrl(*responder, "t"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "second");
}

TEST(HttpClientTest, KeepAliveReusesOneConnection) {
  auto responder = startResponder();
  ASSERT_NE(responder, nullptr);
  responder->set("k", "k.v");
  HttpClient client;
  for (int i = 0; i < 100; ++i) {
    auto res = client.request(i % 2 == 0 ? "GET" : "HEAD", challengeUrl(*responder, "k"));
    ASSERT_TRUE(res) << res.error().detail;
    ASSERT_EQ(res->status, 200);
    ASSERT_EQ(res->body, i % 2 == 0 ? "k.v" : "");  // HEAD: no body, and the stream stays in sync
  }
  auto post = client.request("POST", challengeUrl(*responder, "k"), "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
  EXPECT_EQ(responder->connectionCount(), 1u);
  EXPECT_EQ(client.connectionsOpened(), 1u);
  EXPECT_EQ(responder->requestCount(), 50u);
}

TEST(HttpClientTest, LargeBodyArrivesIntact) {
  auto responder = startResponder();
  ASSERT_NE(responder, nullptr);
  std::string big(300 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
  responder->set("big", big);
  HttpClient client;
  auto res = client.request("GET", challengeUrl(*responder, "big"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, big);
}

TEST(HttpClientTest, ReconnectsWhenServerClosedIdleConnection) {
  auto responder = startResponder();
  ASSERT_NE(responder, nullptr);
  const std::uint16_t port = responder->port();
  responder->set("a", "a.1");
  HttpClient client;
  ASSERT_TRUE(client.request("GET", challengeUrl(*responder, "a")));
  EXPECT_EQ(client.connectionsOpened(), 1u);

  // Same port, new server: the client's kept-alive connection is dead now.
  responder.reset();
  responder = startResponder(port);
  ASSERT_NE(responder, nullptr);
  responder->set("a", "a.2");
  // Non-idempotent: must go out on a fresh connection, not fail on the dead one.
  auto post = client.request("POST", challengeUrl(*responder, "a"), "x", "text/plain");
  ASSERT_TRUE(post) << post.error().detail;
  EXPECT_EQ(post->status, 404);
  auto get = client.request("GET", challengeUrl(*responder, "a"));
  ASSERT_TRUE(get) << get.error().detail;
  EXPECT_EQ(get->body, "a.2");
  EXPECT_EQ(client.connectionsOpened(), 2u);
  EXPECT_EQ(responder->connectionCount(), 1u);
}

TEST(HttpClientTest, TimesOutAgainstServerThatNeverAnswers) {
  asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  // Listening but never accepting: connect completes via the backlog, the response never comes.
  HttpClient client(HttpClientOptions{"", std::chrono::milliseconds(200)});
  auto start = std::chrono::steady_clock::now();
  auto res = client.request(
      "GET", "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().type, core::ProblemType::kConnection);
  EXPECT_NE(res.error().detail.find("timed out"), std::string::npos) << res.error().detail;
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(HttpClientTest, ConnectionRefusedIsConnectionProblem) {
  std::uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    port = probe.local_endpoint().port();
  }
  HttpClient client(HttpClientOptions{"", std::chrono::milliseconds(1000)});
  auto res = client.request("GET", "http://127.0.0.1:" + std::to_string(port) + "/x");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().type, core::ProblemType::kConnection);
}

TEST(HttpClientTest, RejectsBadUrlsAndMethods) {
  HttpClient client;
  auto no_url = client.request("GET", "not a url");
  ASSERT_FALSE(no_url);
  EXPECT_EQ(no_url.error().type, core::ProblemType::kMalformed);
  auto ftp = client.request("GET", "ftp://127.0.0.1/x");
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error().type, core::ProblemType::kMalformed);
  auto bad_port = client.request("GET", "http://127.0.0.1:99999/x");
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error().type, core::ProblemType::kMalformed);
  auto bad_method = client.request("FETCH ME", "http://127.0.0.1:1/x");
  ASSERT_FALSE(bad_method);
  EXPECT_EQ(bad_method.error().type, core::ProblemType::kMalformed);
  EXPECT_EQ(client.connectionsOpened(), 0u);
}

TEST(HttpClientTest, HttpsWithMissingCaFileFailsCleanly) {
  HttpClient client(HttpClientOptions{"/nonexistent/ca.pem", std::chrono::milliseconds(500)});
  auto res = client.request("GET", "https://127.0.0.1:1/");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().type, core::ProblemType::kTls);
}

TEST(HttpClientTest, ConcurrentClientsEachKeepTheirConnection) {
  auto responder = startResponder();
  ASSERT_NE(responder, nullptr);
  constexpr int kThreads = 4;
  constexpr int kRequests = 50;
  std::vector<std::thread> threads;
  std::vector<int> ok(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string token = "t" + std::to_string(t);
      responder->set(token, token + ".ka");
      HttpClient client;
      for (int i = 0; i < kRequests; ++i) {
        auto res = client.request("GET", challengeUrl(*responder, token));
        if (res && res->status == 200 && res->body == token + ".ka") ++ok[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok[t], kRequests) << "thread " << t;
  EXPECT_EQ(responder->requestCount(), static_cast<std::size_t>(kThreads * kRequests));
  EXPECT_EQ(responder->connectionCount(), static_cast<std::size_t>(kThreads));
}

TEST(HttpResponseTest, HeaderLookupIsCaseInsensitiveAndKeepsRepeats) {
  HttpResponse res;
  res.headers = {{"link", "<a>;rel=\"up\""}, {"replay-nonce", "n1"}, {"link", "<b>;rel=\"index\""}};
  EXPECT_EQ(res.header("Replay-Nonce"), "n1");
  EXPECT_EQ(res.header("LINK"), "<a>;rel=\"up\"");
  EXPECT_EQ(res.header("location"), "");
  EXPECT_EQ(res.headerValues("Link"),
            (std::vector<std::string>{"<a>;rel=\"up\"", "<b>;rel=\"index\""}));
  EXPECT_TRUE(res.headerValues("missing").empty());
}

}  // namespace
}  // namespace akamu::client
