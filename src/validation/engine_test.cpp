#include "validation/engine.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>

#include "validation/dns01.hpp"
#include "validation/fake_resolver.hpp"
#include "validation/test_http_server.hpp"
#include "validation/test_support.hpp"

namespace akamu::validation {
namespace {

namespace asio = boost::asio;
using acme::ChallengeType;

constexpr char kToken[] = "engineToken";
constexpr char kKeyAuth[] = "engineToken.thumbprint";
constexpr char kAccount[] = "https://ca.example/acme/account/1";

ValidationRequest request(ChallengeType type, core::Identifier id, bool wildcard = false) {
  ValidationRequest r;
  r.type = type;
  r.identifier = std::move(id);
  r.wildcard = wildcard;
  r.token = type == ChallengeType::kDnsPersist01 ? "" : kToken;
  r.key_authorization = kKeyAuth;
  r.account_url = kAccount;
  r.now = std::chrono::system_clock::now();
  return r;
}

// One engine over two fake resolvers (the second serves dns-persist-01).
struct EngineFixture {
  asio::io_context io;
  FakeResolver dns;
  FakeResolver persist;
  ValidationSettings settings;

  EngineFixture() {
    settings.http.allow_private_ips = true;
    settings.http.timeout = std::chrono::seconds(5);
    settings.tls.allow_private_ips = true;
    settings.tls.timeout = std::chrono::seconds(5);
    settings.dns_persist_issuer_domains = {"ca.example"};
    settings.timeout = std::chrono::seconds(5);
  }
  core::Status validate(ValidationRequest r) {
    ValidationEngine engine(dns, persist, settings);
    return testing::run(io, engine.validate(std::move(r)));
  }
  core::Status recheck(core::Identifier id, ChallengeType method) {
    ValidationEngine engine(dns, persist, settings);
    return testing::run(io, engine.recheckCaa(std::move(id), kAccount, method));
  }
  std::size_t caaLookups() const {
    std::size_t n = 0;
    for (const auto& q : dns.queries()) n += q.type == RrType::kCaa ? 1 : 0;
    return n;
  }
};

std::uint16_t closedPort() {
  asio::io_context tmp;
  asio::ip::tcp::acceptor a(tmp, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

TEST(ValidationEngine, Dns01) {
  EngineFixture f;
  f.dns.setTxt("_acme-challenge.example.com", {dns01TxtValue(kKeyAuth)});
  auto ok = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  EXPECT_TRUE(ok) << ok.error().detail;
  f.dns.setTxt("_acme-challenge.example.com", {"something else"});
  auto wrong = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().type, core::ProblemType::kUnauthorized);
  EXPECT_EQ(f.persist.queryCount(), 0u);
}

TEST(ValidationEngine, DnsPersist01UsesThePersistResolver) {
  EngineFixture f;
  f.persist.setTxt("_validation-persist.example.com",
                   {std::string("ca.example; accounturi=") + kAccount});
  auto ok = f.validate(request(ChallengeType::kDnsPersist01, {"dns", "example.com"}));
  EXPECT_TRUE(ok) << ok.error().detail;
  EXPECT_TRUE(f.persist.wasQueried("_validation-persist.example.com", RrType::kTxt));
  EXPECT_EQ(f.dns.queryCount(), 0u);
}

TEST(ValidationEngine, Http01ResolvesThroughTheEnginesResolver) {
  testing::HttpChallengeServers servers(kToken, kKeyAuth);
  EngineFixture f;
  f.settings.http.port = servers.plainPort();
  f.dns.setAddresses("web.example", {"127.0.0.1"});
  auto ok = f.validate(request(ChallengeType::kHttp01, {"dns", "web.example"}));
  EXPECT_TRUE(ok) << ok.error().detail;
  EXPECT_TRUE(f.dns.wasQueried("web.example", RrType::kA));
  auto bad = request(ChallengeType::kHttp01, {"dns", "web.example"});
  bad.key_authorization = "engineToken.other";
  auto wrong = f.validate(bad);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().type, core::ProblemType::kIncorrectResponse);
}

TEST(ValidationEngine, TlsAlpn01ConnectsToTheResolvedAddress) {
  EngineFixture f;
  const std::uint16_t port = closedPort();
  f.settings.tls.port = port;
  f.dns.setAddresses("tls.example", {"127.0.0.1"});
  auto r = f.validate(request(ChallengeType::kTlsAlpn01, {"dns", "tls.example"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kConnection) << r.error().detail;
  EXPECT_NE(r.error().detail.find("tls.example:" + std::to_string(port)), std::string::npos)
      << r.error().detail;
  EXPECT_TRUE(f.dns.wasQueried("tls.example", RrType::kA));
}

TEST(ValidationEngine, CaaIsCheckedAfterASuccessfulChallenge) {
  EngineFixture f;
  f.settings.caa_identities = {"ca.example"};
  f.dns.setTxt("_acme-challenge.example.com", {dns01TxtValue(kKeyAuth)});
  f.dns.setCaa("example.com", {{0, "issue", "other-ca.example"}});
  auto refused = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, core::ProblemType::kCaa) << refused.error().detail;
  ASSERT_TRUE(refused.error().identifier);
  EXPECT_EQ(refused.error().identifier->value, "example.com");

  f.dns.setCaa("example.com", {{0, "issue", "ca.example"}});
  auto allowed = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  EXPECT_TRUE(allowed) << allowed.error().detail;

  // RFC 8657: the challenge type and the account are what the record may restrict.
  f.dns.setCaa("example.com", {{0, "issue", "ca.example; validationmethods=http-01"}});
  auto method = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  ASSERT_FALSE(method);
  EXPECT_EQ(method.error().type, core::ProblemType::kCaa);
  f.dns.setCaa("example.com", {{0, "issue", "ca.example; accounturi=https://elsewhere/1"}});
  auto account = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  ASSERT_FALSE(account);
  EXPECT_EQ(account.error().type, core::ProblemType::kCaa);
}

TEST(ValidationEngine, AFailedChallengeIsNotFollowedByCaa) {
  EngineFixture f;
  f.settings.caa_identities = {"ca.example"};
  auto r = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kUnauthorized);
  EXPECT_EQ(f.caaLookups(), 0u);
}

// The authorization names the base domain; CAA and dns-persist-01 see "*." restored.
TEST(ValidationEngine, WildcardPrefixIsRestoredForCaaAndDnsPersist01) {
  EngineFixture f;
  f.settings.caa_identities = {"ca.example"};
  f.dns.setTxt("_acme-challenge.example.com", {dns01TxtValue(kKeyAuth)});
  f.dns.setCaa("example.com", {{0, "issue", "ca.example"}, {0, "issuewild", ";"}});
  auto plain = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  EXPECT_TRUE(plain) << plain.error().detail;
  auto wildcard = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}, true));
  ASSERT_FALSE(wildcard);
  EXPECT_EQ(wildcard.error().type, core::ProblemType::kCaa) << wildcard.error().detail;

  f.dns.setCaa("example.com", {});
  f.persist.setTxt("_validation-persist.example.com",
                   {std::string("ca.example; accounturi=") + kAccount});
  auto no_policy = f.validate(request(ChallengeType::kDnsPersist01, {"dns", "example.com"}, true));
  ASSERT_FALSE(no_policy);
  EXPECT_EQ(no_policy.error().type, core::ProblemType::kUnauthorized);
  f.persist.setTxt("_validation-persist.example.com",
                   {std::string("ca.example; accounturi=") + kAccount + "; policy=wildcard"});
  auto with_policy =
      f.validate(request(ChallengeType::kDnsPersist01, {"dns", "example.com"}, true));
  EXPECT_TRUE(with_policy) << with_policy.error().detail;
}

TEST(ValidationEngine, NoCaaWithoutIdentitiesOrForIpIdentifiers) {
  testing::HttpChallengeServers servers(kToken, kKeyAuth);
  EngineFixture f;
  f.settings.http.port = servers.plainPort();
  f.dns.setTxt("_acme-challenge.example.com", {dns01TxtValue(kKeyAuth)});
  f.dns.setCaa("example.com", {{0, "issue", ";"}});
  auto no_identities = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  EXPECT_TRUE(no_identities) << no_identities.error().detail;
  f.settings.caa_identities = {"ca.example"};
  auto ip = f.validate(request(ChallengeType::kHttp01, {"ip", "127.0.0.1"}));
  EXPECT_TRUE(ip) << ip.error().detail;
  EXPECT_EQ(f.caaLookups(), 0u);
}

TEST(ValidationEngine, RecheckCaa) {
  EngineFixture f;
  f.dns.setCaa("example.com", {{0, "issue", "ca.example"}, {0, "issuewild", ";"}});
  auto without_identities = f.recheck({"dns", "*.example.com"}, ChallengeType::kDns01);
  EXPECT_TRUE(without_identities);
  EXPECT_EQ(f.caaLookups(), 0u);
  f.settings.caa_identities = {"ca.example"};
  auto plain = f.recheck({"dns", "www.example.com"}, ChallengeType::kHttp01);
  EXPECT_TRUE(plain) << plain.error().detail;
  auto wildcard = f.recheck({"dns", "*.example.com"}, ChallengeType::kDns01);
  ASSERT_FALSE(wildcard);
  EXPECT_EQ(wildcard.error().type, core::ProblemType::kCaa);
  EXPECT_TRUE(f.recheck({"ip", "192.0.2.1"}, ChallengeType::kHttp01));
}

TEST(ValidationEngine, NeverThrows) {
  EngineFixture f;
  f.settings.caa_identities = {"ca.example"};
  f.dns.setThrows("_acme-challenge.example.com");
  auto r = f.validate(request(ChallengeType::kDns01, {"dns", "example.com"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kServerInternal);
  ASSERT_TRUE(r.error().identifier);
  EXPECT_EQ(r.error().identifier->value, "example.com");
  EXPECT_EQ(r.error().detail.find("FakeResolver"), std::string::npos);  // internals stay here
  f.dns.setThrows("example.com");
  auto caa = f.recheck({"dns", "example.com"}, ChallengeType::kDns01);
  ASSERT_FALSE(caa);
  EXPECT_EQ(caa.error().type, core::ProblemType::kServerInternal);
  auto unknown = f.validate(request(static_cast<ChallengeType>(99), {"dns", "example.com"}));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().type, core::ProblemType::kServerInternal);
}

// Lookups that never answer end with the validation's timeout, for every method and for CAA,
// although the resolver would wait 30 s.
TEST(ValidationEngine, TheValidationTimeoutBoundsEveryLookup) {
  EngineFixture f;
  f.settings.timeout = std::chrono::milliseconds(200);
  f.settings.caa_identities = {"ca.example"};
  f.dns.setNeverAnswersAll();
  f.dns.setQueryTimeout(std::chrono::seconds(30));
  f.persist.setNeverAnswersAll();
  f.persist.setQueryTimeout(std::chrono::seconds(30));
  for (const auto type : {ChallengeType::kHttp01, ChallengeType::kDns01, ChallengeType::kTlsAlpn01,
                          ChallengeType::kDnsPersist01}) {
    auto r = f.validate(request(type, {"dns", "example.com"}));
    ASSERT_FALSE(r) << acme::toString(type);
    EXPECT_EQ(r.error().type, core::ProblemType::kDns)
        << acme::toString(type) << ": " << r.error().detail;
    EXPECT_NE(r.error().detail.find("validation time"), std::string::npos) << r.error().detail;
  }
  auto caa = f.recheck({"dns", "example.com"}, ChallengeType::kDns01);
  ASSERT_FALSE(caa);
  EXPECT_EQ(caa.error().type, core::ProblemType::kDns) << caa.error().detail;
  EXPECT_EQ(f.dns.pendingCount(), 0u);
  EXPECT_EQ(f.persist.pendingCount(), 0u);
}

}  // namespace
}  // namespace akamu::validation
