// Every validation method end to end through the server: the challenges offered per identifier
// kind, dns-01 (plain and wildcard), dns-persist-01, tls-alpn-01, http-01 for IP identifiers,
// CAA after validation, and the http-01/tls-alpn-01 refusal of loopback targets. DNS answers
// come from a loopback TestDnsServer (the servers' dns_resolver_addr), tls-alpn-01 from a TLS
// server in this file that picks its certificate by SNI (the servers' tls_alpn_validation_port).
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "harness.hpp"
#include "validation/test_dns_server.hpp"

namespace akamu::itest {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using validation::CaaRecord;
using validation::TestDnsServer;

const std::string kIssuerDomain = "ca.example.test";

Identifier ip(std::string value) { return Identifier{"ip", std::move(value)}; }

// base64url(SHA-256(key authorization)): the dns-01 TXT value (RFC 8555 §8.4).
std::string dns01Value(const std::string& key_authorization) {
  const auto d = crypto::sha256(key_authorization);
  return core::base64urlEncode(std::span<const std::uint8_t>(d.data(), d.size()));
}

// A per-process unique label under example.test (answered by the TestDnsServer only).
std::string testName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
         ".example.test";
}

// ---------------------------------------------------------------------------------------------
// tls-alpn-01 responder: TLS on 127.0.0.1:0 offering only acme-tls/1, serving the certificate
// registered for the SNI name (a default one otherwise).

struct KeyCert {
  crypto::PKey key;
  crypto::X509Ptr cert;
};

// A self-signed certificate with exactly one SAN (`san`) and, when `acme_ext_der` is given, the
// critical acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding it.
KeyCert makeAlpnCert(const Identifier& san, std::optional<std::vector<std::uint8_t>> acme_ext_der) {
  KeyCert kc;
  kc.key.reset(EVP_EC_gen("P-256"));
  kc.cert.reset(X509_new());
  X509* c = kc.cert.get();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("acme tls-alpn-01"), -1, -1, 0);
  X509_set_issuer_name(c, X509_get_subject_name(c));
  X509_set_pubkey(c, kc.key.get());
  crypto::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* gn = GENERAL_NAME_new();
  if (san.type == "dns") {
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, san.value.data(), static_cast<int>(san.value.size()));
    GENERAL_NAME_set0_value(gn, GEN_DNS, s);
  } else {
    GENERAL_NAME_set0_value(gn, GEN_IPADD, a2i_IPADDRESS(san.value.c_str()));
  }
  sk_GENERAL_NAME_push(names.get(), gn);
  X509_add1_ext_i2d(c, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT);
  if (acme_ext_der) {
    std::unique_ptr<ASN1_OBJECT, crypto::OsslDeleter<ASN1_OBJECT_free>> obj(
        OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1));
    crypto::Asn1OctetStringPtr data(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(data.get(), acme_ext_der->data(), static_cast<int>(acme_ext_der->size()));
    crypto::X509ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 1, data.get()));
    X509_add_ext(c, ext.get(), -1);
  }
  X509_sign(c, kc.key.get(), EVP_sha256());
  return kc;
}

// DER OCTET STRING of SHA-256(key authorization) (RFC 8737 §3).
std::vector<std::uint8_t> acmeIdentifierDer(const std::string& key_authorization) {
  const auto d = crypto::sha256(key_authorization);
  std::vector<std::uint8_t> der{0x04, static_cast<std::uint8_t>(d.size())};
  der.insert(der.end(), d.begin(), d.end());
  return der;
}

class AlpnResponder {
 public:
  AlpnResponder() : ctx_(ssl::context::tls_server), default_(makeAlpnCert(dns("default"), {})) {
    SSL_CTX* c = ctx_.native_handle();
    SSL_CTX_use_certificate(c, default_.cert.get());
    SSL_CTX_use_PrivateKey(c, default_.key.get());
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_tlsext_servername_callback(c, &AlpnResponder::onServerName);
    SSL_CTX_set_tlsext_servername_arg(c, this);
    SSL_CTX_set_alpn_select_cb(c, &AlpnResponder::selectAlpn, this);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~AlpnResponder() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

  // Serves `kc` to handshakes whose SNI is `sni` (case-insensitive).
  void set(std::string sni, KeyCert kc) {
    std::lock_guard lock(mutex_);
    for (auto& ch : sni) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    certs_[sni] = std::make_shared<KeyCert>(std::move(kc));
  }
  // ClientHellos answered with a certificate that was set(). Counted in the SNI callback,
  // before the certificate is sent: a validator can only have seen the certificate (and so
  // finished) after the count went up. (Counting completed server-side handshakes raced:
  // the validator may close as soon as its side of the handshake is done, before ours is.)
  std::size_t hellos() const { return hellos_.load(); }

 private:
  static int onServerName(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<AlpnResponder*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr) return SSL_TLSEXT_ERR_OK;
    std::string sni(name);
    for (auto& ch : sni) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::shared_ptr<KeyCert> kc;
    {
      std::lock_guard lock(self->mutex_);
      if (auto it = self->certs_.find(sni); it != self->certs_.end()) kc = it->second;
    }
    if (kc) {
      SSL_use_certificate(ssl, kc->cert.get());
      SSL_use_PrivateKey(ssl, kc->key.get());
      self->hellos_.fetch_add(1);
    }
    return SSL_TLSEXT_ERR_OK;
  }

  static int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen,
                        const unsigned char* in, unsigned int inlen, void*) {
    static const unsigned char kWire[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
    unsigned char* sel = nullptr;
    if (SSL_select_next_proto(&sel, outlen, kWire, sizeof(kWire), in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
  }

  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket sock) {
    ssl::stream<tcp::socket> stream(std::move(sock), ctx_);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server,
                                                 asio::as_tuple(asio::use_awaitable));
    if (hec) co_return;
    char buf[64];
    (void)co_await stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
  }

  ssl::context ctx_;
  KeyCert default_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<KeyCert>> certs_;
  std::atomic<std::size_t> hellos_{0};
};

// ---------------------------------------------------------------------------------------------
// The servers: `main` offers dns-persist-01 (issuer ca.example.test) and checks no CAA; `caa`
// has caa_identities = [ca.example.test]. Both resolve through `dns` and validate tls-alpn-01
// against `tls`.

struct Env {
  std::unique_ptr<TestDnsServer> dns;
  std::unique_ptr<AlpnResponder> tls;
  std::unique_ptr<TestServer> main;
  std::unique_ptr<TestServer> caa;
};

void configureValidation(config::Config& cfg, const Env& e) {
  cfg.server.dns_resolver_addr = e.dns->address();
  cfg.server.dns_timeout_secs = 3;
  cfg.server.tls_alpn_validation_port = e.tls->port();
  cfg.server.http_validation_allow_private_ips = true;
}

Env& env() {
  static std::unique_ptr<Env> e = [] {
    auto out = std::make_unique<Env>();
    auto dns_server = TestDnsServer::start();
    if (!dns_server) {
      ADD_FAILURE() << dns_server.error().detail;
      std::abort();
    }
    out->dns = std::move(*dns_server);
    out->tls = std::make_unique<AlpnResponder>();
    Env* raw = out.get();
    out->main = TestServer::start({.configure = [raw](config::Config& cfg) {
      configureValidation(cfg, *raw);
      cfg.server.dns_persist_issuer_domains = {kIssuerDomain};
    }});
    out->caa = TestServer::start({.configure = [raw](config::Config& cfg) {
      configureValidation(cfg, *raw);
      cfg.server.caa_identities = {kIssuerDomain};
    }});
    if (!out->main || !out->caa) std::abort();
    return out;
  }();
  return *e;
}

// ---------------------------------------------------------------------------------------------
// Flows

// Called once per pending authorization before its challenge is answered.
using Publish = std::function<void(const json::object& authz, const json::object& challenge,
                                   const std::string& key_authorization)>;

const json::object* challengeOfType(const json::object& authz, std::string_view type) {
  const auto* chs = authz.if_contains("challenges");
  if (chs == nullptr || !chs->is_array()) return nullptr;
  for (const auto& ch : chs->as_array()) {
    if (ch.is_object() && str(ch.as_object(), "type") == type) return &ch.as_object();
  }
  return nullptr;
}

std::set<std::string> typesOf(const json::object& authz) {
  std::set<std::string> out;
  if (const auto* chs = authz.if_contains("challenges"); chs != nullptr && chs->is_array()) {
    for (const auto& ch : chs->as_array()) out.insert(str(ch.as_object(), "type"));
  }
  return out;
}

std::string identifierValue(const json::object& authz) {
  const auto* id = authz.if_contains("identifier");
  return id != nullptr && id->is_object() ? str(id->as_object(), "value") : std::string();
}

std::vector<std::string> authzUrls(const OrderInfo& order) {
  std::vector<std::string> out;
  for (const auto& u : order.json.at("authorizations").as_array()) {
    out.emplace_back(u.as_string());
  }
  return out;
}

// Publishes every pending authorization's `type` challenge, then answers them all, then polls
// the order until ready or invalid.
core::Result<OrderInfo> validateOrder(AcmeClient& c, const OrderInfo& order, std::string_view type,
                                      const Publish& publish) {
  auto tp = c.thumbprint();
  if (!tp) return tl::unexpected(tp.error());
  std::vector<std::string> to_answer;
  for (const auto& url : authzUrls(order)) {
    auto authz = c.getAuthorization(url);
    if (!authz) return tl::unexpected(authz.error());
    if (str(*authz, "status") != "pending") continue;
    const json::object* ch = challengeOfType(*authz, type);
    if (ch == nullptr) {
      return core::fail(core::serverInternal("no " + std::string(type) + " offered for " +
                                             identifierValue(*authz)));
    }
    publish(*authz, *ch, jose::keyAuthorization(str(*ch, "token"), *tp));
    to_answer.push_back(str(*ch, "url"));
  }
  for (const auto& url : to_answer) {
    auto r = c.respondChallenge(url);
    if (!r) return tl::unexpected(r.error());
  }
  return c.pollOrder(order.url, {"ready"}, std::chrono::milliseconds(20), std::chrono::seconds(20));
}

struct Issued {
  std::string pem;
  crypto::PKey key;
};

// Finalizes a ready order with a fresh P-256 key and a CSR for `ids`, then downloads the chain.
core::Result<Issued> finalizeAndDownload(AcmeClient& c, const OrderInfo& ready,
                                         const std::vector<Identifier>& ids) {
  Issued out;
  out.key = makeKey();
  auto csr = crypto::buildCsr(out.key.get(), ids, std::nullopt);
  if (!csr) return tl::unexpected(csr.error());
  auto done = c.finalize(ready, *csr);
  if (!done) return tl::unexpected(done.error());
  if (done->status() != "valid") {
    done = c.pollOrder(ready.url, {"valid"}, std::chrono::milliseconds(20));
    if (!done) return tl::unexpected(done.error());
  }
  if (done->status() != "valid") {
    return core::fail(core::serverInternal("order ended " + done->status()));
  }
  auto pem = c.downloadCertificate(str(done->json, "certificate"));
  if (!pem) return tl::unexpected(pem.error());
  out.pem = std::move(*pem);
  return out;
}

core::Result<Issued> issueVia(AcmeClient& c, const std::vector<Identifier>& ids,
                              std::string_view type, const Publish& publish) {
  auto order = c.newOrder(ids);
  if (!order) return tl::unexpected(order.error());
  auto ready = validateOrder(c, *order, type, publish);
  if (!ready) return tl::unexpected(ready.error());
  if (ready->status() != "ready") {
    std::string errors;
    for (const auto& url : authzUrls(*ready)) {
      auto a = c.getAuthorization(url);
      if (!a) continue;
      for (const auto& ch : a->at("challenges").as_array()) {
        if (const auto* e = ch.as_object().if_contains("error")) errors += json::serialize(*e);
      }
    }
    return core::fail(core::serverInternal("order is " + ready->status() + ": " + errors));
  }
  return finalizeAndDownload(c, *ready, ids);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::set<std::pair<std::string, std::string>> idSet(const std::vector<Identifier>& ids) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& id : ids) out.emplace(id.type, id.value);
  return out;
}

// The chain is leaf + this server's CA, verifies, and the leaf's SANs are exactly `sans`.
void expectIssued(TestServer& ts, const core::Result<Issued>& issued,
                  const std::vector<Identifier>& sans) {
  ASSERT_TRUE(issued) << issued.error().detail;
  auto chain = crypto::certChainFromPem(issued->pem);
  ASSERT_TRUE(chain) << issued->pem;
  ASSERT_EQ(chain->size(), 2u);
  auto ca = crypto::certFromPem(readFile(ts.dir() + "/ca.pem"));
  ASSERT_TRUE(ca);
  EXPECT_EQ(crypto::certToDer((*chain)[1].get()), crypto::certToDer(ca->get()));
  auto verified = crypto::verifyChain((*chain)[0].get(), ca->get());
  EXPECT_TRUE(verified) << (verified ? "" : verified.error().detail);
  auto info = crypto::inspectCertificate((*chain)[0].get());
  ASSERT_TRUE(info);
  EXPECT_EQ(idSet(info->identifiers), idSet(sans));
  EXPECT_TRUE(crypto::publicKeysEqual(info->public_key.get(), issued->key.get()));
}

// Answers the `type` challenge of the order's only authorization after `publish`, and returns
// the challenge object once it is valid or invalid (empty when it never got there).
json::object answerOne(AcmeClient& c, const OrderInfo& order, std::string_view type,
                       const Publish& publish) {
  const std::string authz_url = authzUrls(order).at(0);
  auto authz = c.getAuthorization(authz_url);
  EXPECT_TRUE(authz);
  if (!authz) return {};
  const json::object* ch = challengeOfType(*authz, type);
  EXPECT_NE(ch, nullptr) << type << " not offered: " << json::serialize(*authz);
  if (ch == nullptr) return {};
  publish(*authz, *ch, jose::keyAuthorization(str(*ch, "token"), c.thumbprint().value()));
  auto r = c.respondChallenge(str(*ch, "url"));
  EXPECT_TRUE(r) << r.error().detail;
  json::object final_state;
  const bool done = waitUntil(
      [&] {
        auto a = c.getAuthorization(authz_url);
        if (!a) return false;
        const json::object* now = challengeOfType(*a, type);
        if (now == nullptr) return false;
        const std::string s = str(*now, "status");
        if (s != "valid" && s != "invalid") return false;
        final_state = *now;
        return true;
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(done) << type << " challenge never left processing";
  return final_state;
}

::testing::AssertionResult challengeFailedWith(const json::object& ch, ProblemType type) {
  if (str(ch, "status") != "invalid") {
    return ::testing::AssertionFailure() << "challenge not invalid: " << json::serialize(ch);
  }
  const auto* e = ch.if_contains("error");
  if (e == nullptr || !e->is_object()) {
    return ::testing::AssertionFailure() << "invalid challenge without error";
  }
  const auto p = client::problemFromJson(e->as_object());
  if (p.type != type) {
    return ::testing::AssertionFailure()
           << "expected " << problemName(type) << ", got " << json::serialize(*e);
  }
  return ::testing::AssertionSuccess();
}

// The authorization and order follow a failed challenge into "invalid".
void expectOrderInvalid(AcmeClient& c, const OrderInfo& order) {
  auto o = c.pollOrder(order.url, {"invalid"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(o) << o.error().detail;
  EXPECT_EQ(o->status(), "invalid");
  auto a = c.getAuthorization(authzUrls(order).at(0));
  ASSERT_TRUE(a);
  EXPECT_EQ(str(*a, "status"), "invalid");
}

Publish dns01Publisher(TestDnsServer& dns) {
  auto values = std::make_shared<std::map<std::string, std::vector<std::string>>>();
  return [&dns, values](const json::object& authz, const json::object&, const std::string& ka) {
    const std::string name = "_acme-challenge." + identifierValue(authz);
    (*values)[name].push_back(dns01Value(ka));
    dns.setTxt(name, (*values)[name]);
  };
}

Publish http01Publisher(TestServer& ts) {
  return [&ts](const json::object&, const json::object& ch, const std::string& ka) {
    ts.responder().set(str(ch, "token"), ka);
  };
}

Publish tlsAlpnPublisher(AlpnResponder& tls, bool wrong_digest = false) {
  return
      [&tls, wrong_digest](const json::object& authz, const json::object&, const std::string& ka) {
        const auto* idv = authz.if_contains("identifier");
        Identifier id{str(idv->as_object(), "type"), str(idv->as_object(), "value")};
        tls.set(id.value, makeAlpnCert(id, acmeIdentifierDer(wrong_digest ? ka + "x" : ka)));
      };
}

const Publish kNothing = [](const json::object&, const json::object&, const std::string&) {};

std::string persistRecord(std::string_view issuer, std::string_view account_url,
                          std::string_view extra = "") {
  return std::string(issuer) + "; accounturi=" + std::string(account_url) + std::string(extra);
}

// ---------------------------------------------------------------------------------------------
// Offered challenges

TEST(ValidationMethods, OfferedChallengeTypesPerIdentifierKind) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string base = testName("offer");
  auto order = c.newOrder({dns(base), dns("*." + base), ip("127.0.0.1")});
  ASSERT_TRUE(order) << order.error().detail;
  int seen = 0;
  for (const auto& url : authzUrls(*order)) {
    auto a = c.getAuthorization(url);
    ASSERT_TRUE(a);
    const auto& id = a->at("identifier").as_object();
    const bool wildcard =
        a->contains("wildcard") && a->at("wildcard").is_bool() && a->at("wildcard").as_bool();
    if (str(id, "type") == "ip") {
      EXPECT_EQ(str(id, "value"), "127.0.0.1");
      EXPECT_FALSE(wildcard);
      EXPECT_EQ(typesOf(*a), (std::set<std::string>{"http-01", "tls-alpn-01"}));
    } else if (wildcard) {
      EXPECT_EQ(str(id, "value"), base) << "a wildcard authz names the base domain";
      EXPECT_EQ(typesOf(*a), (std::set<std::string>{"dns-01", "dns-persist-01"}));
    } else {
      EXPECT_EQ(str(id, "value"), base);
      EXPECT_EQ(typesOf(*a),
                (std::set<std::string>{"http-01", "dns-01", "tls-alpn-01", "dns-persist-01"}));
    }
    ++seen;
    for (const auto& chv : a->at("challenges").as_array()) {
      const auto& ch = chv.as_object();
      EXPECT_EQ(str(ch, "status"), "pending");
      EXPECT_FALSE(str(ch, "url").empty());
      if (str(ch, "type") == "dns-persist-01") {
        EXPECT_FALSE(ch.contains("token")) << json::serialize(ch);
        const auto* names = ch.if_contains("issuer-domain-names");
        ASSERT_TRUE(names != nullptr && names->is_array()) << json::serialize(ch);
        ASSERT_EQ(names->as_array().size(), 1u);
        ASSERT_TRUE(names->as_array()[0].is_string());
        EXPECT_EQ(names->as_array()[0].as_string(), kIssuerDomain);
      } else {
        EXPECT_EQ(str(ch, "token").size(), 43u) << json::serialize(ch);
        EXPECT_FALSE(ch.contains("issuer-domain-names"));
      }
    }
  }
  EXPECT_EQ(seen, 3);
}

TEST(ValidationMethods, DnsPersistNotOfferedWithoutIssuerDomains) {
  auto& ts = sharedServer();  // no dns_persist_issuer_domains
  AcmeClient c = ts.account();
  const std::string base = testName("nopersist");
  auto order = c.newOrder({dns(base), dns("*." + base), ip("127.0.0.1")});
  ASSERT_TRUE(order) << order.error().detail;
  for (const auto& url : authzUrls(*order)) {
    auto a = c.getAuthorization(url);
    ASSERT_TRUE(a);
    const bool wildcard = a->contains("wildcard") && a->at("wildcard").as_bool();
    const std::string type = str(a->at("identifier").as_object(), "type");
    const auto types = typesOf(*a);
    if (type == "ip") {
      EXPECT_EQ(types, (std::set<std::string>{"http-01", "tls-alpn-01"}));
    } else if (wildcard) {
      EXPECT_EQ(types, (std::set<std::string>{"dns-01"}));
    } else {
      EXPECT_EQ(types, (std::set<std::string>{"http-01", "dns-01", "tls-alpn-01"}));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// dns-01

TEST(ValidationMethods, Dns01IssuesCertificate) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::vector<Identifier> ids{dns(testName("d01"))};
  expectIssued(*e.main, issueVia(c, ids, "dns-01", dns01Publisher(*e.dns)), ids);
}

TEST(ValidationMethods, Dns01WrongTxtIsUnauthorized) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string name = testName("d01wrong");
  auto order = c.newOrder({dns(name)});
  ASSERT_TRUE(order);
  auto ch = answerOne(c, *order, "dns-01",
                      [&](const json::object&, const json::object&, const std::string& ka) {
                        e.dns->setTxt("_acme-challenge." + name, {dns01Value(ka + "x")});
                      });
  EXPECT_TRUE(challengeFailedWith(ch, ProblemType::kUnauthorized));
  expectOrderInvalid(c, *order);
}

TEST(ValidationMethods, Dns01MissingTxtIsUnauthorized) {
  auto& e = env();
  AcmeClient c = e.main->account();
  auto order = c.newOrder({dns(testName("d01none"))});
  ASSERT_TRUE(order);
  EXPECT_TRUE(
      challengeFailedWith(answerOne(c, *order, "dns-01", kNothing), ProblemType::kUnauthorized));
}

TEST(ValidationMethods, Dns01ServfailIsDnsProblem) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string name = testName("d01sf");
  e.dns->setServfail("_acme-challenge." + name);
  auto order = c.newOrder({dns(name)});
  ASSERT_TRUE(order);
  EXPECT_TRUE(challengeFailedWith(answerOne(c, *order, "dns-01", kNothing), ProblemType::kDns));
  expectOrderInvalid(c, *order);
}

TEST(ValidationMethods, WildcardAndBaseIssuedViaDns01) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string base = testName("w");
  const std::vector<Identifier> ids{dns("*." + base), dns(base)};
  auto order = c.newOrder(ids);
  ASSERT_TRUE(order) << order.error().detail;
  // The order lists the wildcard as asked; its authorization names the base, flagged.
  std::set<std::string> ordered;
  for (const auto& v : order->json.at("identifiers").as_array()) {
    ordered.insert(str(v.as_object(), "value"));
  }
  EXPECT_EQ(ordered, (std::set<std::string>{"*." + base, base}));
  int wildcards = 0;
  for (const auto& url : authzUrls(*order)) {
    auto a = c.getAuthorization(url);
    ASSERT_TRUE(a);
    EXPECT_EQ(identifierValue(*a), base);
    if (a->contains("wildcard") && a->at("wildcard").as_bool()) {
      ++wildcards;
      EXPECT_EQ(challengeOfType(*a, "http-01"), nullptr);
      EXPECT_EQ(challengeOfType(*a, "tls-alpn-01"), nullptr);
      EXPECT_NE(challengeOfType(*a, "dns-01"), nullptr);
    }
  }
  EXPECT_EQ(wildcards, 1);
  auto ready = validateOrder(c, *order, "dns-01", dns01Publisher(*e.dns));
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready") << json::serialize(ready->json);
  expectIssued(*e.main, finalizeAndDownload(c, *ready, ids), ids);
}

// ---------------------------------------------------------------------------------------------
// dns-persist-01

TEST(ValidationMethods, DnsPersist01IssuesAndTheRecordServesLaterOrders) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string name = testName("p");
  e.dns->setTxt("_validation-persist." + name, {persistRecord(kIssuerDomain, c.accountUrl())});
  const std::vector<Identifier> ids{dns(name)};
  expectIssued(*e.main, issueVia(c, ids, "dns-persist-01", kNothing), ids);

  // A second order: nothing changes in DNS, the same record validates it again.
  const std::uint64_t queries = e.dns->queryCount();
  auto order = c.newOrder(ids);
  ASSERT_TRUE(order);
  auto a = c.getAuthorization(authzUrls(*order).at(0));
  ASSERT_TRUE(a);
  if (str(*a, "status") == "pending") {
    EXPECT_EQ(str(answerOne(c, *order, "dns-persist-01", kNothing), "status"), "valid");
    EXPECT_GT(e.dns->queryCount(), queries);
  }
  auto ready = c.pollOrder(order->url, {"ready"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(ready);
  ASSERT_EQ(ready->status(), "ready");
  expectIssued(*e.main, finalizeAndDownload(c, *ready, ids), ids);
}

TEST(ValidationMethods, DnsPersist01WildcardWithPolicy) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string base = testName("pw");
  e.dns->setTxt("_validation-persist." + base,
                {persistRecord(kIssuerDomain, c.accountUrl(), "; policy=wildcard")});
  const std::vector<Identifier> ids{dns("*." + base), dns(base)};
  expectIssued(*e.main, issueVia(c, ids, "dns-persist-01", kNothing), ids);
}

struct PersistRejection {
  const char* label;
  bool wildcard;
  std::function<std::string(const std::string& account_url)> record;
};

TEST(ValidationMethods, DnsPersist01Rejections) {
  auto& e = env();
  const std::vector<PersistRejection> cases = {
      {"wrong issuer", false,
       [](const std::string& acct) { return persistRecord("other.example", acct); }},
      {"wrong accounturi", false,
       [](const std::string& acct) { return persistRecord(kIssuerDomain, acct + "x"); }},
      {"wildcard without policy", true,
       [](const std::string& acct) { return persistRecord(kIssuerDomain, acct); }},
      {"persistUntil in the past", false,
       [](const std::string& acct) {
         return persistRecord(kIssuerDomain, acct, "; persistUntil=2000-01-01T00:00:00Z");
       }},
      {"unparseable persistUntil", false,
       [](const std::string& acct) {
         return persistRecord(kIssuerDomain, acct, "; persistUntil=tomorrow");
       }},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.label);
    AcmeClient c = e.main->account();
    const std::string base = testName("prej");
    e.dns->setTxt("_validation-persist." + base, {tc.record(c.accountUrl())});
    auto order = c.newOrder({dns(tc.wildcard ? "*." + base : base)});
    ASSERT_TRUE(order) << order.error().detail;
    EXPECT_TRUE(challengeFailedWith(answerOne(c, *order, "dns-persist-01", kNothing),
                                    ProblemType::kUnauthorized));
    expectOrderInvalid(c, *order);
  }
}

// ---------------------------------------------------------------------------------------------
// tls-alpn-01 (names under .localhost are loopback for the validator, RFC 6761)

TEST(ValidationMethods, TlsAlpn01IssuesCertificate) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::vector<Identifier> ids{dns(uniqueName("alpn"))};
  const std::size_t before = e.tls->hellos();
  expectIssued(*e.main, issueVia(c, ids, "tls-alpn-01", tlsAlpnPublisher(*e.tls)), ids);
  EXPECT_GT(e.tls->hellos(), before);
}

TEST(ValidationMethods, TlsAlpn01WrongDigestIsIncorrectResponse) {
  auto& e = env();
  AcmeClient c = e.main->account();
  auto order = c.newOrder({dns(uniqueName("alpnbad"))});
  ASSERT_TRUE(order);
  EXPECT_TRUE(
      challengeFailedWith(answerOne(c, *order, "tls-alpn-01", tlsAlpnPublisher(*e.tls, true)),
                          ProblemType::kIncorrectResponse));
  expectOrderInvalid(c, *order);
}

// ---------------------------------------------------------------------------------------------
// IP identifiers (RFC 8738)

TEST(ValidationMethods, IpIdentifierIssuedViaHttp01) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::vector<Identifier> ids{ip("127.0.0.1")};
  auto order = c.newOrder(ids);
  ASSERT_TRUE(order) << order.error().detail;
  auto a = c.getAuthorization(authzUrls(*order).at(0));
  ASSERT_TRUE(a);
  EXPECT_EQ(challengeOfType(*a, "dns-01"), nullptr);
  EXPECT_EQ(challengeOfType(*a, "dns-persist-01"), nullptr);
  auto ready = validateOrder(c, *order, "http-01", http01Publisher(*e.main));
  ASSERT_TRUE(ready) << ready.error().detail;
  ASSERT_EQ(ready->status(), "ready");
  auto issued = finalizeAndDownload(c, *ready, ids);
  expectIssued(*e.main, issued, ids);
  ASSERT_TRUE(issued);
  // The SAN is an iPAddress entry, not a dNSName "127.0.0.1".
  auto leaf = crypto::certFromPem(issued->pem);
  ASSERT_TRUE(leaf);
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf->get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(sans, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(sans), 1);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, 0);
  EXPECT_EQ(gn->type, GEN_IPADD);
  if (gn->type == GEN_IPADD) {
    const unsigned char want[] = {127, 0, 0, 1};
    ASSERT_EQ(ASN1_STRING_length(gn->d.iPAddress), 4);
    EXPECT_EQ(std::memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), want, 4), 0);
  }
  GENERAL_NAMES_free(sans);
}

TEST(ValidationMethods, IpIdentifierViaTlsAlpn01) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::vector<Identifier> ids{ip("127.0.0.1")};
  // The validator's SNI for 127.0.0.1 is 1.0.0.127.in-addr.arpa (RFC 8738 §6).
  auto publish = [&e](const json::object&, const json::object&, const std::string& ka) {
    e.tls->set("1.0.0.127.in-addr.arpa", makeAlpnCert(ip("127.0.0.1"), acmeIdentifierDer(ka)));
  };
  expectIssued(*e.main, issueVia(c, ids, "tls-alpn-01", publish), ids);
}

// ---------------------------------------------------------------------------------------------
// CAA (caa_identities = [ca.example.test])

TEST(ValidationMethods, CaaAbsentOrPermittingIssues) {
  auto& e = env();
  AcmeClient c = e.caa->account();
  const std::vector<Identifier> none{dns(testName("caanone"))};
  expectIssued(*e.caa, issueVia(c, none, "dns-01", dns01Publisher(*e.dns)), none);

  const std::string name = testName("caaok");
  e.dns->setCaa(name, {CaaRecord{0, "issue", kIssuerDomain}});
  const std::vector<Identifier> ok{dns(name)};
  expectIssued(*e.caa, issueVia(c, ok, "dns-01", dns01Publisher(*e.dns)), ok);

  // A record at a parent applies to names below it (RFC 8659 §3 tree climbing).
  const std::string parent = testName("caaparent");
  e.dns->setCaa(parent, {CaaRecord{0, "issue", kIssuerDomain + "; accounturi=" + c.accountUrl()}});
  const std::vector<Identifier> child{dns("www." + parent)};
  expectIssued(*e.caa, issueVia(c, child, "dns-01", dns01Publisher(*e.dns)), child);
}

TEST(ValidationMethods, CaaRefusals) {
  auto& e = env();
  struct Case {
    const char* label;
    std::function<std::vector<CaaRecord>(const std::string& account_url)> records;
  };
  const std::vector<Case> cases = {
      {"other issuer",
       [](const std::string&) {
         return std::vector<CaaRecord>{{0, "issue", "other.example"}};
       }},
      {"accounturi mismatch",
       [](const std::string& acct) {
         return std::vector<CaaRecord>{{0, "issue", kIssuerDomain + "; accounturi=" + acct + "x"}};
       }},
      {"empty issue (nobody may issue)",
       [](const std::string&) {
         return std::vector<CaaRecord>{{0, "issue", ";"}};
       }},
      {"unknown critical tag",
       [](const std::string&) {
         return std::vector<CaaRecord>{{0, "issue", kIssuerDomain}, {128, "tbs", "x"}};
       }},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.label);
    AcmeClient c = e.caa->account();
    const std::string name = testName("caabad");
    e.dns->setCaa(name, tc.records(c.accountUrl()));
    auto order = c.newOrder({dns(name)});
    ASSERT_TRUE(order);
    auto ch = answerOne(c, *order, "dns-01", dns01Publisher(*e.dns));
    EXPECT_TRUE(challengeFailedWith(ch, ProblemType::kCaa));
    expectOrderInvalid(c, *order);
  }
}

TEST(ValidationMethods, CaaValidationMethods) {
  auto& e = env();
  AcmeClient c = e.caa->account();
  // http-01 needs a name the system resolver maps to loopback; CAA for it is still looked up
  // through dns_resolver_addr (the TestDnsServer).
  const std::string name = uniqueName("caavm");
  e.dns->setCaa(name, {CaaRecord{0, "issue", kIssuerDomain + "; validationmethods=dns-01"}});
  auto order = c.newOrder({dns(name)});
  ASSERT_TRUE(order);
  auto ch = answerOne(c, *order, "http-01", http01Publisher(*e.caa));
  EXPECT_TRUE(challengeFailedWith(ch, ProblemType::kCaa));
  expectOrderInvalid(c, *order);

  // The same record allows dns-01.
  const std::vector<Identifier> ids{dns(name)};
  expectIssued(*e.caa, issueVia(c, ids, "dns-01", dns01Publisher(*e.dns)), ids);

  // And validationmethods naming http-01 allows http-01.
  const std::string name2 = uniqueName("caavm2");
  e.dns->setCaa(name2, {CaaRecord{0, "issue", kIssuerDomain + "; validationmethods=http-01"}});
  const std::vector<Identifier> ids2{dns(name2)};
  expectIssued(*e.caa, issueVia(c, ids2, "http-01", http01Publisher(*e.caa)), ids2);
}

TEST(ValidationMethods, CaaIssuewildGovernsWildcards) {
  auto& e = env();
  AcmeClient c = e.caa->account();
  {
    // issue allows us, issuewild names another CA: the base name passes, the wildcard fails.
    const std::string base = testName("cw");
    e.dns->setCaa(
        base, {CaaRecord{0, "issue", kIssuerDomain}, CaaRecord{0, "issuewild", "other.example"}});
    auto order = c.newOrder({dns("*." + base), dns(base)});
    ASSERT_TRUE(order);
    auto done = validateOrder(c, *order, "dns-01", dns01Publisher(*e.dns));
    ASSERT_TRUE(done) << done.error().detail;
    EXPECT_EQ(done->status(), "invalid");
    for (const auto& url : authzUrls(*order)) {
      auto a = c.getAuthorization(url);
      ASSERT_TRUE(a);
      const bool wildcard = a->contains("wildcard") && a->at("wildcard").as_bool();
      const json::object* ch = challengeOfType(*a, "dns-01");
      ASSERT_NE(ch, nullptr);
      if (wildcard) {
        EXPECT_TRUE(challengeFailedWith(*ch, ProblemType::kCaa));
      } else {
        // The base name may have been validated before the order went invalid, or still be
        // pending if the wildcard failed first; it must never fail for CAA.
        EXPECT_NE(str(*ch, "status"), "invalid") << json::serialize(*ch);
      }
    }
  }
  {
    // issue names another CA, issuewild allows us: a wildcard-only order is issued.
    const std::string base = testName("cw2");
    e.dns->setCaa(
        base, {CaaRecord{0, "issue", "other.example"}, CaaRecord{0, "issuewild", kIssuerDomain}});
    const std::vector<Identifier> ids{dns("*." + base)};
    expectIssued(*e.caa, issueVia(c, ids, "dns-01", dns01Publisher(*e.dns)), ids);
    // ... but the base name itself is refused by its issue record.
    auto order = c.newOrder({dns(base)});
    ASSERT_TRUE(order);
    EXPECT_TRUE(challengeFailedWith(answerOne(c, *order, "dns-01", dns01Publisher(*e.dns)),
                                    ProblemType::kCaa));
  }
}

TEST(ValidationMethods, CaaNotCheckedForIpIdentifiers) {
  auto& e = env();
  AcmeClient c = e.caa->account();
  const std::vector<Identifier> ids{ip("127.0.0.1")};
  expectIssued(*e.caa, issueVia(c, ids, "http-01", http01Publisher(*e.caa)), ids);
}

// ---------------------------------------------------------------------------------------------
// Every validation lookup goes through the configured resolver: names only the TestDnsServer
// knows validate over http-01 and tls-alpn-01 (the system resolver has never heard of them),
// and a lookup that never answers fails the validation within validation_timeout_secs.

TEST(ValidationMethods, Http01ForANameOnlyTheConfiguredResolverKnows) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string name = testName("onlydns");
  e.dns->setA(name, "127.0.0.1");
  const std::vector<Identifier> ids{dns(name)};
  expectIssued(*e.main, issueVia(c, ids, "http-01", http01Publisher(*e.main)), ids);
}

TEST(ValidationMethods, TlsAlpn01ForANameOnlyTheConfiguredResolverKnows) {
  auto& e = env();
  AcmeClient c = e.main->account();
  const std::string name = testName("onlydnsalpn");
  e.dns->setA(name, "127.0.0.1");
  const std::vector<Identifier> ids{dns(name)};
  const std::size_t before = e.tls->hellos();
  expectIssued(*e.main, issueVia(c, ids, "tls-alpn-01", tlsAlpnPublisher(*e.tls)), ids);
  EXPECT_GT(e.tls->hellos(), before);
}

TEST(ValidationMethods, LookupThatNeverAnswersFailsTheValidationWithinItsTimeout) {
  auto& e = env();
  // The resolver's own query timeout (30 s) is longer than the validation's (1 s): the
  // validation's bounds the lookup.
  auto ts = TestServer::start({.configure = [&e](config::Config& cfg) {
    configureValidation(cfg, e);
    cfg.server.dns_timeout_secs = 30;
    cfg.server.validation_timeout_secs = 1;
  }});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  for (const char* type : {"http-01", "tls-alpn-01"}) {
    SCOPED_TRACE(type);
    const std::string name = testName("blackhole");
    e.dns->setDrop(name);
    auto order = c.newOrder({dns(name)});
    ASSERT_TRUE(order) << order.error().detail;
    const auto started = std::chrono::steady_clock::now();
    auto ch = answerOne(
        c, *order, type,
        std::string_view(type) == "http-01" ? http01Publisher(*ts) : tlsAlpnPublisher(*e.tls));
    EXPECT_TRUE(challengeFailedWith(ch, ProblemType::kDns));
    // Not a timing target: a bound far below the resolver's 30 s proves which timeout acted.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
    expectOrderInvalid(c, *order);
  }
}

// ---------------------------------------------------------------------------------------------
// SSRF: without http_validation_allow_private_ips, loopback targets are refused.

TEST(ValidationMethods, LoopbackTargetsRefusedWithoutPrivateIpPermission) {
  auto& e = env();
  auto ts = TestServer::start({.configure = [&e](config::Config& cfg) {
    configureValidation(cfg, e);
    cfg.server.http_validation_allow_private_ips = false;
  }});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();
  {
    // A non-public IP identifier is refused at newOrder: the CA could not validate it.
    auto order = c.newOrder({ip("127.0.0.1")});
    ASSERT_FALSE(order);
    EXPECT_EQ(order.error().type, ProblemType::kRejectedIdentifier);
  }
  {
    // A name that resolves to loopback is refused at validation, before any connection.
    const std::string name = uniqueName("ssrf");  // *.localhost: loopback
    auto order = c.newOrder({dns(name)});
    ASSERT_TRUE(order);
    const std::size_t before = ts->responder().requestCount();
    auto ch = answerOne(c, *order, "http-01", http01Publisher(*ts));
    EXPECT_TRUE(challengeFailedWith(ch, ProblemType::kRejectedIdentifier));
    EXPECT_EQ(ts->responder().requestCount(), before) << "the validator connected anyway";
    expectOrderInvalid(c, *order);
  }
  {
    const std::string name = uniqueName("ssrfalpn");
    auto order = c.newOrder({dns(name)});
    ASSERT_TRUE(order);
    const std::size_t before = e.tls->hellos();
    auto ch = answerOne(c, *order, "tls-alpn-01", tlsAlpnPublisher(*e.tls));
    EXPECT_TRUE(challengeFailedWith(ch, ProblemType::kRejectedIdentifier));
    EXPECT_EQ(e.tls->hellos(), before);
  }
}

// ---------------------------------------------------------------------------------------------
// CAA is relied on for at most 8 hours after validation (RFC 8659 §3); a later finalize looks
// it up again.

TEST(ValidationMethods, CaaIsRecheckedAtFinalizeAfterEightHours) {
  auto& e = env();
  auto clock = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
  auto ts = TestServer::start({.configure =
                                   [&e](config::Config& cfg) {
                                     configureValidation(cfg, e);
                                     cfg.server.caa_identities = {kIssuerDomain};
                                   },
                               .clock = clock});
  ASSERT_TRUE(ts);
  AcmeClient c = ts->account();

  // Validated now, CAA changes to forbid us, finalized 9 hours later: refused with `caa`.
  const std::string stale = testName("caastale");
  auto order = c.newOrder({dns(stale)});
  ASSERT_TRUE(order);
  auto ready = validateOrder(c, *order, "dns-01", dns01Publisher(*e.dns));
  ASSERT_TRUE(ready);
  ASSERT_EQ(ready->status(), "ready");
  e.dns->setCaa(stale, {CaaRecord{0, "issue", "other.example"}});
  clock->advance(std::chrono::hours(9));
  auto key = makeKey();
  auto csr = crypto::buildCsr(key.get(), {dns(stale)}, std::nullopt);
  ASSERT_TRUE(csr);
  auto refused = c.finalize(*ready, *csr);
  EXPECT_TRUE(failedWith(refused, ProblemType::kCaa));
  auto after = c.pollOrder(ready->url, {"ready", "valid"}, std::chrono::milliseconds(5));
  ASSERT_TRUE(after);
  EXPECT_NE(after->status(), "valid") << "a certificate was issued despite CAA";

  // The same change within the 8-hour window does not stop issuance (the check is reused).
  const std::string fresh = testName("caafresh");
  auto order2 = c.newOrder({dns(fresh)});
  ASSERT_TRUE(order2);
  auto ready2 = validateOrder(c, *order2, "dns-01", dns01Publisher(*e.dns));
  ASSERT_TRUE(ready2);
  e.dns->setCaa(fresh, {CaaRecord{0, "issue", "other.example"}});
  clock->advance(std::chrono::hours(1));
  auto issued = finalizeAndDownload(c, *ready2, {dns(fresh)});
  EXPECT_TRUE(issued.has_value()) << (issued ? "" : issued.error().detail);

  // And a stale check that still permits us issues after the fresh lookup.
  const std::string permitted = testName("caarecheckok");
  auto order3 = c.newOrder({dns(permitted)});
  ASSERT_TRUE(order3);
  auto ready3 = validateOrder(c, *order3, "dns-01", dns01Publisher(*e.dns));
  ASSERT_TRUE(ready3);
  e.dns->setCaa(permitted, {CaaRecord{0, "issue", kIssuerDomain}});
  clock->advance(std::chrono::hours(9));
  auto issued3 = finalizeAndDownload(c, *ready3, {dns(permitted)});
  EXPECT_TRUE(issued3.has_value()) << (issued3 ? "" : issued3.error().detail);
}

// Shutting a server down while dns-01 lookups are pending, started from both event loops (each
// client has its own connection, and connections are dealt to the loops in turn), finishes
// promptly: the lookups' handlers wait on the first loop's resolver strand and own requests of
// the other loop, which must still exist when they are destroyed.
TEST(ValidationMethods, ShutdownWithPendingDnsLookupsIsPrompt) {
  auto& e = env();
  auto server = TestServer::start({.configure = [&e](config::Config& cfg) {
    configureValidation(cfg, e);
    cfg.server.dns_timeout_secs = 30;  // far longer than the shutdown may take
  }});
  ASSERT_TRUE(server);
  std::vector<AcmeClient> clients;
  for (int i = 0; i < 4; ++i) {
    AcmeClient c = server->account();
    const std::string name = testName("d01shutdown");
    e.dns->setDrop("_acme-challenge." + name);
    auto order = c.newOrder({dns(name)});
    ASSERT_TRUE(order);
    auto authz = c.getAuthorization(authzUrls(*order).at(0));
    ASSERT_TRUE(authz);
    const json::object* ch = challengeOfType(*authz, "dns-01");
    ASSERT_NE(ch, nullptr);
    auto answered = c.respondChallenge(str(*ch, "url"));
    ASSERT_TRUE(answered) << answered.error().detail;
    EXPECT_EQ(str(*answered, "status"), "processing");  // the lookup is still waiting
    clients.push_back(std::move(c));
  }
  const auto started = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

}  // namespace
}  // namespace akamu::itest
