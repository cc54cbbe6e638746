#include "config/config.hpp"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>

#include "core/database_url.hpp"

namespace akamu::config {
namespace {

namespace fs = std::filesystem;

// A config file is a few kilobytes; refusing huge files keeps a wrong -c argument (a disk
// image, /dev/zero) from eating memory before the parser complains.
constexpr std::uintmax_t kMaxConfigBytes = 1024 * 1024;

constexpr std::string_view kKeyTypes[] = {"ec:P-256",  "ec:P-384", "ec:P-521", "rsa:2048",
                                          "rsa:3072",  "rsa:4096", "ed25519",  "ml-dsa-44",
                                          "ml-dsa-65", "ml-dsa-87"};
constexpr std::string_view kHashAlgs[] = {"SHA256", "SHA384", "SHA512"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
constexpr std::string_view kLogFormats[] = {"text", "json"};

constexpr std::string_view kSqliteMemory = "sqlite::memory:";
constexpr std::string_view kSqlitePrefix = "sqlite://";

template <std::size_t N>
bool contains(const std::string_view (&set)[N], std::string_view v) {
  return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

template <std::size_t N>
std::string joinSet(const std::string_view (&set)[N]) {
  std::string out;
  for (std::string_view s : set) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string_view typeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

bool hasControlOrSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

bool isHostnameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

std::optional<std::uint16_t> parsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

bool validIpv6(const std::string& s) {
  in6_addr addr{};
  return inet_pton(AF_INET6, s.c_str(), &addr) == 1;
}

// "192.0.2.0/24", "2001:db8::/32", or a single address.
bool validCidr(const std::string& text) {
  const auto slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  in_addr v4{};
  const bool is_v4 = inet_pton(AF_INET, addr.c_str(), &v4) == 1;
  if (!is_v4 && !validIpv6(addr)) return false;
  if (slash == std::string::npos) return true;
  const std::string bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 ||
      !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return std::stoi(bits) <= (is_v4 ? 32 : 128);
}

// A DNS name or a dotted IPv4 address. Names made only of digits and dots must be real IPv4
// addresses, so a typo like "127.0.0.256" is caught here rather than at DNS resolution time.
bool validHost(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  if (!std::all_of(host.begin(), host.end(), isHostnameChar)) return false;
  if (host.front() == '.' || host.front() == '-' || host.find("..") != std::string::npos) {
    return false;
  }
  bool numeric = std::all_of(host.begin(), host.end(),
                             [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (numeric) {
    in_addr addr{};
    return inet_pton(AF_INET, host.c_str(), &addr) == 1;
  }
  return true;
}

// Checks "scheme://authority[/path...]" for http/https with a usable authority; returns an
// error message or nullopt. Used for base_url and the informational directory URLs.
std::optional<std::string> checkHttpUrl(std::string_view url) {
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
  } else {
    return std::string("must start with http:// or https://");
  }
  if (hasControlOrSpace(url)) return std::string("must not contain spaces or control characters");
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return std::string("must not contain user information ('@')");
  }
  std::string host;
  std::optional<std::string_view> port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("has an unterminated IPv6 literal");
    host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::string("has junk after the IPv6 literal");
      port = after.substr(1);
    }
    if (!validIpv6(host)) return std::string("has an invalid IPv6 literal");
  } else {
    auto colon = authority.find(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (!validHost(host)) return std::string("has an invalid host name");
  }
  if (port) {
    auto p = parsePort(*port);
    if (!p || *p == 0) return std::string("has an invalid port (1..65535)");
  }
  return std::nullopt;
}

std::string resolvePath(const fs::path& base, const std::string& p) {
  fs::path path(p);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (base / path).lexically_normal().string();
}

// Collects every problem in the file so the operator fixes them in one pass, not one per run.
class Diagnostics {
 public:
  explicit Diagnostics(std::string_view source) : source_(source) {}

  void at(const toml::source_region& where, std::string message) {
    if (where.begin.line == 0) {
      add(std::move(message));
      return;
    }
    errors_.push_back(
        {where.begin.line, source_ + ":" + std::to_string(where.begin.line) + ": " + message});
  }
  void add(std::string message) { errors_.push_back({kNoLine, source_ + ": " + message}); }

  bool empty() const { return errors_.empty(); }

  // In file order (toml++ iterates tables sorted by key), then the ones without a line.
  std::string joined() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& e : errors_) {
      if (!out.empty()) out += '\n';
      out += e.second;
    }
    return out;
  }

 private:
  static constexpr toml::source_index kNoLine = std::numeric_limits<toml::source_index>::max();

  std::string source_;
  std::vector<std::pair<toml::source_index, std::string>> errors_;
};

// Typed access to one TOML table that reports unknown keys, wrong types, missing required keys
// and out-of-range values with their dotted path. A missing table behaves like an empty one.
class Section {
 public:
  Section(Diagnostics& diag, const toml::table* table, std::string prefix)
      : diag_(diag), table_(table), prefix_(std::move(prefix)) {}

  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  void rejectUnknown(std::initializer_list<std::string_view> known) {
    if (table_ == nullptr) return;
    for (auto&& [key, node] : *table_) {
      if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
      std::string what = node.is_table() ? "unknown table" : "unknown key";
      diag_.at(key.source(), what + " '" + path(key.str()) + "'");
    }
  }

  // Returns the table under `key`, or nullptr (reporting a type error if it is something else).
  const toml::table* table(std::string_view key) {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    if (const auto* t = node->as_table()) return t;
    typeError(*node, key, "table");
    return nullptr;
  }

  const toml::node* find(std::string_view key) const {
    return table_ == nullptr ? nullptr : table_->get(key);
  }

  void require(std::string_view key) {
    if (find(key) != nullptr) return;
    std::string message = "missing required key '" + path(key) + "'";
    if (!prefix_.empty() && table_ == nullptr)
      message += " (the [" + prefix_ + "] table is missing)";
    diag_.add(std::move(message));
  }

  // Each reader leaves `out` untouched when the key is absent or invalid and returns the node
  // when a value of the right type was read, so callers can add value checks with a line number.
  const toml::node* string(std::string_view key, std::string& out) {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    const auto* v = node->as_string();
    if (v == nullptr) {
      typeError(*node, key, "string");
      return nullptr;
    }
    out = v->get();
    return node;
  }

  const toml::node* nonEmptyString(std::string_view key, std::string& out) {
    std::string value;
    const toml::node* node = string(key, value);
    if (node == nullptr) return nullptr;
    if (value.empty()) {
      diag_.at(node->source(), "'" + path(key) + "' must not be empty");
      return nullptr;
    }
    out = std::move(value);
    return node;
  }

  template <std::size_t N>
  void oneOf(std::string_view key, std::string& out, const std::string_view (&accepted)[N]) {
    std::string value;
    const toml::node* node = string(key, value);
    if (node == nullptr) return;
    if (!contains(accepted, value)) {
      invalid(*node, key, value, "accepted: " + joinSet(accepted));
      return;
    }
    out = std::move(value);
  }

  void boolean(std::string_view key, bool& out) {
    const toml::node* node = find(key);
    if (node == nullptr) return;
    if (const auto* v = node->as_boolean()) {
      out = v->get();
    } else {
      typeError(*node, key, "boolean");
    }
  }

  template <class T>
  void integer(std::string_view key, T& out, std::int64_t lo, std::int64_t hi) {
    const toml::node* node = find(key);
    if (node == nullptr) return;
    const auto* v = node->as_integer();
    if (v == nullptr) {
      typeError(*node, key, "integer");
      return;
    }
    std::int64_t value = v->get();
    if (value < lo || value > hi) {
      diag_.at(node->source(), "'" + path(key) + "' = " + std::to_string(value) +
                                   " is out of range (accepted: " + std::to_string(lo) + ".." +
                                   std::to_string(hi) + ")");
      return;
    }
    out = static_cast<T>(value);
  }

  void stringArray(std::string_view key, std::vector<std::string>& out) {
    const toml::node* node = find(key);
    if (node == nullptr) return;
    const auto* arr = node->as_array();
    if (arr == nullptr) {
      typeError(*node, key, "array of strings");
      return;
    }
    std::vector<std::string> values;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& element = *arr->get(i);
      std::string element_path = path(key) + "[" + std::to_string(i) + "]";
      const auto* s = element.as_string();
      if (s == nullptr) {
        diag_.at(element.source(), "'" + element_path + "' must be a string, not " +
                                       std::string(typeName(element.type())));
        return;
      }
      values.push_back(s->get());
    }
    out = std::move(values);
  }

  // A problem of the table as a whole (keys that conflict), on the table's line.
  void error(std::string message) {
    if (table_ != nullptr) {
      diag_.at(table_->source(), std::move(message));
    } else {
      diag_.add(std::move(message));
    }
  }

  void invalid(const toml::node& node, std::string_view key, std::string_view value,
               const std::string& why) {
    diag_.at(node.source(),
             "invalid value '" + std::string(value) + "' for '" + path(key) + "' (" + why + ")");
  }

 private:
  void typeError(const toml::node& node, std::string_view key, std::string_view expected) {
    diag_.at(node.source(),
             "'" + path(key) + "' must be " +
                 (expected.front() == 'a' || expected.front() == 'i' ? "an " : "a ") +
                 std::string(expected) + ", not " + std::string(typeName(node.type())));
  }

  Diagnostics& diag_;
  const toml::table* table_;
  std::string prefix_;
};

constexpr std::string_view kListenHelp = "expected host:port or [ipv6]:port with port 0..65535";

void readUrl(Section& s, std::string_view key, std::optional<std::string>& out) {
  std::string value;
  const toml::node* node = s.string(key, value);
  if (node == nullptr) return;
  if (auto err = checkHttpUrl(value)) {
    s.invalid(*node, key, value, "an http:// or https:// URL " + *err);
    return;
  }
  out = std::move(value);
}

void readBaseUrl(Section& s, std::string& out) {
  std::string value;
  const toml::node* node = s.string("base_url", value);
  if (node == nullptr) return;
  if (auto err = checkHttpUrl(value)) {
    s.invalid(*node, "base_url", value, "an http:// or https:// URL " + *err);
    return;
  }
  if (value.find_first_of("?#") != std::string::npos) {
    s.invalid(*node, "base_url", value, "must not have a query or fragment");
    return;
  }
  std::string stripped = value;
  if (stripped.back() == '/') stripped.pop_back();
  if (stripped.back() == '/') {
    s.invalid(*node, "base_url", value, "must not end with '/'");
    return;
  }
  out = std::move(stripped);
}

void readDatabaseUrl(Section& s, const fs::path& base, std::string& out) {
  std::string value;
  const toml::node* node = s.string("url", value);
  if (node == nullptr) return;
  const std::string accepted =
      "accepted: sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite::memory:, "
      "postgresql://..., or a PostgreSQL key=value conninfo";
  if (value == kSqliteMemory) {
    out = std::move(value);
    return;
  }
  if (core::isPostgresUrl(value)) {
    // The PostgreSQL store parses its own connection URI; only the scheme is ours to check.
    out = std::move(value);
    return;
  }
  if (value.rfind(kSqlitePrefix, 0) != 0) {
    s.invalid(*node, "url", value, accepted);
    return;
  }
  std::string file = value.substr(kSqlitePrefix.size());
  if (file.empty() || file.back() == '/' || file.find_first_of("?#") != std::string::npos ||
      file.find('\0') != std::string::npos) {
    s.invalid(*node, "url", value, accepted);
    return;
  }
  out = std::string(kSqlitePrefix) + resolvePath(base, file);
}

void readListen(Section& s, std::string& out, const char* key = "listen_addr") {
  std::string value;
  const toml::node* node = s.string(key, value);
  if (node == nullptr) return;
  if (!splitListenAddr(value)) {
    s.invalid(*node, key, value, std::string(kListenHelp));
    return;
  }
  out = std::move(value);
}

// "192.0.2.53", "192.0.2.53:5353", "::1" or "[::1]:5353": where to send DNS queries.
void readResolverAddr(Section& s, std::string_view key, std::string& out) {
  std::string value;
  const toml::node* node = s.string(key, value);
  if (node == nullptr || value.empty()) return;
  in_addr v4{};
  in6_addr v6{};
  bool ok = inet_pton(AF_INET, value.c_str(), &v4) == 1 || validIpv6(value);
  if (!ok) {
    auto colon = value.rfind(':');
    if (colon != std::string::npos && parsePort(std::string_view(value).substr(colon + 1))) {
      std::string host = value.substr(0, colon);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        ok = inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1;
      } else {
        ok = inet_pton(AF_INET, host.c_str(), &v4) == 1;
      }
    }
  }
  if (!ok) {
    s.invalid(*node, key, value, "an IP address with an optional port, e.g. \"127.0.0.1:53\"");
    return;
  }
  out = std::move(value);
}

void readPath(Section& s, std::string_view key, const fs::path& base, std::string& out) {
  std::string value;
  if (s.nonEmptyString(key, value) == nullptr) return;
  out = resolvePath(base, value);
}

constexpr std::string_view kOcspResponders[] = {"ca", "delegated"};

// The path of an http(s) URL checkHttpUrl accepted ("" when it has none).
std::string_view urlPath(std::string_view url) {
  std::string_view rest = url.substr(url.find("://") + 3);
  const auto slash = rest.find('/');
  return slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
}

// A revocation URL: http(s), no query or fragment, no trailing '/', and a path of its own
// that is not under /acme (the server answers that path whatever the host, so it must not
// shadow an ACME resource). `allow_empty`: "" is accepted (crl_url = "" turns CRLs off).
void readRevocationUrl(Section& s, std::string_view key, bool allow_empty,
                       std::optional<std::string>& out) {
  std::string value;
  const toml::node* node = s.string(key, value);
  if (node == nullptr) return;
  if (value.empty() && allow_empty) {
    out = std::move(value);
    return;
  }
  if (auto err = checkHttpUrl(value)) {
    s.invalid(*node, key, value, "an http:// or https:// URL " + *err);
    return;
  }
  if (value.find_first_of("?#") != std::string::npos || value.back() == '/') {
    s.invalid(*node, key, value, "must not have a query or fragment or end with '/'");
    return;
  }
  const std::string_view path = urlPath(value);
  if (path.empty() || path == "/acme" || path.starts_with("/acme/")) {
    s.invalid(*node, key, value, "needs a path of its own, not under /acme (e.g. \"/ocsp\")");
    return;
  }
  out = std::move(value);
}

void readCa(Section& s, const fs::path& base, CaConfig& ca) {
  s.rejectUnknown({"key_file", "cert_file", "key_type", "hash_alg", "validity_days",
                   "ca_validity_days", "common_name", "organization", "crl_url",
                   "crl_next_update_secs", "crl_shards", "crl_lookback_secs", "ocsp_url",
                   "ocsp_responder", "ocsp_next_update_secs"});
  readRevocationUrl(s, "crl_url", true, ca.crl_url);
  // BR 4.9.7: nextUpdate at most 10 days after thisUpdate.
  s.integer("crl_next_update_secs", ca.crl_next_update_secs, 3600, 864000);
  s.integer("crl_shards", ca.crl_shards, 1, 128);
  s.integer("crl_lookback_secs", ca.crl_lookback_secs, 0, 31536000);
  readRevocationUrl(s, "ocsp_url", false, ca.ocsp_url);
  s.oneOf("ocsp_responder", ca.ocsp_responder, kOcspResponders);
  s.integer("ocsp_next_update_secs", ca.ocsp_next_update_secs, 3600, 864000);
  if (ca.crl_url && ca.ocsp_url && !ca.crl_url->empty()) {
    const std::string crl_path(urlPath(*ca.crl_url));
    const std::string ocsp_path(urlPath(*ca.ocsp_url));
    // One path must not be inside the other: requests are told apart by path alone.
    if (crl_path == ocsp_path || crl_path.starts_with(ocsp_path + "/") ||
        ocsp_path.starts_with(crl_path + "/")) {
      s.invalid(*s.find("ocsp_url"), "ocsp_url", *ca.ocsp_url,
                "a path apart from crl_url's (" + crl_path + ")");
    }
  }
  s.require("key_file");
  s.require("cert_file");
  readPath(s, "key_file", base, ca.key_file);
  readPath(s, "cert_file", base, ca.cert_file);
  s.oneOf("key_type", ca.key_type, kKeyTypes);
  s.oneOf("hash_alg", ca.hash_alg, kHashAlgs);
  s.integer("validity_days", ca.validity_days, 1, 3650);
  s.integer("ca_validity_days", ca.ca_validity_days, 1, 36500);
  // X.509 upper bound for CommonName and Organization (RFC 5280 ub-common-name,
  // ub-organization-name).
  std::string cn;
  if (const toml::node* node = s.nonEmptyString("common_name", cn)) {
    if (cn.size() > 64) {
      s.invalid(*node, "common_name", cn, "at most 64 characters");
    } else {
      ca.common_name = std::move(cn);
    }
  }
  std::string org;
  if (const toml::node* node = s.string("organization", org)) {
    if (org.size() > 64) {
      s.invalid(*node, "organization", org, "at most 64 characters; empty omits it");
    } else {
      ca.organization = std::move(org);
    }
  }
}

}  // namespace

std::optional<std::string> effectiveCrlUrl(const CaConfig& ca, const std::string& base_url) {
  if (!ca.crl_url) return base_url + "/crl";
  if (ca.crl_url->empty()) return std::nullopt;
  return *ca.crl_url;
}

namespace {

void readDatabase(Section& s, const fs::path& base, DatabaseConfig& db) {
  s.rejectUnknown({"url", "pool_connections", "ro_connections", "require_tls",
                   "prune_interval_secs", "prune_after_expiry_secs"});
  s.require("url");
  readDatabaseUrl(s, base, db.url);
  s.integer("pool_connections", db.pool_connections, 1, 256);
  s.integer("ro_connections", db.ro_connections, 0, 256);
  s.boolean("require_tls", db.require_tls);
  s.integer("prune_interval_secs", db.prune_interval_secs, 0, 604800);
  s.integer("prune_after_expiry_secs", db.prune_after_expiry_secs, 0, 31536000);
}

void readServer(Section& s, const fs::path& base, ServerConfig& server) {
  s.rejectUnknown({"audit_log_file",
                   "terms_of_service_url",
                   "website_url",
                   "caa_identities",
                   "external_account_required",
                   "order_expiry_secs",
                   "authz_expiry_secs",
                   "max_body_bytes",
                   "http_validation_port",
                   "http_validation_allow_private_ips",
                   "validation_timeout_secs",
                   "threads",
                   "nonce_capacity",
                   "dns_resolver_addr",
                   "dns_persist01_resolver_addr",
                   "dns_trust_anchor_file",
                   "dns_timeout_secs",
                   "dns_persist_issuer_domains",
                   "tls_alpn_validation_port",
                   "default_profile",
                   "ari_retry_after_secs",
                   "shutdown_grace_secs",
                   "metrics_listen_addr",
                   "reuse_valid_authz",
                   "reuse_min_remaining_secs",
                   "reuse_pending_authz",
                   "allow_pre_authorization",
                   "allow_subdomain_authorizations",
                   "trusted_proxies"});
  s.require("audit_log_file");
  readPath(s, "audit_log_file", base, server.audit_log_file);
  readUrl(s, "terms_of_service_url", server.terms_of_service_url);
  readUrl(s, "website_url", server.website_url);
  std::vector<std::string> caa;
  s.stringArray("caa_identities", caa);
  for (std::size_t i = 0; i < caa.size(); ++i) {
    std::string lower = caa[i];
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!validHost(lower) || lower.find('.') == std::string::npos) {
      s.invalid(*s.find("caa_identities"), "caa_identities[" + std::to_string(i) + "]", caa[i],
                "a domain name such as \"ca.example.com\"");
      continue;
    }
    // CAA issuer domain names compare case-insensitively (RFC 8659 §4.2); store them lowered.
    server.caa_identities.push_back(std::move(lower));
  }
  s.boolean("external_account_required", server.external_account_required);
  s.integer("order_expiry_secs", server.order_expiry_secs, 60, 31536000);
  s.integer("authz_expiry_secs", server.authz_expiry_secs, 60, 31536000);
  s.integer("max_body_bytes", server.max_body_bytes, 1024, 10485760);
  s.integer("http_validation_port", server.http_validation_port, 1, 65535);
  s.boolean("http_validation_allow_private_ips", server.http_validation_allow_private_ips);
  s.integer("validation_timeout_secs", server.validation_timeout_secs, 1, 120);
  s.integer("threads", server.threads, 0, 1024);
  s.integer("nonce_capacity", server.nonce_capacity, 1, 10000000);
  readListen(s, server.metrics_listen_addr, "metrics_listen_addr");
  readResolverAddr(s, "dns_resolver_addr", server.dns_resolver_addr);
  readResolverAddr(s, "dns_persist01_resolver_addr", server.dns_persist01_resolver_addr);
  readPath(s, "dns_trust_anchor_file", base, server.dns_trust_anchor_file);
  s.integer("dns_timeout_secs", server.dns_timeout_secs, 1, 60);
  std::vector<std::string> issuers;
  s.stringArray("dns_persist_issuer_domains", issuers);
  for (std::size_t i = 0; i < issuers.size(); ++i) {
    std::string lower = issuers[i];
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!lower.empty() && lower.back() == '.') lower.pop_back();
    if (!validHost(lower) || lower.find('.') == std::string::npos) {
      s.invalid(*s.find("dns_persist_issuer_domains"),
                "dns_persist_issuer_domains[" + std::to_string(i) + "]", issuers[i],
                "a domain name such as \"ca.example.com\"");
      continue;
    }
    server.dns_persist_issuer_domains.push_back(std::move(lower));
  }
  s.integer("tls_alpn_validation_port", server.tls_alpn_validation_port, 1, 65535);
  s.nonEmptyString("default_profile", server.default_profile);
  s.integer("ari_retry_after_secs", server.ari_retry_after_secs, 60, 604800);
  s.integer("shutdown_grace_secs", server.shutdown_grace_secs, 0, 300);
  s.boolean("reuse_valid_authz", server.reuse_valid_authz);
  s.integer("reuse_min_remaining_secs", server.reuse_min_remaining_secs, 0, 31536000);
  s.boolean("reuse_pending_authz", server.reuse_pending_authz);
  s.boolean("allow_pre_authorization", server.allow_pre_authorization);
  s.boolean("allow_subdomain_authorizations", server.allow_subdomain_authorizations);
  // Pre-authorizations and subdomain authorizations serve orders only through reuse.
  if (!server.reuse_valid_authz &&
      (server.allow_pre_authorization || server.allow_subdomain_authorizations)) {
    s.invalid(*s.find("reuse_valid_authz"), "reuse_valid_authz", "false",
              "true while allow_pre_authorization or allow_subdomain_authorizations is on");
  }
  std::vector<std::string> proxies;
  s.stringArray("trusted_proxies", proxies);
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    if (!validCidr(proxies[i])) {
      s.invalid(*s.find("trusted_proxies"), "trusted_proxies[" + std::to_string(i) + "]",
                proxies[i], "an address or CIDR such as \"10.0.0.0/8\" or \"::1/128\"");
      continue;
    }
    server.trusted_proxies.push_back(proxies[i]);
  }
}

void readRateLimits(Section& s, Diagnostics& diag, const toml::table* table, RateLimitsConfig& rl) {
  if (table == nullptr) return;
  // Present: on unless said otherwise.
  rl.enabled = true;
  s.boolean("enabled", rl.enabled);
  std::optional<std::string> help_url;
  readUrl(s, "help_url", help_url);
  if (help_url) rl.help_url = *help_url;
  s.integer("override_cache_secs", rl.override_cache_secs, 0, 3600);
  s.nonEmptyString("public_suffix_file", rl.public_suffix_file);
  for (auto&& [key, node] : *table) {
    const std::string name(key.str());
    if (name == "enabled" || name == "help_url" || name == "override_cache_secs" ||
        name == "public_suffix_file") {
      continue;
    }
    if (!isRateLimitName(name)) {
      std::string known;
      for (auto n : kRateLimitNames) known += (known.empty() ? "" : ", ") + std::string(n);
      diag.at(key.source(), "unknown rate limit '" + s.path(name) + "' (known: " + known + ")");
      continue;
    }
    const auto* limit_table = node.as_table();
    if (limit_table == nullptr) {
      diag.at(key.source(), "'" + s.path(name) + "' must be a table (burst, count, period_secs)");
      continue;
    }
    Section l(diag, limit_table, s.path(name));
    l.rejectUnknown({"burst", "count", "period_secs"});
    RateLimitConfig limit;
    l.require("count");
    l.require("period_secs");
    l.integer("count", limit.count, 1, 1000000000);
    l.integer("period_secs", limit.period_secs, 1, 31536000);
    limit.burst = limit.count;  // Boulder: burst defaults to count
    l.integer("burst", limit.burst, 1, 1000000000);
    if (limit.count > 0 && limit.period_secs > 0) rl.limits.emplace_back(name, limit);
  }
}

void readTls(Section& s, const fs::path& base, std::optional<TlsConfig>& out) {
  s.rejectUnknown({"cert_file", "key_file", "auto", "auto_validity_secs"});
  TlsConfig tls;
  std::string cert, key;
  const toml::node* cert_node = s.nonEmptyString("cert_file", cert);
  const toml::node* key_node = s.nonEmptyString("key_file", key);
  s.boolean("auto", tls.auto_issue);
  s.integer("auto_validity_secs", tls.auto_validity_secs, 3600, 31536000);
  if (tls.auto_issue && (cert_node != nullptr || key_node != nullptr)) {
    s.error(
        "'tls.auto' = true issues the server certificate itself: remove 'tls.cert_file' and "
        "'tls.key_file', or set auto = false");
  } else if (!tls.auto_issue && (cert_node == nullptr) != (key_node == nullptr)) {
    s.error("'tls.cert_file' and 'tls.key_file' go together: set both");
  } else if (!tls.auto_issue && cert_node == nullptr) {
    s.error("the [tls] table needs cert_file and key_file, or auto = true");
  }
  if (!cert.empty()) tls.cert_file = resolvePath(base, cert);
  if (!key.empty()) tls.key_file = resolvePath(base, key);
  out = std::move(tls);
}

constexpr std::string_view kUnixPrefix = "unix:";
// sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
constexpr std::size_t kMaxUnixPath = 107;

void readAdmin(Section& s, const fs::path& base, AdminConfig& admin) {
  s.rejectUnknown({"socket", "socket_mode"});
  std::string socket;
  if (const toml::node* node = s.nonEmptyString("socket", socket)) {
    admin.socket = resolvePath(base, socket);
    if (admin.socket.size() > kMaxUnixPath) {
      s.invalid(*node, "socket", socket, "a path of at most 107 bytes (sockaddr_un)");
    }
  }
  std::string mode;
  if (const toml::node* node = s.nonEmptyString("socket_mode", mode)) {
    // Only the owner, or the owner and its group: the socket file is the whole authorization.
    if (mode == "0600" || mode == "600") {
      admin.socket_mode = 0600;
    } else if (mode == "0660" || mode == "660") {
      admin.socket_mode = 0660;
    } else {
      s.invalid(*node, "socket_mode", mode, "\"0600\" or \"0660\"");
    }
  }
}

void readListeners(Section& top, Diagnostics& diag, const fs::path& base, Config& config) {
  const toml::node* node = top.find("listeners");
  if (node == nullptr) return;
  const auto* arr = node->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    diag.at(node->source(), "'listeners' must be an array of tables ([[listeners]])");
    return;
  }
  std::vector<std::string> seen = {config.listen_addr};
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto* table = arr->get(i)->as_table();
    Section s(diag, table, "listeners[" + std::to_string(i) + "]");
    s.rejectUnknown({"addr", "tls"});
    s.require("addr");
    ListenerConfig listener;
    s.boolean("tls", listener.tls);
    std::string addr;
    const toml::node* addr_node = s.nonEmptyString("addr", addr);
    if (addr_node == nullptr) continue;
    if (addr.starts_with(kUnixPrefix)) {
      const std::string path = addr.substr(kUnixPrefix.size());
      if (path.empty() || path.back() == '/') {
        s.invalid(*addr_node, "addr", addr, "unix: needs a socket file path");
        continue;
      }
      addr = std::string(kUnixPrefix) + resolvePath(base, path);
      if (addr.size() - kUnixPrefix.size() > kMaxUnixPath) {
        s.invalid(*addr_node, "addr", addr, "a Unix socket path has at most 107 bytes");
        continue;
      }
    } else if (!splitListenAddr(addr)) {
      s.invalid(*addr_node, "addr", addr, std::string(kListenHelp) + ", or unix:/path");
      continue;
    }
    if (std::find(seen.begin(), seen.end(), addr) != seen.end() && !addr.ends_with(":0")) {
      s.invalid(*addr_node, "addr", addr, "another listener already uses this address");
      continue;
    }
    if (listener.tls && !config.tls) {
      diag.at(addr_node->source(), "'" + s.path("tls") + "' = true needs a [tls] table");
    }
    seen.push_back(addr);
    listener.addr = std::move(addr);
    config.listeners.push_back(std::move(listener));
  }
}

void readStar(Section& s, StarConfig& star) {
  s.rejectUnknown({"enabled", "min_lifetime_secs", "max_duration_secs", "allow_certificate_get",
                   "check_interval_secs"});
  s.boolean("enabled", star.enabled);
  // Lifetimes from a minute (tests, labs) to a year; durations up to ten years.
  s.integer("min_lifetime_secs", star.min_lifetime_secs, 60, 31536000);
  s.integer("max_duration_secs", star.max_duration_secs, 60, 315360000);
  s.boolean("allow_certificate_get", star.allow_certificate_get);
  s.integer("check_interval_secs", star.check_interval_secs, 0, 86400);
}

constexpr std::string_view kKeyUsages[] = {"digitalSignature", "keyEncipherment", "keyAgreement"};
constexpr std::string_view kExtendedKeyUsages[] = {"serverAuth", "clientAuth"};
constexpr std::string_view kIdentifierTypes[] = {"dns", "ip"};
constexpr std::string_view kChallengeTypes[] = {"http-01", "dns-01", "tls-alpn-01",
                                                "dns-persist-01"};
constexpr std::string_view kProfileKeyTypes[] = {"ec:P-256",  "ec:P-384",  "ec:P-521", "rsa",
                                                 "rsa:2048",  "rsa:3072",  "rsa:4096", "ed25519",
                                                 "ml-dsa-44", "ml-dsa-65", "ml-dsa-87"};

// Each element one of `accepted`, no repeats.
template <std::size_t N>
void stringSet(Section& s, std::string_view key, std::vector<std::string>& out,
               const std::string_view (&accepted)[N], bool allow_empty) {
  std::vector<std::string> values = out;
  s.stringArray(key, values);
  const toml::node* node = s.find(key);
  if (node == nullptr) return;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string element = std::string(key) + "[" + std::to_string(i) + "]";
    if (!contains(accepted, values[i])) {
      s.invalid(*node, element, values[i], "accepted: " + joinSet(accepted));
      return;
    }
    if (std::find(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values[i]) !=
        values.begin() + static_cast<std::ptrdiff_t>(i)) {
      s.invalid(*node, element, values[i], "listed twice");
      return;
    }
  }
  if (values.empty() && !allow_empty) {
    s.invalid(*node, key, "[]", "must name at least one");
    return;
  }
  out = std::move(values);
}

// A fraction in [lo, hi].
void fraction(Section& s, std::string_view key, double& out, double lo, double hi) {
  const toml::node* node = s.find(key);
  if (node == nullptr) return;
  double value = 0;
  if (const auto* f = node->as_floating_point()) {
    value = f->get();
  } else if (const auto* i = node->as_integer()) {
    value = static_cast<double>(i->get());
  } else {
    s.invalid(*node, key, "",
              "a number between " + std::to_string(lo) + " and " + std::to_string(hi));
    return;
  }
  if (!(value >= lo && value <= hi)) {
    s.invalid(*node, key, std::to_string(value),
              "a number between " + std::to_string(lo) + " and " + std::to_string(hi));
    return;
  }
  out = value;
}

bool validProfileName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

void readProfile(Section& s, ProfileConfig& p) {
  s.rejectUnknown({"description", "validity_secs", "key_usages", "extended_key_usages",
                   "allowed_key_types", "omit_common_name", "omit_subject_key_id",
                   "include_crl_url", "include_ocsp_url", "identifier_types", "challenge_types",
                   "authz_lifetime_secs", "order_lifetime_secs", "max_names", "allow_wildcards",
                   "allowed_accounts", "renewal_point", "renewal_window"});
  s.string("description", p.description);
  s.integer("validity_secs", p.validity_secs, 60, std::int64_t{3650} * 86400);
  stringSet(s, "key_usages", p.key_usages, kKeyUsages, false);
  stringSet(s, "extended_key_usages", p.extended_key_usages, kExtendedKeyUsages, false);
  stringSet(s, "allowed_key_types", p.allowed_key_types, kProfileKeyTypes, true);
  s.boolean("omit_common_name", p.omit_common_name);
  s.boolean("omit_subject_key_id", p.omit_subject_key_id);
  s.boolean("include_crl_url", p.include_crl_url);
  s.boolean("include_ocsp_url", p.include_ocsp_url);
  stringSet(s, "identifier_types", p.identifier_types, kIdentifierTypes, false);
  stringSet(s, "challenge_types", p.challenge_types, kChallengeTypes, true);
  s.integer("authz_lifetime_secs", p.authz_lifetime_secs, 60, 31536000);
  s.integer("order_lifetime_secs", p.order_lifetime_secs, 60, 31536000);
  s.integer("max_names", p.max_names, 1, 1000);
  s.boolean("allow_wildcards", p.allow_wildcards);
  s.stringArray("allowed_accounts", p.allowed_accounts);
  if (s.find("renewal_point") != nullptr) {
    double point = 0;
    fraction(s, "renewal_point", point, 0.05, 0.95);
    p.renewal_point = point;
  }
  fraction(s, "renewal_window", p.renewal_window, 0.001, 0.5);
}

// [profiles.NAME] tables, or the one implicit "default"; then the defaults that come from
// other sections, and the default profile's existence.
void readProfiles(Section& top, Diagnostics& diag, Config& config) {
  if (const toml::table* table = top.table("profiles")) {
    for (auto&& [key, node] : *table) {
      const std::string name(key.str());
      if (!validProfileName(name)) {
        diag.at(key.source(), "invalid profile name '" + name + "' (1..64 of A-Z a-z 0-9 - _ .)");
        continue;
      }
      const auto* profile_table = node.as_table();
      if (profile_table == nullptr) {
        diag.at(key.source(), "'profiles." + name + "' must be a table");
        continue;
      }
      ProfileConfig p;
      p.name = name;
      Section section(diag, profile_table, "profiles." + name);
      readProfile(section, p);
      config.profiles.push_back(std::move(p));
    }
  }
  applyProfileDefaults(config);
  if (findProfile(config, config.server.default_profile) == nullptr) {
    std::string names;
    for (const auto& p : config.profiles) names += (names.empty() ? "" : ", ") + p.name;
    diag.add("'server.default_profile' = '" + config.server.default_profile +
             "' names no profile (configured: " + names + ")");
  }
}

fs::path absoluteDir(const std::string& dir) {
  std::error_code ec;
  fs::path p = dir.empty() ? fs::current_path(ec) : fs::absolute(fs::path(dir), ec);
  if (ec) return fs::path(dir);  // unusable cwd: relative paths stay relative, still correct
  return p.lexically_normal();
}

}  // namespace

void applyProfileDefaults(Config& config) {
  if (config.profiles.empty()) {
    ProfileConfig p;
    p.name = "default";
    p.description = "The default profile";
    config.profiles.push_back(std::move(p));
  }
  std::sort(config.profiles.begin(), config.profiles.end(),
            [](const ProfileConfig& a, const ProfileConfig& b) { return a.name < b.name; });
  for (auto& p : config.profiles) {
    if (p.validity_secs == 0) p.validity_secs = std::int64_t{86400} * config.ca.validity_days;
    if (p.authz_lifetime_secs == 0) p.authz_lifetime_secs = config.server.authz_expiry_secs;
    if (p.order_lifetime_secs == 0) p.order_lifetime_secs = config.server.order_expiry_secs;
    if (p.description.empty()) p.description = "The " + p.name + " profile";
  }
}

const ProfileConfig* findProfile(const Config& config, std::string_view name) {
  for (const auto& p : config.profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::optional<std::string> unixSocketPath(std::string_view addr) {
  if (!addr.starts_with(kUnixPrefix)) return std::nullopt;
  return std::string(addr.substr(kUnixPrefix.size()));
}

std::optional<std::pair<std::string, std::uint16_t>> splitListenAddr(std::string_view addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host_part = addr.substr(0, colon);
  auto port = parsePort(addr.substr(colon + 1));
  if (!port) return std::nullopt;
  std::string host;
  if (!host_part.empty() && host_part.front() == '[') {
    if (host_part.size() < 3 || host_part.back() != ']') return std::nullopt;
    host = std::string(host_part.substr(1, host_part.size() - 2));
    if (!validIpv6(host)) return std::nullopt;
  } else {
    host = std::string(host_part);
    if (!validHost(host)) return std::nullopt;  // also rejects unbracketed IPv6
  }
  return std::make_pair(std::move(host), *port);
}

bool isRateLimitName(std::string_view name) {
  return std::find(std::begin(kRateLimitNames), std::end(kRateLimitNames), name) !=
         std::end(kRateLimitNames);
}

core::Result<Config> parseConfig(std::string_view toml_text, std::string_view source_name,
                                 const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return core::fail(core::malformed(std::string(source_name) + ":" + std::to_string(where.line) +
                                      ":" + std::to_string(where.column) +
                                      ": TOML syntax error: " + std::string(e.description())));
  } catch (const std::exception& e) {
    return core::fail(
        core::malformed(std::string(source_name) + ": cannot parse: " + std::string(e.what())));
  }

  const fs::path base = absoluteDir(base_dir);
  Config config;
  config.config_dir = base_dir;
  Diagnostics diag(source_name);

  Section top(diag, &root, "");
  top.rejectUnknown({"listen_addr", "base_url", "tls", "listeners", "admin", "database", "ca",
                     "server", "star", "rate_limits", "log", "profiles"});
  top.require("base_url");
  readListen(top, config.listen_addr);
  readBaseUrl(top, config.base_url);
  if (const toml::table* tls = top.table("tls")) {
    Section tls_section(diag, tls, "tls");
    readTls(tls_section, base, config.tls);
  }
  readListeners(top, diag, base, config);
  Section admin(diag, top.table("admin"), "admin");
  readAdmin(admin, base, config.admin);

  Section database(diag, top.table("database"), "database");
  readDatabase(database, base, config.database);
  Section ca(diag, top.table("ca"), "ca");
  readCa(ca, base, config.ca);
  Section server(diag, top.table("server"), "server");
  readServer(server, base, config.server);
  Section star(diag, top.table("star"), "star");
  readStar(star, config.star);
  const toml::table* rate_limits_table = top.table("rate_limits");
  Section rate_limits(diag, rate_limits_table, "rate_limits");
  readRateLimits(rate_limits, diag, rate_limits_table, config.rate_limits);
  Section log(diag, top.table("log"), "log");
  log.rejectUnknown({"level", "request_level", "format"});
  log.oneOf("level", config.log.level, kLogLevels);
  log.oneOf("request_level", config.log.request_level, kLogLevels);
  log.oneOf("format", config.log.format, kLogFormats);
  readProfiles(top, diag, config);

  if (!diag.empty()) return core::fail(core::malformed(diag.joined()));
  return config;
}

core::Result<Config> loadConfigFile(
    const std::string& path, const std::function<std::optional<std::string>(const char*)>& getenv) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return core::fail(core::malformed("cannot read config file '" + path +
                                      "': " + (ec ? ec.message() : std::string("no such file"))));
  }
  if (!fs::is_regular_file(status)) {
    return core::fail(
        core::malformed("cannot read config file '" + path + "': not a regular file"));
  }
  auto size = fs::file_size(path, ec);
  if (ec || size > kMaxConfigBytes) {
    return core::fail(core::malformed("cannot read config file '" + path + "': " +
                                      (ec ? ec.message() : std::string("larger than 1 MiB"))));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(
        core::malformed("cannot read config file '" + path + "': " + std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return core::fail(
        core::malformed("cannot read config file '" + path + "': " + std::strerror(errno)));
  }

  fs::path absolute = fs::absolute(fs::path(path), ec);
  if (ec) absolute = fs::path(path);
  std::string dir = absolute.lexically_normal().parent_path().string();

  auto config = parseConfig(text.str(), path, dir);
  if (!config) return config;

  if (getenv) {
    if (auto listen = getenv("AKAMU_LISTEN"); listen && !listen->empty()) {
      if (!splitListenAddr(*listen)) {
        return core::fail(core::malformed("AKAMU_LISTEN: invalid listen address '" + *listen +
                                          "' (" + std::string(kListenHelp) + ")"));
      }
      config->listen_addr = *listen;
    }
  }
  return config;
}

}  // namespace akamu::config
