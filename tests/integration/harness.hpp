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

}  // namespace akamu::itest
