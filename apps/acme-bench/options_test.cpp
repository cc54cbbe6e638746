#include "options.hpp"

#include <gtest/gtest.h>

#include "core/database_url.hpp"

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
  EXPECT_FALSE(refused([](Options& o) { o.db = "postgresql://localhost/akamu"; }));
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

TEST(Options, PostgresDbPassesThrough) {
  for (const std::string db :
       {"postgres://akamu@127.0.0.1:5432/akamu",
        "postgresql://u:p@db.example/akamu?sslmode=require",
        "host=127.0.0.1 port=5432 dbname=akamu user=akamu", "dbname = akamu"}) {
    Options o;
    o.db = db;
    EXPECT_EQ(validate(o), std::nullopt) << db;
    EXPECT_EQ(o.db_url, db);
    EXPECT_TRUE(core::isPostgresUrl(db)) << db;
  }
  // Paths and SQLite URLs are not conninfo, even with an '='.
  for (const std::string db : {"/tmp/a=b.db", "sqlite:///tmp/x=1.db", "bench.db", ":memory:"}) {
    EXPECT_FALSE(core::isPostgresUrl(db)) << db;
  }
  Options file;
  file.db = "sqlite:///tmp/x=1.db";
  ASSERT_EQ(validate(file), std::nullopt);
  EXPECT_EQ(file.db_url, "sqlite:///tmp/x=1.db");
}

TEST(Options, PasswordsAreMasked) {
  EXPECT_EQ(maskDbPassword("postgres://user:s3cret@host/db"), "postgres://user:****@host/db");
  EXPECT_EQ(maskDbPassword("postgresql://user:p%40ss@host:5432/db?sslmode=require"),
            "postgresql://user:****@host:5432/db?sslmode=require");
  EXPECT_EQ(maskDbPassword("postgres://user@host:5432/db"), "postgres://user@host:5432/db");
  EXPECT_EQ(maskDbPassword("postgres://host/db?user=u&password=x&sslmode=disable"),
            "postgres://host/db?user=u&password=****&sslmode=disable");
  EXPECT_EQ(maskDbPassword("postgres://host/db?password=x#frag"),
            "postgres://host/db?password=****#frag");
  EXPECT_EQ(maskDbPassword("postgres://u:x@host/db?sslpassword=y"),
            "postgres://u:****@host/db?sslpassword=****");
  EXPECT_EQ(maskDbPassword("host=h password=secret dbname=d"), "host=h password=**** dbname=d");
  EXPECT_EQ(maskDbPassword("host=h password = 'se cr\\'et' dbname=d"),
            "host=h password = **** dbname=d");
  EXPECT_EQ(maskDbPassword("password=x"), "password=****");
  EXPECT_EQ(maskDbPassword("host=h dbname=d"), "host=h dbname=d");
  EXPECT_EQ(maskDbPassword("sqlite:///tmp/password=x.db"), "sqlite:///tmp/password=x.db");
  // No secret survives anywhere in the output.
  for (const std::string db :
       {"postgres://a:TOPSECRET@h/d", "host=h password=TOPSECRET", "password='TOP SECRET'",
        "postgres://h/d?password=TOPSECRET", "host=h sslpassword=TOPSECRET"}) {
    EXPECT_EQ(maskDbPassword(db).find("SECRET"), std::string::npos) << db;
  }
}

TEST(Options, PasswordsAreScrubbedFromMessages) {
  EXPECT_EQ(scrubDbPassword("connect to postgres://u:p%40ss@h/d failed: p@ss rejected",
                            "postgres://u:p%40ss@h/d"),
            "connect to postgres://u:****@h/d failed: **** rejected");
  EXPECT_EQ(scrubDbPassword("password 'it\\'s' and it's", "host=h password='it\\'s'"),
            "password **** and ****");
  EXPECT_EQ(scrubDbPassword("nothing secret", "sqlite:///tmp/a.db"), "nothing secret");
  EXPECT_EQ(scrubDbPassword("user u", "postgres://u@h/d"), "user u");
}

TEST(Options, SaveCertsMustBeADirectory) {
  Options o;
  o.save_certs = "/dev/null";
  EXPECT_NE(validate(o), std::nullopt);
  o.save_certs = "/tmp";
  EXPECT_EQ(validate(o), std::nullopt);
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
