#include "options.hpp"

#include <filesystem>

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

  // --db: ":memory:" / "sqlite::memory:" / "sqlite:..." / a file path / postgres.
  const std::string& db = o.db;
  if (db.rfind("postgres://", 0) == 0 || db.rfind("postgresql://", 0) == 0 ||
      db.rfind("host=", 0) == 0 || db.find("dbname=") != std::string::npos) {
    return "not supported yet: --db " + db + " (the PostgreSQL store is not built)";
  }
  if (db == ":memory:" || db == "sqlite::memory:") {
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
  return std::nullopt;
}

}  // namespace akamu::bench
