// Finalize (RFC 8555 §7.4): order state, CSR checks, and the race between two finalizes.
#include <atomic>
#include <thread>

#include "harness.hpp"

namespace akamu::itest {
namespace {

class Finalize : public ::testing::Test {
 protected:
  TestServer& ts = sharedServer();
  AcmeClient c = ts.account();

  OrderInfo ready(const std::vector<Identifier>& ids) {
    auto o = readyOrder(c, ts.responder(), ids);
    EXPECT_TRUE(o) << o.error().detail;
    if (!o) return {};
    EXPECT_EQ(o->status(), "ready") << json::serialize(o->json);
    return *o;
  }
  std::vector<std::uint8_t> csrFor(const std::vector<Identifier>& ids,
                                   const EVP_PKEY* key = nullptr, bool request_ca = false) {
    if (key == nullptr) {
      keys_.push_back(makeKey());
      key = keys_.back().get();
    }
    auto csr = crypto::buildCsr(key, ids, std::nullopt, request_ca);
    EXPECT_TRUE(csr) << (csr ? "" : csr.error().detail);
    return csr ? *csr : std::vector<std::uint8_t>{};
  }
  void expectStillReady(const OrderInfo& order) {
    auto o = fetch(c, order.url);
    EXPECT_EQ(str(o, "status"), "ready") << json::serialize(o);
    EXPECT_FALSE(o.contains("certificate"));
  }
  std::vector<crypto::PKey> keys_;
};

TEST_F(Finalize, BeforeReadyIsOrderNotReady) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = c.newOrder(ids);
  ASSERT_TRUE(order);
  auto r = finalizeRaw(c, *order, csrFor(ids));
  EXPECT_TRUE(isProblem(r, 403, ProblemType::kOrderNotReady));
  EXPECT_FALSE(r->header("replay-nonce").empty());
  EXPECT_EQ(str(fetch(c, order->url), "status"), "pending");
}

TEST_F(Finalize, SuccessMakesOrderValidWithCertificate) {
  const std::vector<Identifier> ids{dns(uniqueName()), dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  auto r = finalizeRaw(c, order, csrFor(ids));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << describe(*r);
  auto body = jsonBody(*r);
  const std::string status = str(body, "status");
  ASSERT_TRUE(status == "valid" || status == "processing") << r->body;
  if (status == "processing") {
    // RFC 8555 §7.4: Retry-After tells the client when to poll again.
    EXPECT_FALSE(r->header("retry-after").empty());
  }
  auto valid = c.pollOrder(order.url, {"valid"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(valid);
  ASSERT_EQ(valid->status(), "valid");
  EXPECT_EQ(str(valid->json, "certificate").rfind(ts.url("/acme/cert/"), 0), 0u)
      << json::serialize(valid->json);
  auto pem = c.downloadCertificate(str(valid->json, "certificate"));
  ASSERT_TRUE(pem) << pem.error().detail;
  EXPECT_NE(pem->find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST_F(Finalize, FinalizingTwiceIsOrderNotReady) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  auto first = c.finalize(order, csrFor(ids));
  ASSERT_TRUE(first) << first.error().detail;
  auto valid = c.pollOrder(order.url, {"valid"});
  ASSERT_TRUE(valid);
  const std::string cert_url = str(valid->json, "certificate");
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, csrFor(ids)), 403, ProblemType::kOrderNotReady));
  // Still the first certificate.
  EXPECT_EQ(str(fetch(c, order.url), "certificate"), cert_url);
}

TEST_F(Finalize, CsrMissingANameIsBadCsr) {
  const std::vector<Identifier> ids{dns(uniqueName()), dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, csrFor({ids[0]})), 400, ProblemType::kBadCsr));
  expectStillReady(order);
}

TEST_F(Finalize, CsrWithAnExtraNameIsBadCsr) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, csrFor({ids[0], dns(uniqueName())})), 400,
                        ProblemType::kBadCsr));
  // An extra name only in the subject CN counts too.
  auto key = makeKey();
  auto cn_csr = crypto::buildCsr(key.get(), ids, std::string("other.localhost"));
  ASSERT_TRUE(cn_csr);
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, *cn_csr), 400, ProblemType::kBadCsr));
  expectStillReady(order);
}

TEST_F(Finalize, BadlySignedCsrIsBadCsr) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  // Ed25519: the signature is the last 64 bytes, any change keeps the DER well-formed.
  auto key = makeKey("ed25519");
  auto csr = csrFor(ids, key.get());
  ASSERT_FALSE(csr.empty());
  csr[csr.size() - 10] ^= 0x01;
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, csr), 400, ProblemType::kBadCsr));
  // A change in the signed part (inside the requested extensions) fails the same way.
  auto csr2 = csrFor(ids, key.get());
  ASSERT_GT(csr2.size(), 80u);
  csr2[csr2.size() - 80] ^= 0x01;
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, csr2), 400, ProblemType::kBadCsr));
  // Not a CSR at all / not base64url.
  std::vector<std::uint8_t> garbage{0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, garbage), 400, ProblemType::kBadCsr));
  auto r = c.post(str(order.json, "finalize"), R"({"csr":"not base64url!"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << describe(*r);
  expectStillReady(order);
}

TEST_F(Finalize, CsrKeyEqualToAccountKeyIsBadCsr) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  EXPECT_TRUE(
      isProblem(finalizeRaw(c, order, csrFor(ids, c.accountKey())), 400, ProblemType::kBadCsr));
  expectStillReady(order);
}

TEST_F(Finalize, CsrRequestingCaIsBadCsr) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  EXPECT_TRUE(isProblem(finalizeRaw(c, order, csrFor(ids, nullptr, /*request_ca=*/true)), 400,
                        ProblemType::kBadCsr));
  expectStillReady(order);
}

TEST_F(Finalize, MissingCsrIsMalformed) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  auto order = ready(ids);
  ASSERT_FALSE(order.url.empty());
  EXPECT_TRUE(isProblem(c.post(str(order.json, "finalize"), "{}"), 400, ProblemType::kMalformed));
  EXPECT_TRUE(isProblem(c.post(str(order.json, "finalize"), ""), 400, ProblemType::kMalformed));
  expectStillReady(order);
}

TEST_F(Finalize, TwoConcurrentFinalizesExactlyOneSucceeds) {
  const std::vector<Identifier> ids{dns(uniqueName())};
  for (int round = 0; round < 3; ++round) {
    auto order = ready(ids);
    ASSERT_FALSE(order.url.empty());
    // Two clients on the same account (same key: newAccount returns the existing account).
    auto key_copy = crypto::privateKeyFromPem(crypto::privateKeyToPem(c.accountKey()));
    ASSERT_TRUE(key_copy);
    AcmeClient c2(ts.directoryUrl(), std::move(*key_copy));
    auto existing = c2.newAccount({}, true, true);
    ASSERT_TRUE(existing && existing->status == 200);
    ASSERT_EQ(c2.accountUrl(), c.accountUrl());
    // Nonces in hand before the start line, so both POSTs go out together.
    ASSERT_TRUE(c.post(c.accountUrl(), ""));
    ASSERT_TRUE(c2.post(c2.accountUrl(), ""));
    auto csr1 = csrFor(ids);
    auto csr2 = csrFor(ids);
    std::atomic<int> go{0};
    core::Result<HttpResponse> r1, r2;
    std::thread t1([&] {
      go.fetch_add(1);
      while (go.load() < 2) {
      }
      r1 = finalizeRaw(c, order, csr1);
    });
    std::thread t2([&] {
      go.fetch_add(1);
      while (go.load() < 2) {
      }
      r2 = finalizeRaw(c2, order, csr2);
    });
    t1.join();
    t2.join();
    ASSERT_TRUE(r1 && r2);
    const int ok = (r1->status == 200) + (r2->status == 200);
    EXPECT_EQ(ok, 1) << describe(*r1) << " / " << describe(*r2);
    const auto& loser = r1->status == 200 ? *r2 : *r1;
    EXPECT_TRUE(isProblem(loser, 403, ProblemType::kOrderNotReady));
    auto valid = c.pollOrder(order.url, {"valid"});
    ASSERT_TRUE(valid);
    EXPECT_EQ(valid->status(), "valid");
    // The certificate is for the winner's CSR key.
    auto pem = c.downloadCertificate(str(valid->json, "certificate"));
    ASSERT_TRUE(pem);
    auto leaf = crypto::certFromPem(*pem);
    ASSERT_TRUE(leaf);
    auto info = crypto::inspectCertificate(leaf->get());
    ASSERT_TRUE(info);
    const EVP_PKEY* winner_key = keys_[keys_.size() - (r1->status == 200 ? 2 : 1)].get();
    EXPECT_TRUE(crypto::publicKeysEqual(info->public_key.get(), winner_key));
  }
}

}  // namespace
}  // namespace akamu::itest
