#include "config/effective_config.hpp"

#include <gtest/gtest.h>

#include <string>

namespace akamu::config {
namespace {

// Every key the parser knows, each set to something other than its default, so that a key
// the rendering leaves out reads back as its default and the comparison fails.
constexpr std::string_view kEveryKey = R"(listen_addr = "127.0.0.1:9443"
base_url = "https://ca.example.net"
[[listeners]]
addr = "127.0.0.1:8080"
[[listeners]]
addr = "unix:/run/akamu/akamu.sock"
tls = true
[tls]
cert_file = "/data/tls.pem"
key_file = "/data/tls.key"
auto_validity_secs = 7200
[database]
url = "postgresql://akamu:s3cret@db.example.net/akamu?sslmode=require"
pool_connections = 7
ro_connections = 3
require_tls = true
prune_interval_secs = 120
prune_after_expiry_secs = 240
[ca]
key_file = "/data/ca.key"
cert_file = "/data/ca.pem"
key_type = "ec:P-384"
hash_alg = "SHA384"
validity_days = 30
ca_validity_days = 365
common_name = "Test Root"
organization = "Test Org"
crl_url = "https://crl.example.net/c"
crl_next_update_secs = 7200
crl_shards = 4
crl_lookback_secs = 60
ocsp_url = "https://ocsp.example.net/ocsp"
ocsp_responder = "delegated"
ocsp_next_update_secs = 7200
[server]
audit_log_file = "/data/audit.log"
terms_of_service_url = "https://ca.example.net/tos"
website_url = "https://ca.example.net/"
caa_identities = ["ca.example.net"]
external_account_required = true
order_expiry_secs = 600
authz_expiry_secs = 900
max_body_bytes = 2048
http_validation_port = 8081
http_validation_allow_private_ips = true
validation_timeout_secs = 5
threads = 3
nonce_capacity = 42
metrics_listen_addr = "127.0.0.1:9102"
dns_resolver_addr = "127.0.0.1:5353"
dns_persist01_resolver_addr = "127.0.0.1:5354"
dns_trust_anchor_file = "/data/root.key"
dns_timeout_secs = 3
dns_persist_issuer_domains = ["ca.example.net"]
tls_alpn_validation_port = 8443
default_profile = "short"
ari_retry_after_secs = 120
shutdown_grace_secs = 4
reuse_valid_authz = true
reuse_min_remaining_secs = 3600
reuse_pending_authz = true
allow_pre_authorization = true
allow_subdomain_authorizations = true
trusted_proxies = ["127.0.0.1/32", "10.0.0.0/8"]
[admin]
socket = "/run/akamu/admin.sock"
socket_mode = "0660"
[rate_limits]
enabled = true
help_url = "https://ca.example.com/rate-limits"
override_cache_secs = 7
public_suffix_file = "/usr/share/publicsuffix/public_suffix_list.dat"
[rate_limits.CertificatesPerDomain]
burst = 10
count = 5
period_secs = 3600
[rate_limits.NewOrdersPerAccount]
count = 300
period_secs = 10800
[star]
enabled = true
min_lifetime_secs = 3600
max_duration_secs = 7200
allow_certificate_get = true
check_interval_secs = 5
[log]
level = "warn"
request_level = "info"
format = "json"
[profiles.short]
description = "short lived"
validity_secs = 86400
key_usages = ["digitalSignature"]
extended_key_usages = ["serverAuth"]
allowed_key_types = ["ec:P-256"]
omit_common_name = true
omit_subject_key_id = true
include_crl_url = false
include_ocsp_url = false
identifier_types = ["dns"]
challenge_types = ["dns-01"]
authz_lifetime_secs = 300
order_lifetime_secs = 400
max_names = 5
allow_wildcards = false
allowed_accounts = ["acct1"]
renewal_point = 0.5
renewal_window = 0.1
)";

TEST(EffectiveConfig, ReadsBackToTheSameConfigurationWithThePasswordMasked) {
  auto first = parseConfig(kEveryKey, "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(first) << first.error().detail;
  const std::string text = renderEffectiveConfig(*first);
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  auto again = parseConfig(text, "effective.toml", "/etc/akamu");
  ASSERT_TRUE(again) << again.error().detail << "\n" << text;
  Config expected = *first;
  expected.database.url = "postgresql://akamu:****@db.example.net/akamu?sslmode=require";
  EXPECT_TRUE(*again == expected) << text;
  EXPECT_EQ(again->database.url, expected.database.url);
}

TEST(EffectiveConfig, ShowsDefaultsTheFileLeftOut) {
  auto cfg = parseConfig(R"(base_url = "http://127.0.0.1:8080"
[database]
url = "sqlite::memory:"
[ca]
key_file = "/data/ca.key"
cert_file = "/data/ca.pem"
[server]
audit_log_file = "/data/audit.log"
)",
                         "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(cfg) << cfg.error().detail;
  const std::string text = renderEffectiveConfig(*cfg);
  EXPECT_NE(text.find("shutdown_grace_secs = 10"), std::string::npos) << text;
  EXPECT_NE(text.find("crl_url = 'http://127.0.0.1:8080/crl'"), std::string::npos) << text;
  EXPECT_NE(text.find("[profiles.default]"), std::string::npos) << text;
  auto again = parseConfig(text, "effective.toml", "/etc/akamu");
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(again->profiles, cfg->profiles);
}

TEST(EffectiveConfig, MasksEveryFormOfDatabasePassword) {
  EXPECT_EQ(maskDatabaseUrl("postgresql://u:pw@h:5432/db"), "postgresql://u:****@h:5432/db");
  EXPECT_EQ(maskDatabaseUrl("postgres://u:p%40ss@h/db"), "postgres://u:****@h/db");
  EXPECT_EQ(maskDatabaseUrl("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(maskDatabaseUrl("postgresql://h/db?user=u&password=pw&sslmode=require"),
            "postgresql://h/db?user=u&password=****&sslmode=require");
  EXPECT_EQ(maskDatabaseUrl("host=db user=u password=pw dbname=x"),
            "host=db user=u password=**** dbname=x");
  EXPECT_EQ(maskDatabaseUrl("host=db password = 'a b\\' c' dbname=x"),
            "host=db password = **** dbname=x");
  EXPECT_EQ(maskDatabaseUrl("sqlite:///var/lib/akamu/akamu.db"),
            "sqlite:///var/lib/akamu/akamu.db");
  EXPECT_EQ(maskDatabaseUrl("sqlite:///var/lib/passwords=1/akamu.db"),
            "sqlite:///var/lib/passwords=1/akamu.db");
}

}  // namespace
}  // namespace akamu::config
