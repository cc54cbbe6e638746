// `akamu init`: the config a new operator starts from. It doubles as the reference of every key,
// so each one is present with its default and a comment; tests parse it back to keep it honest.
#include <cstdio>
#include <string>

#include "config/config.hpp"

namespace akamu::config {
namespace {

std::string join(const std::string& dir, std::string_view file) {
  if (dir.empty()) return std::string(file);
  if (dir.back() == '/') return dir + std::string(file);
  return dir + "/" + std::string(file);
}

}  // namespace

namespace {

// The [admin] table: active for a packaged service (--admin-socket), else a commented example.
std::string adminTable(const InitOptions& options, const std::string& dir) {
  if (!options.admin_socket.empty()) {
    return "[admin]\nsocket = " + tomlBasicString(options.admin_socket) +
           "\nsocket_mode = \"0660\"\n";
  }
  return "# [admin]\n# socket = " + tomlBasicString(join(dir, "admin.sock")) +
         "\n# socket_mode = \"0600\"\n";
}

}  // namespace

std::string tomlBasicString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(u));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string renderInitConfig(const InitOptions& options) {
  const std::string base_url = options.base_url.empty()
                                   ? (options.tls ? "https://" : "http://") + options.listen_addr
                                   : options.base_url;
  const std::string& dir = options.data_dir;
  // "sqlite://" + "/abs/x.db" gives the absolute sqlite:///abs/x.db form; a relative data_dir
  // gives sqlite://rel/x.db, which the loader resolves against the config file's directory.
  const std::string db_url = "sqlite://" + join(dir, "akamu.db");

  std::string out;
  out.reserve(6000);
  out +=
      R"(# Akāmu configuration, written by `akamu init`.
# Every key is shown with its default value. Unknown keys are an error.
# Relative paths are resolved against the directory of this file.
# The environment variable AKAMU_LISTEN, when set, replaces listen_addr.

# Address the ACME HTTP server listens on: host:port or [ipv6]:port.
listen_addr = )" +
      tomlBasicString(options.listen_addr) +
      R"(

# Public URL clients use to reach this server (http:// or https://, no trailing slash).
# Every URL in the ACME directory is built from it, so it must match what clients see.
base_url = )" +
      tomlBasicString(base_url) +
      R"(

)" +
      std::string(
          options.tls
              ? R"(# HTTPS on listen_addr (RFC 8555 §6.1). auto = true: the CA issues the server certificate for
# the host of base_url at start and renews it at two thirds of its lifetime (kept in memory).
# Or cert_file + key_file (PEM; the key must not be group/world readable), re-read on SIGHUP.
[tls]
auto = true
# Lifetime of the auto-issued server certificate in seconds (3600..31536000).
auto_validity_secs = 604800
# cert_file = "/etc/akamu/tls/fullchain.pem"
# key_file = "/etc/akamu/tls/privkey.pem"
)"
              : R"(# HTTPS on listen_addr (RFC 8555 §6.1; `akamu init --tls` writes auto = true). auto = true:
# the CA issues the server certificate for the host of base_url at start and renews it at two
# thirds of its lifetime. Or cert_file + key_file (PEM; key not group/world readable),
# re-read on SIGHUP.
# [tls]
# auto = true
# auto_validity_secs = 604800
# cert_file = "/etc/akamu/tls/fullchain.pem"
# key_file = "/etc/akamu/tls/privkey.pem"
)") +
      R"(
# More listeners (all serve the same ACME API; URLs always come from base_url):
# "host:port", "[ipv6]:port" or "unix:/path" (socket file mode 0660), tls = true|false.
# [[listeners]]
# addr = "127.0.0.1:8081"
# tls = false

# The operator's admin API for akamuctl (off while socket is unset). A Unix socket whose file
# permissions are the authorization: socket_mode "0600" (owner only) or "0660" (and its group).
)" + adminTable(options, dir) +
      R"(

[database]
# sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite::memory: (lost on exit),
# or postgresql://user@host/dbname.
url = )" +
      tomlBasicString(db_url) +
      R"(
# SQLite file: connections serving lookups (writes go through one batching writer thread).
# PostgreSQL: the connection pool (1..256).
pool_connections = 4
# A separate pool of read-only connections for order, authorization and certificate
# lookups (0..256; 0 = no split).
ro_connections = 0
# Expired orders, authorizations and challenges are deleted this often (seconds; 0 = never),
# once they have been expired for prune_after_expiry_secs. Certificates are always kept.
prune_interval_secs = 3600
prune_after_expiry_secs = 86400

[ca]
# CA private key and certificate (PEM). Both are created on first start if absent.
key_file = )" +
      tomlBasicString(join(dir, "ca.key")) +
      R"(
cert_file = )" +
      tomlBasicString(join(dir, "ca.pem")) +
      R"(
# Key type of a newly created CA: ec:P-256, ec:P-384, ec:P-521, rsa:2048, rsa:3072, rsa:4096,
# ed25519, ml-dsa-44, ml-dsa-65, ml-dsa-87 (ML-DSA needs OpenSSL >= 3.5).
key_type = "ec:P-256"
# Digest used to sign certificates: SHA256, SHA384 or SHA512 (no effect for ed25519 and ML-DSA).
hash_alg = "SHA256"
# Validity of issued certificates, in days (1..3650).
validity_days = 90
# Validity of the self-signed CA certificate created on first start, in days (1..36500).
ca_validity_days = 3650
# Subject of the self-signed CA certificate created on first start.
common_name = "Akamu Root CA"
organization = "Akamu"
# CRLs (RFC 5280): certificate shard N is listed at <crl_url>/N (N from 0, always written),
# which the server serves (and names in each certificate's CRL Distribution Points).
# Default: <base_url>/crl; "" turns CRLs off.
# crl_url = )" +
      tomlBasicString(base_url + "/crl") +
      R"(
# Seconds from a CRL's thisUpdate to its nextUpdate (3600..864000); it is regenerated at half
# of that, and within seconds of a revocation.
crl_next_update_secs = 86400
# Number of CRL shards (1..128); a certificate's shard is fixed at issuance (serial mod shards).
crl_shards = 1
# Seconds an expired revoked certificate stays on its CRL (0..31536000).
crl_lookback_secs = 86400
# OCSP (RFC 6960/5019) is off unless this is set: the URL goes into each certificate's AIA and
# the server answers GET and POST at its path.
# ocsp_url = )" +
      tomlBasicString(base_url + "/ocsp") +
      R"(
# Who signs OCSP responses: "ca" (the CA key) or "delegated" (a responder certificate the CA
# issues itself at every start, key in memory only).
ocsp_responder = "ca"
# Seconds from an OCSP response's thisUpdate to its nextUpdate (3600..864000).
ocsp_next_update_secs = 86400

[server]
# Audit log of security-relevant events, one JSON object per line.
audit_log_file = )" +
      tomlBasicString(join(dir, "audit.log")) +
      R"(
# Terms of service; when set, newAccount requires termsOfServiceAgreed.
# terms_of_service_url = "https://example.com/acme/terms"
# Informational website shown in the directory metadata.
# website_url = "https://example.com/acme"
# CAA issuer domain names that identify this CA; shown in the directory metadata.
caa_identities = []
# Require External Account Binding on newAccount.
external_account_required = false
# Lifetime of a pending order and of an authorization, in seconds (60..31536000).
order_expiry_secs = 604800
authz_expiry_secs = 604800
# Largest accepted request body, in bytes (1024..10485760).
max_body_bytes = 65536
# Port that http-01 validation connects to (1..65535); 80 except in tests.
http_validation_port = )" +
      std::to_string(options.http_validation_port) + R"(
# Allow http-01 validation to connect to private and loopback addresses. Off by default so
# that the CA cannot be used to probe the network it sits in (SSRF); turn it on when the
# machines you issue for live on private addresses.
http_validation_allow_private_ips = )" +
      (options.allow_private_ips ? "true" : "false") + R"(
# Timeout of one challenge validation attempt, in seconds (1..120).
validation_timeout_secs = 10
# Worker threads; 0 means one per CPU core (0..1024).
threads = 0
# Redeemed nonces remembered (issuing one costs no memory), 1..10000000.
nonce_capacity = 100000
# DNS resolver for every validation lookup (http-01 and tls-alpn-01 addresses, dns-01,
# dns-persist-01, CAA): "ip" or "ip:port". Empty means the system's nameservers from
# /etc/resolv.conf and the entries of /etc/hosts.
dns_resolver_addr = ""
# A separate resolver for dns-persist-01 lookups; empty means dns_resolver_addr.
dns_persist01_resolver_addr = ""
# DNSSEC trust anchor file (e.g. /usr/share/dns/root.key); empty disables DNSSEC validation.
# dns_trust_anchor_file = "/usr/share/dns/root.key"
# Timeout of one DNS query, in seconds (1..60).
dns_timeout_secs = 10
# Issuer domain names that dns-persist-01 records must name; empty means dns-persist-01 is
# not offered.
dns_persist_issuer_domains = []
# Port that tls-alpn-01 validation connects to (1..65535); 443 except in tests.
tls_alpn_validation_port = 443
# The profile of orders that name none (one of the [profiles.*] below).
default_profile = "default"
# Retry-After of renewal-info (ARI, RFC 9773) answers, 60..604800; each answer varies it by
# +-20 % so that clients polling together spread out.
ari_retry_after_secs = 21600
# On SIGTERM the listeners close at once and requests being handled get this many seconds
# (0..300) to finish.
shutdown_grace_secs = 10
# Authorization reuse: a new order uses a valid authorization the account already holds for an
# identifier (still valid for at least reuse_min_remaining_secs) instead of a new one; with
# reuse_pending_authz also a pending one. docs/lifecycle.md explains it.
reuse_valid_authz = true
reuse_min_remaining_secs = 86400
reuse_pending_authz = false
# Pre-authorization (RFC 8555 section 7.4.1): newAuthz in the directory.
allow_pre_authorization = false
# Subdomain authorizations (RFC 9444): subdomainAuthAllowed and ancestorDomain.
allow_subdomain_authorizations = false
# Proxies (CIDRs) whose X-Forwarded-For names the client for the registration rate limits,
# e.g. ["127.0.0.1/32"] behind a local nginx; empty: the TCP peer is the client.
trusted_proxies = []

# Rate limits (RFC 8555 §6.6), with Boulder's names and algorithm (GCRA: `burst` at once,
# refilled at `count` per `period_secs`). These defaults are Let's Encrypt's, scaled up for a
# private CA; docs/operations.md ("Rate limits") says where each is checked and spent, the
# exemptions (renewals, ARI replacements), pauses, and `akamu ratelimit` for per-account
# overrides. A limit left out is not enforced; `enabled = false` turns them all off.
[rate_limits]
enabled = true
# Link rel="help" of every rateLimited answer (default: <base_url>/docs/rate-limits).
# help_url = "https://ca.example.com/docs/rate-limits"
# How long (seconds) a server keeps the overrides it read before it reads them again.
override_cache_secs = 5

[rate_limits.NewRegistrationsPerIPAddress]
burst = 100
count = 100
period_secs = 10800
[rate_limits.NewRegistrationsPerIPv6Range]
burst = 5000
count = 5000
period_secs = 10800
[rate_limits.NewOrdersPerAccount]
burst = 3000
count = 3000
period_secs = 10800
[rate_limits.CertificatesPerDomain]
burst = 500
count = 500
period_secs = 604800
[rate_limits.CertificatesPerFQDNSet]
burst = 50
count = 50
period_secs = 604800
[rate_limits.FailedAuthorizationsPerDomainPerAccount]
burst = 50
count = 50
period_secs = 3600
[rate_limits.FailedAuthorizationsForPausingPerDomainPerAccount]
burst = 1000
count = 1000
period_secs = 86400
# A plain maximum: `count` pending authorizations per account; Retry-After is period_secs.
[rate_limits.PendingAuthorizationsPerAccount]
count = 1000
period_secs = 60

# Short-term automatically renewed certificates (STAR, RFC 8739), opt-in: an order with an
# "auto-renewal" object gets a new certificate every lifetime from one CSR until its end-date,
# served at its star-certificate URL. docs/lifecycle.md explains the periods.
[star]
enabled = false
# The shortest lifetime (seconds) an order may ask for (meta.auto-renewal min-lifetime).
min_lifetime_secs = 86400
# The longest end-date minus start-date (seconds) an order may ask for (max-duration).
max_duration_secs = 31536000
# Whether orders may ask for unauthenticated GET of their star-certificate.
allow_certificate_get = false
# How often (seconds) the reissue schedule looks for due periods; 0 disables it.
check_interval_secs = 60

# Certificate profiles (draft-ietf-acme-profiles): clients choose one by name in newOrder
# (certbot --preferred-profile, lego --profile); the directory lists them in meta.profiles.
# Every key is optional; docs/lifecycle.md explains each one.
[profiles.default]
description = "Server certificates for the [ca] validity, with revocation URLs"
# validity_secs = 7776000              # default: [ca] validity_days
# key_usages = ["digitalSignature", "keyEncipherment"]   # keyEncipherment only for RSA keys
# extended_key_usages = ["serverAuth", "clientAuth"]
# allowed_key_types = []              # e.g. ["ec:P-256", "rsa"]; empty = any accepted key
# omit_common_name = false
# omit_subject_key_id = false
# include_crl_url = true
# include_ocsp_url = true
# identifier_types = ["dns", "ip"]
# challenge_types = []                # empty = every type the server offers
# authz_lifetime_secs = 604800        # default: [server] authz_expiry_secs
# order_lifetime_secs = 604800        # default: [server] order_expiry_secs
# max_names = 100
# allow_wildcards = true
# allowed_accounts = []               # account ids; empty = every account
# renewal_point = 0.6667              # ARI window centre, fraction of the validity elapsed
# renewal_window = 0.02               # ARI window width, fraction of the validity

[profiles.shortlived]
description = "Seven-day certificates without revocation URLs; renew at half the lifetime"
validity_secs = 604800
omit_subject_key_id = true
include_crl_url = false
include_ocsp_url = false
renewal_point = 0.5

[log]
# trace, debug, info, warn, error or off.
level = "info"
# Level of the one line per successful request (4xx are logged at info, 5xx at error).
request_level = "debug"
# "text" for people, "json" (one object per line: time, level, thread, msg) for log shippers.
format = "text"
)";
  return out;
}

}  // namespace akamu::config
