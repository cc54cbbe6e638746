#include "config/effective_config.hpp"

#include <toml++/toml.h>

#include <cctype>
#include <sstream>

namespace akamu::config {

namespace {

constexpr std::string_view kMask = "****";

toml::array strings(const std::vector<std::string>& values) {
  toml::array out;
  for (const auto& v : values) out.push_back(v);
  return out;
}

// Masks the value after every "password=" (case-insensitive) up to the next separator: '&' in
// a URL query, whitespace in a conninfo (or the closing quote of a quoted value).
std::string maskPasswordParameters(std::string s) {
  std::string lower = s;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = lower.find("password", from);
    if (at == std::string::npos) return s;
    std::size_t i = at + 8;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || s[i] != '=' ||
        (at > 0 && std::isalnum(static_cast<unsigned char>(lower[at - 1])))) {
      from = at + 8;
      continue;
    }
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t end = i;
    if (end < s.size() && s[end] == '\'') {
      ++end;
      while (end < s.size() && s[end] != '\'') end += s[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, s.size());
    } else {
      while (end < s.size() && s[end] != '&' && s[end] != ' ' && s[end] != '\t') ++end;
    }
    s.replace(i, end - i, kMask);
    lower.replace(i, end - i, kMask);
    from = i + kMask.size();
  }
}

}  // namespace

std::string maskDatabaseUrl(std::string_view url) {
  std::string s(url);
  // scheme://user:password@host: the userinfo's password.
  if (const auto scheme = s.find("://"); scheme != std::string::npos) {
    const std::size_t auth = scheme + 3;
    const std::size_t end = s.find_first_of("/?#", auth);
    const std::size_t at = s.rfind('@', end == std::string::npos ? s.size() : end);
    if (at != std::string::npos && at > auth) {
      const std::size_t colon = s.find(':', auth);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, kMask);
    }
  }
  return maskPasswordParameters(std::move(s));
}

std::string renderEffectiveConfig(const Config& c) {
  toml::table root;
  root.insert("listen_addr", c.listen_addr);
  root.insert("base_url", c.base_url);
  if (c.tls) {
    toml::table tls;
    if (c.tls->auto_issue) {
      tls.insert("auto", true);
    } else {
      tls.insert("cert_file", c.tls->cert_file);
      tls.insert("key_file", c.tls->key_file);
    }
    tls.insert("auto_validity_secs", c.tls->auto_validity_secs);
    root.insert("tls", std::move(tls));
  }
  if (!c.listeners.empty()) {
    toml::array listeners;
    for (const ListenerConfig& l : c.listeners) {
      listeners.push_back(toml::table{{"addr", l.addr}, {"tls", l.tls}});
    }
    root.insert("listeners", std::move(listeners));
  }
  if (!c.admin.socket.empty()) {
    toml::table admin;
    admin.insert("socket", c.admin.socket);
    admin.insert("socket_mode", c.admin.socket_mode == 0660 ? "0660" : "0600");
    root.insert("admin", std::move(admin));
  }

  toml::table db;
  db.insert("url", maskDatabaseUrl(c.database.url));
  db.insert("pool_connections", c.database.pool_connections);
  db.insert("ro_connections", c.database.ro_connections);
  db.insert("require_tls", c.database.require_tls);
  db.insert("prune_interval_secs", c.database.prune_interval_secs);
  db.insert("prune_after_expiry_secs", c.database.prune_after_expiry_secs);
  root.insert("database", std::move(db));

  const CaConfig& a = c.ca;
  toml::table ca;
  ca.insert("key_file", a.key_file);
  ca.insert("cert_file", a.cert_file);
  ca.insert("key_type", a.key_type);
  ca.insert("hash_alg", a.hash_alg);
  ca.insert("validity_days", a.validity_days);
  ca.insert("ca_validity_days", a.ca_validity_days);
  ca.insert("common_name", a.common_name);
  ca.insert("organization", a.organization);
  // An unset crl_url means "<base_url>/crl": print what the server will use.
  ca.insert("crl_url", effectiveCrlUrl(a, c.base_url).value_or(""));
  ca.insert("crl_next_update_secs", a.crl_next_update_secs);
  ca.insert("crl_shards", a.crl_shards);
  ca.insert("crl_lookback_secs", a.crl_lookback_secs);
  if (a.ocsp_url) ca.insert("ocsp_url", *a.ocsp_url);
  ca.insert("ocsp_responder", a.ocsp_responder);
  ca.insert("ocsp_next_update_secs", a.ocsp_next_update_secs);
  root.insert("ca", std::move(ca));

  const ServerConfig& s = c.server;
  toml::table server;
  // Keys whose empty value means "not set" are left out then (the parser refuses "").
  server.insert("audit_log_file", s.audit_log_file);
  if (s.terms_of_service_url) server.insert("terms_of_service_url", *s.terms_of_service_url);
  if (s.website_url) server.insert("website_url", *s.website_url);
  server.insert("caa_identities", strings(s.caa_identities));
  server.insert("external_account_required", s.external_account_required);
  server.insert("order_expiry_secs", s.order_expiry_secs);
  server.insert("authz_expiry_secs", s.authz_expiry_secs);
  server.insert("max_body_bytes", static_cast<std::int64_t>(s.max_body_bytes));
  server.insert("http_validation_port", s.http_validation_port);
  server.insert("http_validation_allow_private_ips", s.http_validation_allow_private_ips);
  server.insert("validation_timeout_secs", s.validation_timeout_secs);
  server.insert("threads", s.threads);
  server.insert("nonce_capacity", static_cast<std::int64_t>(s.nonce_capacity));
  if (!s.metrics_listen_addr.empty()) server.insert("metrics_listen_addr", s.metrics_listen_addr);
  if (!s.dns_resolver_addr.empty()) server.insert("dns_resolver_addr", s.dns_resolver_addr);
  if (!s.dns_persist01_resolver_addr.empty())
    server.insert("dns_persist01_resolver_addr", s.dns_persist01_resolver_addr);
  if (!s.dns_trust_anchor_file.empty())
    server.insert("dns_trust_anchor_file", s.dns_trust_anchor_file);
  server.insert("dns_timeout_secs", s.dns_timeout_secs);
  server.insert("dns_persist_issuer_domains", strings(s.dns_persist_issuer_domains));
  server.insert("tls_alpn_validation_port", s.tls_alpn_validation_port);
  server.insert("default_profile", s.default_profile);
  server.insert("ari_retry_after_secs", s.ari_retry_after_secs);
  server.insert("shutdown_grace_secs", s.shutdown_grace_secs);
  server.insert("reuse_valid_authz", s.reuse_valid_authz);
  server.insert("reuse_min_remaining_secs", s.reuse_min_remaining_secs);
  server.insert("reuse_pending_authz", s.reuse_pending_authz);
  server.insert("allow_pre_authorization", s.allow_pre_authorization);
  server.insert("allow_subdomain_authorizations", s.allow_subdomain_authorizations);
  server.insert("trusted_proxies", strings(s.trusted_proxies));
  root.insert("server", std::move(server));

  // Absent means off; a table that says enabled = false keeps its limits for when it is on.
  if (c.rate_limits.enabled || !c.rate_limits.limits.empty()) {
    const RateLimitsConfig& r = c.rate_limits;
    toml::table rl;
    rl.insert("enabled", r.enabled);
    // Empty: the server's base URL + "/docs/rate-limits" (Server::start fills it in).
    rl.insert("help_url", r.help_url.empty() ? c.base_url + "/docs/rate-limits" : r.help_url);
    rl.insert("override_cache_secs", r.override_cache_secs);
    rl.insert("public_suffix_file", r.public_suffix_file);
    for (const auto& [name, limit] : r.limits) {
      toml::table t;
      t.insert("burst", limit.burst);
      t.insert("count", limit.count);
      t.insert("period_secs", limit.period_secs);
      rl.insert(name, std::move(t));
    }
    root.insert("rate_limits", std::move(rl));
  }

  toml::table star;
  star.insert("enabled", c.star.enabled);
  star.insert("min_lifetime_secs", c.star.min_lifetime_secs);
  star.insert("max_duration_secs", c.star.max_duration_secs);
  star.insert("allow_certificate_get", c.star.allow_certificate_get);
  star.insert("check_interval_secs", c.star.check_interval_secs);
  root.insert("star", std::move(star));

  toml::table log;
  log.insert("level", c.log.level);
  log.insert("request_level", c.log.request_level);
  log.insert("format", c.log.format);
  root.insert("log", std::move(log));

  toml::table profiles;
  for (const ProfileConfig& p : c.profiles) {
    toml::table t;
    t.insert("description", p.description);
    t.insert("validity_secs", p.validity_secs);
    t.insert("key_usages", strings(p.key_usages));
    t.insert("extended_key_usages", strings(p.extended_key_usages));
    t.insert("allowed_key_types", strings(p.allowed_key_types));
    t.insert("omit_common_name", p.omit_common_name);
    t.insert("omit_subject_key_id", p.omit_subject_key_id);
    t.insert("include_crl_url", p.include_crl_url);
    t.insert("include_ocsp_url", p.include_ocsp_url);
    t.insert("identifier_types", strings(p.identifier_types));
    t.insert("challenge_types", strings(p.challenge_types));
    t.insert("authz_lifetime_secs", p.authz_lifetime_secs);
    t.insert("order_lifetime_secs", p.order_lifetime_secs);
    t.insert("max_names", p.max_names);
    t.insert("allow_wildcards", p.allow_wildcards);
    t.insert("allowed_accounts", strings(p.allowed_accounts));
    if (p.renewal_point) t.insert("renewal_point", *p.renewal_point);
    t.insert("renewal_window", p.renewal_window);
    profiles.insert(p.name, std::move(t));
  }
  root.insert("profiles", std::move(profiles));

  std::ostringstream out;
  out << "# The effective configuration (akamu config check): every key with the value the\n"
         "# server uses, defaults filled in. Secrets are masked as \"****\".\n";
  out << root << "\n";
  return out.str();
}

}  // namespace akamu::config
