// Challenges and http-01 validation (RFC 8555 §7.5.1, §8.3) against a real responder.
#include "harness.hpp"

namespace akamu::itest {
namespace {

struct PendingChallenge {
  OrderInfo order;
  std::string authz_url;
  std::string url;
  std::string token;
};

PendingChallenge pendingChallenge(AcmeClient& c, const std::string& name) {
  PendingChallenge out;
  auto order = c.newOrder({dns(name)});
  EXPECT_TRUE(order) << order.error().detail;
  if (!order) return out;
  out.order = *order;
  out.authz_url = std::string(order->json.at("authorizations").as_array()[0].as_string());
  auto authz = c.getAuthorization(out.authz_url);
  EXPECT_TRUE(authz);
  if (!authz) return out;
  for (const auto& ch : authz->at("challenges").as_array()) {
    if (str(ch.as_object(), "type") == "http-01") {
      out.url = str(ch.as_object(), "url");
      out.token = str(ch.as_object(), "token");
    }
  }
  EXPECT_FALSE(out.url.empty());
  return out;
}

json::object challengeOf(AcmeClient& c, const std::string& authz_url) {
  auto a = fetch(c, authz_url);
  if (!a.contains("challenges")) return {};
  return a.at("challenges").as_array()[0].as_object();
}

TEST(Challenge, RespondValidatesOverHttpAndOrderBecomesReady) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto pc = pendingChallenge(c, uniqueName());
  ASSERT_FALSE(pc.url.empty());
  ts.responder().set(pc.token, jose::keyAuthorization(pc.token, c.thumbprint().value()));
  const std::size_t before = ts.responder().requestCount();

  auto r = c.post(pc.url, "{}");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  auto ch = jsonBody(*r);
  const std::string status = str(ch, "status");
  EXPECT_TRUE(status == "processing" || status == "valid") << r->body;
  EXPECT_EQ(str(ch, "type"), "http-01");
  EXPECT_EQ(str(ch, "url"), pc.url);
  EXPECT_EQ(str(ch, "token"), pc.token);
  EXPECT_TRUE(hasLink(*r, pc.authz_url, "up")) << describe(*r);
  EXPECT_TRUE(hasIndexLink(*r, ts.directoryUrl()));
  if (status == "processing") {
    EXPECT_FALSE(r->header("retry-after").empty());
  }

  auto ready = c.pollOrder(pc.order.url, {"ready"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(ready) << ready.error().detail;
  EXPECT_EQ(ready->status(), "ready") << json::serialize(ready->json);
  // The server really fetched the key authorization from the responder.
  EXPECT_GT(ts.responder().requestCount(), before);
  EXPECT_EQ(str(fetch(c, pc.authz_url), "status"), "valid");
  auto final_ch = challengeOf(c, pc.authz_url);
  EXPECT_EQ(str(final_ch, "status"), "valid");
  core::TimePoint validated;
  EXPECT_TRUE(core::parseRfc3339(str(final_ch, "validated"), validated))
      << json::serialize(final_ch);
  EXPECT_FALSE(final_ch.contains("error"));
}

TEST(Challenge, PostAsGetDoesNotStartValidation) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto pc = pendingChallenge(c, uniqueName());
  ASSERT_FALSE(pc.url.empty());
  ts.responder().set(pc.token, jose::keyAuthorization(pc.token, c.thumbprint().value()));
  const std::size_t before = ts.responder().requestCount();
  auto r = c.post(pc.url, "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  EXPECT_EQ(str(jsonBody(*r), "status"), "pending");
  EXPECT_EQ(str(challengeOf(c, pc.authz_url), "status"), "pending");
  EXPECT_EQ(ts.responder().requestCount(), before);
  ts.responder().remove(pc.token);
}

TEST(Challenge, RespondingAgainAfterValidDoesNotRevalidate) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto pc = pendingChallenge(c, uniqueName());
  ASSERT_FALSE(pc.url.empty());
  ts.responder().set(pc.token, jose::keyAuthorization(pc.token, c.thumbprint().value()));
  ASSERT_TRUE(c.respondChallenge(pc.url));
  auto ready = c.pollOrder(pc.order.url, {"ready"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(ready);
  ASSERT_EQ(ready->status(), "ready");
  const std::size_t before = ts.responder().requestCount();
  auto again = c.post(pc.url, "{}");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << describe(*again);
  EXPECT_EQ(str(jsonBody(*again), "status"), "valid");
  EXPECT_EQ(ts.responder().requestCount(), before);
  ts.responder().remove(pc.token);
}

TEST(Challenge, WrongKeyAuthorizationIsIncorrectResponse) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto pc = pendingChallenge(c, uniqueName());
  ASSERT_FALSE(pc.url.empty());
  // Right token, thumbprint of some other key.
  auto other = makeKey();
  ts.responder().set(pc.token,
                     jose::keyAuthorization(pc.token, jose::jwkThumbprint(other.get()).value()));
  const std::size_t before = ts.responder().requestCount();
  ASSERT_TRUE(c.respondChallenge(pc.url));
  auto done = c.pollOrder(pc.order.url, {"ready"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(done) << done.error().detail;
  EXPECT_EQ(done->status(), "invalid");
  EXPECT_GT(ts.responder().requestCount(), before);
  ASSERT_TRUE(done->json.contains("error")) << json::serialize(done->json);
  EXPECT_TRUE(done->json.at("error").is_object());
  EXPECT_EQ(str(fetch(c, pc.authz_url), "status"), "invalid");
  auto ch = challengeOf(c, pc.authz_url);
  EXPECT_EQ(str(ch, "status"), "invalid");
  ASSERT_TRUE(ch.contains("error")) << json::serialize(ch);
  auto problem = client::problemFromJson(ch.at("error").as_object());
  EXPECT_EQ(problem.type, ProblemType::kIncorrectResponse) << json::serialize(ch);
  ts.responder().remove(pc.token);
}

TEST(Challenge, NothingServedIsUnauthorized) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto pc = pendingChallenge(c, uniqueName());
  ASSERT_FALSE(pc.url.empty());
  // Nothing published for the token: the responder answers 404.
  ASSERT_TRUE(c.respondChallenge(pc.url));
  auto done = c.pollOrder(pc.order.url, {"ready"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(done) << done.error().detail;
  EXPECT_EQ(done->status(), "invalid");
  EXPECT_EQ(str(fetch(c, pc.authz_url), "status"), "invalid");
  auto ch = challengeOf(c, pc.authz_url);
  EXPECT_EQ(str(ch, "status"), "invalid");
  ASSERT_TRUE(ch.contains("error")) << json::serialize(ch);
  EXPECT_EQ(client::problemFromJson(ch.at("error").as_object()).type, ProblemType::kUnauthorized)
      << json::serialize(ch);
}

TEST(Challenge, InvalidOrderCannotBeFinalized) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  const std::string name = uniqueName();
  auto pc = pendingChallenge(c, name);
  ASSERT_FALSE(pc.url.empty());
  ASSERT_TRUE(c.respondChallenge(pc.url));  // nothing served -> invalid
  auto done = c.pollOrder(pc.order.url, {"ready"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(done);
  ASSERT_EQ(done->status(), "invalid");
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), {dns(name)}, std::nullopt);
  ASSERT_TRUE(csr);
  EXPECT_TRUE(isProblem(finalizeRaw(c, *done, *csr), 403, ProblemType::kOrderNotReady));
}

TEST(Challenge, UnknownChallengeIs404) {
  auto& ts = sharedServer();
  AcmeClient c = ts.account();
  auto pc = pendingChallenge(c, uniqueName());
  ASSERT_FALSE(pc.url.empty());
  auto r = c.post(pc.url + "x", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << describe(*r);
}

TEST(Challenge, PrivateAddressRefusedWhenNotAllowed) {
  auto ts = TestServer::start(
      {.configure = [](config::Config& c) { c.server.http_validation_allow_private_ips = false; }});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  const std::string name = uniqueName();
  auto order = c.newOrder({dns(name)});
  if (!order) {
    // Refusing the name up front is just as good.
    EXPECT_EQ(order.error().type, ProblemType::kRejectedIdentifier) << order.error().detail;
    return;
  }
  auto done = completeChallenges(c, ts->responder(), *order);
  ASSERT_TRUE(done) << done.error().detail;
  EXPECT_EQ(done->status(), "invalid");
  // Validation never reached the (loopback) responder.
  EXPECT_EQ(ts->responder().requestCount(), 0u);
  auto ch = challengeOf(c, std::string(order->json.at("authorizations").as_array()[0].as_string()));
  EXPECT_EQ(str(ch, "status"), "invalid");
  ASSERT_TRUE(ch.contains("error"));
  EXPECT_EQ(client::problemFromJson(ch.at("error").as_object()).type,
            ProblemType::kRejectedIdentifier)
      << json::serialize(ch);
}

}  // namespace
}  // namespace akamu::itest
