#include "options.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string_view>
#include <vector>

#include "core/database_url.hpp"

namespace akamu::bench {

namespace {

std::optional<std::string> parseKey(const std::string& option, const std::string& text,
                                    crypto::KeyType& out) {
  auto parsed = crypto::parseKeyType(text);
  if (!parsed) {
    return option + ": invalid key type '" + text +
           "' (accepted: ec:P-256, ec:P-384, ec:P-521, rsa:2048, rsa:3072, rsa:4096, ed25519, "
           "ml-dsa-44, ml-dsa-65, ml-dsa-87)";
  }
  if (parsed->algorithm == crypto::KeyAlgorithm::kMlDsa && !crypto::mlDsaAvailable()) {
    return option + " " + text + ": ML-DSA requires OpenSSL >= 3.5; this acme-bench uses " +
           crypto::opensslVersion();
  }
  out = *parsed;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> validate(Options& o) {
  if (o.spawn != "inprocess" && o.spawn != "process") {
    return "--spawn: expected inprocess or process, got '" + o.spawn + "'";
  }
  if (o.nodes < 1) return "--nodes must be at least 1";
  if (o.nodes > 1)
    return "not supported yet: --nodes " + std::to_string(o.nodes) +
           " (multi-node clusters need the PostgreSQL store)";
  if (o.clients < 1) return "--clients must be at least 1";
  if (o.requests < 1) return "--requests must be at least 1";
  if (o.warmup < 0) return "--warmup must not be negative";
  if (o.poll_ms < 1) return "--poll-ms must be at least 1";
  if (o.challenge != "http-01" && o.challenge != "dns-persist-01") {
    return "--challenge: expected http-01 or dns-persist-01, got '" + o.challenge + "'";
  }
  if (o.topology == "proxy") return "not supported yet: --topology proxy (needs --nodes > 1)";
  if (o.topology != "direct") {
    return "--topology: expected direct or proxy, got '" + o.topology + "'";
  }
  if (o.no_gossip) return "not supported yet: --no-gossip (multi-node runs)";
  if (!o.profile.empty() && o.challenge != "http-01") {
    return "--profile works with --challenge http-01 only";
  }
  if (o.wildcard && o.challenge != "dns-persist-01") {
    return "--wildcard needs --challenge dns-persist-01: wildcard names can only be validated "
           "through DNS (the server offers no " +
           o.challenge + " challenge for *.bench-N names)";
  }
  if (o.output != "text" && o.output != "json") {
    return "--output: expected text or json, got '" + o.output + "'";
  }
  if (o.pool_connections < 1 || o.pool_connections > 256) {
    return "--pool-connections must be in 1..256";
  }
  if (o.ro_connections < 0 || o.ro_connections > 256) return "--ro-connections must be in 0..256";
  if (o.server_threads < 0 || o.server_threads > 1024) return "--server-threads must be in 0..1024";
  if (o.responder_port < 0 || o.responder_port > 65535) {
    return "--responder-port must be in 0..65535";
  }

  // --db: ":memory:" / "sqlite::memory:" / "sqlite:..." / a file path / PostgreSQL.
  const std::string& db = o.db;
  if (core::isPostgresUrl(db)) {
    // The server parses and checks it; a bad one fails the start with the server's message.
    o.db_url = db;
  } else if (db == ":memory:" || db == "sqlite::memory:") {
    o.db_url = "sqlite::memory:";
  } else if (db.rfind("sqlite:", 0) == 0) {
    std::string file = db.substr(7);
    if (file.rfind("//", 0) == 0) file = file.substr(2);  // sqlite://abs or sqlite://rel
    if (file.empty()) return "--db: no file in '" + db + "'";
    o.db_url = "sqlite://" + std::filesystem::absolute(file).lexically_normal().string();
  } else if (db.empty()) {
    return "--db must not be empty";
  } else {
    o.db_url = "sqlite://" + std::filesystem::absolute(db).lexically_normal().string();
  }

  if (auto e = parseKey("--key-type", o.key_type, o.csr_key)) return e;
  if (auto e = parseKey("--ca-key-type", o.ca_key_type, o.ca_key)) return e;
  if (auto e = parseKey("--account-key-type", o.account_key_type, o.account_key)) return e;
  if (!o.ca_bundle.empty() && !std::filesystem::is_regular_file(o.ca_bundle)) {
    return "--ca-bundle: cannot read " + o.ca_bundle;
  }
  if (!o.server_url.empty() && o.server_url.rfind("http://", 0) != 0 &&
      o.server_url.rfind("https://", 0) != 0) {
    return "--server: expected the http(s):// URL of an ACME directory, got '" + o.server_url + "'";
  }
  if (!o.server_url.empty() && o.challenge == "dns-persist-01") {
    return "--challenge dns-persist-01 cannot be used with --server: the bench publishes the "
           "records in its own loopback DNS server, and an external server's resolver cannot be "
           "pointed at it (use --spawn inprocess or --spawn process)";
  }
  if (!o.save_certs.empty() && std::filesystem::exists(o.save_certs) &&
      !std::filesystem::is_directory(o.save_certs)) {
    return "--save-certs: " + o.save_certs + " exists and is not a directory";
  }
  return std::nullopt;
}

namespace {

// libpq parameters whose values are secrets.
bool isSecretKey(std::string_view key) { return key == "password" || key == "sslpassword"; }

// conninfo: keyword = value pairs, values bare or single-quoted with backslash escapes (libpq's
// grammar); password and sslpassword values become ****, the rest is copied as is.
std::string maskConninfo(const std::string& s, std::vector<std::string>& secrets) {
  std::string out;
  std::size_t i = 0;
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) out += s[i++];
    const std::size_t key_start = i;
    while (i < s.size() && !is_space(s[i]) && s[i] != '=') ++i;
    const std::string key = s.substr(key_start, i - key_start);
    out += key;
    while (i < s.size() && is_space(s[i])) out += s[i++];
    if (i >= s.size() || s[i] != '=') continue;  // malformed: libpq refuses it; nothing to hide
    out += s[i++];
    while (i < s.size() && is_space(s[i])) out += s[i++];
    const std::size_t value_start = i;
    if (i < s.size() && s[i] == '\'') {
      for (++i; i < s.size() && s[i] != '\''; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
      }
      if (i < s.size()) ++i;  // closing quote
    } else {
      while (i < s.size() && !is_space(s[i])) ++i;
    }
    if (isSecretKey(key)) {
      // The value as written and, for a quoted one, as libpq reads it.
      std::string raw = s.substr(value_start, i - value_start);
      if (raw.size() >= 2 && raw.front() == '\'') {
        std::string unquoted;
        for (std::size_t k = 1; k + 1 < raw.size(); ++k) {
          if (raw[k] == '\\' && k + 2 < raw.size()) ++k;
          unquoted += raw[k];
        }
        secrets.push_back(std::move(unquoted));
      }
      secrets.push_back(std::move(raw));
      out += "****";
    } else {
      out += s.substr(value_start, i - value_start);
    }
  }
  return out;
}

// URL: scheme://[user[:password]@]host.../path?query; the userinfo password and the values of
// password= and sslpassword= query parameters become ****.
std::string maskUrl(const std::string& s, std::vector<std::string>& secrets) {
  std::string out = s;
  const std::size_t authority = out.find("://") + 3;
  std::size_t authority_end = out.find_first_of("/?#", authority);
  if (authority_end == std::string::npos) authority_end = out.size();
  const std::size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    const std::size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) {
      secrets.push_back(out.substr(colon + 1, at - colon - 1));
      out.replace(colon + 1, at - colon - 1, "****");
      authority_end = out.find_first_of("/?#", authority);
      if (authority_end == std::string::npos) authority_end = out.size();
    }
  }
  const std::size_t q = out.find('?', authority_end);
  if (q == std::string::npos) return out;
  std::size_t query_end = out.find('#', q);
  if (query_end == std::string::npos) query_end = out.size();
  std::string query;
  for (std::size_t pos = q + 1; pos <= query_end;) {
    std::size_t end = out.find('&', pos);
    if (end == std::string::npos || end > query_end) end = query_end;
    const std::string_view param(out.data() + pos, end - pos);
    if (pos > q + 1) query += '&';
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && isSecretKey(param.substr(0, eq))) {
      secrets.emplace_back(param.substr(eq + 1));
      query += std::string(param.substr(0, eq + 1)) + "****";
    } else {
      query += param;
    }
    pos = end + 1;
  }
  return out.substr(0, q + 1) + query + out.substr(query_end);
}

// %XX sequences decoded (a URL's password as libpq, and a server's messages, see it).
std::string percentDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string mask(const std::string& db, std::vector<std::string>& secrets) {
  if (!core::isPostgresUrl(db)) return db;
  if (db.find("://") == std::string::npos) return maskConninfo(db, secrets);
  std::string out = maskUrl(db, secrets);
  const std::size_t n = secrets.size();
  for (std::size_t i = 0; i < n; ++i) secrets.push_back(percentDecode(secrets[i]));
  return out;
}

}  // namespace

std::string maskDbPassword(const std::string& db) {
  std::vector<std::string> secrets;
  return mask(db, secrets);
}

std::string scrubDbPassword(std::string text, const std::string& db) {
  std::vector<std::string> secrets;
  mask(db, secrets);
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 4)) {
      text.replace(at, secret.size(), "****");
    }
  }
  return text;
}

}  // namespace akamu::bench
