#pragma once
// Shared fixture for the integration tests: a real akamu Server in-process on port 0 (SQLite in
// memory, CA files and audit log in a per-server temp dir), an Http01Responder it validates
// against, and helpers to drive it with the project's own ACME client and to craft bad requests.
// Header-only: tests/CMakeLists.txt compiles only *_test.cpp files.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/acme_client.hpp"
#include "client/http01_responder.hpp"
#include "client/http_client.hpp"
#include "client/issue_flow.hpp"
#include "config/config.hpp"
#include "core/base64url.hpp"
#include "core/clock.hpp"
#include "core/problem.hpp"
#include "crypto/csr.hpp"
#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"
#include "crypto/sign.hpp"
#include "crypto/x509.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "server/server.hpp"

namespace akamu::itest {

namespace json = boost::json;
using client::AcmeClient;
using client::HttpResponse;
using client::OrderInfo;
using core::Identifier;
using core::ProblemType;

// ---------------------------------------------------------------------------------------------
// Small utilities

inline Identifier dns(std::string name) { return Identifier{"dns", std::move(name)}; }

// A name nobody else in this process uses: orders from different tests never share names.
inline std::string uniqueName(std::string_view prefix = "t") {
  static std::atomic<int> counter{0};
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
         ".localhost";
}

inline crypto::PKey makeKey(std::string_view type = "ec:P-256") {
  auto kt = crypto::parseKeyType(type);
  EXPECT_TRUE(kt) << type;
  if (!kt) return nullptr;
  auto key = crypto::generateKey(*kt);
  EXPECT_TRUE(key) << type << ": " << (key ? "" : key.error().detail);
  return key ? std::move(*key) : nullptr;
}

inline json::object jsonBody(const HttpResponse& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

inline std::string str(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v != nullptr && v->is_string())
    return std::string(v->as_string());
  return {};
}

inline std::string problemName(ProblemType t) { return std::string(core::problemTypeUri(t)); }

inline std::string describe(const HttpResponse& r) {
  return "HTTP " + std::to_string(r.status) + " body: " + r.body.substr(0, 400);
}

// The response is a problem document with this status and type.
inline ::testing::AssertionResult isProblem(const HttpResponse& r, int status, ProblemType type) {
  auto p = client::parseProblem(r);
  if (!p) return ::testing::AssertionFailure() << "not a problem document: " << describe(r);
  if (r.status != status || p->type != type) {
    return ::testing::AssertionFailure()
           << "expected " << status << " " << problemName(type) << ", got " << describe(r);
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult isProblem(const core::Result<HttpResponse>& r, int status,
                                            ProblemType type) {
  if (!r) return ::testing::AssertionFailure() << "transport failure: " << r.error().detail;
  return isProblem(*r, status, type);
}

// A wrapper's failure (the server's problem, turned into a Result error) is of this type.
template <class T>
::testing::AssertionResult failedWith(const core::Result<T>& r, ProblemType type) {
  if (r) return ::testing::AssertionFailure() << "expected failure " << problemName(type);
  if (r.error().type != type) {
    return ::testing::AssertionFailure() << "expected " << problemName(type) << ", got "
                                         << problemName(r.error().type) << ": " << r.error().detail;
  }
  return ::testing::AssertionSuccess();
}

// Has a Link header with rel="index" naming `directory`.
inline bool hasIndexLink(const HttpResponse& r, const std::string& directory) {
  for (const auto& v : r.headerValues("link")) {
    if (v.find("<" + directory + ">") != std::string::npos &&
        v.find("rel=\"index\"") != std::string::npos) {
      return true;
    }
  }
  return false;
}

inline bool hasLink(const HttpResponse& r, const std::string& url, std::string_view rel) {
  for (const auto& v : r.headerValues("link")) {
    if (v.find("<" + url + ">") != std::string::npos &&
        v.find("rel=\"" + std::string(rel) + "\"") != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Polls `pred` until it holds or the deadline passes (never a fixed sleep as synchronisation).
inline bool waitUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  std::chrono::milliseconds pause(1);
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

inline std::vector<std::uint8_t> derOf(const std::string& pem_chain) {
  auto chain = crypto::certChainFromPem(pem_chain);
  if (!chain || chain->empty()) return {};
  return crypto::certToDer((*chain)[0].get());
}

// ---------------------------------------------------------------------------------------------
// Crafted JWS

// Signs `protected_json` (any text, so tests can put duplicate members in it) and `payload` with
// the algorithm that fits `key` (ES256/384/512 raw r||s, RS256, EdDSA). `payload` "" = POST-as-GET.
inline std::string craftJws(const EVP_PKEY* key, std::string_view protected_json,
                            std::string_view payload, bool corrupt_signature = false) {
  const std::string protected_b64 = core::base64urlEncode(protected_json);
  const std::string payload_b64 = payload.empty() ? std::string() : core::base64urlEncode(payload);
  const std::string input = protected_b64 + "." + payload_b64;
  std::span<const std::uint8_t> msg(reinterpret_cast<const std::uint8_t*>(input.data()),
                                    input.size());
  std::vector<std::uint8_t> sig;
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) {
    sig = crypto::signMessage(key, crypto::SignatureScheme::kEd25519, msg).value();
  } else if (id == EVP_PKEY_RSA) {
    sig = crypto::signMessage(key, crypto::SignatureScheme::kRsaPkcs1Sha256, msg).value();
  } else {
    const int bits = EVP_PKEY_get_bits(key);
    const auto scheme = bits <= 256   ? crypto::SignatureScheme::kEcdsaSha256
                        : bits <= 384 ? crypto::SignatureScheme::kEcdsaSha384
                                      : crypto::SignatureScheme::kEcdsaSha512;
    const int field = (bits + 7) / 8;
    auto der = crypto::signMessage(key, scheme, msg).value();
    const unsigned char* p = der.data();
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    sig.resize(static_cast<std::size_t>(2 * field));
    BN_bn2binpad(ECDSA_SIG_get0_r(es), sig.data(), field);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig.data() + field, field);
    ECDSA_SIG_free(es);
  }
  if (corrupt_signature) sig[sig.size() / 2] ^= 0x01;
  json::object body{{"protected", protected_b64},
                    {"payload", payload_b64},
                    {"signature", core::base64urlEncode(sig)}};
  return json::serialize(body);
}

inline std::string jwkJson(const EVP_PKEY* key) {
  auto jwk = jose::publicKeyToJwk(key);
  EXPECT_TRUE(jwk);
  return jwk ? json::serialize(*jwk) : "{}";
}

// Protected header text: alg, then jwk (when kid empty) or kid, nonce (when given), url.
inline std::string protectedHeader(std::string_view alg, const EVP_PKEY* key,
                                   const std::string& kid, const std::optional<std::string>& nonce,
                                   const std::string& url) {
  json::object h;
  h["alg"] = alg;
  if (kid.empty()) {
    h["jwk"] = json::parse(jwkJson(key));
  } else {
    h["kid"] = kid;
  }
  if (nonce) h["nonce"] = *nonce;
  h["url"] = url;
  return json::serialize(h);
}

// A temp directory removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/akamu-itest-XXXXXX";
    if (char* d = ::mkdtemp(tmpl)) path_ = d;
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// The server under test

struct ServerOptions {
  std::function<void(config::Config&)> configure;
  std::shared_ptr<core::Clock> clock;
  std::string ca_key_type = "ec:P-256";
};

// The suite runs once on SQLite in memory and once on PostgreSQL: for the second run CTest sets
// AKAMU_TEST_PG_URL_FILE to the file tests/pg/pg_server.sh wrote, and every test server gets a
// fresh schema of that PostgreSQL server of its own.
inline std::string testDatabaseUrl() {
  const char* url_file = std::getenv("AKAMU_TEST_PG_URL_FILE");
  if (url_file == nullptr || *url_file == '\0') return "sqlite::memory:";
  std::ifstream in(url_file);
  std::string url;
  std::getline(in, url);
  if (url.empty()) {
    ADD_FAILURE() << "AKAMU_TEST_PG_URL_FILE=" << url_file << " holds no URL (pg fixture down?)";
    return "sqlite::memory:";
  }
  static std::atomic<int> counter{0};
  const std::string schema =
      "itest_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "test PostgreSQL: " << PQerrorMessage(conn.get());
    return url;
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(conn.get(), ("CREATE SCHEMA " + schema).c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    ADD_FAILURE() << "CREATE SCHEMA: " << PQresultErrorMessage(res.get());
  }
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

class TestServer {
 public:
  // Null (with a test failure recorded) when the server cannot start.
  static std::unique_ptr<TestServer> start(ServerOptions options = {}) {
    std::unique_ptr<TestServer> ts(new TestServer());
    char tmpl[] = "/tmp/akamu-itest-XXXXXX";
    char* dir = ::mkdtemp(tmpl);
    if (dir == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return nullptr;
    }
    ts->dir_ = dir;
    auto responder = client::Http01Responder::start(0);
    if (!responder) {
      ADD_FAILURE() << "responder: " << responder.error().detail;
      return nullptr;
    }
    ts->responder_ = std::move(*responder);

    config::Config cfg = baseConfig(ts->dir_, ts->responder_->port());
    cfg.ca.key_type = options.ca_key_type;
    if (options.configure) options.configure(cfg);
    ts->audit_path_ = cfg.server.audit_log_file;

    auto server = server::Server::create(cfg, options.clock);
    if (!server) {
      ADD_FAILURE() << "Server::create: " << server.error().detail;
      return nullptr;
    }
    ts->server_ = std::move(*server);
    if (auto s = ts->server_->start(); !s) {
      ADD_FAILURE() << "Server::start: " << s.error().detail;
      return nullptr;
    }
    return ts;
  }

  // The configuration every test server starts from: port 0, SQLite in memory (or a fresh
  // PostgreSQL schema, see testDatabaseUrl), files in `dir`.
  static config::Config baseConfig(const std::string& dir, int validation_port) {
    config::Config cfg;
    cfg.listen_addr = "127.0.0.1:0";
    cfg.base_url = "";
    cfg.database.url = testDatabaseUrl();
    cfg.ca.key_file = dir + "/ca.key";
    cfg.ca.cert_file = dir + "/ca.pem";
    cfg.server.audit_log_file = dir + "/audit.log";
    cfg.server.http_validation_port = validation_port;
    cfg.server.http_validation_allow_private_ips = true;
    cfg.server.validation_timeout_secs = 3;
    cfg.server.threads = 2;
    cfg.log.level = "off";
    return cfg;
  }

  ~TestServer() {
    if (server_) server_->stop();
    server_.reset();
    responder_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  server::Server& server() { return *server_; }
  client::Http01Responder& responder() { return *responder_; }
  const std::string& auditPath() const { return audit_path_; }
  const std::string& dir() const { return dir_; }
  std::string directoryUrl() const { return server_->directoryUrl(); }
  std::string url(std::string_view path) const { return server_->baseUrl() + std::string(path); }

  // A client with a fresh key and no account yet.
  AcmeClient client(std::string_view key_type = "ec:P-256") {
    return AcmeClient(directoryUrl(), makeKey(key_type));
  }
  // A client whose account was just created (201).
  AcmeClient account(std::string_view key_type = "ec:P-256") {
    AcmeClient c = client(key_type);
    auto r = c.newAccount({"mailto:it@example.com"});
    EXPECT_TRUE(r && r->status == 201) << (r ? describe(*r) : r.error().detail);
    return c;
  }

  std::vector<json::object> auditEvents() const {
    std::vector<json::object> out;
    std::ifstream in(audit_path_);
    std::string line;
    while (std::getline(in, line)) {
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      if (!ec && v.is_object()) out.push_back(v.as_object());
    }
    return out;
  }

 private:
  TestServer() = default;
  std::string dir_;
  std::string audit_path_;
  std::unique_ptr<client::Http01Responder> responder_;
  std::unique_ptr<server::Server> server_;
};

// One default server for every test that does not need its own configuration. Tests on it use
// fresh accounts and unique names, so they do not interfere.
inline TestServer& sharedServer() {
  static std::unique_ptr<TestServer> shared = [] {
    auto s = TestServer::start();
    if (!s) std::abort();
    return s;
  }();
  return *shared;
}

// ---------------------------------------------------------------------------------------------
// Flows

// Answers every pending authorization's http-01 challenge correctly and polls the order until
// it is ready (or invalid).
inline core::Result<OrderInfo> completeChallenges(AcmeClient& c, client::Http01Responder& responder,
                                                  const OrderInfo& order) {
  auto tp = c.thumbprint();
  if (!tp) return tl::unexpected(tp.error());
  for (const auto& u : order.json.at("authorizations").as_array()) {
    auto authz = c.getAuthorization(std::string(u.as_string()));
    if (!authz) return tl::unexpected(authz.error());
    if (str(*authz, "status") != "pending") continue;
    for (const auto& ch : authz->at("challenges").as_array()) {
      const auto& o = ch.as_object();
      if (str(o, "type") != "http-01") continue;
      responder.set(str(o, "token"), jose::keyAuthorization(str(o, "token"), *tp));
      auto r = c.respondChallenge(str(o, "url"));
      if (!r) return tl::unexpected(r.error());
    }
  }
  return c.pollOrder(order.url, {"ready"}, std::chrono::milliseconds(20), std::chrono::seconds(15));
}

inline core::Result<OrderInfo> readyOrder(AcmeClient& c, client::Http01Responder& responder,
                                          const std::vector<Identifier>& ids) {
  auto order = c.newOrder(ids);
  if (!order) return order;
  return completeChallenges(c, responder, *order);
}

inline core::Result<client::IssueResult> issue(AcmeClient& c, client::Http01Responder& responder,
                                               const std::vector<Identifier>& ids,
                                               std::string_view csr_key_type = "ec:P-256") {
  auto kt = crypto::parseKeyType(csr_key_type);
  if (!kt) return tl::unexpected(kt.error());
  return client::issueCertificate(c, responder, ids, *kt, std::chrono::milliseconds(20));
}

// Finalize with an arbitrary CSR; returns the raw response.
inline core::Result<HttpResponse> finalizeRaw(AcmeClient& c, const OrderInfo& order,
                                              std::span<const std::uint8_t> csr) {
  json::object payload{{"csr", core::base64urlEncode(csr)}};
  return c.post(str(order.json, "finalize"), json::serialize(payload));
}

// POST-as-GET returning the parsed body (empty object on failure).
inline json::object fetch(AcmeClient& c, const std::string& url) {
  auto r = c.post(url, "");
  EXPECT_TRUE(r && r->status == 200) << url << ": " << (r ? describe(*r) : r.error().detail);
  return r ? jsonBody(*r) : json::object{};
}

// ---------------------------------------------------------------------------------------------
// The negative suite (negative_*_test.cpp): a table of hostile requests, each its own test, all
// judged by one function against what RFC 8555 (and RFC 7515/7807/9110/9112) require of every
// error response.
namespace neg {

inline std::string urn(std::string_view name) {
  return "urn:ietf:params:acme:error:" + std::string(name);
}

// One acceptable answer: a status and the problem types allowed with it (none = a success).
struct Expect {
  int status = 0;
  std::vector<std::string> types;
};

// An ACME problem of one of these types (names after "urn:ietf:params:acme:error:").
inline Expect problem(int status, std::initializer_list<std::string_view> names) {
  Expect e{status, {}};
  for (auto n : names) e.types.push_back(urn(n));
  return e;
}
// A status for which RFC 8555 names no ACME type (404, 405, 409, 413, 414, 415, HTTP framing):
// "about:blank" (RFC 7807 §4.2) or the generic malformed.
inline Expect httpProblem(int status) { return Expect{status, {"about:blank", urn("malformed")}}; }
inline Expect success(int status) { return Expect{status, {}}; }

struct Outcome {
  core::Result<HttpResponse> response = core::fail(core::serverInternal("the case sent nothing"));
  bool post = true;               // RFC 8555 §6.5: a Replay-Nonce is expected
  bool resource = true;           // RFC 8555 §7.1: a Link rel="index" is expected
  std::vector<Identifier> named;  // identifiers the subproblems must name (§6.7.1)
  std::function<void(const HttpResponse&)> extra;  // case-specific assertions
};

struct Case {
  std::string name;
  std::function<Outcome()> run;
  std::vector<Expect> expect;
};
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }
inline std::string caseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

inline std::string mediaType(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return lower(t);
}

// Internal error text that must never reach a client (Boulder web/probs.go: details are ours).
inline void expectNoLeak(std::string_view detail) {
  const std::string d = lower(detail);
  for (const char* word : {"sqlite", "postgres", "libpq", "openssl", "routines:", "constraint",
                           "at or near", "std::", "exception", "errno"}) {
    EXPECT_EQ(d.find(word), std::string::npos) << "internal detail leaked: " << detail;
  }
}

// Everything RFC 8555 asks of a response to client input, then the case's own checks.
inline void checkOutcome(const std::vector<Expect>& expect, const Outcome& o,
                         const std::string& directory) {
  ASSERT_TRUE(o.response) << "no HTTP response: " << o.response.error().detail;
  const HttpResponse& r = *o.response;
  if (std::getenv("AKAMU_NEG_TRACE") != nullptr) {  // what each case got, for triage
    std::fprintf(stderr, "[neg] %s: %d %s\n",
                 ::testing::UnitTest::GetInstance()->current_test_info()->name(), r.status,
                 r.body.substr(0, 200).c_str());
  }
  EXPECT_LT(r.status, 500) << "client input must never cause a 5xx: " << describe(r);
  std::vector<std::string> types;
  bool status_ok = false;
  bool want_success = false;
  std::string wanted;
  for (const auto& e : expect) {
    wanted += (wanted.empty() ? "" : " or ") + std::to_string(e.status);
    for (const auto& t : e.types) wanted += " " + t;
    if (e.status != r.status) continue;
    status_ok = true;
    if (e.types.empty()) want_success = true;
    types.insert(types.end(), e.types.begin(), e.types.end());
  }
  EXPECT_TRUE(status_ok) << "expected " << wanted << "; got " << describe(r);
  if (o.resource) {
    EXPECT_TRUE(hasIndexLink(r, directory))
        << "no Link <directory>;rel=\"index\" (RFC 8555 §7.1): " << describe(r);
  }
  if (o.post) {
    const std::string nonce = r.header("replay-nonce");
    EXPECT_FALSE(nonce.empty()) << "no Replay-Nonce on a POST response (RFC 8555 §6.5): "
                                << describe(r);
    if (!nonce.empty()) {
      EXPECT_TRUE(core::base64urlDecode(nonce)) << "Replay-Nonce not base64url (§6.5.1): " << nonce;
    }
  }
  if (!status_ok) return;
  const bool is_problem = mediaType(r.header("content-type")) == "application/problem+json";
  if (want_success && !is_problem) {
    if (o.extra) o.extra(r);
    return;
  }
  EXPECT_TRUE(is_problem) << "error without an application/problem+json body (RFC 8555 §6.7): "
                          << r.header("content-type") << " " << describe(r);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  ASSERT_TRUE(!ec && v.is_object()) << "problem body is not a JSON object: " << describe(r);
  const json::object& body = v.as_object();
  const std::string type = str(body, "type");
  EXPECT_NE(std::find(types.begin(), types.end(), type), types.end())
      << "expected type " << wanted << "; got " << describe(r);
  ASSERT_TRUE(body.contains("detail") && body.at("detail").is_string()) << describe(r);
  expectNoLeak(str(body, "detail"));
  EXPECT_FALSE(body.contains("identifier"))
      << "RFC 8555 §6.7.1: \"identifier\" MUST NOT be at the top level: " << describe(r);
  if (const auto* s = body.if_contains("status")) {
    // RFC 7807 §3.1: the advisory "status" must be the response's own.
    EXPECT_TRUE(s->is_int64() && s->as_int64() == r.status) << describe(r);
  }
  std::vector<Identifier> in_subproblems;
  if (const auto* subs = body.if_contains("subproblems")) {
    ASSERT_TRUE(subs->is_array()) << describe(r);
    for (const auto& sp : subs->as_array()) {
      ASSERT_TRUE(sp.is_object()) << describe(r);
      const auto& so = sp.as_object();
      EXPECT_EQ(str(so, "type").rfind("urn:ietf:params:acme:error:", 0), 0u) << describe(r);
      expectNoLeak(str(so, "detail"));
      const auto* id = so.if_contains("identifier");
      if (id != nullptr && id->is_object()) {
        in_subproblems.push_back({str(id->as_object(), "type"), str(id->as_object(), "value")});
      }
    }
  }
  for (const auto& id : o.named) {
    EXPECT_NE(std::find(in_subproblems.begin(), in_subproblems.end(), id), in_subproblems.end())
        << "no subproblem names " << id.type << ":" << id.value
        << " (RFC 8555 §6.7.1): " << describe(r);
  }
  if (o.extra) o.extra(r);
}

// The JWS signature over exactly `input` with the algorithm that fits `key` (ES* raw r||s, RS256,
// EdDSA); `der_ecdsa` keeps OpenSSL's DER form (for the test that it is refused).
inline std::vector<std::uint8_t> jwsSignature(const EVP_PKEY* key, std::string_view input,
                                              bool der_ecdsa = false) {
  std::span<const std::uint8_t> msg(reinterpret_cast<const std::uint8_t*>(input.data()),
                                    input.size());
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) {
    return crypto::signMessage(key, crypto::SignatureScheme::kEd25519, msg).value();
  }
  if (id == EVP_PKEY_RSA) {
    return crypto::signMessage(key, crypto::SignatureScheme::kRsaPkcs1Sha256, msg).value();
  }
  const int bits = EVP_PKEY_get_bits(key);
  const auto scheme = bits <= 256   ? crypto::SignatureScheme::kEcdsaSha256
                      : bits <= 384 ? crypto::SignatureScheme::kEcdsaSha384
                                    : crypto::SignatureScheme::kEcdsaSha512;
  auto der = crypto::signMessage(key, scheme, msg).value();
  if (der_ecdsa) return der;
  const int field = (bits + 7) / 8;
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), &ECDSA_SIG_free);
  std::vector<std::uint8_t> sig(static_cast<std::size_t>(2 * field));
  BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), sig.data(), field);
  BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), sig.data() + field, field);
  return sig;
}

// A flattened JWS from its three members, taken as given (JSON-escaped, not re-encoded).
inline std::string flatJws(std::string_view protected_b64, std::string_view payload_b64,
                           std::string_view signature_b64) {
  json::object o{
      {"protected", protected_b64}, {"payload", payload_b64}, {"signature", signature_b64}};
  return json::serialize(o);
}

// Signs the members exactly as given (so that a wrong encoding is the only fault).
inline std::string signedFlatJws(const EVP_PKEY* key, std::string_view protected_b64,
                                 std::string_view payload_b64) {
  const std::string input = std::string(protected_b64) + "." + std::string(payload_b64);
  return flatJws(protected_b64, payload_b64, core::base64urlEncode(jwsSignature(key, input)));
}

}  // namespace neg

}  // namespace akamu::itest
