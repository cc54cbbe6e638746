// Many clients at once (the server runs 2 worker threads).
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "harness.hpp"

namespace akamu::itest {
namespace {

TEST(Concurrency, FourThreadsFiveIssuancesEach) {
  auto ts = TestServer::start();
  ASSERT_TRUE(ts);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::mutex mutex;
  std::vector<std::string> failures;
  std::set<std::string> serials;
  const std::size_t before = ts->responder().requestCount();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      AcmeClient c(ts->directoryUrl(), crypto::generateKey(crypto::KeyType{}).value());
      auto acct = c.newAccount({});
      if (!acct || acct->status != 201) {
        std::lock_guard lock(mutex);
        failures.push_back("thread " + std::to_string(t) + ": newAccount failed");
        return;
      }
      for (int i = 0; i < kPerThread; ++i) {
        const std::vector<Identifier> ids{dns(uniqueName("c"))};
        auto kt = crypto::parseKeyType("ec:P-256").value();
        auto issued =
            client::issueCertificate(c, ts->responder(), ids, kt, std::chrono::milliseconds(10));
        std::lock_guard lock(mutex);
        if (!issued) {
          failures.push_back("thread " + std::to_string(t) + " #" + std::to_string(i) + ": " +
                             issued.error().detail);
          continue;
        }
        auto leaf = crypto::certFromPem(issued->certificate_pem);
        auto info = leaf ? crypto::inspectCertificate(leaf->get())
                         : core::Result<crypto::CertInfo>(tl::unexpected(leaf.error()));
        if (!info || info->identifiers != ids) {
          failures.push_back("thread " + std::to_string(t) + " #" + std::to_string(i) +
                             ": wrong certificate");
          continue;
        }
        serials.insert(info->serial_hex);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(failures.empty()) << ::testing::PrintToString(failures);
  EXPECT_EQ(serials.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_GE(ts->responder().requestCount() - before,
            static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(Concurrency, TwoConcurrentChallengeResponsesStartOneValidation) {
  auto ts = TestServer::start();
  ASSERT_TRUE(ts);
  AcmeClient c1 = ts->account();
  auto key_copy = crypto::privateKeyFromPem(crypto::privateKeyToPem(c1.accountKey()));
  ASSERT_TRUE(key_copy);
  AcmeClient c2(ts->directoryUrl(), std::move(*key_copy));
  ASSERT_TRUE(c2.newAccount({}, true, true));
  ASSERT_EQ(c2.accountUrl(), c1.accountUrl());

  auto order = c1.newOrder({dns(uniqueName())});
  ASSERT_TRUE(order);
  auto authz =
      c1.getAuthorization(std::string(order->json.at("authorizations").as_array()[0].as_string()));
  ASSERT_TRUE(authz);
  const auto& ch = authz->at("challenges").as_array()[0].as_object();
  const std::string token = str(ch, "token");
  const std::string url = str(ch, "url");
  ts->responder().set(token, jose::keyAuthorization(token, c1.thumbprint().value()));
  ASSERT_TRUE(c2.post(c2.accountUrl(), ""));  // nonce in hand
  const std::size_t before = ts->responder().requestCount();

  std::atomic<int> go{0};
  core::Result<HttpResponse> r1, r2;
  std::thread t1([&] {
    go.fetch_add(1);
    while (go.load() < 2) {
    }
    r1 = c1.post(url, "{}");
  });
  std::thread t2([&] {
    go.fetch_add(1);
    while (go.load() < 2) {
    }
    r2 = c2.post(url, "{}");
  });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->status, 200) << describe(*r1);
  EXPECT_EQ(r2->status, 200) << describe(*r2);
  auto ready = c1.pollOrder(order->url, {"ready"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status(), "ready");
  EXPECT_EQ(ts->responder().requestCount() - before, 1u);
}

}  // namespace
}  // namespace akamu::itest
