// External account binding (RFC 8555 §7.3.4) end to end: credentials written to the server's
// database from outside the server (as `akamu eab create` does, while it runs), then
// newAccount with and without a binding, scope at newOrder, expiry under the fake clock.
#include "jose/eab.hpp"

#include <boost/asio/io_context.hpp>

#include "core/random.hpp"
#include "harness.hpp"
#include "store/blocking_store.hpp"
#include "store/open_store.hpp"

namespace akamu::itest {
namespace {

// The server's database opened a second time, by the test (SQLite file or the PostgreSQL
// schema of this server): the operator's view.
class OperatorStore {
 public:
  explicit OperatorStore(const std::string& url) {
    auto opened = store::openStore(url, {.pool_connections = 1}, io_.get_executor());
    EXPECT_TRUE(opened) << opened.error().detail;
    if (opened) {
      store_ = std::move(*opened);
      blocking_.emplace(*store_, &io_);
    }
  }
  store::BlockingStore& operator*() { return *blocking_; }
  store::BlockingStore* operator->() { return &*blocking_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<store::Store> store_;
  std::optional<store::BlockingStore> blocking_;
};

class EabTest : public ::testing::Test {
 protected:
  void start(bool required, std::shared_ptr<core::Clock> clock = nullptr) {
    server_ =
        TestServer::start({.configure =
                               [required](config::Config& c) {
                                 c.server.external_account_required = required;
                                 // A file, not :memory:, so the operator can reach it.
                                 if (c.database.url == "sqlite::memory:") {
                                   const auto dir =
                                       std::filesystem::path(c.server.audit_log_file).parent_path();
                                   c.database.url = "sqlite://" + (dir / "eab.db").string();
                                 }
                               },
                           .clock = clock});
    ASSERT_TRUE(server_);
    operator_.emplace(server_->server().config().database.url);
  }
  acme::EabCredential credential(const std::string& kid, std::optional<std::uint32_t> uses = 1,
                                 std::vector<std::string> patterns = {},
                                 std::optional<core::TimePoint> expires = {}) {
    acme::EabCredential c;
    c.key_id = kid;
    c.hmac_key = core::randomBytes(32);
    c.created_at =
        std::chrono::time_point_cast<core::TimePoint::duration>(std::chrono::system_clock::now());
    c.max_uses = uses;
    c.identifier_patterns = std::move(patterns);
    c.expires = expires;
    auto st = (*operator_)->insertEabCredential(c);
    EXPECT_TRUE(st) << st.error().detail;
    return c;
  }
  AcmeClient boundClient(const acme::EabCredential& c) {
    client::ClientOptions options;
    options.eab = client::EabCredentials{c.key_id, c.hmac_key};
    return AcmeClient(server_->directoryUrl(), makeKey(), options);
  }
  std::size_t auditCount(std::string_view type) {
    std::size_t n = 0;
    for (const auto& e : server_->auditEvents()) n += str(e, "event_type") == type;
    return n;
  }

  std::unique_ptr<TestServer> server_;
  std::optional<OperatorStore> operator_;
};

TEST_F(EabTest, RequiredBindingCreatesTheAccountOnceAndRefusesWithout) {
  start(true);
  AcmeClient plain = server_->client();
  EXPECT_TRUE(isProblem(plain.newAccount({}), 403, ProblemType::kExternalAccountRequired));

  auto cred = credential("kid-once-" + uniqueName());
  AcmeClient c = boundClient(cred);
  auto created = c.newAccount({"mailto:eab@example.com"});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << describe(*created);
  // The same key again: the account, and no use consumed.
  auto again = c.newAccount({});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << describe(*again);

  auto stored = (*operator_)->getEabCredential(cred.key_id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->uses, 1u);
  EXPECT_EQ((*stored)->state, acme::EabState::kBound);
  auto bound = (*operator_)->listEabBoundAccountIds(cred.key_id);
  ASSERT_TRUE(bound);
  ASSERT_EQ(bound->size(), 1u);
  EXPECT_EQ(server_->url("/acme/account/" + bound->front()), c.accountUrl());

  // Single use: a second account with it is refused.
  AcmeClient other = boundClient(cred);
  auto refused = other.newAccount({});
  EXPECT_TRUE(isProblem(refused, 403, ProblemType::kUnauthorized));
  EXPECT_NE(refused->body.find("already been used"), std::string::npos) << refused->body;
  EXPECT_GE(auditCount("account.eab.refuse"), 2u);
}

TEST_F(EabTest, UnknownKidBadMacAndMalformedBindingAreRefused) {
  start(true);
  auto cred = credential("kid-good-" + uniqueName(), std::nullopt);
  acme::EabCredential unknown = cred;
  unknown.key_id = "kid-unknown";
  EXPECT_TRUE(isProblem(boundClient(unknown).newAccount({}), 403, ProblemType::kUnauthorized));
  acme::EabCredential wrong_key = cred;
  wrong_key.hmac_key[0] ^= 1;
  auto bad_mac = boundClient(wrong_key).newAccount({});
  EXPECT_TRUE(isProblem(bad_mac, 403, ProblemType::kUnauthorized));
  EXPECT_NE(bad_mac->body.find("MAC is invalid"), std::string::npos) << bad_mac->body;

  // A binding for another URL, sent by hand.
  AcmeClient c = server_->client();
  ASSERT_TRUE(c.loadDirectory());
  const std::string new_account = str(c.directory(), "newAccount");
  auto jwk = jose::publicKeyToJwk(c.accountKey());
  auto binding =
      jose::signExternalAccountBinding(cred.key_id, cred.hmac_key, new_account + "x", *jwk);
  json::object payload{{"termsOfServiceAgreed", true},
                       {"externalAccountBinding", std::move(*binding)}};
  auto r = c.postSignedWith(c.accountKey(), new_account, json::serialize(payload), std::nullopt);
  EXPECT_TRUE(isProblem(r, 400, ProblemType::kMalformed));
  // Nothing above consumed a use.
  EXPECT_EQ((*(*operator_)->getEabCredential(cred.key_id))->uses, 0u);
}

TEST_F(EabTest, RevokedWhileTheServerRunsBindsNoMore) {
  start(true);
  auto cred = credential("kid-rev-" + uniqueName(), std::nullopt);
  AcmeClient first = boundClient(cred);
  ASSERT_EQ(first.newAccount({})->status, 201);
  ASSERT_TRUE(first.newOrder({dns(uniqueName())}));
  auto revoked = (*operator_)->revokeEabCredential(cred.key_id, core::SystemClock().now());
  ASSERT_TRUE(revoked && *revoked);
  EXPECT_TRUE(isProblem(boundClient(cred).newAccount({}), 403, ProblemType::kUnauthorized));
  // The account it created may not order any more.
  EXPECT_TRUE(failedWith(first.newOrder({dns(uniqueName())}), ProblemType::kUnauthorized));
}

TEST_F(EabTest, ExpiryFollowsTheServerClock) {
  auto clock = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
  start(true, clock);
  auto cred =
      credential("kid-exp-" + uniqueName(), std::nullopt, {}, clock->now() + std::chrono::hours(1));
  ASSERT_EQ(boundClient(cred).newAccount({})->status, 201);
  clock->advance(std::chrono::hours(2));
  auto late = boundClient(cred).newAccount({});
  EXPECT_TRUE(isProblem(late, 403, ProblemType::kUnauthorized));
  EXPECT_NE(late->body.find("expired"), std::string::npos) << late->body;
}

TEST_F(EabTest, IdentifierScopeAtNewOrder) {
  start(true);
  const std::string base = uniqueName("scope");
  auto cred = credential("kid-scope-" + uniqueName(), 1, {"*." + base});
  AcmeClient c = boundClient(cred);
  ASSERT_EQ(c.newAccount({})->status, 201);
  EXPECT_TRUE(c.newOrder({dns("www." + base)}));
  auto outside = c.newOrder({dns("www." + base), dns(base)});
  ASSERT_TRUE(failedWith(outside, ProblemType::kUnauthorized));
  ASSERT_EQ(outside.error().subproblems.size(), 1u);
  EXPECT_EQ(outside.error().subproblems[0].identifier->value, base);
}

TEST_F(EabTest, BindingSentWhenNotRequiredIsVerifiedAndBound) {
  start(false);
  auto cred = credential("kid-opt-" + uniqueName());
  ASSERT_EQ(boundClient(cred).newAccount({})->status, 201);
  EXPECT_EQ((*(*operator_)->getEabCredential(cred.key_id))->uses, 1u);
  acme::EabCredential wrong = cred;
  wrong.hmac_key[3] ^= 0x80;
  EXPECT_TRUE(isProblem(boundClient(wrong).newAccount({}), 403, ProblemType::kUnauthorized));
  // Without a binding: an unbound account, as before.
  EXPECT_EQ(server_->client().newAccount({})->status, 201);
}

}  // namespace
}  // namespace akamu::itest
