#pragma once
// acme-bench's options (the table at the end of the performance chapter, plus the extensions
// listed in --help) and their validation.
#include <optional>
#include <string>

#include "crypto/key_type.hpp"

namespace akamu::bench {

// dns-persist-01 runs: the issuer domain name a spawned server is configured with and the bench's
// records name, and the zone the issued names live in (bench-N.<zone>, *.bench-N.<zone>).
inline constexpr const char* kPersistIssuerDomain = "acme-bench.test";
inline constexpr const char* kPersistZone = "acme-bench.test";

struct Options {
  std::string spawn = "inprocess";  // inprocess | process
  int nodes = 1;
  int clients = 10;
  int requests = 100;
  int warmup = 10;
  std::string challenge = "http-01";
  std::string key_type = "ec:P-256";     // CSR key
  std::string ca_key_type = "ec:P-256";  // CA key (spawned servers)
  std::string account_key_type = "ec:P-256";
  std::string topology = "direct";
  bool no_gossip = false;
  std::string db = "sqlite::memory:";
  int pool_connections = 1;
  int ro_connections = 0;
  bool wildcard = false;  // *.bench-N.<kPersistZone>; dns-persist-01 only
  std::string output = "text";
  bool verify_cert = false;
  int poll_ms = 100;
  // Extensions.
  std::string server_url;  // directory URL of an external ACME server: nothing is spawned
  std::string ca_bundle;   // PEM trust anchors for https
  bool floor = false;
  int server_threads = 0;  // worker threads of a spawned server (0 = one per core)
  int responder_port = 0;  // http-01 responder port (0 = ephemeral)
  std::string akamu_bin;   // default: akamu next to acme-bench
  std::string audit_log = "/tmp/akamu-bench-audit.jsonl";
  bool no_raw = false;  // leave the per-issuance "raw" array empty
  // Directory receiving every downloaded chain (<worker>-<n>.pem) and index.tsv (one
  // "<certificate URL>\t<file name>" line per download, appended after the file is durable).
  std::string save_certs;
  // Lifecycle phases: after each download, GET the certificate's renewal info (RFC 9773).
  bool ari = false;
  // Spawned servers check every rate limit (limits far above what a run can reach: the cost of
  // checking, never a denial). Off: no [rate_limits], as in the tests.
  bool rate_limits = false;
  // After each download (and renewal info), one OCSP request to the leaf's AIA responder.
  // Spawned servers get [ca] ocsp_url.
  bool ocsp = false;
  std::string profile;  // newOrder "profile" (empty: none sent)

  // Filled by validate().
  crypto::KeyType csr_key;
  crypto::KeyType ca_key;
  crypto::KeyType account_key;
  std::string db_url;  // the database URL given to the server (may hold a password)
};

// `db` fit for printing: the password of a URL's userinfo and the values of password= and
// sslpassword= (URL query parameters or conninfo keywords) become "****". Never print a
// database string without it.
std::string maskDbPassword(const std::string& db);

// `text` (a server's error message, a log tail) with every password of `db` (as written and as
// decoded) replaced by "****".
std::string scrubDbPassword(std::string text, const std::string& db);

// Checks values, rejects features that are not built yet ("not supported yet: ...") and
// combinations that cannot work (--wildcard without dns-persist-01, dns-persist-01 against an
// external --server), parses key types and normalises --db (SQLite spellings become a
// sqlite:// URL with an absolute path; PostgreSQL URLs and conninfo strings pass through as
// they are). Returns the message for the user on failure (exit code 2).
std::optional<std::string> validate(Options& options);

}  // namespace akamu::bench
