#include "options.hpp"

#include <gtest/gtest.h>

namespace akamu::bench {
namespace {

TEST(Options, DefaultsAreValid) {
  Options o;
  EXPECT_EQ(validate(o), std::nullopt);
  EXPECT_EQ(o.db_url, "sqlite::memory:");
  EXPECT_EQ(o.clients, 10);
  EXPECT_EQ(o.requests, 100);
  EXPECT_EQ(o.warmup, 10);
  EXPECT_EQ(o.poll_ms, 100);
}

TEST(Options, UnbuiltFeaturesAreRefusedNotIgnored) {
  auto refused = [](auto mutate) {
    Options o;
    mutate(o);
    auto e = validate(o);
    return e && e->rfind("not supported yet", 0) == 0;
  };
  EXPECT_TRUE(refused([](Options& o) { o.nodes = 3; }));
  EXPECT_TRUE(refused([](Options& o) { o.topology = "proxy"; }));
  EXPECT_TRUE(refused([](Options& o) { o.no_gossip = true; }));
  EXPECT_TRUE(refused([](Options& o) { o.db = "postgresql://localhost/akamu"; }));
}

TEST(Options, DnsPersistAndWildcard) {
  Options persist;
  persist.challenge = "dns-persist-01";
  EXPECT_EQ(validate(persist), std::nullopt);
  persist.wildcard = true;
  EXPECT_EQ(validate(persist), std::nullopt);

  // Wildcards need DNS validation: refused with http-01, and not as "not supported yet".
  Options http;
  http.wildcard = true;
  auto e = validate(http);
  ASSERT_NE(e, std::nullopt);
  EXPECT_EQ(e->rfind("not supported yet", 0), std::string::npos);
  EXPECT_NE(e->find("dns-persist-01"), std::string::npos);

  // An external server cannot be pointed at the bench's DNS server.
  Options external;
  external.challenge = "dns-persist-01";
  external.server_url = "https://127.0.0.1:14000/dir";
  auto x = validate(external);
  ASSERT_NE(x, std::nullopt);
  EXPECT_NE(x->find("--server"), std::string::npos);

  Options other;
  other.challenge = "dns-01";
  EXPECT_NE(validate(other), std::nullopt);
}

TEST(Options, DbSpellings) {
  Options o;
  o.db = ":memory:";
  ASSERT_EQ(validate(o), std::nullopt);
  EXPECT_EQ(o.db_url, "sqlite::memory:");
  o.db = "sqlite:///dev/shm/bench.db";
  ASSERT_EQ(validate(o), std::nullopt);
  EXPECT_EQ(o.db_url, "sqlite:///dev/shm/bench.db");
  o.db = "/tmp/x.db";
  ASSERT_EQ(validate(o), std::nullopt);
  EXPECT_EQ(o.db_url, "sqlite:///tmp/x.db");
}

TEST(Options, BadValues) {
  Options o;
  o.key_type = "ec:P-999";
  EXPECT_NE(validate(o), std::nullopt);
  Options c;
  c.clients = 0;
  EXPECT_NE(validate(c), std::nullopt);
  Options s;
  s.spawn = "thread";
  EXPECT_NE(validate(s), std::nullopt);
}

}  // namespace
}  // namespace akamu::bench
