#include "validation/http01.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>

#include "validation/fake_resolver.hpp"
#include "validation/http01_response.hpp"
#include "validation/test_http_server.hpp"
#include "validation/test_support.hpp"

namespace akamu::validation {
namespace {

namespace asio = boost::asio;
using Servers = testing::HttpChallengeServers;

constexpr char kToken[] = "tok123";
constexpr char kKeyAuth[] = "tok123.thumbprint";

Http01Settings settingsFor(const Servers& s, std::uint16_t https_port = 443,
                           bool allow_private = true) {
  Http01Settings settings;
  settings.port = s.plainPort();
  settings.https_port = https_port;
  settings.allow_private_ips = allow_private;
  settings.timeout = std::chrono::seconds(5);
  return settings;
}

// "localhost" is never looked up: the fake resolver would answer NXDOMAIN if it were.
core::Status validate(const Servers& s, std::uint16_t https_port, bool allow_private = true) {
  asio::io_context io;
  FakeResolver resolver;
  auto r = testing::run(io, validateHttp01(resolver, {"dns", "localhost"}, kToken, kKeyAuth,
                                           settingsFor(s, https_port, allow_private)));
  EXPECT_EQ(resolver.queryCount(), 0u);
  return r;
}

TEST(Http01, ServedKeyAuthorizationValidates) {
  Servers s(kToken, kKeyAuth);
  EXPECT_TRUE(validate(s, 443));
}

TEST(Http01, WrongBodyIsIncorrectResponse) {
  Servers s(kToken, kKeyAuth);
  asio::io_context io;
  FakeResolver resolver;
  auto r = testing::run(
      io, validateHttp01(resolver, {"dns", "localhost"}, kToken, "other.value", settingsFor(s)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kIncorrectResponse);
}

// The name exists only in the configured resolver (the test DNS server): it is resolved
// through the Resolver seam, not the system's getaddrinfo.
TEST(Http01, NameKnownOnlyToTheConfiguredResolverValidates) {
  Servers s(kToken, kKeyAuth);
  testing::DnsFixture f;
  f.server->setA("only-in-test-dns.example", "127.0.0.1");
  auto r = testing::run(f.io, validateHttp01(*f.resolver, {"dns", "only-in-test-dns.example"},
                                             kToken, kKeyAuth, settingsFor(s)));
  EXPECT_TRUE(r) << r.error().detail;
  EXPECT_GE(f.server->queryCount(), 1u);
}

TEST(Http01, RedirectTargetsAreResolvedThroughTheResolver) {
  Servers s(kToken, kKeyAuth);
  FakeResolver resolver;
  resolver.setAddresses("web.example", {"127.0.0.1"});
  resolver.setAddresses("other-host.example", {"127.0.0.1"});
  s.redirectTo("https://other-host.example:" + std::to_string(s.tlsPort()) +
               "/.well-known/acme-challenge/" + kToken);
  asio::io_context io;
  auto r = testing::run(io, validateHttp01(resolver, {"dns", "web.example"}, kToken, kKeyAuth,
                                           settingsFor(s, s.tlsPort())));
  EXPECT_TRUE(r) << r.error().detail;
  EXPECT_EQ(s.tlsRequests(), 1);
  EXPECT_TRUE(resolver.wasQueried("web.example", RrType::kA));
  EXPECT_TRUE(resolver.wasQueried("web.example", RrType::kAaaa));
  EXPECT_TRUE(resolver.wasQueried("other-host.example", RrType::kA));
}

// The SSRF policy applies to looked-up addresses (every hop, redirects included, goes through
// the same resolveTargets step): a name resolving only to a private address is refused.
TEST(Http01, NameResolvingToAPrivateAddressIsRefusedWithoutPermission) {
  Servers s(kToken, kKeyAuth);
  FakeResolver resolver;
  resolver.setAddresses("internal.example", {"10.1.2.3", "fd00::1"});
  asio::io_context io;
  auto r = testing::run(io, validateHttp01(resolver, {"dns", "internal.example"}, kToken, kKeyAuth,
                                           settingsFor(s, 443, false)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kRejectedIdentifier) << r.error().detail;
}

TEST(Http01, IpIdentifierNeedsNoLookup) {
  Servers s(kToken, kKeyAuth);
  FakeResolver resolver;
  asio::io_context io;
  auto r = testing::run(
      io, validateHttp01(resolver, {"ip", "127.0.0.1"}, kToken, kKeyAuth, settingsFor(s)));
  EXPECT_TRUE(r) << r.error().detail;
  EXPECT_EQ(resolver.queryCount(), 0u);
}

TEST(Http01, LookupFailuresAreDnsProblems) {
  Servers s(kToken, kKeyAuth);
  FakeResolver resolver;
  resolver.setServFail("broken.example");
  resolver.setTxt("nodata.example", {"not an address"});
  asio::io_context io;
  for (const char* name : {"missing.example", "broken.example", "nodata.example"}) {
    auto r =
        testing::run(io, validateHttp01(resolver, {"dns", name}, kToken, kKeyAuth, settingsFor(s)));
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().type, core::ProblemType::kDns) << name << ": " << r.error().detail;
    EXPECT_NE(r.error().detail.find(name), std::string::npos) << r.error().detail;
    ASSERT_TRUE(r.error().identifier);
    EXPECT_EQ(r.error().identifier->value, name);
  }
}

// A lookup that never answers ends with the validation's timeout (500 ms), not with the
// resolver's own per-query timeout (30 s): the real resolver, its upstream silent.
TEST(Http01, LookupThatNeverAnswersFailsWithinTheValidationTimeout) {
  Servers s(kToken, kKeyAuth);
  testing::DnsFixture f(std::chrono::seconds(30));
  f.server->setDrop("silent.example");
  Http01Settings settings = settingsFor(s);
  settings.timeout = std::chrono::milliseconds(500);
  auto r = testing::run(
      f.io, validateHttp01(*f.resolver, {"dns", "silent.example"}, kToken, kKeyAuth, settings));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns) << r.error().detail;
  EXPECT_NE(r.error().detail.find("validation time"), std::string::npos) << r.error().detail;
}

// The same with the fake resolver: its lookups are cancelled, none is left pending.
TEST(Http01, NeverAnsweringFakeLookupIsCancelledAtTheDeadline) {
  Servers s(kToken, kKeyAuth);
  FakeResolver resolver;
  resolver.setNeverAnswers("silent.example");
  resolver.setQueryTimeout(std::chrono::seconds(30));
  Http01Settings settings = settingsFor(s);
  settings.timeout = std::chrono::milliseconds(200);
  asio::io_context io;
  auto r = testing::run(
      io, validateHttp01(resolver, {"dns", "silent.example"}, kToken, kKeyAuth, settings));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns) << r.error().detail;
  EXPECT_NE(r.error().detail.find("validation time"), std::string::npos) << r.error().detail;
  EXPECT_EQ(resolver.pendingCount(), 0u);
}

TEST(Http01, LoopbackRefusedWithoutPermission) {
  Servers s(kToken, kKeyAuth);
  auto r = validate(s, 443, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kRejectedIdentifier);
}

TEST(Http01, FollowsRedirectToHttpsOnTheAllowedPort) {
  Servers s(kToken, kKeyAuth);
  s.redirectTo("https://localhost:" + std::to_string(s.tlsPort()) + "/.well-known/acme-challenge/" +
               kToken);
  auto r = validate(s, s.tlsPort());
  EXPECT_TRUE(r) << r.error().detail;
  EXPECT_EQ(s.tlsRequests(), 1);
}

TEST(Http01, RedirectToHttpsOnAnotherPortIsRefused) {
  Servers s(kToken, kKeyAuth);
  s.redirectTo("https://localhost:" + std::to_string(s.tlsPort()) + "/.well-known/acme-challenge/" +
               kToken);
  auto r = validate(s, 443);  // the TLS server's port is neither 443 nor allowed
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kConnection);
  EXPECT_NE(r.error().detail.find("port"), std::string::npos);
  EXPECT_EQ(s.tlsRequests(), 0);
}

TEST(Http01, RedirectToOtherSchemesAndLoopsAreRefused) {
  Servers s(kToken, kKeyAuth);
  s.redirectTo("ftp://localhost/x");
  auto ftp = validate(s, 443);
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error().type, core::ProblemType::kConnection);
  // A redirect to itself forever: stopped after max_redirects.
  s.redirectTo("/.well-known/acme-challenge/" + std::string(kToken));
  auto loop = validate(s, 443);
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().detail.find("too many redirects"), std::string::npos);
}

// judgeHttp01Response: what one response means, without a server (the fuzz target's entry).
Http01Response responseOf(unsigned status, std::string body, std::string location = "") {
  Http01Response r;
  r.result(status);
  r.body() = std::move(body);
  if (!location.empty()) r.set(boost::beast::http::field::location, location);
  return r;
}

core::Result<std::optional<Http01Target>> judge(const Http01Response& r) {
  Http01Settings settings;
  settings.port = 8080;
  settings.https_port = 8443;
  const Http01Target from{false, "example.com", 80, "/.well-known/acme-challenge/tok123"};
  return judgeHttp01Response(from, r, kKeyAuth, "http://example.com/x", settings,
                             {"dns", "example.com"});
}

TEST(Http01Response, KeyAuthorizationWithTrailingWhitespaceIsSuccess) {
  auto r = judge(responseOf(200, std::string(kKeyAuth) + " \r\n\t"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  auto wrong = judge(responseOf(200, std::string(kKeyAuth) + "x"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().type, core::ProblemType::kIncorrectResponse);
  ASSERT_TRUE(wrong.error().identifier);
  EXPECT_EQ(wrong.error().identifier->value, "example.com");
}

TEST(Http01Response, OtherStatusesAreUnauthorized) {
  for (unsigned status : {201u, 304u, 404u, 500u}) {
    auto r = judge(responseOf(status, kKeyAuth));
    ASSERT_FALSE(r) << status;
    EXPECT_EQ(r.error().type, core::ProblemType::kUnauthorized) << status;
  }
}

TEST(Http01Response, RedirectsGoOnlyToAllowedSchemesAndPorts) {
  auto https = judge(responseOf(302, "", "https://other.example:8443/p?q=1"));
  ASSERT_TRUE(https && *https);
  EXPECT_TRUE((*https)->tls);
  EXPECT_EQ((*https)->host, "other.example");
  EXPECT_EQ((*https)->port, 8443);
  EXPECT_EQ((*https)->path, "/p?q=1");
  auto relative = judge(responseOf(301, "", "elsewhere"));
  ASSERT_TRUE(relative && *relative);
  EXPECT_EQ((*relative)->host, "example.com");
  EXPECT_EQ((*relative)->path, "/elsewhere");
  for (const char* refused : {"http://example.com:22/", "ftp://example.com/", "http://[::1"}) {
    auto r = judge(responseOf(307, "", refused));
    ASSERT_FALSE(r) << refused;
    EXPECT_EQ(r.error().type, core::ProblemType::kConnection) << refused;
  }
}

TEST(Http01Response, ParserLimitsAreTheConfiguredBodyAndSixteenKiBOfHeaders) {
  Http01Parser parser;
  configureHttp01Parser(parser, 10);
  boost::beast::error_code ec;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
  parser.put(boost::asio::buffer(head), ec);
  EXPECT_EQ(ec, boost::beast::http::error::body_limit);
  Http01Parser big;
  configureHttp01Parser(big, 10);
  const std::string fields =
      "HTTP/1.1 200 OK\r\nX: " + std::string(kHttp01HeaderLimit, 'a') + "\r\n\r\n";
  big.put(boost::asio::buffer(fields), ec);
  EXPECT_EQ(ec, boost::beast::http::error::header_limit);
}

}  // namespace
}  // namespace akamu::validation
