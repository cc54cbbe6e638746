// Retention: expired orders, authorizations and challenges are pruned once their grace period
// has passed, and certificates are kept — driven by a FakeClock through Server::pruneNow (the
// pass the schedule runs every prune_interval_secs).
#include "harness.hpp"

namespace akamu::itest {
namespace {

class Retention : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
    ts_ = TestServer::start({.configure =
                                 [](config::Config& c) {
                                   c.server.order_expiry_secs = 3600;
                                   c.server.authz_expiry_secs = 3600;
                                   c.database.prune_interval_secs = 0;  // passes run by hand
                                   c.database.prune_after_expiry_secs = 600;
                                 },
                             .clock = clock_});
    ASSERT_TRUE(ts_);
  }
  std::shared_ptr<core::FakeClock> clock_;
  std::unique_ptr<TestServer> ts_;
};

TEST_F(Retention, ExpiredOrdersGoCertificatesStay) {
  AcmeClient c = ts_->account();
  auto issued = issue(c, ts_->responder(), {dns(uniqueName())});
  ASSERT_TRUE(issued) << issued.error().detail;
  auto abandoned = c.newOrder({dns(uniqueName()), dns(uniqueName())});
  ASSERT_TRUE(abandoned);
  const std::string abandoned_authz(abandoned->json.at("authorizations").as_array()[0].as_string());

  // Nothing has expired: a pass removes nothing.
  auto none = ts_->server().pruneNow();
  ASSERT_TRUE(none) << none.error().detail;
  EXPECT_EQ(none->orders + none->authorizations + none->challenges, 0u);

  // Expired, but still inside the grace period: kept, and still answered (as invalid).
  clock_->advance(std::chrono::seconds(3600 + 300));
  auto early = ts_->server().pruneNow();
  ASSERT_TRUE(early) << early.error().detail;
  EXPECT_EQ(early->orders, 0u);
  EXPECT_EQ(str(fetch(c, abandoned->url), "status"), "invalid");

  clock_->advance(std::chrono::seconds(301));
  auto pruned = ts_->server().pruneNow();
  ASSERT_TRUE(pruned) << pruned.error().detail;
  EXPECT_EQ(pruned->orders, 1u);          // the abandoned order
  EXPECT_EQ(pruned->authorizations, 3u);  // its two, and the issued order's one
  EXPECT_GE(pruned->challenges, 3u);

  // The abandoned order and its authorization are gone: 404, not 500.
  auto gone = c.post(abandoned->url, "");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(isProblem(*gone, 404, ProblemType::kMalformed) ||
              isProblem(*gone, 404, ProblemType::kNotFound))
      << describe(*gone);
  auto gone_authz = c.post(abandoned_authz, "");
  ASSERT_TRUE(gone_authz);
  EXPECT_EQ(gone_authz->status, 404) << describe(*gone_authz);

  // The certificate is downloadable, byte for byte, and its order still says valid.
  auto cert = c.post(issued->certificate_url, "");
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->status, 200) << describe(*cert);
  EXPECT_EQ(cert->body, issued->certificate_pem);
  EXPECT_EQ(str(fetch(c, issued->order_url), "status"), "valid");

  // The account is untouched: it can order again.
  auto again = c.newOrder({dns(uniqueName())});
  EXPECT_TRUE(again) << (again ? "" : again.error().detail);
}

}  // namespace
}  // namespace akamu::itest
