#include "config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace akamu::config {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// The smallest file that parses: only the required keys.
constexpr std::string_view kMinimal = R"(base_url = "http://127.0.0.1:8080"
[database]
url = "sqlite::memory:"
[ca]
key_file = "/data/ca.key"
cert_file = "/data/ca.pem"
[server]
audit_log_file = "/data/audit.log"
)";

std::string errorOf(std::string_view text, const std::string& base = "/etc/akamu") {
  auto r = parseConfig(text, "akamu.toml", base);
  if (r) return "<parsed>";
  EXPECT_EQ(r.error().type, core::ProblemType::kMalformed);
  return r.error().detail;
}

// kMinimal with one line appended inside the given table (or at the top for "").
std::string withLine(std::string_view table, std::string_view line) {
  std::string text(kMinimal);
  if (table.empty()) return std::string(line) + "\n" + text;
  auto header = "[" + std::string(table) + "]\n";
  auto pos = text.find(header);
  text.insert(pos + header.size(), std::string(line) + "\n");
  return text;
}

TEST(Config, MinimalFileGetsDefaults) {
  auto r = parseConfig(kMinimal, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  const Config& c = *r;
  EXPECT_EQ(c.listen_addr, "127.0.0.1:8080");
  EXPECT_EQ(c.base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.config_dir, "/etc/akamu");
  EXPECT_EQ(c.database.url, "sqlite::memory:");
  EXPECT_EQ(c.database.pool_connections, 4);
  EXPECT_EQ(c.database.ro_connections, 0);
  EXPECT_FALSE(c.database.require_tls);
  EXPECT_EQ(c.database.prune_interval_secs, 3600);
  EXPECT_EQ(c.database.prune_after_expiry_secs, 86400);
  EXPECT_EQ(c.ca.key_file, "/data/ca.key");
  EXPECT_EQ(c.ca.cert_file, "/data/ca.pem");
  EXPECT_EQ(c.ca.key_type, "ec:P-256");
  EXPECT_EQ(c.ca.hash_alg, "SHA256");
  EXPECT_EQ(c.ca.validity_days, 90);
  EXPECT_EQ(c.ca.ca_validity_days, 3650);
  EXPECT_EQ(c.ca.common_name, "Akamu Root CA");
  EXPECT_EQ(c.ca.organization, "Akamu");
  EXPECT_EQ(c.server.audit_log_file, "/data/audit.log");
  EXPECT_FALSE(c.server.terms_of_service_url);
  EXPECT_FALSE(c.server.website_url);
  EXPECT_TRUE(c.server.caa_identities.empty());
  EXPECT_FALSE(c.server.external_account_required);
  EXPECT_EQ(c.server.order_expiry_secs, 604800);
  EXPECT_EQ(c.server.authz_expiry_secs, 604800);
  EXPECT_EQ(c.server.max_body_bytes, 65536u);
  EXPECT_EQ(c.server.http_validation_port, 80);
  EXPECT_FALSE(c.server.http_validation_allow_private_ips);
  EXPECT_EQ(c.server.validation_timeout_secs, 10);
  EXPECT_EQ(c.server.threads, 0);
  EXPECT_EQ(c.server.nonce_capacity, 100000u);
  EXPECT_EQ(c.log.level, "info");
}

TEST(Config, RateLimitsAreOffWithoutTheTable) {
  auto r = parseConfig(kMinimal, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_FALSE(r->rate_limits.enabled);
  EXPECT_TRUE(r->rate_limits.limits.empty());
  EXPECT_TRUE(r->server.trusted_proxies.empty());
}

TEST(Config, RateLimitTablesAreRead) {
  std::string text(kMinimal);
  text += R"([rate_limits]
help_url = "https://ca.example/limits"
override_cache_secs = 0
[rate_limits.NewOrdersPerAccount]
burst = 5
count = 10
period_secs = 3600
[rate_limits.CertificatesPerDomain]
count = 7
period_secs = 60
)";
  auto r = parseConfig(text, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_TRUE(r->rate_limits.enabled);
  EXPECT_EQ(r->rate_limits.help_url, "https://ca.example/limits");
  EXPECT_EQ(r->rate_limits.override_cache_secs, 0);
  EXPECT_EQ(*r->rate_limits.find("NewOrdersPerAccount"), (RateLimitConfig{5, 10, 3600}));
  // burst defaults to count, as in Boulder.
  EXPECT_EQ(*r->rate_limits.find("CertificatesPerDomain"), (RateLimitConfig{7, 7, 60}));
  EXPECT_EQ(r->rate_limits.find("CertificatesPerFQDNSet"), nullptr);
}

TEST(Config, RateLimitRefusals) {
  auto with = [](std::string_view extra) {
    return errorOf(std::string(kMinimal) + std::string(extra));
  };
  EXPECT_THAT(with("[rate_limits.NewOrdersPerAcount]\ncount = 1\nperiod_secs = 1\n"),
              AllOf(HasSubstr("unknown rate limit 'rate_limits.NewOrdersPerAcount'"),
                    HasSubstr("NewOrdersPerAccount")));
  EXPECT_THAT(with("[rate_limits.NewOrdersPerAccount]\ncount = 1\n"),
              HasSubstr("missing required key 'rate_limits.NewOrdersPerAccount.period_secs'"));
  EXPECT_THAT(with("[rate_limits.NewOrdersPerAccount]\ncount = 0\nperiod_secs = 1\n"),
              HasSubstr("'rate_limits.NewOrdersPerAccount.count' = 0 is out of range"));
  EXPECT_THAT(with("[rate_limits.NewOrdersPerAccount]\ncount = 1\nperiod_secs = 1\nrate = 2\n"),
              HasSubstr("unknown key 'rate_limits.NewOrdersPerAccount.rate'"));
  EXPECT_THAT(with("[rate_limits]\nNewOrdersPerAccount = 3\n"),
              HasSubstr("'rate_limits.NewOrdersPerAccount' must be a table"));
  EXPECT_THAT(with("[rate_limits]\nenabled = \"yes\"\n"), HasSubstr("rate_limits.enabled"));
  EXPECT_THAT(errorOf(withLine("server", "trusted_proxies = [\"10.0.0.0/33\"]")),
              HasSubstr("trusted_proxies[0]"));
  EXPECT_EQ(errorOf(withLine("server", "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]")), "<parsed>");
}

TEST(Config, FullFileSetsEveryKey) {
  constexpr std::string_view kFull = R"(
listen_addr = "[::1]:0"
base_url = "https://acme.example.com/acme/"
[database]
url = "sqlite:///var/lib/akamu/akamu.db"
pool_connections = 8
ro_connections = 2
require_tls = true
prune_interval_secs = 0
prune_after_expiry_secs = 60
[ca]
key_file = "keys/ca.key"
cert_file = "/abs/ca.pem"
key_type = "ml-dsa-65"
hash_alg = "SHA384"
validity_days = 7
ca_validity_days = 365
common_name = "Test CA"
organization = ""
[server]
audit_log_file = "logs/audit.log"
terms_of_service_url = "https://example.com/tos?v=2"
website_url = "http://example.com"
caa_identities = ["CA.Example.com", "other.example"]
external_account_required = true
order_expiry_secs = 3600
authz_expiry_secs = 60
max_body_bytes = 1024
http_validation_port = 5002
http_validation_allow_private_ips = true
validation_timeout_secs = 120
threads = 3
nonce_capacity = 5
[log]
level = "debug"
)";
  auto r = parseConfig(kFull, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  const Config& c = *r;
  EXPECT_EQ(c.listen_addr, "[::1]:0");
  EXPECT_EQ(c.base_url, "https://acme.example.com/acme");
  EXPECT_EQ(c.database.url, "sqlite:///var/lib/akamu/akamu.db");
  EXPECT_EQ(c.database.pool_connections, 8);
  EXPECT_EQ(c.database.ro_connections, 2);
  EXPECT_TRUE(c.database.require_tls);
  EXPECT_EQ(c.database.prune_interval_secs, 0);
  EXPECT_EQ(c.database.prune_after_expiry_secs, 60);
  EXPECT_EQ(c.ca.key_file, "/etc/akamu/keys/ca.key");
  EXPECT_EQ(c.ca.cert_file, "/abs/ca.pem");
  EXPECT_EQ(c.ca.key_type, "ml-dsa-65");
  EXPECT_EQ(c.ca.hash_alg, "SHA384");
  EXPECT_EQ(c.ca.validity_days, 7);
  EXPECT_EQ(c.ca.ca_validity_days, 365);
  EXPECT_EQ(c.ca.common_name, "Test CA");
  EXPECT_EQ(c.ca.organization, "");
  EXPECT_EQ(c.server.audit_log_file, "/etc/akamu/logs/audit.log");
  EXPECT_EQ(c.server.terms_of_service_url, "https://example.com/tos?v=2");
  EXPECT_EQ(c.server.website_url, "http://example.com");
  EXPECT_EQ(c.server.caa_identities, (std::vector<std::string>{"ca.example.com", "other.example"}));
  EXPECT_TRUE(c.server.external_account_required);
  EXPECT_EQ(c.server.order_expiry_secs, 3600);
  EXPECT_EQ(c.server.authz_expiry_secs, 60);
  EXPECT_EQ(c.server.max_body_bytes, 1024u);
  EXPECT_EQ(c.server.http_validation_port, 5002);
  EXPECT_TRUE(c.server.http_validation_allow_private_ips);
  EXPECT_EQ(c.server.validation_timeout_secs, 120);
  EXPECT_EQ(c.server.threads, 3);
  EXPECT_EQ(c.server.nonce_capacity, 5u);
  EXPECT_EQ(c.log.level, "debug");
}

TEST(Config, InlineTablesAndDottedKeysAreEquivalent) {
  constexpr std::string_view kText = R"(base_url = "http://h:1"
database = { url = "sqlite::memory:" }
ca.key_file = "/k"
ca.cert_file = "/c"
server.audit_log_file = "/a"
log.level = "off"
)";
  auto r = parseConfig(kText, "akamu.toml", "/x");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->log.level, "off");
  EXPECT_EQ(r->ca.key_file, "/k");
}

TEST(Config, UnknownTopLevelKeyNamesKeyAndLine) {
  EXPECT_EQ(errorOf(withLine("", "listen = \"x\"")), "akamu.toml:1: unknown key 'listen'");
}

TEST(Config, UnknownKeyInEachTableNamesDottedPathAndLine) {
  // Line of the inserted key: right after the table header in kMinimal.
  const std::map<std::string, int> header_line = {{"database", 2}, {"ca", 4}, {"server", 7}};
  for (const auto& [table, line] : header_line) {
    EXPECT_EQ(errorOf(withLine(table, "bogus = 1")),
              "akamu.toml:" + std::to_string(line + 1) + ": unknown key '" + table + ".bogus'");
  }
  EXPECT_EQ(errorOf(std::string(kMinimal) + "[log]\nlevel = \"info\"\nverbose = true\n"),
            "akamu.toml:11: unknown key 'log.verbose'");
}

TEST(Config, UnknownTableAndNestedTableAreRejected) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "[metrics]\nport = 9\n"),
            "akamu.toml:9: unknown table 'metrics'");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "[server.tls]\ncert = \"x\"\n"),
            "akamu.toml:9: unknown table 'server.tls'");
}

TEST(Config, RevocationKeysDefaultsAndValues) {
  auto minimal = parseConfig(kMinimal, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(minimal) << minimal.error().detail;
  EXPECT_EQ(effectiveCrlUrl(minimal->ca, minimal->base_url), "http://127.0.0.1:8080/crl");
  EXPECT_EQ(minimal->ca.ocsp_url, std::nullopt);
  EXPECT_EQ(minimal->ca.ocsp_responder, "ca");

  auto off = parseConfig(withLine("ca", "crl_url = \"\""), "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(off) << off.error().detail;
  EXPECT_EQ(effectiveCrlUrl(off->ca, off->base_url), std::nullopt);

  auto set = parseConfig(withLine("ca",
                                  "crl_url = \"http://crl.example.com/r1\"\n"
                                  "crl_next_update_secs = 3600\ncrl_shards = 128\n"
                                  "crl_lookback_secs = 0\nocsp_url = \"http://o.example/ocsp\"\n"
                                  "ocsp_responder = \"delegated\"\nocsp_next_update_secs = 7200"),
                         "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(set) << set.error().detail;
  EXPECT_EQ(effectiveCrlUrl(set->ca, set->base_url), "http://crl.example.com/r1");
  EXPECT_EQ(set->ca.crl_next_update_secs, 3600);
  EXPECT_EQ(set->ca.crl_shards, 128);
  EXPECT_EQ(set->ca.crl_lookback_secs, 0);
  EXPECT_EQ(set->ca.ocsp_url, "http://o.example/ocsp");
  EXPECT_EQ(set->ca.ocsp_responder, "delegated");
  EXPECT_EQ(set->ca.ocsp_next_update_secs, 7200);
}

TEST(Config, RevocationKeysAreChecked) {
  // BR: at most 10 days between thisUpdate and nextUpdate.
  EXPECT_THAT(errorOf(withLine("ca", "crl_next_update_secs = 864001")),
              HasSubstr("'ca.crl_next_update_secs' = 864001 is out of range"));
  EXPECT_THAT(errorOf(withLine("ca", "crl_shards = 0")),
              HasSubstr("'ca.crl_shards' = 0 is out of range"));
  EXPECT_THAT(errorOf(withLine("ca", "crl_shards = 129")), HasSubstr("out of range"));
  EXPECT_THAT(errorOf(withLine("ca", "ocsp_responder = \"ocsp\"")), HasSubstr("accepted:"));
  EXPECT_THAT(errorOf(withLine("ca", "crl_url = \"ftp://x/crl\"")), HasSubstr("'ca.crl_url'"));
  EXPECT_THAT(errorOf(withLine("ca", "crl_url = \"http://x/crl/\"")), HasSubstr("end with '/'"));
  EXPECT_THAT(errorOf(withLine("ca", "crl_url = \"http://x\"")), HasSubstr("path of its own"));
  EXPECT_THAT(errorOf(withLine("ca", "ocsp_url = \"http://x/acme/ocsp\"")),
              HasSubstr("not under /acme"));
  EXPECT_THAT(errorOf(withLine("ca", "ocsp_url = \"\"")), HasSubstr("'ca.ocsp_url'"));
  EXPECT_THAT(errorOf(withLine("ca", "crl_url = \"http://x/r\"\nocsp_url = \"http://y/r/ocsp\"")),
              HasSubstr("a path apart from crl_url's (/r)"));
}

TEST(Config, AllErrorsAreReportedTogether) {
  std::string detail = errorOf(withLine("ca", "validity_days = 0") + "zap = 1\n");
  EXPECT_THAT(detail, HasSubstr("'ca.validity_days' = 0 is out of range"));
  EXPECT_THAT(detail, HasSubstr("unknown key 'server.zap'"));
  EXPECT_THAT(detail, HasSubstr("\n"));
  // File order, although toml++ iterates keys alphabetically.
  EXPECT_EQ(errorOf(withLine("", "zzz = 1") + "[aaa]\n"),
            "akamu.toml:1: unknown key 'zzz'\nakamu.toml:10: unknown table 'aaa'");
}

TEST(Config, WrongTypesNameKeyExpectedTypeAndLine) {
  EXPECT_EQ(errorOf(withLine("ca", "validity_days = \"90\"")),
            "akamu.toml:5: 'ca.validity_days' must be an integer, not string");
  EXPECT_EQ(errorOf(withLine("ca", "validity_days = 90.0")),
            "akamu.toml:5: 'ca.validity_days' must be an integer, not float");
  EXPECT_EQ(errorOf(withLine("server", "external_account_required = \"yes\"")),
            "akamu.toml:8: 'server.external_account_required' must be a boolean, not string");
  EXPECT_EQ(errorOf(withLine("server", "caa_identities = \"ca.example\"")),
            "akamu.toml:8: 'server.caa_identities' must be an array of strings, not string");
  EXPECT_EQ(errorOf(withLine("server", "caa_identities = [\"a.example\", 3]")),
            "akamu.toml:8: 'server.caa_identities[1]' must be a string, not integer");
  EXPECT_EQ(errorOf(withLine("", "listen_addr = 8080")),
            "akamu.toml:1: 'listen_addr' must be a string, not integer");
  EXPECT_EQ(errorOf("log = \"debug\"\n" + std::string(kMinimal)),
            "akamu.toml:1: 'log' must be a table, not string");
}

TEST(Config, RangeErrorsNameKeyAndRange) {
  struct Case {
    std::string table, line, expected;
  };
  const Case cases[] = {
      {"ca", "validity_days = 3651",
       "'ca.validity_days' = 3651 is out of range (accepted: 1..3650)"},
      {"ca", "ca_validity_days = 0",
       "'ca.ca_validity_days' = 0 is out of range (accepted: 1..36500)"},
      {"database", "pool_connections = 0", "(accepted: 1..256)"},
      {"database", "ro_connections = -1", "'database.ro_connections' = -1 is out of range"},
      {"database", "prune_interval_secs = 604801", "(accepted: 0..604800)"},
      {"database", "prune_after_expiry_secs = -1", "'database.prune_after_expiry_secs'"},
      {"server", "order_expiry_secs = 59", "(accepted: 60..31536000)"},
      {"server", "authz_expiry_secs = 31536001", "'server.authz_expiry_secs'"},
      {"server", "max_body_bytes = 1023", "(accepted: 1024..10485760)"},
      {"server", "max_body_bytes = 10485761", "'server.max_body_bytes'"},
      {"server", "http_validation_port = 0", "(accepted: 1..65535)"},
      {"server", "http_validation_port = 65536", "'server.http_validation_port'"},
      {"server", "validation_timeout_secs = 121", "(accepted: 1..120)"},
      {"server", "threads = -1", "'server.threads' = -1 is out of range (accepted: 0..1024)"},
      {"server", "nonce_capacity = 0", "(accepted: 1..10000000)"},
      {"server", "threads = 9223372036854775807", "(accepted: 0..1024)"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(errorOf(withLine(c.table, c.line)), HasSubstr(c.expected)) << c.line;
  }
}

TEST(Config, InvalidValuesListAcceptedOnes) {
  EXPECT_THAT(errorOf(withLine("ca", "key_type = \"ec:p256\"")),
              AllOf(HasSubstr("akamu.toml:5: invalid value 'ec:p256' for 'ca.key_type'"),
                    HasSubstr("ec:P-256"), HasSubstr("ml-dsa-87"), HasSubstr("rsa:4096")));
  EXPECT_THAT(errorOf(withLine("ca", "key_type = \"rsa:1024\"")), HasSubstr("'ca.key_type'"));
  EXPECT_THAT(
      errorOf(withLine("ca", "hash_alg = \"MD5\"")),
      HasSubstr("invalid value 'MD5' for 'ca.hash_alg' (accepted: SHA256, SHA384, SHA512)"));
  EXPECT_THAT(errorOf(std::string(kMinimal) + "[log]\nlevel = \"verbose\"\n"),
              HasSubstr("'log.level' (accepted: trace, debug, info, warn, error, off)"));
  EXPECT_THAT(errorOf(withLine("ca", "common_name = \"\"")),
              HasSubstr("'ca.common_name' must not be empty"));
  EXPECT_THAT(errorOf(withLine("ca", "common_name = \"" + std::string(65, 'x') + "\"")),
              HasSubstr("at most 64 characters"));
  EXPECT_THAT(errorOf(withLine("server", "caa_identities = [\"not a domain\"]")),
              HasSubstr("'server.caa_identities[0]'"));
  EXPECT_THAT(errorOf(withLine("server", "terms_of_service_url = \"ftp://x\"")),
              HasSubstr("'server.terms_of_service_url'"));
  EXPECT_THAT(errorOf(withLine("server", "website_url = \"https://\"")),
              HasSubstr("'server.website_url'"));
}

TEST(Config, KeyTypesAndHashesAccepted) {
  for (std::string kt : {"ec:P-256", "ec:P-384", "ec:P-521", "rsa:2048", "rsa:3072", "rsa:4096",
                         "ed25519", "ml-dsa-44", "ml-dsa-65", "ml-dsa-87"}) {
    auto r = parseConfig(withLine("ca", "key_type = \"" + kt + "\""), "t", "/");
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->ca.key_type, kt);
  }
  for (std::string h : {"SHA256", "SHA384", "SHA512"}) {
    auto r = parseConfig(withLine("ca", "hash_alg = \"" + h + "\""), "t", "/");
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->ca.hash_alg, h);
  }
}

TEST(Config, BaseUrlRules) {
  auto base = [](std::string url) {
    std::string text(kMinimal);
    text.replace(text.find("http://127.0.0.1:8080"), 21, url);
    return text;
  };
  auto ok = parseConfig(base("https://acme.example.com/"), "t", "/");
  ASSERT_TRUE(ok) << ok.error().detail;
  EXPECT_EQ(ok->base_url, "https://acme.example.com");
  ok = parseConfig(base("http://[::1]:4001/dir"), "t", "/");
  ASSERT_TRUE(ok) << ok.error().detail;
  EXPECT_EQ(ok->base_url, "http://[::1]:4001/dir");

  for (std::string bad :
       {"acme.example.com", "ftp://acme.example.com", "https://", "https://a.example/?x=1",
        "https://a.example/#frag", "https://a.example:0", "https://a.example:99999",
        "https://u@a.example", "https://a b.example", "https://a.example//", "https://[zz]:1"}) {
    EXPECT_THAT(errorOf(base(bad)),
                HasSubstr("akamu.toml:1: invalid value '" + bad + "' for 'base_url'"))
        << bad;
  }
}

TEST(Config, ListenAddrValidation) {
  EXPECT_THAT(errorOf(withLine("", "listen_addr = \"localhost\"")),
              HasSubstr("akamu.toml:1: invalid value 'localhost' for 'listen_addr' "
                        "(expected host:port or [ipv6]:port with port 0..65535)"));
}

TEST(Config, MissingRequiredKeys) {
  EXPECT_THAT(errorOf(""), AllOf(HasSubstr("missing required key 'base_url'"),
                                 HasSubstr("missing required key 'database.url'"),
                                 HasSubstr("missing required key 'ca.key_file'"),
                                 HasSubstr("missing required key 'ca.cert_file'"),
                                 HasSubstr("missing required key 'server.audit_log_file'"),
                                 HasSubstr("(the [ca] table is missing)")));
  std::string text(kMinimal);
  text.erase(text.find("cert_file"), text.find("[server]") - text.find("cert_file"));
  EXPECT_EQ(errorOf(text), "akamu.toml: missing required key 'ca.cert_file'");
  text = kMinimal;
  text.replace(text.find("\"/data/audit.log\""), 17, "\"\"");
  EXPECT_THAT(errorOf(text), HasSubstr("'server.audit_log_file' must not be empty"));
}

TEST(Config, RelativePathsResolveAgainstBaseDir) {
  std::string text(kMinimal);
  text.replace(text.find("/data/ca.key"), 12, "ca.key");
  text.replace(text.find("/data/ca.pem"), 12, "../pki/./ca.pem");
  text.replace(text.find("/data/audit.log"), 15, "log/audit.log");
  auto r = parseConfig(text, "t", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->ca.key_file, "/etc/akamu/ca.key");
  EXPECT_EQ(r->ca.cert_file, "/etc/pki/ca.pem");
  EXPECT_EQ(r->server.audit_log_file, "/etc/akamu/log/audit.log");

  // Without a base directory the current directory is the base, so paths are still absolute.
  r = parseConfig(text, "t", "");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->ca.key_file, (fs::current_path() / "ca.key").lexically_normal().string());
  EXPECT_EQ(r->config_dir, "");
}

TEST(Config, SqliteUrlForms) {
  auto db = [](std::string url) {
    std::string text(kMinimal);
    text.replace(text.find("sqlite::memory:"), 15, url);
    return text;
  };
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"sqlite::memory:", "sqlite::memory:"},
      {"sqlite:///var/db/a.db", "sqlite:///var/db/a.db"},
      {"sqlite://a.db", "sqlite:///etc/akamu/a.db"},
      {"sqlite://./data/../a.db", "sqlite:///etc/akamu/a.db"},
      {"sqlite://data/a.db", "sqlite:///etc/akamu/data/a.db"},
      {"postgresql://akamu@db/akamu", "postgresql://akamu@db/akamu"},
      {"postgres://akamu:pw@127.0.0.1:5432/akamu?sslmode=require",
       "postgres://akamu:pw@127.0.0.1:5432/akamu?sslmode=require"},
      {"host=127.0.0.1 port=5432 dbname=akamu user=akamu",
       "host=127.0.0.1 port=5432 dbname=akamu user=akamu"},
  };
  for (const auto& c : cases) {
    auto r = parseConfig(db(c.in), "t", "/etc/akamu");
    ASSERT_TRUE(r) << c.in << ": " << r.error().detail;
    EXPECT_EQ(r->database.url, c.out);
  }
  for (std::string bad : {"", "a.db", "sqlite:", "sqlite://", "sqlite:///", "mysql://x/y",
                          "sqlite://a.db?mode=ro", "sqlite:memory"}) {
    EXPECT_THAT(errorOf(db(bad)),
                AllOf(HasSubstr("akamu.toml:3: invalid value '" + bad + "' for 'database.url'"),
                      HasSubstr("sqlite::memory:")))
        << bad;
  }
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  std::string detail = errorOf("base_url = \"http://x:1\"\n[ca\nkey_file = 1\n");
  EXPECT_THAT(detail, HasSubstr("akamu.toml:2:"));
  EXPECT_THAT(detail, HasSubstr("TOML syntax error"));
  detail = errorOf("a = 1\nb = 2\nb = 3\n");
  EXPECT_THAT(detail, HasSubstr("akamu.toml:3:5: TOML syntax error"));
}

TEST(SplitListenAddr, AcceptsHostPortAndBracketedV6) {
  using P = std::pair<std::string, std::uint16_t>;
  EXPECT_EQ(splitListenAddr("127.0.0.1:8080"), P("127.0.0.1", 8080));
  EXPECT_EQ(splitListenAddr("0.0.0.0:0"), P("0.0.0.0", 0));
  EXPECT_EQ(splitListenAddr("localhost:65535"), P("localhost", 65535));
  EXPECT_EQ(splitListenAddr("[::1]:443"), P("::1", 443));
  EXPECT_EQ(splitListenAddr("[::]:80"), P("::", 80));
  EXPECT_EQ(splitListenAddr("[::ffff:10.0.0.1]:80"), P("::ffff:10.0.0.1", 80));
}

TEST(SplitListenAddr, RejectsMalformed) {
  for (std::string_view bad :
       {"", ":80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o",
        "::1:80", "[::1]", "[::1]80", "[]:80", "[zz::1]:80", "[127.0.0.1]:80", "300.1.1.1:80",
        "a b:80", "host_name:80", "127.0.0.1:123456", ".:80"}) {
    EXPECT_FALSE(splitListenAddr(bad)) << bad;
  }
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("akamu_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, std::string_view text) {
    auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  static std::optional<std::string> noEnv(const char*) { return std::nullopt; }

  fs::path dir_;
};

TEST_F(ConfigFile, ResolvesAgainstFileDirectory) {
  std::string text(kMinimal);
  text.replace(text.find("/data/ca.key"), 12, "ca.key");
  text.replace(text.find("sqlite::memory:"), 15, "sqlite://akamu.db");
  auto path = write("akamu.toml", text);
  auto r = loadConfigFile(path, noEnv);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->config_dir, dir_.string());
  EXPECT_EQ(r->ca.key_file, (dir_ / "ca.key").string());
  EXPECT_EQ(r->database.url, "sqlite://" + (dir_ / "akamu.db").string());
}

TEST_F(ConfigFile, ErrorsNameTheFile) {
  auto path = write("bad.toml", withLine("server", "foo = 1"));
  auto r = loadConfigFile(path, noEnv);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, path + ":8: unknown key 'server.foo'");
}

TEST_F(ConfigFile, MissingFileAndDirectoryAreErrors) {
  auto r = loadConfigFile((dir_ / "nope.toml").string(), noEnv);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().detail, HasSubstr("cannot read config file"));
  EXPECT_THAT(r.error().detail, HasSubstr("nope.toml"));
  r = loadConfigFile(dir_.string(), noEnv);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().detail, HasSubstr("not a regular file"));
}

TEST_F(ConfigFile, AkamuListenOverrides) {
  auto path = write("akamu.toml", kMinimal);
  std::vector<std::string> asked;
  auto r = loadConfigFile(path, [&](const char* name) -> std::optional<std::string> {
    asked.emplace_back(name);
    if (std::string_view(name) == "AKAMU_LISTEN") return "[::]:9443";
    return std::nullopt;
  });
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->listen_addr, "[::]:9443");
  EXPECT_THAT(asked, ::testing::Contains("AKAMU_LISTEN"));

  r = loadConfigFile(path, [](const char*) -> std::optional<std::string> { return ""; });
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->listen_addr, "127.0.0.1:8080");
}

TEST_F(ConfigFile, InvalidAkamuListenRejected) {
  auto path = write("akamu.toml", kMinimal);
  auto r =
      loadConfigFile(path, [](const char*) -> std::optional<std::string> { return "0.0.0.0"; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, core::ProblemType::kMalformed);
  EXPECT_THAT(r.error().detail,
              AllOf(HasSubstr("AKAMU_LISTEN"), HasSubstr("'0.0.0.0'"), Not(HasSubstr("<parsed>"))));
}

}  // namespace
}  // namespace akamu::config

namespace akamu::config {
namespace {

TEST(ConfigProfiles, WithoutProfilesThereIsOneDefaultFromCaAndServer) {
  auto r = parseConfig(withLine("ca", "validity_days = 30"), "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_EQ(r->profiles.size(), 1u);
  const auto& p = r->profiles[0];
  EXPECT_EQ(p.name, "default");
  EXPECT_EQ(r->server.default_profile, "default");
  EXPECT_EQ(p.validity_secs, 30 * 86400);
  EXPECT_EQ(p.authz_lifetime_secs, r->server.authz_expiry_secs);
  EXPECT_EQ(p.order_lifetime_secs, r->server.order_expiry_secs);
  EXPECT_EQ(r->server.ari_retry_after_secs, 21600);
  EXPECT_EQ(findProfile(*r, "default"), &p);
  EXPECT_EQ(findProfile(*r, "nope"), nullptr);
}

TEST(ConfigProfiles, EveryKeyIsRead) {
  std::string text(kMinimal);
  text += R"(
[profiles.tls]
description = "TLS servers"
validity_secs = 86400
key_usages = ["digitalSignature"]
extended_key_usages = ["serverAuth"]
allowed_key_types = ["ec:P-256", "rsa"]
omit_common_name = true
omit_subject_key_id = true
include_crl_url = false
include_ocsp_url = false
identifier_types = ["dns"]
challenge_types = ["dns-01"]
authz_lifetime_secs = 3600
order_lifetime_secs = 7200
max_names = 3
allow_wildcards = false
allowed_accounts = ["acct1"]
renewal_point = 0.5
renewal_window = 0.1
[profiles.default]
)";
  auto r = parseConfig(text, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_EQ(r->profiles.size(), 2u);
  const auto* p = findProfile(*r, "tls");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->description, "TLS servers");
  EXPECT_EQ(p->validity_secs, 86400);
  EXPECT_EQ(p->key_usages, std::vector<std::string>{"digitalSignature"});
  EXPECT_EQ(p->extended_key_usages, std::vector<std::string>{"serverAuth"});
  EXPECT_EQ(p->allowed_key_types, (std::vector<std::string>{"ec:P-256", "rsa"}));
  EXPECT_TRUE(p->omit_common_name);
  EXPECT_TRUE(p->omit_subject_key_id);
  EXPECT_FALSE(p->include_crl_url);
  EXPECT_FALSE(p->include_ocsp_url);
  EXPECT_EQ(p->identifier_types, std::vector<std::string>{"dns"});
  EXPECT_EQ(p->challenge_types, std::vector<std::string>{"dns-01"});
  EXPECT_EQ(p->authz_lifetime_secs, 3600);
  EXPECT_EQ(p->order_lifetime_secs, 7200);
  EXPECT_EQ(p->max_names, 3);
  EXPECT_FALSE(p->allow_wildcards);
  EXPECT_EQ(p->allowed_accounts, std::vector<std::string>{"acct1"});
  ASSERT_TRUE(p->renewal_point);
  EXPECT_DOUBLE_EQ(*p->renewal_point, 0.5);
  EXPECT_DOUBLE_EQ(p->renewal_window, 0.1);
  // The empty one gets the defaults.
  const auto* d = findProfile(*r, "default");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->description, "The default profile");
  EXPECT_FALSE(d->renewal_point);
}

TEST(ConfigProfiles, MistakesAreNamedWithTheirKey) {
  auto with = [](std::string body) {
    return std::string(kMinimal) + "[profiles.p]\n" + body + "\n[profiles.default]\n";
  };
  EXPECT_THAT(errorOf(with("key_usages = [\"signing\"]")), HasSubstr("'profiles.p.key_usages[0]'"));
  EXPECT_THAT(errorOf(with("extended_key_usages = []")), HasSubstr("must name at least one"));
  EXPECT_THAT(errorOf(with("challenge_types = [\"http-01\", \"http-01\"]")),
              HasSubstr("listed twice"));
  EXPECT_THAT(errorOf(with("renewal_point = 1.5")), HasSubstr("profiles.p.renewal_point"));
  EXPECT_THAT(errorOf(with("max_names = 0")), HasSubstr("out of range"));
  EXPECT_THAT(errorOf(with("colour = \"red\"")), HasSubstr("unknown key 'profiles.p.colour'"));
  EXPECT_THAT(errorOf(std::string(kMinimal) + "[profiles.\"bad name\"]\n"),
              HasSubstr("invalid profile name"));
  // Profiles without one called "default" need server.default_profile to name one.
  EXPECT_THAT(errorOf(std::string(kMinimal) + "[profiles.only]\n"),
              HasSubstr("'server.default_profile' = 'default' names no profile"));
  auto r = parseConfig(withLine("server", "default_profile = \"only\"") + "[profiles.only]\n",
                       "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->server.default_profile, "only");
}

TEST(ConfigProfiles, InitWritesDefaultAndShortlived) {
  auto r = parseConfig(renderInitConfig(InitOptions{}), "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  const auto* s = findProfile(*r, "shortlived");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->validity_secs, 7 * 86400);
  EXPECT_FALSE(s->include_crl_url);
  EXPECT_FALSE(s->include_ocsp_url);
  ASSERT_TRUE(s->renewal_point);
  EXPECT_DOUBLE_EQ(*s->renewal_point, 0.5);
  EXPECT_NE(findProfile(*r, "default"), nullptr);
}

}  // namespace
}  // namespace akamu::config

namespace akamu::config {
namespace {

TEST(ConfigStar, OffByDefaultAndEveryKeyIsRead) {
  auto defaults = parseConfig(kMinimal, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(defaults) << defaults.error().detail;
  EXPECT_FALSE(defaults->star.enabled);
  EXPECT_EQ(defaults->star.min_lifetime_secs, 86400);
  EXPECT_EQ(defaults->star.max_duration_secs, 31536000);
  EXPECT_FALSE(defaults->star.allow_certificate_get);
  EXPECT_EQ(defaults->star.check_interval_secs, 60);

  std::string text(kMinimal);
  text += R"(
[star]
enabled = true
min_lifetime_secs = 3600
max_duration_secs = 864000
allow_certificate_get = true
check_interval_secs = 5
)";
  auto r = parseConfig(text, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_TRUE(r->star.enabled);
  EXPECT_EQ(r->star.min_lifetime_secs, 3600);
  EXPECT_EQ(r->star.max_duration_secs, 864000);
  EXPECT_TRUE(r->star.allow_certificate_get);
  EXPECT_EQ(r->star.check_interval_secs, 5);
}

TEST(ConfigStar, RefusesUnknownKeysAndOutOfRangeValues) {
  std::string text(kMinimal);
  text += "\n[star]\nlifetime = 3600\n";
  EXPECT_THAT(errorOf(text), HasSubstr("unknown key 'star.lifetime'"));
  std::string small(kMinimal);
  small += "\n[star]\nmin_lifetime_secs = 1\n";
  EXPECT_THAT(errorOf(small), HasSubstr("star.min_lifetime_secs"));
}

// ---------------------------------------------------------------------------------------------
// [tls] and [[listeners]]

TEST(ConfigTls, AbsentMeansPlainHttp) {
  auto r = parseConfig(kMinimal, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_FALSE(r->tls.has_value());
  EXPECT_TRUE(r->listeners.empty());
}

TEST(ConfigTls, CertAndKeyFilesResolveAgainstTheConfigDir) {
  auto r = parseConfig(std::string(kMinimal) +
                           "[tls]\ncert_file = \"tls/cert.pem\"\n"
                           "key_file = \"/k/tls.key\"\n",
                       "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_TRUE(r->tls.has_value());
  EXPECT_EQ(r->tls->cert_file, "/etc/akamu/tls/cert.pem");
  EXPECT_EQ(r->tls->key_file, "/k/tls.key");
  EXPECT_FALSE(r->tls->auto_issue);
  EXPECT_EQ(r->tls->auto_validity_secs, 604800);
}

TEST(ConfigTls, AutoMode) {
  auto r = parseConfig(std::string(kMinimal) + "[tls]\nauto = true\nauto_validity_secs = 7200\n",
                       "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_TRUE(r->tls.has_value());
  EXPECT_TRUE(r->tls->auto_issue);
  EXPECT_EQ(r->tls->auto_validity_secs, 7200);
  EXPECT_TRUE(r->tls->cert_file.empty());
}

TEST(ConfigTls, Refusals) {
  const std::string m(kMinimal);
  EXPECT_EQ(errorOf(m + "[tls]\n"),
            "akamu.toml:9: the [tls] table needs cert_file and key_file, or auto = true");
  EXPECT_EQ(errorOf(m + "[tls]\ncert_file = \"c.pem\"\n"),
            "akamu.toml:9: 'tls.cert_file' and 'tls.key_file' go together: set both");
  EXPECT_EQ(errorOf(m + "[tls]\nkey_file = \"k.pem\"\n"),
            "akamu.toml:9: 'tls.cert_file' and 'tls.key_file' go together: set both");
  EXPECT_THAT(errorOf(m + "[tls]\nauto = true\ncert_file = \"c.pem\"\n"),
              HasSubstr("'tls.auto' = true issues the server certificate itself"));
  EXPECT_EQ(errorOf(m + "[tls]\nauto = false\n"),
            "akamu.toml:9: the [tls] table needs cert_file and key_file, or auto = true");
  EXPECT_EQ(errorOf(m + "[tls]\nauto = \"yes\"\n"),
            "akamu.toml:9: the [tls] table needs cert_file and key_file, or auto = true\n"
            "akamu.toml:10: 'tls.auto' must be a boolean, not string");
  EXPECT_EQ(errorOf(m + "[tls]\nauto = true\nauto_validity_secs = 60\n"),
            "akamu.toml:11: 'tls.auto_validity_secs' = 60 is out of range (accepted: "
            "3600..31536000)");
  EXPECT_EQ(errorOf(m + "[tls]\nauto = true\nciphers = \"x\"\n"),
            "akamu.toml:11: unknown key 'tls.ciphers'");
  EXPECT_EQ(errorOf(m + "[tls]\ncert_file = \"\"\nkey_file = \"k\"\n"),
            "akamu.toml:9: 'tls.cert_file' and 'tls.key_file' go together: set both\n"
            "akamu.toml:10: 'tls.cert_file' must not be empty");
  EXPECT_EQ(errorOf("tls = 1\n" + m), "akamu.toml:1: 'tls' must be a table, not integer");
}

TEST(ConfigListeners, TcpUnixAndTls) {
  auto r = parseConfig(std::string(kMinimal) +
                           "[tls]\nauto = true\n"
                           "[[listeners]]\naddr = \"127.0.0.1:8081\"\n"
                           "[[listeners]]\naddr = \"[::1]:8443\"\ntls = true\n"
                           "[[listeners]]\naddr = \"unix:run/akamu.sock\"\n",
                       "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_EQ(r->listeners.size(), 3u);
  EXPECT_EQ(r->listeners[0].addr, "127.0.0.1:8081");
  EXPECT_FALSE(r->listeners[0].tls);
  EXPECT_EQ(r->listeners[1].addr, "[::1]:8443");
  EXPECT_TRUE(r->listeners[1].tls);
  EXPECT_EQ(r->listeners[2].addr, "unix:/etc/akamu/run/akamu.sock");
  EXPECT_EQ(unixSocketPath(r->listeners[2].addr), "/etc/akamu/run/akamu.sock");
  EXPECT_EQ(unixSocketPath("127.0.0.1:1"), std::nullopt);
}

TEST(ConfigListeners, Refusals) {
  const std::string m(kMinimal);
  EXPECT_EQ(errorOf(m + "[[listeners]]\naddr = \"127.0.0.1:9\"\ntls = true\n"),
            "akamu.toml:10: 'listeners[0].tls' = true needs a [tls] table");
  EXPECT_EQ(errorOf(m + "[[listeners]]\naddr = \"nowhere\"\n"),
            "akamu.toml:10: invalid value 'nowhere' for 'listeners[0].addr' (expected host:port "
            "or [ipv6]:port with port 0..65535, or unix:/path)");
  EXPECT_EQ(errorOf(m + "[[listeners]]\naddr = \"unix:\"\n"),
            "akamu.toml:10: invalid value 'unix:' for 'listeners[0].addr' (unix: needs a socket "
            "file path)");
  EXPECT_THAT(errorOf(m + "[[listeners]]\naddr = \"unix:/" + std::string(120, 'a') + "\"\n"),
              HasSubstr("a Unix socket path has at most 107 bytes"));
  EXPECT_EQ(errorOf(m + "[[listeners]]\naddr = \"127.0.0.1:8080\"\n"),
            "akamu.toml:10: invalid value '127.0.0.1:8080' for 'listeners[0].addr' (another "
            "listener already uses this address)");
  EXPECT_EQ(errorOf(m + "[[listeners]]\n"), "akamu.toml: missing required key 'listeners[0].addr'");
  EXPECT_EQ(errorOf(m + "[[listeners]]\naddr = \"127.0.0.1:9\"\nport = 1\n"),
            "akamu.toml:11: unknown key 'listeners[0].port'");
  EXPECT_EQ(errorOf(m + "[[listeners]]\naddr = \"127.0.0.1:9\"\ntls = \"no\"\n"),
            "akamu.toml:11: 'listeners[0].tls' must be a boolean, not string");
  EXPECT_EQ(errorOf("listeners = \"127.0.0.1:9\"\n" + m),
            "akamu.toml:1: 'listeners' must be an array of tables ([[listeners]])");
}

}  // namespace
}  // namespace akamu::config
