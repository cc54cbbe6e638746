#include "validation/resolve_targets.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "validation/fake_resolver.hpp"
#include "validation/test_support.hpp"

namespace akamu::validation {
namespace {

namespace asio = boost::asio;

Deadline soon(std::chrono::milliseconds ms = std::chrono::milliseconds(2000)) {
  return std::chrono::steady_clock::now() + ms;
}

std::vector<std::string> strings(const std::vector<asio::ip::address>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}

struct Resolve {
  asio::io_context io;
  FakeResolver fake;
  core::Result<std::vector<asio::ip::address>> operator()(core::Identifier id, bool allow,
                                                          Deadline deadline = soon()) {
    return testing::run(io, resolveTargets(fake, std::move(id), allow, deadline));
  }
};

TEST(ResolveTargets, IpLiteralsAreThemselvesAndPolicyApplies) {
  Resolve resolve;
  auto v4 = resolve({"ip", "192.0.2.1"}, true);
  ASSERT_TRUE(v4);
  EXPECT_EQ(strings(*v4), std::vector<std::string>{"192.0.2.1"});
  auto v6 = resolve({"ip", "2606:4700::1"}, false);
  ASSERT_TRUE(v6) << v6.error().detail;
  EXPECT_EQ(strings(*v6), std::vector<std::string>{"2606:4700::1"});
  auto refused = resolve({"ip", "10.0.0.1"}, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, core::ProblemType::kRejectedIdentifier);
  ASSERT_TRUE(refused.error().identifier);
  EXPECT_EQ(refused.error().identifier->value, "10.0.0.1");
  EXPECT_EQ(resolve.fake.queryCount(), 0u);
}

TEST(ResolveTargets, MalformedIdentifiers) {
  Resolve resolve;
  auto not_ip = resolve({"ip", "example.com"}, true);
  ASSERT_FALSE(not_ip);
  EXPECT_EQ(not_ip.error().type, core::ProblemType::kMalformed);
  auto other = resolve({"email", "a@example.com"}, true);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().type, core::ProblemType::kMalformed);
  EXPECT_EQ(resolve.fake.queryCount(), 0u);
}

// RFC 6761 §6.3: loopback without a lookup; refused unless private addresses are allowed.
TEST(ResolveTargets, LocalhostNamesAreLoopbackWithoutALookup) {
  Resolve resolve;
  resolve.fake.setAddresses("localhost", {"192.0.2.99"});  // must not be used
  for (const char* name : {"localhost", "LocalHost.", "app.localhost", "a.b.localhost"}) {
    auto r = resolve({"dns", name}, true);
    ASSERT_TRUE(r) << name << ": " << r.error().detail;
    EXPECT_EQ(strings(*r), std::vector<std::string>{"127.0.0.1"}) << name;
    auto refused = resolve({"dns", name}, false);
    ASSERT_FALSE(refused) << name;
    EXPECT_EQ(refused.error().type, core::ProblemType::kRejectedIdentifier) << name;
  }
  EXPECT_EQ(resolve.fake.queryCount(), 0u);
  EXPECT_FALSE(isLocalhostName("notlocalhost"));
  EXPECT_FALSE(isLocalhostName("localhost.example"));
}

TEST(ResolveTargets, BothFamiliesIpv6First) {
  Resolve resolve;
  resolve.fake.setAddresses("dual.example", {"192.0.2.10", "2001:db8::10", "192.0.2.11"});
  auto r = resolve({"dns", "Dual.Example."}, true);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(strings(*r), (std::vector<std::string>{"2001:db8::10", "192.0.2.10", "192.0.2.11"}));
  EXPECT_TRUE(resolve.fake.wasQueried("dual.example", RrType::kA));
  EXPECT_TRUE(resolve.fake.wasQueried("dual.example", RrType::kAaaa));
}

TEST(ResolveTargets, NonPublicAddressesAreDroppedUnlessAllowed) {
  Resolve resolve;
  resolve.fake.setAddresses("mixed.example", {"10.0.0.5", "8.8.8.8", "fe80::1"});
  auto r = resolve({"dns", "mixed.example"}, false);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(strings(*r), std::vector<std::string>{"8.8.8.8"});
  auto all = resolve({"dns", "mixed.example"}, true);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);
  resolve.fake.setAddresses("private.example", {"10.0.0.5", "::1"});
  auto refused = resolve({"dns", "private.example"}, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().type, core::ProblemType::kRejectedIdentifier);
  EXPECT_NE(refused.error().detail.find("private.example"), std::string::npos);
}

TEST(ResolveTargets, OneFamilySufficesWhenTheOtherFails) {
  Resolve resolve;
  DnsAnswer v4;
  v4.addresses = {asio::ip::make_address("192.0.2.20")};
  resolve.fake.setAnswer("half.example", RrType::kA, v4);
  DnsAnswer v6_nodata;
  resolve.fake.setAnswer("half.example", RrType::kAaaa, v6_nodata);
  auto r = resolve({"dns", "half.example"}, true);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(strings(*r), std::vector<std::string>{"192.0.2.20"});
}

TEST(ResolveTargets, LookupFailuresAreDnsProblemsNamingTheIdentifier) {
  Resolve resolve;
  resolve.fake.setServFail("broken.example");
  resolve.fake.setTxt("nodata.example", {"x"});
  for (const char* name : {"broken.example", "missing.example", "nodata.example"}) {
    auto r = resolve({"dns", name}, true);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().type, core::ProblemType::kDns) << name;
    EXPECT_NE(r.error().detail.find(name), std::string::npos) << r.error().detail;
    ASSERT_TRUE(r.error().identifier);
    EXPECT_EQ(r.error().identifier->value, name);
  }
  EXPECT_NE(resolve({"dns", "missing.example"}, true).error().detail.find("NXDOMAIN"),
            std::string::npos);
}

TEST(ResolveTargets, NeverAnsweringLookupsEndAtTheDeadline) {
  Resolve resolve;
  resolve.fake.setNeverAnswers("silent.example");
  resolve.fake.setQueryTimeout(std::chrono::seconds(30));
  auto r = resolve({"dns", "silent.example"}, true, soon(std::chrono::milliseconds(100)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kDns);
  EXPECT_NE(r.error().detail.find("validation time"), std::string::npos) << r.error().detail;
  EXPECT_EQ(resolve.fake.pendingCount(), 0u);  // both lookups were cancelled
}

// A redirect's host is resolved by the same step; problems still name the identifier.
TEST(ResolveTargets, OtherHostOnBehalfOfTheIdentifier) {
  asio::io_context io;
  FakeResolver fake;
  fake.setAddresses("cdn.example", {"192.0.2.30"});
  auto r =
      testing::run(io, resolveTargets(fake, {"dns", "www.example"}, "cdn.example", true, soon()));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(strings(*r), std::vector<std::string>{"192.0.2.30"});
  auto missing =
      testing::run(io, resolveTargets(fake, {"dns", "www.example"}, "gone.example", true, soon()));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().identifier->value, "www.example");
  EXPECT_NE(missing.error().detail.find("gone.example"), std::string::npos);
}

}  // namespace
}  // namespace akamu::validation
