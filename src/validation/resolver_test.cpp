#include "validation/resolver.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <thread>

#include "validation/dns_wire.hpp"
#include "validation/test_support.hpp"

using namespace akamu;
using namespace akamu::validation;
using akamu::validation::testing::DnsFixture;
using akamu::validation::testing::run;
namespace asio = boost::asio;

TEST(DnsWire, NameRoundTripAndCompression) {
  std::vector<std::uint8_t> buf;
  ASSERT_TRUE(dns::appendName(buf, "Example.COM."));
  std::size_t pos = 0;
  EXPECT_EQ(dns::readName(buf, pos).value(), "Example.COM");
  EXPECT_EQ(pos, buf.size());
  // A pointer back to offset 0 after one label: "www" + ptr.
  const std::size_t start = buf.size();
  buf.insert(buf.end(), {3, 'w', 'w', 'w', 0xc0, 0x00});
  pos = start;
  EXPECT_EQ(dns::readName(buf, pos).value(), "www.Example.COM");
  EXPECT_EQ(pos, buf.size());
  // Self-pointing and forward pointers are rejected.
  std::vector<std::uint8_t> loop{0xc0, 0x00};
  pos = 0;
  EXPECT_FALSE(dns::readName(loop, pos));
  std::vector<std::uint8_t> fwd{0xc0, 0x02, 0};
  pos = 0;
  EXPECT_FALSE(dns::readName(fwd, pos));
  // Truncated label.
  std::vector<std::uint8_t> trunc{5, 'a', 'b'};
  pos = 0;
  EXPECT_FALSE(dns::readName(trunc, pos));
  EXPECT_FALSE(dns::appendName(buf, std::string(64, 'a') + ".com"));
  EXPECT_FALSE(dns::appendName(buf, "a..b"));
}

TEST(DnsWire, TxtAndCaaRdata) {
  const std::string long_text(300, 'x');
  auto rd = dns::makeTxtRdata(long_text);
  EXPECT_EQ(rd.size(), 302u);  // two character-strings
  EXPECT_EQ(dns::parseTxtRdata(rd).value(), long_text);
  EXPECT_FALSE(dns::parseTxtRdata(std::vector<std::uint8_t>{5, 'a'}));
  auto caa = dns::parseCaaRdata(dns::makeCaaRdata(128, "issue", "ca.example; accounturi=x"));
  ASSERT_TRUE(caa);
  EXPECT_EQ(caa->flags, 128);
  EXPECT_EQ(caa->tag, "issue");
  EXPECT_EQ(caa->value, "ca.example; accounturi=x");
  EXPECT_FALSE(dns::parseCaaRdata(std::vector<std::uint8_t>{0, 0}));
  EXPECT_FALSE(dns::parseCaaRdata(dns::makeCaaRdata(0, "is-sue", "x")));
}

TEST(DnsWire, MessageRecordCountBounded) {
  std::vector<std::uint8_t> header{0, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
  EXPECT_FALSE(dns::parseMessage(header));
}

TEST(ResolverAddress, Formats) {
  EXPECT_EQ(unboundForwarderAddress("127.0.0.1:5353").value(), "127.0.0.1@5353");
  EXPECT_EQ(unboundForwarderAddress("127.0.0.1").value(), "127.0.0.1");
  EXPECT_EQ(unboundForwarderAddress("[::1]:53").value(), "::1@53");
  EXPECT_EQ(unboundForwarderAddress("::1").value(), "::1");
  EXPECT_FALSE(unboundForwarderAddress("dns.example:53"));
  EXPECT_FALSE(unboundForwarderAddress("127.0.0.1:99999"));
  EXPECT_FALSE(unboundForwarderAddress("127.0.0.1:x"));
}

TEST(Resolver, TxtLookup) {
  DnsFixture f;
  f.server->setTxt("_acme-challenge.example.com", {"one", "two" + std::string(300, 'z')});
  auto r = run(f.io, f.resolver->lookup("_acme-challenge.Example.com", RrType::kTxt));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->rcode, Rcode::kNoError);
  ASSERT_EQ(r->txt.size(), 2u);
  std::sort(r->txt.begin(), r->txt.end());
  EXPECT_EQ(r->txt[0], "one");
  EXPECT_EQ(r->txt[1], "two" + std::string(300, 'z'));
  EXPECT_FALSE(r->secure);
}

TEST(Resolver, NxdomainIsAResult) {
  DnsFixture f;
  auto r = run(f.io, f.resolver->lookup("missing.example.com", RrType::kTxt));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_TRUE(r->nxdomain());
  EXPECT_TRUE(r->txt.empty());
}

TEST(Resolver, NoDataAndEmptyNonTerminal) {
  DnsFixture f;
  f.server->setA("a.b.example.com", "192.0.2.1");
  auto r = run(f.io, f.resolver->lookup("a.b.example.com", RrType::kTxt));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->rcode, Rcode::kNoError);
  EXPECT_TRUE(r->txt.empty());
  auto ent = run(f.io, f.resolver->lookup("b.example.com", RrType::kTxt));
  ASSERT_TRUE(ent) << ent.error().detail;
  EXPECT_EQ(ent->rcode, Rcode::kNoError);
}

TEST(Resolver, AddressesAndCaa) {
  DnsFixture f;
  f.server->setAddresses("host.example.com", {"192.0.2.7", "2001:db8::7"});
  f.server->setCaa("example.com", {{0, "issue", "ca.example"}, {128, "iodef", "mailto:x@y"}});
  auto a = run(f.io, f.resolver->lookup("host.example.com", RrType::kA));
  ASSERT_TRUE(a) << a.error().detail;
  ASSERT_EQ(a->addresses.size(), 1u);
  EXPECT_EQ(a->addresses[0].to_string(), "192.0.2.7");
  auto aaaa = run(f.io, f.resolver->lookup("host.example.com", RrType::kAaaa));
  ASSERT_TRUE(aaaa) << aaaa.error().detail;
  ASSERT_EQ(aaaa->addresses.size(), 1u);
  EXPECT_EQ(aaaa->addresses[0].to_string(), "2001:db8::7");
  auto caa = run(f.io, f.resolver->lookup("example.com", RrType::kCaa));
  ASSERT_TRUE(caa) << caa.error().detail;
  ASSERT_EQ(caa->caa.size(), 2u);
  EXPECT_TRUE(std::find(caa->caa.begin(), caa->caa.end(), CaaRecord{0, "issue", "ca.example"}) !=
              caa->caa.end());
}

TEST(Resolver, FollowsCnameChain) {
  DnsFixture f;
  f.server->setCname("_acme-challenge.example.com", "alias1.example.net");
  f.server->setCname("alias1.example.net", "alias2.example.org");
  f.server->setTxt("alias2.example.org", {"token"});
  auto r = run(f.io, f.resolver->lookup("_acme-challenge.example.com", RrType::kTxt));
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_EQ(r->txt.size(), 1u);
  EXPECT_EQ(r->txt[0], "token");
  EXPECT_EQ(r->cnames, (std::vector<std::string>{"alias1.example.net", "alias2.example.org"}));
  EXPECT_EQ(r->canonical_name, "alias2.example.org");
  auto c = run(f.io, f.resolver->lookup("_acme-challenge.example.com", RrType::kCname));
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->cnames, (std::vector<std::string>{"alias1.example.net"}));
}

TEST(Resolver, CnameLoopIsADnsProblem) {
  DnsFixture f;
  f.server->setCname("loop1.example.com", "loop2.example.com");
  f.server->setCname("loop2.example.com", "loop1.example.com");
  const auto start = std::chrono::steady_clock::now();
  auto r = run(f.io, f.resolver->lookup("loop1.example.com", RrType::kTxt));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns);
  EXPECT_NE(r.error().detail.find("loop1.example.com"), std::string::npos) << r.error().detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(Resolver, LongCnameChainIsBounded) {
  DnsFixture f;
  for (int i = 0; i < 30; ++i) {
    f.server->setCname(fmt::format("c{}.example.com", i), fmt::format("c{}.example.com", i + 1));
  }
  f.server->setTxt("c30.example.com", {"far"});
  auto r = run(f.io, f.resolver->lookup("c0.example.com", RrType::kTxt));
  ASSERT_FALSE(r) << "followed a 30-step CNAME chain";
  EXPECT_EQ(r.error().type, core::ProblemType::kDns);
}

TEST(Resolver, ServfailIsADnsProblem) {
  DnsFixture f;
  f.server->setServfail("_acme-challenge.broken.example");
  auto r = run(f.io, f.resolver->lookup("_acme-challenge.broken.example", RrType::kTxt));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns);
  EXPECT_NE(r.error().detail.find("_acme-challenge.broken.example"), std::string::npos)
      << r.error().detail;
  EXPECT_NE(r.error().detail.find("SERVFAIL"), std::string::npos) << r.error().detail;
}

TEST(Resolver, TimeoutIsADnsProblemWithinTheBound) {
  DnsFixture f(std::chrono::milliseconds(400));
  f.server->setDrop("slow.example.com");
  const auto start = std::chrono::steady_clock::now();
  auto r = run(f.io, f.resolver->lookup("slow.example.com", RrType::kTxt));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns);
  EXPECT_NE(r.error().detail.find("slow.example.com"), std::string::npos) << r.error().detail;
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(Resolver, UpstreamThatNeverAnswers) {
  asio::io_context io;
  // A bound socket nobody reads: queries vanish.
  asio::ip::udp::socket silent(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ResolverSettings s;
  s.upstream = fmt::format("127.0.0.1:{}", silent.local_endpoint().port());
  s.timeout = std::chrono::milliseconds(300);
  auto resolver = UnboundResolver::create(io.get_executor(), s).value();
  const auto start = std::chrono::steady_clock::now();
  auto r = run(io, resolver->lookup("example.com", RrType::kCaa));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns);
  EXPECT_NE(r.error().detail.find("timed out"), std::string::npos) << r.error().detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST(Resolver, SeesChangesImmediately) {
  DnsFixture f;
  auto before = run(f.io, f.resolver->lookup("_acme-challenge.fresh.example", RrType::kTxt));
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->nxdomain());
  f.server->setTxt("_acme-challenge.fresh.example", {"now-here"});
  auto after = run(f.io, f.resolver->lookup("_acme-challenge.fresh.example", RrType::kTxt));
  ASSERT_TRUE(after) << after.error().detail;
  ASSERT_EQ(after->txt.size(), 1u);
  EXPECT_EQ(after->txt[0], "now-here");
}

TEST(Resolver, SpecialUseNamesGoToTheUpstream) {
  DnsFixture f;
  f.server->setTxt("_validation-persist.localhost", {"x"});
  f.server->setTxt("_validation-persist.bench.test", {"y"});
  auto a = run(f.io, f.resolver->lookup("_validation-persist.localhost", RrType::kTxt));
  ASSERT_TRUE(a) << a.error().detail;
  EXPECT_EQ(a->txt, std::vector<std::string>{"x"});
  auto b = run(f.io, f.resolver->lookup("_validation-persist.bench.test", RrType::kTxt));
  ASSERT_TRUE(b) << b.error().detail;
  EXPECT_EQ(b->txt, std::vector<std::string>{"y"});
}

TEST(Resolver, ManyConcurrentLookupsFromAnotherThread) {
  DnsFixture f;
  for (int i = 0; i < 20; ++i)
    f.server->setTxt(fmt::format("n{}.example.com", i), {std::to_string(i)});
  // The caller's coroutines run on a second io_context (another worker thread's loop).
  asio::io_context other;
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(other, f.resolver->lookup(fmt::format("n{}.example.com", i), RrType::kTxt),
                   [&ok, i](std::exception_ptr, core::Result<DnsAnswer> r) {
                     if (r && r->txt == std::vector<std::string>{std::to_string(i)}) ++ok;
                   });
  }
  // The guard keeps the resolver's loop running even before the first lookup reaches it;
  // without it run_for() may return at once and the lookups never complete.
  auto guard = asio::make_work_guard(f.io);
  std::thread t([&] { f.io.run_for(std::chrono::seconds(5)); });
  other.run_for(std::chrono::seconds(5));
  guard.reset();
  f.io.stop();
  t.join();
  EXPECT_EQ(ok, 20);
  EXPECT_GE(f.server->queryCount(), 20u);
}

TEST(Resolver, CreateRejectsBadSettings) {
  asio::io_context io;
  ResolverSettings s;
  s.upstream = "not-an-ip:53";
  EXPECT_FALSE(UnboundResolver::create(io.get_executor(), s));
  s.upstream = "127.0.0.1:53";
  s.trust_anchor_file = "/nonexistent/root.key";
  auto r = UnboundResolver::create(io.get_executor(), s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("/nonexistent/root.key"), std::string::npos);
}

TEST(Resolver, DestroyedWhileALookupIsPending) {
  asio::io_context io;
  auto server = TestDnsServer::start().value();
  server->setDrop("pending.example.com");
  ResolverSettings s;
  s.upstream = server->address();
  s.timeout = std::chrono::seconds(30);
  auto resolver = UnboundResolver::create(io.get_executor(), s).value();
  std::optional<core::Result<DnsAnswer>> got;
  asio::co_spawn(io, resolver->lookup("pending.example.com", RrType::kTxt),
                 [&](std::exception_ptr, core::Result<DnsAnswer> r) { got.emplace(std::move(r)); });
  io.run_for(std::chrono::milliseconds(100));
  resolver.reset();
  io.restart();
  io.run_for(std::chrono::seconds(2));
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error().type, core::ProblemType::kDns);
}

namespace akamu::validation {
namespace {

// With a trust anchor for the zone, answers that cannot be validated (here: an unsigned zone
// under a DS that nothing matches) are refused as `dns` problems; without one they are used.
TEST(ResolverDnssec, UnsignedAnswersUnderATrustAnchorAreRefused) {
  auto server = TestDnsServer::start().value();
  server->setTxt("_acme-challenge.signed.test", {"value"});
  char path[] = "/tmp/akamu-ta-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string anchor =
      "signed.test. 3600 IN DS 12345 13 2 "
      "2BB183AF5F22588179A53B0A98631FAD1A292118A5D7F2A1B3C4D5E6F7A8B9C0\n";
  ASSERT_EQ(::write(fd, anchor.data(), anchor.size()), static_cast<ssize_t>(anchor.size()));
  ::close(fd);

  for (bool with_anchor : {false, true}) {
    asio::io_context io;
    ResolverSettings s;
    s.upstream = server->address();
    s.timeout = std::chrono::seconds(3);
    if (with_anchor) s.trust_anchor_file = path;
    auto resolver = UnboundResolver::create(io.get_executor(), s);
    ASSERT_TRUE(resolver.has_value()) << resolver.error().detail;
    auto r = testing::run(io, (*resolver)->lookup("_acme-challenge.signed.test", RrType::kTxt));
    if (with_anchor) {
      ASSERT_FALSE(r.has_value()) << "an unvalidatable answer was accepted";
      EXPECT_EQ(r.error().type, core::ProblemType::kDns);
      EXPECT_NE(r.error().detail.find("DNSSEC"), std::string::npos) << r.error().detail;
    } else {
      ASSERT_TRUE(r.has_value()) << r.error().detail;
      EXPECT_EQ(r->txt, std::vector<std::string>{"value"});
      EXPECT_FALSE(r->secure);
    }
    resolver->reset();
    io.restart();
    io.poll();
  }
  ::unlink(path);
}

}  // namespace
}  // namespace akamu::validation

namespace {

// A temporary file holding `text`, removed at scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/akamu-resolver-XXXXXX";
    const int fd = ::mkstemp(name);
    path = name;
    if (fd >= 0) {
      const auto written = ::write(fd, text.data(), text.size());
      (void)written;
      ::close(fd);
    }
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

// An UnboundResolver without an upstream, reading the given resolv.conf and hosts texts.
struct SystemResolver {
  TempFile resolv;
  TempFile hosts;
  asio::io_context io;
  core::Result<std::unique_ptr<UnboundResolver>> resolver;
  SystemResolver(const std::string& resolv_text, const std::string& hosts_text)
      : resolv(resolv_text), hosts(hosts_text), resolver(create()) {}
  core::Result<std::unique_ptr<UnboundResolver>> create() {
    ResolverSettings s;
    s.resolv_conf_path = resolv.path;
    s.hosts_path = hosts.path;
    s.timeout = std::chrono::seconds(3);
    return UnboundResolver::create(io.get_executor(), s);
  }
  core::Result<DnsAnswer> lookup(const std::string& name, RrType type) {
    return run(io, (*resolver)->lookup(name, type));
  }
  ~SystemResolver() {
    if (resolver) resolver->reset();
    io.restart();
    io.poll();
  }
};

}  // namespace

// lookupWithin abandons (cancels) a lookup at the deadline, long before the resolver's own
// 30 s per-query timeout, and the resolver keeps serving.
TEST(Resolver, LookupWithinCancelsAtTheDeadline) {
  DnsFixture f(std::chrono::seconds(30));
  f.server->setDrop("slow.example.com");
  f.server->setTxt("fast.example.com", {"here"});
  auto r =
      run(f.io, lookupWithin(*f.resolver, "slow.example.com", RrType::kTxt,
                             std::chrono::steady_clock::now() + std::chrono::milliseconds(300)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns);
  EXPECT_NE(r.error().detail.find("validation time"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("slow.example.com"), std::string::npos) << r.error().detail;
  auto next = run(f.io, lookupWithin(*f.resolver, "fast.example.com", RrType::kTxt,
                                     std::chrono::steady_clock::now() + std::chrono::seconds(5)));
  ASSERT_TRUE(next) << next.error().detail;
  EXPECT_EQ(next->txt, std::vector<std::string>{"here"});
  auto late = run(f.io, lookupWithin(*f.resolver, "fast.example.com", RrType::kTxt,
                                     std::chrono::steady_clock::now()));
  EXPECT_FALSE(late);  // no time left: not even started
}

// Without an upstream, the entries of the hosts file are answered locally (the nameserver of
// the resolv.conf is never asked: nothing listens there).
TEST(ResolverSystemConfiguration, HostsEntriesAreUsed) {
  SystemResolver sys("nameserver 127.0.0.1\n",
                     "# comment\n192.0.2.77 made-up-host.internal alias.internal\n"
                     "2001:db8::77 made-up-host.internal\n");
  ASSERT_TRUE(sys.resolver) << sys.resolver.error().detail;
  auto a = sys.lookup("made-up-host.internal", RrType::kA);
  ASSERT_TRUE(a) << a.error().detail;
  ASSERT_EQ(a->addresses.size(), 1u);
  EXPECT_EQ(a->addresses[0].to_string(), "192.0.2.77");
  auto aaaa = sys.lookup("made-up-host.internal", RrType::kAaaa);
  ASSERT_TRUE(aaaa) << aaaa.error().detail;
  ASSERT_EQ(aaaa->addresses.size(), 1u);
  EXPECT_EQ(aaaa->addresses[0].to_string(), "2001:db8::77");
  auto alias = sys.lookup("ALIAS.internal.", RrType::kA);
  ASSERT_TRUE(alias) << alias.error().detail;
  ASSERT_EQ(alias->addresses.size(), 1u);
}

// The nameservers of resolv.conf are where queries go. resolv.conf has no port (libunbound's
// ub_ctx_resolvconf reads the address only), so the test DNS server listens on port 53 of a
// loopback address of its own; binding that needs privileges, and the test is skipped without
// them (ResolvConfIsRead below checks, unprivileged, that the file is read at all).
TEST(ResolverSystemConfiguration, QueriesGoToTheResolvConfNameservers) {
  const std::string ip = fmt::format("127.53.{}.{}", (::getpid() >> 8) & 0xff, ::getpid() & 0xff);
  auto server = TestDnsServer::start(ip, 53);
  if (!server) GTEST_SKIP() << "cannot bind " << ip << ":53: " << server.error().detail;
  (*server)->setTxt("_acme-challenge.only-in-test-dns.example", {"from resolv.conf"});
  SystemResolver sys("search example.net\nnameserver " + ip + "\noptions edns0\n", "");
  ASSERT_TRUE(sys.resolver) << sys.resolver.error().detail;
  auto r = sys.lookup("_acme-challenge.only-in-test-dns.example", RrType::kTxt);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->txt, std::vector<std::string>{"from resolv.conf"});
  EXPECT_GE((*server)->queryCount(), 1u);
}

TEST(ResolverSystemConfiguration, ResolvConfIsRead) {
  asio::io_context io;
  TempFile bad("nameserver not-an-address\n");
  TempFile hosts("");
  ResolverSettings s;
  s.resolv_conf_path = bad.path;
  s.hosts_path = hosts.path;
  auto r = UnboundResolver::create(io.get_executor(), s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find(bad.path), std::string::npos) << r.error().detail;
  // A malformed hosts file is refused too, naming it.
  TempFile good("nameserver 127.0.0.1\n");
  TempFile bad_hosts("192.0.2.1x host.example\n");
  s.resolv_conf_path = good.path;
  s.hosts_path = bad_hosts.path;
  auto h = UnboundResolver::create(io.get_executor(), s);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().detail.find(bad_hosts.path), std::string::npos) << h.error().detail;
  // Missing files are what the C library makes of them: no hosts, the local nameserver.
  s.resolv_conf_path = "/nonexistent/resolv.conf";
  s.hosts_path = "/nonexistent/hosts";
  auto missing = UnboundResolver::create(io.get_executor(), s);
  EXPECT_TRUE(missing) << missing.error().detail;
  // An explicit upstream reads neither file.
  s.upstream = "127.0.0.1:53";
  s.resolv_conf_path = bad.path;
  s.hosts_path = bad_hosts.path;
  EXPECT_TRUE(UnboundResolver::create(io.get_executor(), s));
}
