// Negative suite, validation targets (RFC 8555 §8.3, §10.2; RFC 8738): identifiers that name
// private or loopback addresses on a server that does not allow them, and http-01 redirects
// to places a validation must not go. No traffic leaves 127.0.0.0/8: identifiers outside it
// are only ever ordered (a refusal is required before any validation is attempted), and only
// loopback targets are ever validated.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <map>
#include <mutex>

#include "harness.hpp"
#include "validation/test_dns_server.hpp"

namespace akamu::itest {
namespace {

std::string orderJson(const Identifier& id) {
  return json::serialize(json::object{
      {"identifiers", json::array{json::object{{"type", id.type}, {"value", id.value}}}}});
}

// The default policy (http_validation_allow_private_ips = false, as config.hpp ships it). DNS
// goes to a loopback TestDnsServer, so nothing the server looks up leaves the machine.
struct SsrfEnv {
  std::unique_ptr<validation::TestDnsServer> dns;
  std::unique_ptr<TestServer> ts;
};
SsrfEnv& ssrfEnv() {
  static SsrfEnv env = [] {
    SsrfEnv e;
    auto d = validation::TestDnsServer::start();
    if (!d) std::abort();
    e.dns = std::move(*d);
    const std::string resolver = e.dns->address();
    e.ts = TestServer::start({.configure = [resolver](config::Config& c) {
      c.server.http_validation_allow_private_ips = false;
      c.server.dns_resolver_addr = resolver;
    }});
    if (!e.ts) std::abort();
    return e;
  }();
  return env;
}

struct SsrfCase {
  std::string name;
  Identifier id;
  bool loopback;  // may be validated (the target is in 127.0.0.0/8 or ::1)
};
void PrintTo(const SsrfCase& c, std::ostream* os) { *os << c.name; }

class NegativeSsrf : public ::testing::TestWithParam<SsrfCase> {};

// Either newOrder refuses the identifier (rejectedIdentifier, naming it in a subproblem), or --
// loopback targets only -- the order is accepted and its http-01 validation fails without a
// connection to the (correctly answering) responder behind the address.
TEST_P(NegativeSsrf, PrivateTargetIsNeverContacted) {
  const SsrfCase& c = GetParam();
  TestServer& ts = *ssrfEnv().ts;
  AcmeClient a = ts.account();
  const auto connections = ts.responder().connectionCount();
  auto r = a.post(ts.url("/acme/new-order"), orderJson(c.id));
  ASSERT_TRUE(r) << r.error().detail;
  if (r->status != 201 || !c.loopback) {
    // Outside loopback the order MUST be refused: validating it would send traffic off-host.
    neg::Outcome o;
    o.response = *r;
    o.named = {c.id};
    neg::checkOutcome({neg::problem(400, {"rejectedIdentifier"})}, o, ts.directoryUrl());
    return;
  }
  auto order = jsonBody(*r);
  const std::string authz_url(order.at("authorizations").as_array()[0].as_string());
  auto authz = fetch(a, authz_url);
  std::string chall;
  for (const auto& ch : authz.at("challenges").as_array()) {
    const auto& o = ch.as_object();
    if (str(o, "type") != "http-01") continue;
    chall = str(o, "url");
    ts.responder().set(str(o, "token"), jose::keyAuthorization(str(o, "token"), *a.thumbprint()));
  }
  ASSERT_FALSE(chall.empty()) << json::serialize(authz);
  auto started = a.post(chall, "{}");
  ASSERT_TRUE(started) << started.error().detail;
  json::object final_authz;
  ASSERT_TRUE(waitUntil([&] {
    final_authz = fetch(a, authz_url);
    const std::string s = str(final_authz, "status");
    return s != "pending" && s != "processing";
  })) << json::serialize(final_authz);
  EXPECT_EQ(str(final_authz, "status"), "invalid") << json::serialize(final_authz);
  for (const auto& ch : final_authz.at("challenges").as_array()) {
    const auto& o = ch.as_object();
    if (str(o, "type") != "http-01") continue;
    ASSERT_TRUE(o.contains("error")) << json::serialize(o);
    const auto& err = o.at("error").as_object();
    EXPECT_EQ(str(err, "type").rfind("urn:ietf:params:acme:error:", 0), 0u) << json::serialize(o);
    EXPECT_NE(str(err, "type"), neg::urn("serverInternal")) << json::serialize(o);
  }
  EXPECT_EQ(ts.responder().connectionCount(), connections)
      << "the validation connected to a non-public address";
}

INSTANTIATE_TEST_SUITE_P(
    Negative, NegativeSsrf,
    ::testing::Values(SsrfCase{"Private10", {"ip", "10.0.0.1"}, false},
                      SsrfCase{"Private192168", {"ip", "192.168.1.1"}, false},
                      SsrfCase{"Private172", {"ip", "172.16.0.1"}, false},
                      SsrfCase{"LinkLocalMetadata", {"ip", "169.254.169.254"}, false},
                      SsrfCase{"SharedAddressSpace", {"ip", "100.64.0.1"}, false},
                      SsrfCase{"Ipv6UniqueLocal", {"ip", "fc00::1"}, false},
                      SsrfCase{"Ipv6LinkLocal", {"ip", "fe80::1"}, false},
                      SsrfCase{"Ipv4MappedPrivate", {"ip", "::ffff:10.0.0.1"}, false},
                      SsrfCase{"Loopback", {"ip", "127.0.0.1"}, true},
                      SsrfCase{"LoopbackOther", {"ip", "127.0.0.2"}, true},
                      SsrfCase{"Unspecified", {"ip", "0.0.0.0"}, true},
                      SsrfCase{"Ipv6Loopback", {"ip", "::1"}, true},
                      SsrfCase{"Ipv4MappedLoopback", {"ip", "::ffff:127.0.0.1"}, true},
                      SsrfCase{"LocalhostName", {"dns", "localhost"}, true},
                      SsrfCase{"NameUnderLocalhost", {"dns", "ssrf.localhost"}, true}),
    [](const ::testing::TestParamInfo<SsrfCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// http-01 redirects (RFC 8555 §8.3: the server "SHOULD follow redirects"; where they may lead is
// policy: http or https only, to port 80/443 or the configured validation ports).

// A loopback HTTP/1.1 server answering from a table: a path maps to a redirect or a body.
// `Trap` mode counts connections and answers nothing.
class LoopbackHttp {
 public:
  explicit LoopbackHttp(bool trap) : trap_(trap) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      ADD_FAILURE() << "LoopbackHttp: bind/listen failed";
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackHttp() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  void redirect(const std::string& path, std::string location) {
    std::lock_guard lock(mutex_);
    routes_[path] = {true, std::move(location)};
  }
  void body(const std::string& path, std::string text) {
    std::lock_guard lock(mutex_);
    routes_[path] = {false, std::move(text)};
  }
  int hits(const std::string& path) {
    std::lock_guard lock(mutex_);
    return hits_[path];
  }
  int connections() const { return connections_.load(); }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;  // wakes to notice stop_
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      if (!trap_) answer(c);
      ::close(c);
    }
  }
  void answer(int c) {
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<std::size_t>(n));
    }
    const auto sp1 = req.find(' ');
    const auto sp2 = req.find(' ', sp1 + 1);
    const std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string response;
    {
      std::lock_guard lock(mutex_);
      ++hits_[path];
      auto it = routes_.find(path);
      if (it == routes_.end()) {
        response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      } else if (it->second.first) {
        response = "HTTP/1.1 302 Found\r\nLocation: " + it->second.second +
                   "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      } else {
        response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                   std::to_string(it->second.second.size()) + "\r\nConnection: close\r\n\r\n" +
                   it->second.second;
      }
    }
    ::send(c, response.data(), response.size(), MSG_NOSIGNAL);
  }

  bool trap_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::map<std::string, std::pair<bool, std::string>> routes_;
  std::map<std::string, int> hits_;
  std::thread thread_;
};

// A server validating http-01 on the redirector's port (loopback allowed: every target here is
// 127.0.0.1), and a trap on another port that no validation may reach.
struct RedirectEnv {
  std::unique_ptr<LoopbackHttp> origin = std::make_unique<LoopbackHttp>(false);
  std::unique_ptr<LoopbackHttp> trap = std::make_unique<LoopbackHttp>(true);
  std::unique_ptr<TestServer> ts;
};
RedirectEnv& redirectEnv() {
  static RedirectEnv env = [] {
    RedirectEnv e;
    const int port = e.origin->port();
    e.ts = TestServer::start(
        {.configure = [port](config::Config& c) { c.server.http_validation_port = port; }});
    if (!e.ts) std::abort();
    return e;
  }();
  return env;
}

struct RedirectCase {
  std::string name;
  // The Location for the challenge path, given the origin and trap ports and the token.
  std::function<std::string(int origin, int trap, const std::string& token,
                            const std::string& key_authorization)>
      location;
  bool valid;  // the redirect must be followed (to the key authorization at /final/<token>)
};
void PrintTo(const RedirectCase& c, std::ostream* os) { *os << c.name; }

class NegativeRedirect : public ::testing::TestWithParam<RedirectCase> {};

TEST_P(NegativeRedirect, ValidationGoesOnlyWhereAllowed) {
  const RedirectCase& c = GetParam();
  RedirectEnv& env = redirectEnv();
  AcmeClient a = env.ts->account();
  auto order = a.newOrder({dns(uniqueName("redir"))});
  ASSERT_TRUE(order) << order.error().detail;
  const std::string authz_url(order->json.at("authorizations").as_array()[0].as_string());
  auto authz = fetch(a, authz_url);
  std::string chall, token;
  for (const auto& ch : authz.at("challenges").as_array()) {
    if (str(ch.as_object(), "type") != "http-01") continue;
    chall = str(ch.as_object(), "url");
    token = str(ch.as_object(), "token");
  }
  ASSERT_FALSE(chall.empty());
  const std::string first = "/.well-known/acme-challenge/" + token;
  const std::string key_auth = jose::keyAuthorization(token, *a.thumbprint());
  env.origin->redirect(first, c.location(env.origin->port(), env.trap->port(), token, key_auth));
  env.origin->body("/final/" + token, key_auth);
  const int trapped = env.trap->connections();

  auto started = a.post(chall, "{}");
  ASSERT_TRUE(started) << started.error().detail;
  json::object done;
  ASSERT_TRUE(waitUntil([&] {
    done = fetch(a, authz_url);
    const std::string s = str(done, "status");
    return s != "pending" && s != "processing";
  })) << json::serialize(done);
  EXPECT_EQ(env.trap->connections(), trapped) << "the validation followed a forbidden redirect";
  EXPECT_GE(env.origin->hits(first), 1) << "the validation never fetched the challenge";
  EXPECT_LE(env.origin->hits(first), 20) << "redirects must be bounded";
  if (c.valid) {
    EXPECT_EQ(str(done, "status"), "valid") << json::serialize(done);
    return;
  }
  EXPECT_EQ(str(done, "status"), "invalid") << json::serialize(done);
  for (const auto& ch : done.at("challenges").as_array()) {
    const auto& o = ch.as_object();
    if (str(o, "type") != "http-01") continue;
    ASSERT_TRUE(o.contains("error")) << json::serialize(o);
    const auto& err = o.at("error").as_object();
    EXPECT_EQ(str(err, "type").rfind("urn:ietf:params:acme:error:", 0), 0u) << json::serialize(o);
    EXPECT_NE(str(err, "type"), neg::urn("serverInternal")) << json::serialize(o);
    neg::expectNoLeak(str(err, "detail"));
  }
}

std::string at(int port) { return "127.0.0.1:" + std::to_string(port); }

INSTANTIATE_TEST_SUITE_P(
    Negative, NegativeRedirect,
    ::testing::Values(
        // POSITIVE controls: redirects on the validation port are followed (§8.3 SHOULD).
        RedirectCase{
            "RelativeRedirectFollowed",
            [](int, int, const std::string& t, const std::string&) { return "/final/" + t; }, true},
        RedirectCase{"AbsoluteSamePortFollowed",
                     [](int o, int, const std::string& t, const std::string&) {
                       return "http://" + at(o) + "/final/" + t;
                     },
                     true},
        RedirectCase{"OtherPort",
                     [](int, int trap, const std::string& t, const std::string&) {
                       return "http://" + at(trap) + "/final/" + t;
                     },
                     false},
        RedirectCase{"HttpsOtherPort",
                     [](int, int trap, const std::string& t, const std::string&) {
                       return "https://" + at(trap) + "/final/" + t;
                     },
                     false},
        RedirectCase{"UserinfoOtherPort",
                     [](int o, int trap, const std::string& t, const std::string&) {
                       return "http://" + at(o) + "@" + at(trap) + "/final/" + t;
                     },
                     false},
        RedirectCase{"FtpScheme",
                     [](int, int trap, const std::string& t, const std::string&) {
                       return "ftp://" + at(trap) + "/final/" + t;
                     },
                     false},
        RedirectCase{"FileScheme",
                     [](int, int, const std::string&, const std::string&) {
                       return std::string("file:///etc/passwd");
                     },
                     false},
        RedirectCase{"DataSchemeWithTheRightContent",
                     [](int, int, const std::string&, const std::string& key_authorization) {
                       return "data:text/plain," + key_authorization;
                     },
                     false},
        RedirectCase{"RedirectLoop",
                     [](int, int, const std::string& t, const std::string&) {
                       return "/.well-known/acme-challenge/" + t;
                     },
                     false}),
    [](const ::testing::TestParamInfo<RedirectCase>& info) { return info.param.name; });

}  // namespace
}  // namespace akamu::itest
