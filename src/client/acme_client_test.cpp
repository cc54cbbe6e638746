#include "client/acme_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <mutex>
#include <thread>

#include "client/http01_responder.hpp"
#include "client/issue_flow.hpp"
#include "core/base64url.hpp"
#include "crypto/csr.hpp"
#include "crypto/key_type.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace akamu::client {
namespace {

constexpr const char* kFakePem =
    "-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n";

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

HttpResponse problemResponse(int status, std::string body,
                             std::string content_type = "application/problem+json") {
  HttpResponse res;
  res.status = status;
  res.headers = {{"content-type", std::move(content_type)}};
  res.body = std::move(body);
  return res;
}

TEST(ParseProblemTest, ParsesAcmeProblemWithSubproblems) {
  auto res = problemResponse(400, R"({
    "type": "urn:ietf:params:acme:error:rejectedIdentifier",
    "detail": "two names rejected",
    "status": 400,
    "subproblems": [
      {"type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "policy",
       "identifier": {"type": "dns", "value": "bad.example"}},
      {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids",
       "identifier": {"type": "dns", "value": "caa.example"}}
    ]})");
  auto problem = parseProblem(res);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->type, core::ProblemType::kRejectedIdentifier);
  EXPECT_EQ(problem->detail, "two names rejected");
  ASSERT_EQ(problem->subproblems.size(), 2u);
  EXPECT_EQ(problem->subproblems[0].type, core::ProblemType::kRejectedIdentifier);
  EXPECT_EQ(problem->subproblems[0].detail, "policy");
  EXPECT_EQ(problem->subproblems[0].identifier, (core::Identifier{"dns", "bad.example"}));
  EXPECT_EQ(problem->subproblems[1].type, core::ProblemType::kCaa);
  EXPECT_EQ(problem->subproblems[1].identifier, (core::Identifier{"dns", "caa.example"}));
}

TEST(ParseProblemTest, AcceptsMediaTypeParametersAndReadsAlgorithms) {
  auto res = problemResponse(400,
                             R"({"type":"urn:ietf:params:acme:error:badSignatureAlgorithm",
                                 "detail":"no","algorithms":["ES256","EdDSA"]})",
                             "Application/Problem+JSON; charset=utf-8");
  auto problem = parseProblem(res);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->type, core::ProblemType::kBadSignatureAlgorithm);
  EXPECT_EQ(problem->algorithms, (std::vector<std::string>{"ES256", "EdDSA"}));
}

TEST(ParseProblemTest, AboutBlankMapsByStatus) {
  auto not_found = parseProblem(problemResponse(404, R"({"type":"about:blank","detail":"x"})"));
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->type, core::ProblemType::kNotFound);
  auto no_type = parseProblem(problemResponse(405, R"({"detail":"GET only"})"));
  ASSERT_TRUE(no_type);
  EXPECT_EQ(no_type->type, core::ProblemType::kMethodNotAllowed);
  EXPECT_EQ(no_type->detail, "GET only");
}

TEST(ParseProblemTest, NotAProblem) {
  EXPECT_FALSE(parseProblem(problemResponse(400, R"({"type":"x"})", "application/json")));
  EXPECT_FALSE(parseProblem(problemResponse(400, "{not json")));
  EXPECT_FALSE(parseProblem(problemResponse(400, R"(["array"])")));
  HttpResponse no_content_type;
  no_content_type.status = 500;
  no_content_type.body = R"({"type":"urn:ietf:params:acme:error:serverInternal"})";
  EXPECT_FALSE(parseProblem(no_content_type));
}

TEST(ParseProblemTest, RoundTripsEveryProblemTypeFromCore) {
  for (int i = 0; i <= static_cast<int>(core::ProblemType::kConflict); ++i) {
    auto type = static_cast<core::ProblemType>(i);
    core::Problem original = core::makeProblem(type, "detail " + std::to_string(i));
    original.identifier = core::Identifier{"ip", "192.0.2.1"};
    auto parsed =
        parseProblem(problemResponse(core::problemHttpStatus(type), core::problemToJson(original)));
    ASSERT_TRUE(parsed) << i;
    EXPECT_EQ(parsed->type, type) << core::problemTypeUri(type);
    EXPECT_EQ(parsed->detail, original.detail);
    EXPECT_EQ(parsed->identifier, original.identifier);
  }
}

TEST(ParseProblemTest, UnknownAcmeUrnIsServerInternal) {
  EXPECT_EQ(problemTypeFromUri("urn:ietf:params:acme:error:somethingNew", 400),
            core::ProblemType::kServerInternal);
  EXPECT_EQ(problemTypeFromUri("about:blank", 413), core::ProblemType::kPayloadTooLarge);
}

// A minimal ACME server with just enough behaviour to exercise the client's nonce handling,
// kid/jwk choice, signatures, polling and key change. It verifies every JWS it gets.
class FakeAcmeServer {
 public:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  FakeAcmeServer() : acceptor_(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    base_ = "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    asio::co_spawn(ioc_, acceptLoop(this), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~FakeAcmeServer() {
    ioc_.stop();
    thread_.join();
  }

  std::string url(std::string_view path) const { return base_ + std::string(path); }

  // Test knobs and observations (guarded: the server thread writes them).
  std::mutex mutex;
  int reject_next_nonces = 0;
  int ready_after_polls = 3;
  int nonce_fetches = 0;
  int posts = 0;
  int order_polls = 0;
  int connections = 0;
  jose::ProtectedHeader last_header;
  crypto::PKey account_key;  // as registered / changed
  // Issuance flow: where http-01 is validated, and what the order/authz went through.
  std::string validation_base;
  bool expect_wrong_key_authorization = false;
  std::string authz_status = "pending";
  std::string order_state;  // overrides the poll-count status when set
  crypto::PKey csr_key;

 private:
  static asio::awaitable<void> acceptLoop(FakeAcmeServer* self) {
    for (;;) {
      auto [ec, socket] =
          co_await self->acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      {
        std::lock_guard lock(self->mutex);
        ++self->connections;
      }
      asio::co_spawn(self->ioc_, session(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> session(FakeAcmeServer* self, tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      Request req;
      auto [ec, n] =
          co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      Response res = self->handle(req);
      res.version(11);
      res.keep_alive(true);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  std::string freshNonce() {
    std::string nonce = "nonce-" + std::to_string(next_nonce_++);
    issued_.push_back(nonce);
    return nonce;
  }

  Response problem(http::status status, core::ProblemType type, std::string detail) {
    Response res{status, 11};
    res.set(http::field::content_type, "application/problem+json");
    res.body() = core::problemToJson(core::makeProblem(type, std::move(detail)));
    return res;
  }

  Response handle(const Request& req) {
    std::lock_guard lock(mutex);
    Response res = route(req);
    res.set("Replay-Nonce", freshNonce());
    return res;
  }

  Response route(const Request& req) {
    std::string_view target = req.target();
    if (req.method() == http::verb::get && target == "/dir") {
      Response res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      res.body() = json::serialize(json::object{{"newNonce", url("/nonce")},
                                                {"newAccount", url("/acct")},
                                                {"newOrder", url("/order")},
                                                {"keyChange", url("/kc")},
                                                {"revokeCert", url("/revoke")}});
      return res;
    }
    if (req.method() == http::verb::head && target == "/nonce") {
      ++nonce_fetches;
      return Response{http::status::ok, 11};
    }
    if (req.method() != http::verb::post) {
      return problem(http::status::not_found, core::ProblemType::kNotFound, "no route");
    }
    ++posts;
    auto jws = jose::parseJws(req.body());
    if (!jws) return problem(http::status::bad_request, core::ProblemType::kMalformed, "bad JWS");
    last_header = jws->header;
    if (jws->header.url != url(target)) {
      return problem(http::status::unauthorized, core::ProblemType::kUnauthorized, "url");
    }
    auto issued = std::find(issued_.begin(), issued_.end(), jws->header.nonce.value_or(""));
    if (issued == issued_.end() || reject_next_nonces > 0) {
      if (reject_next_nonces > 0) --reject_next_nonces;
      return problem(http::status::bad_request, core::ProblemType::kBadNonce, "stale nonce");
    }
    issued_.erase(issued);
    // Verify with the embedded jwk or, for kid, the registered account key.
    crypto::PKey jwk_key;
    const EVP_PKEY* verify_key = account_key.get();
    if (jws->header.jwk) {
      auto parsed = jose::publicKeyFromJwk(*jws->header.jwk);
      if (!parsed) return problem(http::status::bad_request, core::ProblemType::kBadPublicKey, "");
      jwk_key = std::move(*parsed);
      verify_key = jwk_key.get();
    } else if (jws->header.kid != url("/acct/1")) {
      return problem(http::status::bad_request, core::ProblemType::kAccountDoesNotExist, "kid");
    }
    if (verify_key == nullptr || !jose::verifyJwsSignature(*jws, verify_key)) {
      return problem(http::status::forbidden, core::ProblemType::kUnauthorized, "signature");
    }

    if (target == "/acct") {
      if (!jws->header.jwk)
        return problem(http::status::bad_request, core::ProblemType::kMalformed, "");
      account_key = std::move(jwk_key);
      Response res{http::status::created, 11};
      res.set(http::field::location, url("/acct/1"));
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"status":"valid"})";
      return res;
    }
    if (target == "/order") {
      if (jws->payload.find("rejected.example") != std::string::npos) {
        return problem(http::status::bad_request, core::ProblemType::kRejectedIdentifier,
                       "rejected.example is not allowed");
      }
      Response res{http::status::created, 11};
      res.set(http::field::location, url("/order/1"));
      res.body() = orderJson("pending");
      return res;
    }
    if (target == "/order/1" && jws->isPostAsGet()) {
      ++order_polls;
      Response res{http::status::ok, 11};
      if (order_state == "processing") order_state = "valid";  // one poll sees it finish
      res.body() = orderJson(!order_state.empty()               ? order_state
                             : order_polls >= ready_after_polls ? "ready"
                                                                : "pending");
      return res;
    }
    if (target == "/authz/1" && jws->isPostAsGet()) {
      Response res{http::status::ok, 11};
      res.body() = authzJson();
      return res;
    }
    if (target == "/chall/1" && jws->payload == "{}") {
      // Validate for real against the client's responder, as a CA would.
      HttpClient fetcher;
      auto got = fetcher.request("GET", validation_base + "/.well-known/acme-challenge/tok123");
      auto thumbprint = jose::jwkThumbprint(account_key.get());
      std::string expected = jose::keyAuthorization("tok123", thumbprint ? *thumbprint : "");
      if (expect_wrong_key_authorization) expected += "x";
      const bool ok = got && got->status == 200 && got->body == expected;
      authz_status = ok ? "valid" : "invalid";
      order_state = ok ? "ready" : "invalid";
      Response res{http::status::ok, 11};
      res.body() = challengeJson();
      return res;
    }
    if (target == "/order/1/finalize" && order_state == "ready") {
      auto payload = json::parse(jws->payload).as_object();
      auto der = core::base64urlDecode(payload.at("csr").as_string());
      auto csr = der ? crypto::parseCsr(*der)
                     : core::Result<crypto::ParsedCsr>(core::fail(core::malformed("b64")));
      if (!csr) return problem(http::status::bad_request, core::ProblemType::kBadCsr, "csr");
      csr_key = std::move(csr->public_key);
      order_state = "processing";
      Response res{http::status::ok, 11};
      res.body() = orderJson(order_state);
      return res;
    }
    if (target == "/cert/1" && jws->isPostAsGet()) {
      Response res{http::status::ok, 11};
      res.set(http::field::content_type, "application/pem-certificate-chain");
      res.body() = kFakePem;
      return res;
    }
    if (target == "/kc") {
      auto inner = jose::parseJws(jws->payload);
      if (!inner || !inner->header.jwk || inner->header.nonce || inner->header.url != url("/kc")) {
        return problem(http::status::bad_request, core::ProblemType::kMalformed, "inner");
      }
      auto new_key = jose::publicKeyFromJwk(*inner->header.jwk);
      if (!new_key || !jose::verifyJwsSignature(*inner, new_key->get())) {
        return problem(http::status::bad_request, core::ProblemType::kMalformed, "inner sig");
      }
      auto payload = json::parse(inner->payload).as_object();
      auto old_key = jose::publicKeyFromJwk(payload.at("oldKey").as_object());
      if (payload.at("account").as_string() != url("/acct/1") || !old_key ||
          !crypto::publicKeysEqual(old_key->get(), account_key.get())) {
        return problem(http::status::bad_request, core::ProblemType::kMalformed, "oldKey");
      }
      account_key = std::move(*new_key);
      return Response{http::status::ok, 11};
    }
    if (target == "/acct/1" && jws->payload == R"({"status":"deactivated"})") {
      Response res{http::status::ok, 11};
      res.body() = R"({"status":"deactivated"})";
      return res;
    }
    return problem(http::status::not_found, core::ProblemType::kNotFound, "no route");
  }

  std::string orderJson(std::string_view status) {
    json::object order{{"status", status},
                       {"finalize", url("/order/1/finalize")},
                       {"authorizations", json::array{url("/authz/1")}}};
    if (status == "valid") order["certificate"] = url("/cert/1");
    return json::serialize(order);
  }

  json::object challenge() {
    json::object chall{{"type", "http-01"}, {"url", url("/chall/1")}, {"token", "tok123"}};
    chall["status"] = authz_status == "pending" ? "pending" : authz_status;
    if (authz_status == "invalid") {
      chall["error"] = json::parse(core::problemToJson(
          core::makeProblem(core::ProblemType::kIncorrectResponse, "key authorization mismatch")));
    }
    return chall;
  }
  std::string challengeJson() { return json::serialize(challenge()); }
  std::string authzJson() {
    json::array challenges{
        json::object{{"type", "dns-01"}, {"url", url("/chall/2")}, {"token", "t2"}}, challenge()};
    return json::serialize(
        json::object{{"status", authz_status},
                     {"identifier", json::object{{"type", "dns"}, {"value", "a.example"}}},
                     {"challenges", std::move(challenges)}});
  }

  asio::io_context ioc_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::string base_;
  int next_nonce_ = 0;
  std::vector<std::string> issued_;
};

crypto::PKey newKey() {
  auto key = crypto::generateKey(crypto::KeyType{});
  EXPECT_TRUE(key);
  return key ? std::move(*key) : nullptr;
}

class AcmeClientTest : public ::testing::Test {
 protected:
  FakeAcmeServer server_;
  AcmeClient client_{server_.url("/dir"), newKey()};

  void registerAccount() {
    auto res = client_.newAccount({"mailto:ops@example.com"});
    ASSERT_TRUE(res) << res.error().detail;
    ASSERT_EQ(res->status, 201) << res->body;
  }
};

TEST_F(AcmeClientTest, NewAccountUsesJwkThenKidAndThreadsNonces) {
  registerAccount();
  EXPECT_EQ(client_.accountUrl(), server_.url("/acct/1"));
  {
    std::lock_guard lock(server_.mutex);
    EXPECT_TRUE(server_.last_header.jwk.has_value());
    EXPECT_FALSE(server_.last_header.kid.has_value());
  }
  auto order = client_.newOrder({{"dns", "a.example"}});
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->url, server_.url("/order/1"));
  EXPECT_EQ(order->status(), "pending");
  std::lock_guard lock(server_.mutex);
  EXPECT_EQ(server_.last_header.kid, server_.url("/acct/1"));
  EXPECT_FALSE(server_.last_header.jwk.has_value());
  // Only the very first request needed a HEAD newNonce; later ones reuse Replay-Nonce.
  EXPECT_EQ(server_.nonce_fetches, 1);
  EXPECT_EQ(server_.connections, 1);
  EXPECT_EQ(client_.http().connectionsOpened(), 1u);
}

TEST_F(AcmeClientTest, RetriesBadNonceWithTheErrorResponsesNonce) {
  registerAccount();
  {
    std::lock_guard lock(server_.mutex);
    server_.reject_next_nonces = 2;
    server_.posts = 0;
  }
  auto order = client_.newOrder({{"dns", "a.example"}});
  ASSERT_TRUE(order) << order.error().detail;
  std::lock_guard lock(server_.mutex);
  EXPECT_EQ(server_.posts, 3);
  EXPECT_EQ(server_.nonce_fetches, 1);
}

TEST_F(AcmeClientTest, GivesUpAfterBadNonceRetries) {
  registerAccount();
  {
    std::lock_guard lock(server_.mutex);
    server_.reject_next_nonces = 100;
    server_.posts = 0;
  }
  auto res = client_.post(server_.url("/order"), "{}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  auto problem = parseProblem(*res);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->type, core::ProblemType::kBadNonce);
  std::lock_guard lock(server_.mutex);
  EXPECT_EQ(server_.posts, 1 + ClientOptions{}.bad_nonce_retries);
}

TEST_F(AcmeClientTest, NewOrderReturnsTheServersProblem) {
  registerAccount();
  auto order = client_.newOrder({{"dns", "rejected.example"}});
  ASSERT_FALSE(order);
  EXPECT_EQ(order.error().type, core::ProblemType::kRejectedIdentifier);
  EXPECT_EQ(order.error().detail, "rejected.example is not allowed");
}

TEST_F(AcmeClientTest, PostWithoutAccountFailsLocally) {
  auto res = client_.post(server_.url("/order"), "{}");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().type, core::ProblemType::kMalformed);
}

TEST_F(AcmeClientTest, PollOrderWaitsUntilReady) {
  registerAccount();
  auto order = client_.pollOrder(server_.url("/order/1"), {"ready"});
  ASSERT_TRUE(order) << order.error().detail;
  EXPECT_EQ(order->status(), "ready");
  EXPECT_EQ(order->url, server_.url("/order/1"));
  std::lock_guard lock(server_.mutex);
  EXPECT_EQ(server_.order_polls, 3);
}

TEST_F(AcmeClientTest, PollOrderStopsAtDeadline) {
  registerAccount();
  {
    std::lock_guard lock(server_.mutex);
    server_.ready_after_polls = 1'000'000;
  }
  auto start = std::chrono::steady_clock::now();
  auto order = client_.pollOrder(server_.url("/order/1"), {"ready"}, std::chrono::milliseconds(5),
                                 std::chrono::milliseconds(60));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(order);
  EXPECT_NE(order.error().detail.find("pending"), std::string::npos) << order.error().detail;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  std::lock_guard lock(server_.mutex);
  EXPECT_GT(server_.order_polls, 3);  // backoff capped at 5 ms: several polls in 60 ms
}

TEST_F(AcmeClientTest, ChangeKeySwitchesTheSigningKey) {
  registerAccount();
  auto old_thumbprint = client_.thumbprint();
  ASSERT_TRUE(old_thumbprint);
  crypto::PKey next = newKey();
  const EVP_PKEY* next_raw = next.get();
  auto changed = client_.changeKey(std::move(next));
  ASSERT_TRUE(changed) << changed.error().detail;
  EXPECT_EQ(client_.accountKey(), next_raw);
  auto new_thumbprint = client_.thumbprint();
  ASSERT_TRUE(new_thumbprint);
  EXPECT_NE(*new_thumbprint, *old_thumbprint);
  EXPECT_EQ(*new_thumbprint, *jose::jwkThumbprint(next_raw));
  // The server now only accepts signatures by the new key.
  auto order = client_.newOrder({{"dns", "b.example"}});
  ASSERT_TRUE(order) << order.error().detail;
}

TEST_F(AcmeClientTest, PostSignedWithAnotherKeyIsRejectedBySignatureCheck) {
  registerAccount();
  crypto::PKey other = newKey();
  auto res = client_.postSignedWith(other.get(), server_.url("/order"), "{}", client_.accountUrl());
  ASSERT_TRUE(res);
  auto problem = parseProblem(*res);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->type, core::ProblemType::kUnauthorized);
}

TEST_F(AcmeClientTest, PostRawSendsBodyUnsigned) {
  ASSERT_TRUE(client_.loadDirectory());
  EXPECT_EQ(client_.directory().at("newOrder").as_string(), server_.url("/order"));
  auto res = client_.postRaw(server_.url("/order"), "{\"not\":\"a jws\"}");
  ASSERT_TRUE(res);
  auto problem = parseProblem(*res);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->type, core::ProblemType::kMalformed);
}

TEST_F(AcmeClientTest, DeactivateAccount) {
  registerAccount();
  EXPECT_TRUE(client_.deactivateAccount());
}

TEST_F(AcmeClientTest, IssueCertificateRunsTheWholeFlowOverHttp01) {
  registerAccount();
  auto responder = Http01Responder::start();
  ASSERT_TRUE(responder) << responder.error().detail;
  {
    std::lock_guard lock(server_.mutex);
    server_.validation_base = "http://127.0.0.1:" + std::to_string((*responder)->port());
  }
  auto issued = issueCertificate(client_, **responder, {{"dns", "a.example"}}, crypto::KeyType{},
                                 std::chrono::milliseconds(2));
  ASSERT_TRUE(issued) << issued.error().detail;
  EXPECT_EQ(issued->certificate_pem, kFakePem);
  EXPECT_EQ(issued->order_url, server_.url("/order/1"));
  EXPECT_EQ(issued->certificate_url, server_.url("/cert/1"));
  ASSERT_NE(issued->certificate_key, nullptr);
  EXPECT_EQ((*responder)->requestCount(), 1u);  // the server really fetched the token
  EXPECT_GT(issued->timings.new_order.count(), 0);
  EXPECT_GT(issued->timings.challenge.count(), 0);
  EXPECT_GT(issued->timings.finalize.count(), 0);
  EXPECT_GT(issued->timings.download.count(), 0);
  {
    std::lock_guard lock(server_.mutex);
    ASSERT_NE(server_.csr_key, nullptr);
    EXPECT_TRUE(crypto::publicKeysEqual(server_.csr_key.get(), issued->certificate_key.get()));
  }
  // The token is withdrawn once the flow is over.
  HttpClient probe;
  auto after = probe.request("GET", "http://127.0.0.1:" + std::to_string((*responder)->port()) +
                                        "/.well-known/acme-challenge/tok123");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 404);
}

TEST_F(AcmeClientTest, IssueCertificateReportsTheChallengeError) {
  registerAccount();
  auto responder = Http01Responder::start();
  ASSERT_TRUE(responder) << responder.error().detail;
  {
    std::lock_guard lock(server_.mutex);
    server_.validation_base = "http://127.0.0.1:" + std::to_string((*responder)->port());
    server_.expect_wrong_key_authorization = true;
  }
  auto issued = issueCertificate(client_, **responder, {{"dns", "a.example"}}, crypto::KeyType{},
                                 std::chrono::milliseconds(2));
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().type, core::ProblemType::kIncorrectResponse) << issued.error().detail;
  EXPECT_EQ((*responder)->requestCount(), 1u);
}

TEST(AcmeClientDirectoryTest, UnreachableDirectoryIsConnectionProblem) {
  std::uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    port = probe.local_endpoint().port();
  }
  AcmeClient client("http://127.0.0.1:" + std::to_string(port) + "/dir", newKey());
  auto status = client.loadDirectory();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().type, core::ProblemType::kConnection);
  auto nonce = client.fetchNonce();
  ASSERT_FALSE(nonce);
}

}  // namespace
}  // namespace akamu::client
