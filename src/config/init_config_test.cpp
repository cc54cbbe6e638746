#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "config/config.hpp"

namespace akamu::config {
namespace {

using ::testing::HasSubstr;

TEST(InitConfig, DefaultsParseBackToDefaults) {
  std::string text = renderInitConfig(InitOptions{});
  auto r = parseConfig(text, "akamu.toml", "/srv/akamu");
  ASSERT_TRUE(r) << r.error().detail << "\n" << text;
  EXPECT_EQ(r->listen_addr, "127.0.0.1:8080");
  EXPECT_EQ(r->base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(r->ca.key_file, "/srv/akamu/akamu-data/ca.key");
  EXPECT_EQ(r->ca.cert_file, "/srv/akamu/akamu-data/ca.pem");
  EXPECT_EQ(r->database.url, "sqlite:///srv/akamu/akamu-data/akamu.db");
  EXPECT_EQ(r->server.audit_log_file, "/srv/akamu/akamu-data/audit.log");
  // Every default in the rendered file must agree with the struct defaults.
  const Config defaults;
  EXPECT_EQ(r->ca.key_type, defaults.ca.key_type);
  EXPECT_EQ(r->ca.hash_alg, defaults.ca.hash_alg);
  EXPECT_EQ(r->ca.validity_days, defaults.ca.validity_days);
  EXPECT_EQ(r->ca.ca_validity_days, defaults.ca.ca_validity_days);
  EXPECT_EQ(r->ca.common_name, defaults.ca.common_name);
  EXPECT_EQ(r->ca.organization, defaults.ca.organization);
  EXPECT_EQ(r->ca.crl_url, std::nullopt);
  EXPECT_EQ(r->ca.crl_next_update_secs, defaults.ca.crl_next_update_secs);
  EXPECT_EQ(r->ca.crl_shards, defaults.ca.crl_shards);
  EXPECT_EQ(r->ca.crl_lookback_secs, defaults.ca.crl_lookback_secs);
  EXPECT_EQ(r->ca.ocsp_url, std::nullopt);
  EXPECT_EQ(r->ca.ocsp_responder, defaults.ca.ocsp_responder);
  EXPECT_EQ(r->ca.ocsp_next_update_secs, defaults.ca.ocsp_next_update_secs);
  EXPECT_EQ(r->database.pool_connections, defaults.database.pool_connections);
  EXPECT_EQ(r->database.ro_connections, defaults.database.ro_connections);
  EXPECT_EQ(r->server.terms_of_service_url, std::nullopt);
  EXPECT_EQ(r->server.website_url, std::nullopt);
  EXPECT_EQ(r->server.caa_identities, defaults.server.caa_identities);
  EXPECT_EQ(r->server.external_account_required, defaults.server.external_account_required);
  EXPECT_EQ(r->server.order_expiry_secs, defaults.server.order_expiry_secs);
  EXPECT_EQ(r->server.authz_expiry_secs, defaults.server.authz_expiry_secs);
  EXPECT_EQ(r->server.max_body_bytes, defaults.server.max_body_bytes);
  EXPECT_EQ(r->server.http_validation_port, defaults.server.http_validation_port);
  EXPECT_EQ(r->server.http_validation_allow_private_ips,
            defaults.server.http_validation_allow_private_ips);
  EXPECT_EQ(r->server.validation_timeout_secs, defaults.server.validation_timeout_secs);
  EXPECT_EQ(r->server.threads, defaults.server.threads);
  EXPECT_EQ(r->server.nonce_capacity, defaults.server.nonce_capacity);
  EXPECT_EQ(r->log.level, defaults.log.level);
  // A fresh install limits: every Boulder limit, with generous defaults.
  EXPECT_TRUE(r->rate_limits.enabled);
  EXPECT_EQ(r->rate_limits.limits.size(), std::size(kRateLimitNames));
  ASSERT_NE(r->rate_limits.find("NewOrdersPerAccount"), nullptr);
  EXPECT_EQ(*r->rate_limits.find("NewOrdersPerAccount"), (RateLimitConfig{3000, 3000, 10800}));
  EXPECT_EQ(r->rate_limits.find("PendingAuthorizationsPerAccount")->count, 1000);
  EXPECT_TRUE(r->server.trusted_proxies.empty());
}

TEST(InitConfig, UsesGivenListenBaseUrlAndDataDir) {
  InitOptions options;
  options.data_dir = "/var/lib/akamu/";
  options.listen_addr = "[::]:4443";
  options.base_url = "https://acme.example.com";
  auto r = parseConfig(renderInitConfig(options), "akamu.toml", "/etc/akamu");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->listen_addr, "[::]:4443");
  EXPECT_EQ(r->base_url, "https://acme.example.com");
  EXPECT_EQ(r->ca.key_file, "/var/lib/akamu/ca.key");
  EXPECT_EQ(r->ca.cert_file, "/var/lib/akamu/ca.pem");
  EXPECT_EQ(r->database.url, "sqlite:///var/lib/akamu/akamu.db");
  EXPECT_EQ(r->server.audit_log_file, "/var/lib/akamu/audit.log");
}

TEST(InitConfig, BaseUrlDefaultsToListenAddr) {
  InitOptions options;
  options.listen_addr = "0.0.0.0:9000";
  auto r = parseConfig(renderInitConfig(options), "akamu.toml", "/x");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->base_url, "http://0.0.0.0:9000");
}

TEST(InitConfig, TlsWritesAutoModeAndAnHttpsBaseUrl) {
  InitOptions options;
  options.listen_addr = "127.0.0.1:8443";
  options.tls = true;
  auto r = parseConfig(renderInitConfig(options), "akamu.toml", "/x");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->base_url, "https://127.0.0.1:8443");
  ASSERT_TRUE(r->tls.has_value());
  EXPECT_TRUE(r->tls->auto_issue);
  EXPECT_TRUE(r->listeners.empty());
  // Without --tls the [tls] table is only shown, commented out.
  auto plain = parseConfig(renderInitConfig(InitOptions{}), "akamu.toml", "/x");
  ASSERT_TRUE(plain) << plain.error().detail;
  EXPECT_FALSE(plain->tls.has_value());
  EXPECT_THAT(renderInitConfig(InitOptions{}), HasSubstr("\n# [tls]\n# auto = true\n"));
}

TEST(InitConfig, QuotesAwkwardPaths) {
  InitOptions options;
  options.data_dir = "/data/a \"quoted\" \\dir";
  auto r = parseConfig(renderInitConfig(options), "akamu.toml", "/x");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->ca.key_file, "/data/a \"quoted\" \\dir/ca.key");
}

TEST(InitConfig, EveryKeyIsPresentAndCommented) {
  std::string text = renderInitConfig(InitOptions{});
  for (std::string key : {"listen_addr =",
                          "base_url =",
                          "[database]",
                          "url =",
                          "pool_connections =",
                          "ro_connections =",
                          "[ca]",
                          "key_file =",
                          "cert_file =",
                          "key_type =",
                          "hash_alg =",
                          "validity_days =",
                          "ca_validity_days =",
                          "common_name =",
                          "organization =",
                          "# crl_url =",
                          "crl_next_update_secs =",
                          "crl_shards =",
                          "crl_lookback_secs =",
                          "# ocsp_url =",
                          "ocsp_responder =",
                          "ocsp_next_update_secs =",
                          "[server]",
                          "audit_log_file =",
                          "# terms_of_service_url =",
                          "# website_url =",
                          "caa_identities =",
                          "external_account_required =",
                          "order_expiry_secs =",
                          "authz_expiry_secs =",
                          "max_body_bytes =",
                          "http_validation_port =",
                          "http_validation_allow_private_ips =",
                          "validation_timeout_secs =",
                          "threads =",
                          "nonce_capacity =",
                          "[log]",
                          "level ="}) {
    EXPECT_THAT(text, HasSubstr("\n" + key)) << key;
  }
  // Each assignment or table header is preceded by a comment line, or belongs to a group that is.
  std::istringstream lines(text);
  std::string line, previous;
  int uncommented = 0;
  while (std::getline(lines, line)) {
    bool assignment = !line.empty() && line[0] != '#' && line[0] != '[';
    if (assignment && previous.empty()) ++uncommented;
    previous = line;
  }
  EXPECT_EQ(uncommented, 0);
  // Optional keys, once uncommented, are accepted as written.
  std::string enabled = text;
  for (std::string key :
       {"# terms_of_service_url =", "# website_url =", "# crl_url =", "# ocsp_url ="}) {
    enabled.replace(enabled.find(key), 2, "");
  }
  auto r = parseConfig(enabled, "akamu.toml", "/x");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_TRUE(r->server.terms_of_service_url.has_value());
  EXPECT_TRUE(r->server.website_url.has_value());
}

}  // namespace
}  // namespace akamu::config
