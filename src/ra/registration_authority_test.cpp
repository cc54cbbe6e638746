// Registration authority unit tests: a real SQLite :memory: store and CA, a fake clock, and a
// scripted validation engine whose outcomes the test releases, so every interleaving below is
// forced, not hoped for. No server, no network, no sleeps.
#include "ra/registration_authority.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <filesystem>
#include <fstream>

#include "core/base64url.hpp"
#include "crypto/csr.hpp"
#include "crypto/digest.hpp"
#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"
#include "jose/eab.hpp"
#include "jose/jwk.hpp"
#include "store/open_store.hpp"
#include "validation/fake_resolver.hpp"

namespace akamu::ra {
namespace {

namespace asio = boost::asio;
using core::Identifier;
using core::ProblemType;

// Runs `aw` on `io` until it completes (other work, such as a validation waiting for its
// release, may stay pending).
template <class T>
T drive(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out.emplace(std::move(v));
    done = true;
  });
  io.restart();
  while (!done) io.run_one();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

// Nothing is looked up: the scripted engine never calls it.
class NoResolver final : public validation::Resolver {
 public:
  asio::awaitable<core::Result<validation::DnsAnswer>> lookup(std::string name,
                                                              validation::RrType) override {
    co_return core::fail(core::makeProblem(ProblemType::kDns, "no resolver in this test: " + name));
  }
};

// Each validate() waits until the test releases it with an outcome (or answers at once when
// `immediate` is set).
class ScriptedValidation final : public validation::ValidationEngine {
 public:
  explicit ScriptedValidation(asio::io_context& io, validation::Resolver& r)
      : validation::ValidationEngine(r, r, {}), io_(io) {}

  std::optional<core::Status> immediate;

  asio::awaitable<core::Status> validate(validation::ValidationRequest request) override {
    requests.push_back(request);
    if (immediate) co_return *immediate;
    auto gate = std::make_shared<Gate>(io_);
    gates_.push_back(gate);
    boost::system::error_code ec;
    co_await gate->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return gate->outcome;
  }
  asio::awaitable<core::Status> recheckCaa(Identifier, std::string, acme::ChallengeType) override {
    co_return core::Status{};
  }
  std::size_t waiting() const { return gates_.size(); }
  void release(core::Status outcome) {
    auto gate = gates_.front();
    gates_.pop_front();
    gate->outcome = std::move(outcome);
    gate->timer.cancel();
  }
  std::vector<validation::ValidationRequest> requests;

 private:
  struct Gate {
    explicit Gate(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    core::Status outcome;
  };
  asio::io_context& io_;
  std::deque<std::shared_ptr<Gate>> gates_;
};

class TestUrls final : public ResourceUrls {
 public:
  std::string account(std::string_view id) const override { return "https://ca/acct/" + s(id); }
  std::string order(std::string_view id) const override { return "https://ca/order/" + s(id); }
  std::string authz(std::string_view id) const override { return "https://ca/authz/" + s(id); }
  std::string challenge(std::string_view a, std::string_view c) const override {
    return "https://ca/chall/" + s(a) + "/" + s(c);
  }
  std::string certificate(std::string_view id) const override { return "https://ca/cert/" + s(id); }

 private:
  static std::string s(std::string_view v) { return std::string(v); }
};

// Counts what the RA reports through the metrics seam.
class CountingMetrics final : public core::Metrics {
 public:
  void storeCall(const char*, Duration) override {}
  void certificateIssued(Duration) override { ++issued; }
  void certificateRevoked(int reason) override { revoked_reasons.push_back(reason); }
  void validationStarted() override { ++validations_started; }
  void validationDone(std::string_view type, std::optional<core::ProblemType> problem,
                      Duration) override {
    validations.emplace_back(std::string(type), problem);
  }
  void ariReplacement() override { ++replacements; }

  int issued = 0;
  std::vector<int> revoked_reasons;
  int validations_started = 0;
  std::vector<std::pair<std::string, std::optional<core::ProblemType>>> validations;
  int replacements = 0;
};

crypto::PKey newKey() { return std::move(*crypto::generateKey(*crypto::parseKeyType("ec:P-256"))); }

class RaTest : public ::testing::Test {
 protected:
  RaTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("ra-test-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        clock_(core::fromUnixSeconds(1800000000)),
        validation_(io_, resolver_) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.server.authz_expiry_secs = 3600;
    config_.server.order_expiry_secs = 7200;
    config::applyProfileDefaults(config_);
    auto opened = store::openStore("sqlite::memory:", {}, io_.get_executor());
    if (!opened) throw std::runtime_error(opened.error().detail);
    store_ = std::move(*opened);
    ca::CaSettings ca;
    ca.key_file = (dir_ / "ca.key").string();
    ca.cert_file = (dir_ / "ca.pem").string();
    ca_ = std::move(*ca::CertificateAuthority::loadOrCreate(ca, clock_));
    audit_ = std::move(*AuditLog::open((dir_ / "audit.log").string(), clock_));
    RaDeps deps{config_, *store_, *ca_, *audit_, clock_, validation_, urls_};
    deps.metrics = &metrics_;
    ra_ = std::make_unique<RegistrationAuthority>(std::move(deps));
  }
  ~RaTest() override {
    ra_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  template <class T>
  T run(asio::awaitable<T> aw) {
    return drive(io_, std::move(aw));
  }

  // A new account; the requester as the front end would hand it to the RA.
  Requester newAccount() {
    keys_.push_back(newKey());
    EVP_PKEY* key = keys_.back().get();
    auto jwk = jose::publicKeyToJwk(key);
    NewAccountRequest in;
    in.jwk_json = *jose::canonicalJwkJson(*jwk);
    in.thumbprint = *jose::jwkThumbprint(*jwk);
    auto created = run(ra_->newAccount(in));
    EXPECT_TRUE(created) << created.error().detail;
    return Requester{created->account, created->account.thumbprint, key};
  }
  // The requester as a later request would see it (fresh account row).
  Requester reload(const Requester& r) {
    Requester fresh = r;
    fresh.account = **run(store_->getAccount(r.account->id));
    return fresh;
  }

  acme::Order newOrder(const Requester& who, std::vector<Identifier> ids) {
    auto order = run(ra_->newOrder(who, NewOrderRequest{std::move(ids), {}, {}}));
    EXPECT_TRUE(order) << order.error().detail;
    return *order;
  }
  acme::Authorization authzOf(const acme::Order& order, std::size_t i = 0) {
    return **run(store_->getAuthorization(order.authz_ids.at(i)));
  }
  static const acme::Challenge& challengeOf(const acme::Authorization& a, std::string_view type) {
    for (const auto& c : a.challenges) {
      if (c.type == type) return c;
    }
    throw std::runtime_error("no challenge " + std::string(type));
  }
  // Answers the challenge and returns its validation signal (the validation then waits for
  // release() unless validation_.immediate is set).
  std::shared_ptr<ValidationSignal> respond(const Requester& who, const acme::Authorization& a,
                                            std::string_view type = "http-01") {
    auto r = run(ra_->challenge(who, a.id, challengeOf(a, type).id, true, io_.get_executor()));
    EXPECT_TRUE(r) << r.error().detail;
    EXPECT_TRUE(r->started);
    return r->started;
  }
  void waitFor(const std::shared_ptr<ValidationSignal>& signal) {
    io_.restart();
    while (!signal->finished()) io_.run_one();
  }
  // Validates every authorization of the order at once: the order is then ready.
  acme::Order makeReady(const Requester& who, const acme::Order& order,
                        std::string_view type = "http-01") {
    validation_.immediate = core::Status{};
    for (std::size_t i = 0; i < order.authz_ids.size(); ++i)
      waitFor(respond(who, authzOf(order, i), type));
    validation_.immediate.reset();
    auto ready = run(ra_->order(who, order.id, *store_));
    EXPECT_TRUE(ready);
    EXPECT_EQ(ready->status, acme::OrderStatus::kReady);
    return *ready;
  }
  std::vector<std::uint8_t> csrFor(const std::vector<Identifier>& ids) {
    keys_.push_back(newKey());
    return *crypto::buildCsr(keys_.back().get(), ids, std::nullopt);
  }
  std::size_t certificatesIssued() {
    std::ifstream in(dir_ / "audit.log");
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) n += line.find("\"cert.issue\"") != std::string::npos;
    return n;
  }

  std::filesystem::path dir_;
  asio::io_context io_;
  core::FakeClock clock_;
  NoResolver resolver_;
  ScriptedValidation validation_;
  config::Config config_;
  TestUrls urls_;
  CountingMetrics metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ca::CertificateAuthority> ca_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RegistrationAuthority> ra_;
  std::vector<crypto::PKey> keys_;
};

Identifier dns(std::string v) { return Identifier{"dns", std::move(v)}; }

TEST_F(RaTest, ValidationFinishingAfterDeactivationLeavesItDeactivated) {
  auto who = newAccount();
  auto order = newOrder(who, {dns("a.example")});
  auto signal = respond(who, authzOf(order));
  ASSERT_EQ(validation_.waiting(), 1u);

  auto deactivated = run(ra_->deactivateAuthorization(who, order.authz_ids[0]));
  ASSERT_TRUE(deactivated) << deactivated.error().detail;
  EXPECT_EQ(deactivated->status, acme::AuthzStatus::kDeactivated);

  validation_.release(core::Status{});  // the validation succeeds, too late
  waitFor(signal);
  auto a = authzOf(order);
  EXPECT_EQ(a.status, acme::AuthzStatus::kDeactivated);
  auto o = run(ra_->order(who, order.id, *store_));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->status, acme::OrderStatus::kInvalid);
  auto fin = run(ra_->finalize(who, order.id, csrFor({dns("a.example")})));
  ASSERT_FALSE(fin);
  EXPECT_EQ(fin.error().type, ProblemType::kOrderNotReady);
  EXPECT_EQ(certificatesIssued(), 0u);
}

// The stored status of every order that lists a changed authorization moves on at once (not
// only when the order is next read through the RA).
TEST_F(RaTest, DeactivationMovesEveryOrderListingTheAuthorizationOn) {
  config_.server.reuse_min_remaining_secs = 60;  // the fixture's authorizations live an hour
  auto who = newAccount();
  auto first = makeReady(who, newOrder(who, {dns("a.example")}));
  auto second = newOrder(who, {dns("a.example")});
  EXPECT_EQ(second.authz_ids, first.authz_ids);  // reused
  EXPECT_EQ(second.status, acme::OrderStatus::kReady);
  ASSERT_TRUE(run(ra_->deactivateAuthorization(who, first.authz_ids[0])));
  for (const auto* o : {&first, &second}) {
    auto stored = run(store_->getOrder(o->id));
    ASSERT_TRUE(stored && stored->has_value());
    EXPECT_EQ((*stored)->status, acme::OrderStatus::kInvalid) << o->id;
  }
}

TEST_F(RaTest, ValidationMovesEveryOrderListingTheAuthorizationOn) {
  config_.server.reuse_pending_authz = true;
  config_.server.reuse_min_remaining_secs = 60;
  auto who = newAccount();
  auto first = newOrder(who, {dns("a.example")});
  auto second = newOrder(who, {dns("a.example")});
  ASSERT_EQ(second.authz_ids, first.authz_ids);  // the pending one, shared
  validation_.immediate = core::Status{};
  waitFor(respond(who, authzOf(first)));
  for (const auto* o : {&first, &second}) {
    auto stored = run(store_->getOrder(o->id));
    ASSERT_TRUE(stored && stored->has_value());
    EXPECT_EQ((*stored)->status, acme::OrderStatus::kReady) << o->id;
  }
}

TEST_F(RaTest, NoReuseWhenTurnedOffOrForAnotherAccount) {
  config_.server.reuse_min_remaining_secs = 60;
  auto who = newAccount();
  {
    auto first = makeReady(who, newOrder(who, {dns("z.example")}));
    EXPECT_EQ(newOrder(who, {dns("z.example")}).authz_ids, first.authz_ids);  // reused when on
  }
  auto first = makeReady(who, newOrder(who, {dns("a.example")}));
  auto other = newAccount();
  auto theirs = newOrder(other, {dns("a.example")});
  EXPECT_NE(theirs.authz_ids, first.authz_ids);
  EXPECT_EQ(theirs.status, acme::OrderStatus::kPending);
  config_.server.reuse_valid_authz = false;
  auto again = newOrder(who, {dns("a.example")});
  EXPECT_NE(again.authz_ids, first.authz_ids);
  EXPECT_EQ(again.status, acme::OrderStatus::kPending);
}

TEST_F(RaTest, FinalizeOfReadyOrderAfterDeactivationIsRefusedAndSignsNothing) {
  auto who = newAccount();
  auto order = makeReady(who, newOrder(who, {dns("a.example"), dns("b.example")}));
  ASSERT_TRUE(run(ra_->deactivateAuthorization(who, order.authz_ids[1])));
  auto fin = run(ra_->finalize(who, order.id, csrFor(order.identifiers)));
  ASSERT_FALSE(fin);
  EXPECT_EQ(fin.error().type, ProblemType::kOrderNotReady);
  EXPECT_EQ(certificatesIssued(), 0u);
  EXPECT_FALSE((*run(store_->getOrder(order.id)))->certificate_id.has_value());
}

TEST_F(RaTest, FinalizeAfterAuthorizationExpiryIsRefused) {
  auto who = newAccount();
  auto order = makeReady(who, newOrder(who, {dns("a.example")}));
  clock_.advance(std::chrono::seconds(3601));  // the authorization expired; the order not yet
  auto fin = run(ra_->finalize(who, order.id, csrFor(order.identifiers)));
  ASSERT_FALSE(fin);
  EXPECT_EQ(fin.error().type, ProblemType::kOrderNotReady);
  EXPECT_EQ(certificatesIssued(), 0u);
}

TEST_F(RaTest, FinalizeOfReadyOrderIssuesOnceAndAnswersWithValidOrder) {
  auto who = newAccount();
  auto order = makeReady(who, newOrder(who, {dns("a.example")}));
  auto csr = csrFor(order.identifiers);
  auto fin = run(ra_->finalize(who, order.id, csr));
  ASSERT_TRUE(fin) << fin.error().detail;
  EXPECT_EQ(fin->status, acme::OrderStatus::kValid);
  ASSERT_TRUE(fin->certificate_id);
  auto again = run(ra_->finalize(who, order.id, csr));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().type, ProblemType::kOrderNotReady);
  EXPECT_EQ(certificatesIssued(), 1u);
}

TEST_F(RaTest, MetricsSeeEachValidationOneIssuanceAndTheRevocationReason) {
  auto who = newAccount();
  auto order = makeReady(who, newOrder(who, {dns("a.example"), dns("b.example")}));
  ASSERT_EQ(metrics_.validations_started, 2);
  ASSERT_EQ(metrics_.validations.size(), 2u);
  EXPECT_EQ(metrics_.validations[0].first, "http-01");
  EXPECT_FALSE(metrics_.validations[0].second);
  auto csr = csrFor(order.identifiers);
  auto fin = run(ra_->finalize(who, order.id, csr));
  ASSERT_TRUE(fin) << fin.error().detail;
  EXPECT_FALSE(run(ra_->finalize(who, order.id, csr)));  // refused: nothing issued
  EXPECT_EQ(metrics_.issued, 1);
  auto cert = **run(store_->getCertificate(*fin->certificate_id));
  auto chain = crypto::certChainFromPem(cert.pem_chain);
  ASSERT_TRUE(chain);
  ASSERT_TRUE(run(ra_->revoke(who, RevocationRequest{crypto::certToDer((*chain)[0].get()), 4})));
  EXPECT_EQ(metrics_.revoked_reasons, std::vector<int>{4});
  EXPECT_EQ(metrics_.replacements, 0);
}

TEST_F(RaTest, ConcurrentFinalizeOfOneOrderSignsOnce) {
  auto who = newAccount();
  auto order = makeReady(who, newOrder(who, {dns("a.example")}));
  auto csr = csrFor(order.identifiers);
  int ok = 0, not_ready = 0, done = 0;
  for (int i = 0; i < 8; ++i) {
    asio::co_spawn(io_, ra_->finalize(who, order.id, csr),
                   [&](std::exception_ptr, core::Result<acme::Order> r) {
                     ++done;
                     if (r) ++ok;
                     if (!r && r.error().type == ProblemType::kOrderNotReady) ++not_ready;
                   });
  }
  io_.restart();
  while (done < 8) io_.run_one();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(not_ready, 7);
  EXPECT_EQ(certificatesIssued(), 1u);
}

TEST_F(RaTest, DeactivationIsFinal) {
  auto who = newAccount();
  auto order = newOrder(who, {dns("a.example")});
  ASSERT_TRUE(run(ra_->deactivateAuthorization(who, order.authz_ids[0])));
  auto twice = run(ra_->deactivateAuthorization(who, order.authz_ids[0]));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().type, ProblemType::kMalformed);
  auto a = authzOf(order);
  auto r = run(ra_->challenge(who, a.id, challengeOf(a, "http-01").id, true, io_.get_executor()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, ProblemType::kMalformed);
  EXPECT_EQ(validation_.waiting(), 0u);
  EXPECT_EQ(authzOf(order).status, acme::AuthzStatus::kDeactivated);
}

TEST_F(RaTest, ValidationOutcomeIsRecordedWhenAuthorizationIsStillPending) {
  auto who = newAccount();
  auto order = newOrder(who, {dns("a.example")});
  auto signal = respond(who, authzOf(order));
  validation_.release(core::fail(core::makeProblem(ProblemType::kIncorrectResponse, "nope")));
  waitFor(signal);
  auto a = authzOf(order);
  EXPECT_EQ(a.status, acme::AuthzStatus::kInvalid);
  EXPECT_EQ(challengeOf(a, "http-01").status, acme::ChallengeStatus::kInvalid);
  EXPECT_EQ((*run(store_->getOrder(order.id)))->status, acme::OrderStatus::kInvalid);
}

TEST_F(RaTest, ConcurrentChallengeResponsesStartOneValidation) {
  auto who = newAccount();
  auto order = newOrder(who, {dns("a.example")});
  auto a = authzOf(order);
  auto first =
      run(ra_->challenge(who, a.id, challengeOf(a, "http-01").id, true, io_.get_executor()));
  auto second =
      run(ra_->challenge(who, a.id, challengeOf(a, "http-01").id, true, io_.get_executor()));
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->started);
  EXPECT_FALSE(second->started);
  EXPECT_EQ(second->challenge.status, acme::ChallengeStatus::kProcessing);
  EXPECT_EQ(validation_.waiting(), 1u);
  validation_.release(core::Status{});
  waitFor(first->started);
}

TEST_F(RaTest, AccountUpdateDecidedBeforeADeactivationDoesNotRevive) {
  auto who = newAccount();
  // Two requests authenticated while the account was valid; the deactivation commits first.
  auto stale = who;
  ASSERT_TRUE(run(ra_->updateAccount(who, who.account->id, AccountUpdate{{}, {}, true})));
  auto update = run(ra_->updateAccount(
      stale, stale.account->id,
      AccountUpdate{std::vector<std::string>{"mailto:a@example.com"}, {}, false}));
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().type, ProblemType::kUnauthorized);
  auto stored = **run(store_->getAccount(who.account->id));
  EXPECT_EQ(stored.status, acme::AccountStatus::kDeactivated);
  EXPECT_TRUE(stored.contacts.empty());
}

TEST_F(RaTest, KeyChangeDecidedBeforeADeactivationIsRefused) {
  auto who = newAccount();
  auto stale = who;
  ASSERT_TRUE(run(ra_->updateAccount(who, who.account->id, AccountUpdate{{}, {}, true})));
  auto next_key = newKey();
  auto jwk = jose::publicKeyToJwk(next_key.get());
  KeyChangeRequest change{urls_.account(who.account->id), who.thumbprint,
                          *jose::canonicalJwkJson(*jwk), *jose::jwkThumbprint(*jwk)};
  auto changed = run(ra_->changeKey(stale, change));
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().type, ProblemType::kUnauthorized);
  auto stored = **run(store_->getAccount(who.account->id));
  EXPECT_EQ(stored.status, acme::AccountStatus::kDeactivated);
  EXPECT_EQ(stored.thumbprint, who.thumbprint);
}

TEST_F(RaTest, UpdateSignedWithTheOldKeyAfterAKeyChangeIsRefused) {
  auto who = newAccount();
  auto stale = who;  // authenticated with the old key before the rollover committed
  auto next_key = newKey();
  auto jwk = jose::publicKeyToJwk(next_key.get());
  KeyChangeRequest change{urls_.account(who.account->id), who.thumbprint,
                          *jose::canonicalJwkJson(*jwk), *jose::jwkThumbprint(*jwk)};
  auto changed = run(ra_->changeKey(who, change));
  ASSERT_TRUE(changed && changed->account);
  auto update = run(ra_->updateAccount(
      stale, stale.account->id,
      AccountUpdate{std::vector<std::string>{"mailto:a@example.com"}, {}, false}));
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().type, ProblemType::kUnauthorized);
  auto stored = **run(store_->getAccount(who.account->id));
  EXPECT_EQ(stored.thumbprint, change.new_thumbprint);
  EXPECT_TRUE(stored.contacts.empty());
}

TEST_F(RaTest, FinalizeByADeactivatedAccountIsRefused) {
  auto who = newAccount();
  auto order = makeReady(who, newOrder(who, {dns("a.example")}));
  auto stale = who;  // authenticated before the deactivation committed
  ASSERT_TRUE(run(ra_->updateAccount(who, who.account->id, AccountUpdate{{}, {}, true})));
  auto fin = run(ra_->finalize(stale, order.id, csrFor(order.identifiers)));
  ASSERT_FALSE(fin);
  EXPECT_EQ(fin.error().type, ProblemType::kUnauthorized);
  EXPECT_EQ(certificatesIssued(), 0u);
}

TEST_F(RaTest, OneValidationPerAuthorizationAtATime) {
  auto who = newAccount();
  auto order = newOrder(who, {dns("a.example")});
  auto a = authzOf(order);
  auto first = respond(who, a, "http-01");
  auto second =
      run(ra_->challenge(who, a.id, challengeOf(a, "dns-01").id, true, io_.get_executor()));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->started);
  EXPECT_EQ(second->challenge.status, acme::ChallengeStatus::kPending);
  EXPECT_EQ(validation_.waiting(), 1u);
  validation_.release(core::Status{});
  waitFor(first);
  EXPECT_EQ(authzOf(order).status, acme::AuthzStatus::kValid);
}

TEST_F(RaTest, NotBeforeFarInThePastIsRefused) {
  auto who = newAccount();
  NewOrderRequest in{{dns("a.example")}, clock_.now() - std::chrono::hours(25), std::nullopt};
  auto order = run(ra_->newOrder(who, in));
  ASSERT_FALSE(order);
  EXPECT_EQ(order.error().type, ProblemType::kMalformed);
}

TEST_F(RaTest, AnotherAccountWithAuthorizationsCanRevokeAWildcardCertificate) {
  auto owner = newAccount();
  const std::vector<Identifier> ids{dns("*.w.example")};
  auto order = makeReady(owner, newOrder(owner, ids), "dns-01");
  auto fin = run(ra_->finalize(owner, order.id, csrFor(ids)));
  ASSERT_TRUE(fin) << fin.error().detail;
  auto cert = **run(store_->getCertificate(*fin->certificate_id));
  auto chain = crypto::certChainFromPem(cert.pem_chain);
  ASSERT_TRUE(chain);
  auto der = crypto::certToDer((*chain)[0].get());

  auto other = newAccount();
  // Without authorizations: refused.
  auto refused = run(ra_->revoke(other, RevocationRequest{der, 1}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, ProblemType::kUnauthorized);
  // A non-wildcard authorization of the base name is not one for the wildcard.
  makeReady(other, newOrder(other, {dns("w.example")}));
  refused = run(ra_->revoke(other, RevocationRequest{der, 1}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, ProblemType::kUnauthorized);
  // With a valid wildcard authorization: allowed.
  makeReady(other, newOrder(other, ids), "dns-01");
  auto revoked = run(ra_->revoke(other, RevocationRequest{der, 1}));
  ASSERT_TRUE(revoked) << revoked.error().detail;
  EXPECT_TRUE((*run(store_->getCertificate(cert.id)))->revoked);
}

TEST_F(RaTest, ResourcesOfAnotherAccountAreUnauthorized) {
  auto a = newAccount();
  auto b = newAccount();
  auto order = newOrder(a, {dns("a.example")});
  auto o = run(ra_->order(b, order.id, *store_));
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().type, ProblemType::kUnauthorized);
  auto d = run(ra_->deactivateAuthorization(b, order.authz_ids[0]));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().type, ProblemType::kUnauthorized);
  EXPECT_EQ(authzOf(order).status, acme::AuthzStatus::kPending);
}

// The real validation engine behind the RA, with the fake resolver: dns-01 and CAA decided by
// canned DNS answers, no network.
// ---- external account binding (RFC 8555 §7.3.4) ------------------------------------------

constexpr const char* kNewAccountUrl = "https://ca/new-account";

class RaEabTest : public RaTest {
 protected:
  // A credential in the store: single-use unless `max_uses` says otherwise (0 = unlimited).
  acme::EabCredential addCredential(const std::string& key_id, std::uint32_t max_uses = 1,
                                    std::vector<std::string> patterns = {}) {
    acme::EabCredential c;
    c.key_id = key_id;
    c.hmac_key = std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(key_id.size()));
    c.created_at = clock_.now();
    c.expires = clock_.now() + std::chrono::hours(24);
    if (max_uses != 0) c.max_uses = max_uses;
    c.identifier_patterns = std::move(patterns);
    EXPECT_TRUE(run(store_->insertEabCredential(c)));
    return c;
  }
  // A newAccount request for a fresh key (kept in keys_), bound with `kid` under `mac_key`.
  NewAccountRequest request(const std::string& kid, const std::vector<std::uint8_t>& mac_key,
                            std::string inner_url = kNewAccountUrl) {
    keys_.push_back(newKey());
    auto jwk = jose::publicKeyToJwk(keys_.back().get());
    NewAccountRequest in;
    in.jwk_json = *jose::canonicalJwkJson(*jwk);
    in.thumbprint = *jose::jwkThumbprint(*jwk);
    in.url = kNewAccountUrl;
    in.external_account_binding = *jose::signExternalAccountBinding(kid, mac_key, inner_url, *jwk);
    return in;
  }
  std::uint32_t usesOf(const std::string& kid) {
    return (**run(store_->getEabCredential(kid))).uses;
  }
  std::string auditLog() {
    std::ifstream in(dir_ / "audit.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  template <class T>
  static void expectProblem(const core::Result<T>& r, ProblemType type,
                            std::string_view detail_part = "") {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().type, type) << r.error().detail;
    EXPECT_NE(r.error().detail.find(detail_part), std::string::npos) << r.error().detail;
  }
};

TEST_F(RaEabTest, RequiredWithoutBindingIsExternalAccountRequired) {
  config_.server.external_account_required = true;
  NewAccountRequest in = request("unused", {});
  in.external_account_binding.reset();
  auto r = run(ra_->newAccount(in));
  expectProblem(r, ProblemType::kExternalAccountRequired);
  EXPECT_EQ(core::problemHttpStatus(r.error()), 403);
  EXPECT_NE(auditLog().find("\"account.eab.refuse\""), std::string::npos);
}

TEST_F(RaEabTest, SingleUseCredentialBindsOnceAndRecordsTheAccount) {
  config_.server.external_account_required = true;
  auto cred = addCredential("kid-once");
  auto first = run(ra_->newAccount(request("kid-once", cred.hmac_key)));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->account.eab_key_id.value_or(""), "kid-once");
  EXPECT_EQ((**run(store_->getAccount(first->account.id))).eab_key_id.value_or(""), "kid-once");
  EXPECT_EQ(usesOf("kid-once"), 1u);
  EXPECT_EQ((**run(store_->getEabCredential("kid-once"))).state, acme::EabState::kBound);

  auto second = run(ra_->newAccount(request("kid-once", cred.hmac_key)));
  expectProblem(second, ProblemType::kUnauthorized, "already been used");
  EXPECT_EQ(usesOf("kid-once"), 1u);
  EXPECT_NE(auditLog().find("eab:kid-once"), std::string::npos);
}

TEST_F(RaEabTest, ExistingAccountConsumesNoUse) {
  auto cred = addCredential("kid-n", 2);
  NewAccountRequest in = request("kid-n", cred.hmac_key);
  auto first = run(ra_->newAccount(in));
  ASSERT_TRUE(first && first->created);
  // The same key again (with the binding, and as onlyReturnExisting): the account, no use.
  auto again = run(ra_->newAccount(in));
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_FALSE(again->created);
  in.only_return_existing = true;
  in.external_account_binding.reset();
  auto existing = run(ra_->newAccount(in));
  ASSERT_TRUE(existing && !existing->created);
  EXPECT_EQ(usesOf("kid-n"), 1u);
}

TEST_F(RaEabTest, NUsesThenUsedUp) {
  auto cred = addCredential("kid-three", 3);
  for (int i = 0; i < 3; ++i) {
    auto r = run(ra_->newAccount(request("kid-three", cred.hmac_key)));
    ASSERT_TRUE(r) << i << ": " << r.error().detail;
  }
  expectProblem(run(ra_->newAccount(request("kid-three", cred.hmac_key))),
                ProblemType::kUnauthorized, "used the most times");
  EXPECT_EQ(run(store_->listEabBoundAccountIds("kid-three"))->size(), 3u);
}

TEST_F(RaEabTest, UnlimitedCredential) {
  auto cred = addCredential("kid-many", 0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(run(ra_->newAccount(request("kid-many", cred.hmac_key))));
  EXPECT_EQ(usesOf("kid-many"), 5u);
}

TEST_F(RaEabTest, ExpiryFollowsTheClock) {
  auto cred = addCredential("kid-exp", 0);
  clock_.advance(std::chrono::hours(23));
  ASSERT_TRUE(run(ra_->newAccount(request("kid-exp", cred.hmac_key))));
  clock_.advance(std::chrono::hours(1));  // exactly at expiry
  expectProblem(run(ra_->newAccount(request("kid-exp", cred.hmac_key))), ProblemType::kUnauthorized,
                "expired");
  EXPECT_EQ(usesOf("kid-exp"), 1u);
}

TEST_F(RaEabTest, RevokedCredentialBindsNothingAndItsAccountsMayNotOrder) {
  auto cred = addCredential("kid-rev", 0);
  auto created = run(ra_->newAccount(request("kid-rev", cred.hmac_key)));
  ASSERT_TRUE(created);
  Requester who{created->account, created->account.thumbprint, keys_.back().get()};
  newOrder(who, {dns("before.example")});
  ASSERT_TRUE(*run(store_->revokeEabCredential("kid-rev", clock_.now())));
  expectProblem(run(ra_->newAccount(request("kid-rev", cred.hmac_key))), ProblemType::kUnauthorized,
                "revoked");
  expectProblem(run(ra_->newOrder(who, NewOrderRequest{{dns("after.example")}, {}, {}})),
                ProblemType::kUnauthorized, "revoked");
}

TEST_F(RaEabTest, UnknownKidBadMacAndMalformedBindings) {
  auto cred = addCredential("kid-good");
  expectProblem(run(ra_->newAccount(request("kid-nope", cred.hmac_key))),
                ProblemType::kUnauthorized, "unknown external account binding key id");
  const std::vector<std::uint8_t> wrong(32, 0x77);
  expectProblem(run(ra_->newAccount(request("kid-good", wrong))), ProblemType::kUnauthorized,
                "MAC is invalid");
  expectProblem(run(ra_->newAccount(request("kid-good", cred.hmac_key, "https://ca/other"))),
                ProblemType::kMalformed, "newAccount URL");
  NewAccountRequest not_object = request("kid-good", cred.hmac_key);
  not_object.external_account_binding = boost::json::value("x");
  expectProblem(run(ra_->newAccount(not_object)), ProblemType::kMalformed);
  // None of that used the credential; a good request still can.
  EXPECT_EQ(usesOf("kid-good"), 0u);
  ASSERT_TRUE(run(ra_->newAccount(request("kid-good", cred.hmac_key))));
}

TEST_F(RaEabTest, BindingIsVerifiedWhenNotRequired) {
  config_.server.external_account_required = false;
  addCredential("kid-opt");
  // A binding sent to a server that does not require one is still checked, never ignored.
  expectProblem(run(ra_->newAccount(request("kid-opt", std::vector<std::uint8_t>(32, 1)))),
                ProblemType::kUnauthorized);
  // And without one the account is created unbound.
  Requester plain = newAccount();
  EXPECT_FALSE(plain.account->eab_key_id);
}

TEST_F(RaEabTest, ProfileScopeIsEnforcedAtNewOrder) {
  auto cred = addCredential("kid-prof", 1);
  acme::EabCredential scoped = cred;
  scoped.key_id = "kid-prof-other";
  scoped.allowed_profiles = {"shortlived"};
  ASSERT_TRUE(run(store_->insertEabCredential(scoped)));
  auto created = run(ra_->newAccount(request("kid-prof-other", scoped.hmac_key)));
  ASSERT_TRUE(created) << created.error().detail;
  Requester who{created->account, created->account.thumbprint, keys_.back().get()};
  // The server's only profile is "default", which this key does not allow.
  expectProblem(run(ra_->newOrder(who, NewOrderRequest{{dns("p.example")}, {}, {}})),
                ProblemType::kUnauthorized, "profile");
}

TEST_F(RaEabTest, FinalizeChecksTheBindingAgain) {
  auto cred = addCredential("kid-fin", 0);
  auto created = run(ra_->newAccount(request("kid-fin", cred.hmac_key)));
  ASSERT_TRUE(created) << created.error().detail;
  Requester who{created->account, created->account.thumbprint, keys_.back().get()};
  auto order = makeReady(who, newOrder(who, {dns("fin.example")}));
  // Revoked between newOrder and finalize: nothing is signed.
  ASSERT_TRUE(*run(store_->revokeEabCredential("kid-fin", clock_.now())));
  expectProblem(run(ra_->finalize(who, order.id, csrFor(order.identifiers))),
                ProblemType::kUnauthorized, "revoked");
  EXPECT_EQ(certificatesIssued(), 0u);
}

TEST_F(RaEabTest, IdentifierScopeIsEnforcedAtNewOrder) {
  auto cred = addCredential("kid-scope", 1, {"example.com", "*.example.org"});
  auto created = run(ra_->newAccount(request("kid-scope", cred.hmac_key)));
  ASSERT_TRUE(created) << created.error().detail;
  Requester who{created->account, created->account.thumbprint, keys_.back().get()};
  newOrder(who, {dns("example.com"), dns("www.example.org"), dns("*.example.org")});
  auto refused = run(ra_->newOrder(
      who,
      NewOrderRequest{{dns("example.com"), dns("www.example.com"), dns("example.org")}, {}, {}}));
  expectProblem(refused, ProblemType::kUnauthorized, "2 identifiers");
  ASSERT_EQ(refused.error().subproblems.size(), 2u);
  EXPECT_EQ(refused.error().subproblems[0].identifier->value, "www.example.com");
  EXPECT_EQ(refused.error().subproblems[1].identifier->value, "example.org");
  EXPECT_EQ(refused.error().subproblems[0].type, ProblemType::kUnauthorized);
}

TEST(RaWithValidationEngine, Dns01AndCaaThroughTheFakeResolver) {
  asio::io_context io;
  validation::FakeResolver resolver;
  core::FakeClock clock(core::fromUnixSeconds(1800000000));
  config::Config config;
  config.server.caa_identities = {"ca.example"};
  config::applyProfileDefaults(config);
  validation::ValidationSettings settings;
  settings.caa_identities = config.server.caa_identities;
  validation::ValidationEngine engine(resolver, resolver, settings);
  const auto dir =
      std::filesystem::temp_directory_path() / ("ra-engine-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto store = std::move(*store::openStore("sqlite::memory:", {}, io.get_executor()));
  ca::CaSettings ca_settings;
  ca_settings.key_file = (dir / "ca.key").string();
  ca_settings.cert_file = (dir / "ca.pem").string();
  auto ca = std::move(*ca::CertificateAuthority::loadOrCreate(ca_settings, clock));
  auto audit = std::move(*AuditLog::open((dir / "audit.log").string(), clock));
  TestUrls urls;
  RegistrationAuthority ra(RaDeps{config, *store, *ca, *audit, clock, engine, urls});

  auto key = newKey();
  auto jwk = jose::publicKeyToJwk(key.get());
  NewAccountRequest in{*jose::canonicalJwkJson(*jwk), *jose::jwkThumbprint(*jwk)};
  auto created = drive(io, ra.newAccount(in));
  ASSERT_TRUE(created);
  Requester who{created->account, created->account.thumbprint, key.get()};

  // Two names: one whose CAA names us, one whose CAA names another CA.
  for (const auto& [name, issuer, want] :
       {std::tuple{"ok.example", "ca.example", acme::AuthzStatus::kValid},
        std::tuple{"other.example", "elsewhere.example", acme::AuthzStatus::kInvalid}}) {
    SCOPED_TRACE(name);
    auto order = drive(io, ra.newOrder(who, NewOrderRequest{{dns(name)}, {}, {}}));
    ASSERT_TRUE(order) << order.error().detail;
    auto a = **drive(io, store->getAuthorization(order->authz_ids[0]));
    const acme::Challenge* ch = nullptr;
    for (const auto& c : a.challenges) {
      if (c.type == "dns-01") ch = &c;
    }
    ASSERT_NE(ch, nullptr);
    const auto digest = crypto::sha256(jose::keyAuthorization(ch->token, who.thumbprint));
    resolver.setTxt(
        std::string("_acme-challenge.") + name,
        {core::base64urlEncode(std::span<const std::uint8_t>(digest.data(), digest.size()))});
    resolver.setCaa(name, {{0, "issue", issuer}});
    auto started = drive(io, ra.challenge(who, a.id, ch->id, true, io.get_executor()));
    ASSERT_TRUE(started && started->started);
    io.restart();
    while (!started->started->finished()) io.run_one();
    auto after = **drive(io, store->getAuthorization(a.id));
    EXPECT_EQ(after.status, want);
    for (const auto& c : after.challenges) {
      if (c.id != ch->id) continue;
      if (want == acme::AuthzStatus::kValid) {
        EXPECT_EQ(c.status, acme::ChallengeStatus::kValid);
      } else {
        ASSERT_TRUE(c.error.has_value());
        EXPECT_EQ(c.error->type, ProblemType::kCaa) << c.error->detail;
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace akamu::ra
