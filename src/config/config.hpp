#pragma once
// The one TOML file that configures a server, validated into plain structs. Everything the
// operator can get wrong is reported here, before anything opens a socket or a database, with the
// file, line and dotted key so the message alone is enough to fix the file.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace akamu::config {

struct CaConfig {
  std::string key_file;   // required; absolute after loading
  std::string cert_file;  // required; absolute after loading
  // ec:P-256|P-384|P-521, rsa:2048|3072|4096, ed25519, ml-dsa-44|65|87. Only the spelling is
  // checked here; the crypto layer decides whether this OpenSSL can do it.
  std::string key_type = "ec:P-256";
  std::string hash_alg = "SHA256";  // SHA256|SHA384|SHA512
  int validity_days = 90;           // leaf certificate validity, 1..3650
  int ca_validity_days = 3650;      // self-signed CA created on first start, 1..36500
  std::string common_name = "Akamu Root CA";
  std::string organization = "Akamu";
  // Revocation (docs/lifecycle.md). CRL shard n is served at crl_url + "/" + n; nullopt =
  // base_url + "/crl"; "" = no CRLs and no CRL Distribution Points in certificates.
  std::optional<std::string> crl_url;
  int crl_next_update_secs = 86400;        // nextUpdate - thisUpdate, 3600..864000 (10 days)
  int crl_shards = 1;                      // 1..128, fixed per certificate at issuance
  std::int64_t crl_lookback_secs = 86400;  // an expired revoked certificate stays listed, 0..
  std::optional<std::string> ocsp_url;     // unset = no OCSP responder and no AIA
  std::string ocsp_responder = "ca";       // ca|delegated: who signs OCSP responses
  int ocsp_next_update_secs = 86400;       // OCSP response validity, 3600..864000
  bool operator==(const CaConfig&) const = default;
};

// The URL that names CRL shards: crl_url, or base_url + "/crl" when it is not set; nullopt when
// CRLs are off (crl_url = "").
std::optional<std::string> effectiveCrlUrl(const CaConfig& ca, const std::string& base_url);

struct DatabaseConfig {
  // "sqlite:///abs/file.db", "sqlite::memory:", or "postgresql://..." (passed through as is).
  // Relative sqlite paths are rewritten to the absolute sqlite:///... form.
  // Also a PostgreSQL key=value conninfo ("host=... dbname=..."), passed through as is.
  std::string url;
  int pool_connections = 4;  // 1..256: SQLite lookup connections, PostgreSQL connections
  int ro_connections = 0;    // 0..256: separate read-only pool for the read-only handlers
  bool require_tls = false;  // PostgreSQL: refuse connections without TLS
  // Retention: every prune_interval_secs (0 = never), delete orders, authorizations and
  // challenges that expired more than prune_after_expiry_secs ago (certificates are kept).
  int prune_interval_secs = 3600;       // 0..604800
  int prune_after_expiry_secs = 86400;  // 0..31536000
  bool operator==(const DatabaseConfig&) const = default;
};

struct ServerConfig {
  std::string audit_log_file;                       // required (JSON lines); absolute after loading
  std::optional<std::string> terms_of_service_url;  // when set, newAccount requires agreement
  std::optional<std::string> website_url;
  std::vector<std::string> caa_identities;
  bool external_account_required = false;
  std::int64_t order_expiry_secs = 604800;  // 60..31536000
  std::int64_t authz_expiry_secs = 604800;  // 60..31536000
  std::size_t max_body_bytes = 65536;       // 1024..10485760
  int http_validation_port = 80;            // 1..65535
  bool http_validation_allow_private_ips = false;
  int validation_timeout_secs = 10;     // 1..120
  int threads = 0;                      // worker threads, 0 = one per core; 0..1024
  std::size_t nonce_capacity = 100000;  // redeemed nonces remembered, 1..10000000
  // host:port of the Prometheus /metrics (and /health/*) listener; empty = none. Port 0 lets
  // the OS choose (tests; Server::metricsPort() tells which).
  std::string metrics_listen_addr;
  // DNS for every validation lookup: "ip" or "ip:port" of a resolver to forward to;
  // empty = the nameservers of /etc/resolv.conf and the entries of /etc/hosts.
  std::string dns_resolver_addr;
  std::string dns_persist01_resolver_addr;  // empty = dns_resolver_addr
  std::string dns_trust_anchor_file;        // DNSSEC trust anchor; empty = no DNSSEC validation
  int dns_timeout_secs = 10;                // per DNS query, 1..60
  // Issuer domain names this CA answers to in dns-persist-01 records; empty = not offered.
  std::vector<std::string> dns_persist_issuer_domains;
  int tls_alpn_validation_port = 443;  // 1..65535
  // The profile of orders that name none; must be one of [profiles.*].
  std::string default_profile = "default";
  // RFC 9773 §4.3: the Retry-After of renewal-info answers; each answer varies it by ±20 % so
  // that clients polling together spread out.
  std::int64_t ari_retry_after_secs = 21600;  // 60..604800
  // On SIGTERM/SIGINT the listeners close at once; requests already being handled get this
  // long to finish before the process stops anyway. 0..300.
  int shutdown_grace_secs = 10;
  // newOrder reuses a valid authorization of the same account for an identifier (Boulder
  // does the same), when it is still valid for at least reuse_min_remaining_secs.
  bool reuse_valid_authz = true;
  std::int64_t reuse_min_remaining_secs = 86400;  // 0..31536000
  // Also reuse a pending one (off: one failed validation would invalidate every order that
  // shares it, and a client expects a fresh challenge for a fresh order).
  bool reuse_pending_authz = false;
  // RFC 8555 §7.4.1: the directory's newAuthz (pre-authorization).
  bool allow_pre_authorization = false;
  // RFC 9444: subdomainAuthAllowed authorizations (via newAuthz or ancestorDomain in newOrder).
  bool allow_subdomain_authorizations = false;
  // Peers (CIDRs, "10.0.0.0/8", "::1/128", or single addresses) whose X-Forwarded-For is
  // believed: the client address of a request is then its right-most untrusted entry.
  std::vector<std::string> trusted_proxies;
  bool operator==(const ServerConfig&) const = default;
};

// RFC 8555 §6.6 rate limits, Boulder's GCRA: `burst` requests at once, refilled at `count`
// per `period_secs`. PendingAuthorizationsPerAccount is a plain maximum: `count` pending
// authorizations, and a refused request is told to retry after `period_secs`.
struct RateLimitConfig {
  std::int64_t burst = 0;
  std::int64_t count = 0;
  std::int64_t period_secs = 0;
  bool operator==(const RateLimitConfig&) const = default;
};

// The limit names, as Boulder spells them.
inline constexpr std::string_view kRateLimitNames[] = {
    "NewRegistrationsPerIPAddress",
    "NewRegistrationsPerIPv6Range",
    "NewOrdersPerAccount",
    "CertificatesPerDomain",
    "CertificatesPerFQDNSet",
    "FailedAuthorizationsPerDomainPerAccount",
    "FailedAuthorizationsForPausingPerDomainPerAccount",
    "PendingAuthorizationsPerAccount",
};
bool isRateLimitName(std::string_view name);

struct RateLimitsConfig {
  // Off when the [rate_limits] table is absent (tests, acme-bench's spawned servers).
  bool enabled = false;
  // Link rel="help" of every rateLimited answer; empty: the server's base URL +
  // "/docs/rate-limits" (set when the server starts).
  std::string help_url;
  // How long a node keeps the per-account overrides it read (`akamu ratelimit override`).
  std::int64_t override_cache_secs = 5;  // 0..3600
  std::string public_suffix_file = "/usr/share/publicsuffix/public_suffix_list.dat";
  // The limits configured, by name; a limit not listed is not enforced.
  std::vector<std::pair<std::string, RateLimitConfig>> limits;
  const RateLimitConfig* find(std::string_view name) const {
    for (const auto& [n, l] : limits) {
      if (n == name) return &l;
    }
    return nullptr;
  }
  bool operator==(const RateLimitsConfig&) const = default;
};

// A certificate profile (draft-ietf-acme-profiles): what a certificate issued under it looks
// like, what an order for it must satisfy, and when its holder is told to renew (RFC 9773).
// Clients choose one by name in newOrder; orders that name none get server.default_profile.
struct ProfileConfig {
  std::string name;
  std::string description;
  // The certificate template.
  std::int64_t validity_secs = 0;  // 0 after loading: ca.validity_days
  // digitalSignature, keyEncipherment (put only into certificates for RSA keys), keyAgreement
  // (only for EC keys).
  std::vector<std::string> key_usages = {"digitalSignature", "keyEncipherment"};
  std::vector<std::string> extended_key_usages = {"serverAuth", "clientAuth"};
  // Key types a CSR may carry: "ec:P-256", "rsa" (any accepted size), "rsa:3072", "ed25519",
  // "ml-dsa-65", ...; empty = every key type this CA accepts.
  std::vector<std::string> allowed_key_types;
  bool omit_common_name = false;     // the subject stays empty, the SAN carries the names
  bool omit_subject_key_id = false;  // no SKI extension (as for short-lived certificates)
  bool include_crl_url = true;       // CRL Distribution Points, when CRLs are configured
  bool include_ocsp_url = true;      // AIA OCSP, when [ca] ocsp_url is set
  // The validation policy.
  std::vector<std::string> identifier_types = {"dns", "ip"};
  std::vector<std::string> challenge_types;  // empty = every type the server offers
  std::int64_t authz_lifetime_secs = 0;      // 0 after loading: server.authz_expiry_secs
  std::int64_t order_lifetime_secs = 0;      // 0 after loading: server.order_expiry_secs
  int max_names = 100;
  bool allow_wildcards = true;
  // Account ids that may use this profile; empty = every account.
  std::vector<std::string> allowed_accounts;
  // ARI: the window's centre as the fraction of the validity elapsed (unset: 2/3, or 1/2 for
  // lifetimes under 10 days) and its width as a fraction of the validity.
  std::optional<double> renewal_point;
  double renewal_window = 0.02;
  bool operator==(const ProfileConfig&) const = default;
};

// RFC 8739 (STAR, short-term automatically renewed certificates), opt-in. The directory's
// meta.auto-renewal advertises min_lifetime_secs, max_duration_secs and allow_certificate_get.
struct StarConfig {
  bool enabled = false;
  std::int64_t min_lifetime_secs = 86400;     // the shortest lifetime an order may ask for
  std::int64_t max_duration_secs = 31536000;  // end-date minus start-date, at most
  // Orders may ask for their star-certificate to be served to unauthenticated GETs.
  bool allow_certificate_get = false;
  // How often the reissue schedule looks for periods whose certificate is due; 0 disables it.
  std::int64_t check_interval_secs = 60;
  bool operator==(const StarConfig&) const = default;
};

struct LogConfig {
  std::string level = "info";  // trace|debug|info|warn|error|off
  // The level of the one line per request that succeeded (2xx/3xx). Client errors (4xx) are
  // logged at info and server errors at error whatever this says. "debug" keeps successful
  // requests out of an info-level log.
  std::string request_level = "debug";
  // "text": spdlog's human-readable lines; "json": one JSON object per line (time, level,
  // thread, msg) for log shippers.
  std::string format = "text";
  bool operator==(const LogConfig&) const = default;
};

// [tls]: the certificate HTTPS listeners present (docs/operations.md, "TLS and listeners").
// Either cert_file + key_file (PEM, re-read by Server::reloadTls / SIGHUP) or auto_issue: the
// CA issues its own server certificate for the host of base_url at start and renews it at two
// thirds of its lifetime.
struct TlsConfig {
  std::string cert_file;    // PEM, leaf first then intermediates; absolute after loading
  std::string key_file;     // PEM private key; must not be group or world readable
  bool auto_issue = false;  // `auto = true`
  std::int64_t auto_validity_secs = 604800;  // auto mode's certificate lifetime, 3600..31536000
  bool operator==(const TlsConfig&) const = default;
};

// One more listener besides listen_addr ([[listeners]]): "host:port", "[v6]:port" or
// "unix:/absolute/path" (a Unix stream socket, mode 0660). tls needs a [tls] table.
struct ListenerConfig {
  std::string addr;
  bool tls = false;
  bool operator==(const ListenerConfig&) const = default;
};

// The operator's admin API ([admin]), served by `akamu serve` on a Unix socket; off when
// `socket` is empty. The socket file's permissions are the authorization: only its owner
// (socket_mode "0600", the default) or also its group ("0660") may connect.
struct AdminConfig {
  std::string socket;  // absolute after loading
  unsigned socket_mode = 0600;
  bool operator==(const AdminConfig&) const = default;
};

struct Config {
  std::string listen_addr = "127.0.0.1:8080";  // host:port or [v6]:port; port 0 allowed (tests)
  // When set, listen_addr serves HTTPS with it; [[listeners]] choose per listener.
  std::optional<TlsConfig> tls;
  std::vector<ListenerConfig> listeners;
  AdminConfig admin;
  std::string base_url;  // required, http(s)://, no query/fragment, trailing slash stripped
  DatabaseConfig database;
  CaConfig ca;
  ServerConfig server;
  StarConfig star;
  RateLimitsConfig rate_limits;
  LogConfig log;
  // Sorted by name. Never empty after loading: without [profiles.*] tables there is one,
  // "default", from the [ca] and [server] settings.
  std::vector<ProfileConfig> profiles;
  std::string config_dir;  // directory of the file it was loaded from ("" for strings)
  bool operator==(const Config&) const = default;
};

// Without profiles, the implicit "default" one; then every profile's unset (zero) lifetimes
// from [ca] and [server], and the list sorted by name. parseConfig calls it; so does the
// server for configurations built in code.
void applyProfileDefaults(Config& config);

// The profile called `name`, or nullptr.
const ProfileConfig* findProfile(const Config& config, std::string_view name);

// Parses TOML text. `source_name` prefixes errors ("akamu.toml:12: unknown key 'server.foo'").
// `base_dir` resolves relative paths; when empty they are resolved against the current directory.
// All problems found are reported together, one per line of the detail.
core::Result<Config> parseConfig(std::string_view toml_text, std::string_view source_name,
                                 const std::string& base_dir);

// Reads the file, parses it with its own directory as base_dir, then applies environment
// overrides: AKAMU_LISTEN (when set and non-empty) replaces listen_addr, validated the same way.
// The lookup is injected so tests need not touch the process environment.
core::Result<Config> loadConfigFile(
    const std::string& path, const std::function<std::optional<std::string>(const char*)>& getenv);

struct InitOptions {
  std::string data_dir = "./akamu-data";
  std::string listen_addr = "127.0.0.1:8080";
  std::string base_url;  // default "http://" + listen_addr
  int http_validation_port = 80;
  bool allow_private_ips = false;
  bool tls = false;  // [tls] auto = true (base_url then defaults to https://)
  // When set, an active [admin] table with this socket, mode 0660 (the server's group may use
  // akamuctl); empty: the table is written commented out.
  std::string admin_socket;
};

// A commented, complete TOML config that parseConfig accepts: every key present with its default
// and a comment saying what it does (optional ones commented out). Paths point into data_dir
// (ca.key, ca.pem, akamu.db via a sqlite:// URL, audit.log); a relative data_dir is therefore
// relative to the directory the config file is written to.
std::string renderInitConfig(const InitOptions& options);

// `s` as a quoted TOML basic string: quotes, backslashes and control characters escaped, so
// that paths and database URLs from the command line read back unchanged.
std::string tomlBasicString(std::string_view s);

// The path of a "unix:/path" listener address, or nullopt when `addr` is not one.
std::optional<std::string> unixSocketPath(std::string_view addr);

// Splits "host:port" / "[v6]:port" into host (without brackets) and port; nullopt if malformed.
std::optional<std::pair<std::string, std::uint16_t>> splitListenAddr(std::string_view addr);

}  // namespace akamu::config
