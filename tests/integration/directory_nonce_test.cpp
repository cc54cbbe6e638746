// Directory (RFC 8555 §7.1.1), newNonce (§7.2) and the headers every response carries (§6.5,
// §7.1).
#include <set>

#include "harness.hpp"

namespace akamu::itest {
namespace {

TEST(Directory, ListsEveryResourceAndMeta) {
  auto& ts = sharedServer();
  client::HttpClient http;
  auto r = http.request("GET", ts.directoryUrl());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->header("content-type").find("application/json"), std::string::npos);
  auto dir = jsonBody(*r);
  EXPECT_EQ(str(dir, "newNonce"), ts.url("/acme/new-nonce"));
  EXPECT_EQ(str(dir, "newAccount"), ts.url("/acme/new-account"));
  EXPECT_EQ(str(dir, "newOrder"), ts.url("/acme/new-order"));
  EXPECT_EQ(str(dir, "revokeCert"), ts.url("/acme/revoke-cert"));
  EXPECT_EQ(str(dir, "keyChange"), ts.url("/acme/key-change"));
  ASSERT_TRUE(dir.contains("meta") && dir.at("meta").is_object()) << r->body;
  const auto& meta = dir.at("meta").as_object();
  ASSERT_TRUE(meta.contains("externalAccountRequired"));
  EXPECT_EQ(meta.at("externalAccountRequired"), json::value(false));
  // Nothing configured, nothing advertised.
  EXPECT_FALSE(meta.contains("termsOfService"));
  EXPECT_FALSE(meta.contains("website"));
  EXPECT_FALSE(meta.contains("caaIdentities"));
}

TEST(Directory, AdvertisesConfiguredMeta) {
  auto ts = TestServer::start({.configure = [](config::Config& c) {
    c.server.terms_of_service_url = "https://example.com/tos.pdf";
    c.server.website_url = "https://example.com/";
    c.server.caa_identities = {"example.com", "akamu.example"};
    c.server.external_account_required = true;
  }});
  ASSERT_TRUE(ts);
  client::HttpClient http;
  auto r = http.request("GET", ts->directoryUrl());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto meta = jsonBody(*r).at("meta").as_object();
  EXPECT_EQ(str(meta, "termsOfService"), "https://example.com/tos.pdf");
  EXPECT_EQ(str(meta, "website"), "https://example.com/");
  EXPECT_EQ(meta.at("caaIdentities"), json::parse(R"(["example.com","akamu.example"])"));
  EXPECT_EQ(meta.at("externalAccountRequired"), json::value(true));
}

TEST(Directory, MethodOtherThanGetIsRefused) {
  auto& ts = sharedServer();
  client::HttpClient http;
  auto r = http.request("POST", ts.directoryUrl(), "{}", "application/jose+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
}

TEST(NewNonce, HeadIs200WithNoStoreAndNonce) {
  auto& ts = sharedServer();
  client::HttpClient http;
  auto r = http.request("HEAD", ts.url("/acme/new-nonce"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->header("cache-control").find("no-store"), std::string::npos);
  EXPECT_FALSE(r->header("replay-nonce").empty());
  EXPECT_TRUE(hasIndexLink(*r, ts.directoryUrl()));
}

TEST(NewNonce, GetIs204WithNoStoreAndNonce) {
  auto& ts = sharedServer();
  client::HttpClient http;
  auto r = http.request("GET", ts.url("/acme/new-nonce"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_NE(r->header("cache-control").find("no-store"), std::string::npos);
  EXPECT_FALSE(r->header("replay-nonce").empty());
  EXPECT_TRUE(hasIndexLink(*r, ts.directoryUrl()));
}

TEST(NewNonce, NoncesAreDistinctAndBase64url) {
  auto& ts = sharedServer();
  client::HttpClient http;
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto r = http.request("HEAD", ts.url("/acme/new-nonce"));
    ASSERT_TRUE(r);
    std::string nonce = r->header("replay-nonce");
    ASSERT_FALSE(nonce.empty());
    // RFC 8555 §6.5.1: the value is base64url with no padding.
    EXPECT_TRUE(core::base64urlDecode(nonce)) << nonce;
    EXPECT_TRUE(seen.insert(nonce).second) << "nonce repeated: " << nonce;
  }
}

// RFC 8555 §6.5: every successful POST response carries a Replay-Nonce (and errors should);
// §7.1: the index link to the directory. Checked across resources, successes and failures.
TEST(ResponseHeaders, EveryPostResponseHasReplayNonceAndIndexLink) {
  auto& ts = sharedServer();
  AcmeClient c = ts.client();
  std::vector<std::pair<std::string, HttpResponse>> responses;
  auto keep = [&](std::string what, const core::Result<HttpResponse>& r) {
    ASSERT_TRUE(r) << what << ": " << r.error().detail;
    responses.emplace_back(std::move(what), *r);
  };
  keep("newAccount 201", c.newAccount({}));
  keep("newAccount 200", c.newAccount({}));
  keep("account POST-as-GET", c.post(c.accountUrl(), ""));
  keep("orders list", c.post(c.accountUrl() + "/orders", ""));
  auto dir_new_order = ts.url("/acme/new-order");
  keep("newOrder 201", c.post(dir_new_order, R"({"identifiers":[{"type":"dns","value":")" +
                                                 uniqueName() + "\"}]}"));
  const auto order = jsonBody(responses.back().second);
  keep("newOrder malformed", c.post(dir_new_order, R"({"identifiers":[]})"));
  ASSERT_TRUE(order.contains("authorizations")) << responses.back().second.body;
  keep("authz", c.post(std::string(order.at("authorizations").as_array()[0].as_string()), ""));
  keep("finalize not ready", c.post(str(order, "finalize"), R"({"csr":"AAAA"})"));
  keep("unknown order", c.post(ts.url("/acme/order/doesnotexist"), ""));
  keep("revoke garbage", c.post(ts.url("/acme/revoke-cert"), R"({"certificate":"AAAA"})"));
  keep("wrong content type", c.postRaw(ts.url("/acme/new-order"), "{}", "application/json"));
  keep("unsigned garbage", c.postRaw(ts.url("/acme/new-order"), "{not json"));
  for (const auto& [what, r] : responses) {
    EXPECT_FALSE(r.header("replay-nonce").empty()) << what << ": " << describe(r);
    EXPECT_TRUE(hasIndexLink(r, ts.directoryUrl())) << what << ": " << describe(r);
  }
  // Errors are problem documents.
  EXPECT_TRUE(isProblem(responses[5].second, 400, ProblemType::kMalformed));
  EXPECT_TRUE(isProblem(responses[7].second, 403, ProblemType::kOrderNotReady));
  EXPECT_EQ(responses[8].second.status, 404);
  EXPECT_EQ(responses[10].second.status, 415);
  EXPECT_TRUE(isProblem(responses[11].second, 400, ProblemType::kMalformed));
}

TEST(Routing, PostOnlyResourcesRefuseGet) {
  auto& ts = sharedServer();
  client::HttpClient http;
  for (const char* path :
       {"/acme/new-account", "/acme/new-order", "/acme/revoke-cert", "/acme/key-change"}) {
    auto r = http.request("GET", ts.url(path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405) << path;
  }
  auto r = http.request("GET", ts.url("/nothing-here"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

}  // namespace
}  // namespace akamu::itest
