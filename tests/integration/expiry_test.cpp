// Expiry of orders and authorizations (RFC 8555 §7.1.3, §7.1.4, §7.1.6), driven by a FakeClock.
#include "harness.hpp"

namespace akamu::itest {
namespace {

class Expiry : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
    ts_ = TestServer::start({.configure =
                                 [](config::Config& c) {
                                   c.server.order_expiry_secs = 3600;
                                   c.server.authz_expiry_secs = 600;
                                 },
                             .clock = clock_});
    ASSERT_TRUE(ts_);
  }
  std::shared_ptr<core::FakeClock> clock_;
  std::unique_ptr<TestServer> ts_;
};

TEST_F(Expiry, OrderAndAuthorizationCarryExpiresFromTheClock) {
  AcmeClient c = ts_->account();
  auto order = c.newOrder({dns(uniqueName())});
  ASSERT_TRUE(order);
  core::TimePoint order_expires, authz_expires;
  ASSERT_TRUE(core::parseRfc3339(str(order->json, "expires"), order_expires));
  auto authz =
      c.getAuthorization(std::string(order->json.at("authorizations").as_array()[0].as_string()));
  ASSERT_TRUE(authz);
  ASSERT_TRUE(core::parseRfc3339(str(*authz, "expires"), authz_expires));
  const auto now = clock_->now();
  EXPECT_NEAR(std::chrono::duration<double>(order_expires - now).count(), 3600, 2);
  EXPECT_NEAR(std::chrono::duration<double>(authz_expires - now).count(), 600, 2);
}

TEST_F(Expiry, PendingOrderPastExpiryIsInvalid) {
  AcmeClient c = ts_->account();
  auto order = c.newOrder({dns(uniqueName())});
  ASSERT_TRUE(order);
  EXPECT_EQ(str(fetch(c, order->url), "status"), "pending");
  clock_->advance(std::chrono::seconds(3601));
  auto o = fetch(c, order->url);
  EXPECT_EQ(str(o, "status"), "invalid") << json::serialize(o);
}

TEST_F(Expiry, ReadyOrderPastExpiryIsInvalidAndCannotBeFinalized) {
  AcmeClient c = ts_->account();
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto ready = readyOrder(c, ts_->responder(), ids);
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready");
  clock_->advance(std::chrono::seconds(3601));
  EXPECT_EQ(str(fetch(c, ready->url), "status"), "invalid");
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), ids, std::nullopt);
  ASSERT_TRUE(csr);
  EXPECT_TRUE(isProblem(finalizeRaw(c, *ready, *csr), 403, ProblemType::kOrderNotReady));
  EXPECT_FALSE(fetch(c, ready->url).contains("certificate"));
}

TEST_F(Expiry, ChallengeOnExpiredAuthorizationIsRefused) {
  AcmeClient c = ts_->account();
  auto order = c.newOrder({dns(uniqueName())});
  ASSERT_TRUE(order);
  const std::string authz_url(order->json.at("authorizations").as_array()[0].as_string());
  auto authz = c.getAuthorization(authz_url);
  ASSERT_TRUE(authz);
  const auto& ch = authz->at("challenges").as_array()[0].as_object();
  const std::string token = str(ch, "token");
  ts_->responder().set(token, jose::keyAuthorization(token, c.thumbprint().value()));
  const std::size_t before = ts_->responder().requestCount();

  clock_->advance(std::chrono::seconds(601));  // past the authorization, not the order
  auto r = c.post(str(ch, "url"), "{}");
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400) << describe(*r);
  EXPECT_LT(r->status, 500) << describe(*r);
  EXPECT_TRUE(client::parseProblem(*r)) << describe(*r);
  // No validation happened, and nothing became valid.
  EXPECT_EQ(ts_->responder().requestCount(), before);
  EXPECT_EQ(str(fetch(c, authz_url), "status"), "expired");
  EXPECT_EQ(str(fetch(c, order->url), "status"), "invalid");
  ts_->responder().remove(token);
}

TEST_F(Expiry, CertificateIsDatedByTheServerClock) {
  // A certificate issued after a time jump is dated by the server's clock (now - 1 minute of
  // allowance for client clock skew), not by the host's.
  AcmeClient c = ts_->account();
  clock_->advance(std::chrono::hours(2));
  auto issued = issue(c, ts_->responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  auto leaf = crypto::certFromPem(issued->certificate_pem);
  ASSERT_TRUE(leaf);
  auto info = crypto::inspectCertificate(leaf->get());
  ASSERT_TRUE(info);
  const auto skew = info->not_before - (clock_->now() - std::chrono::minutes(1));
  EXPECT_LT(std::chrono::abs(skew), std::chrono::minutes(1));
}

}  // namespace
}  // namespace akamu::itest
