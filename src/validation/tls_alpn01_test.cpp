#include "validation/tls_alpn01.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <optional>
#include <thread>

#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "validation/fake_resolver.hpp"
#include "validation/test_support.hpp"

using namespace akamu;
using namespace akamu::validation;
using akamu::validation::testing::run;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

const std::string kKeyAuth = "tlsToken.thumbprint";

std::vector<std::uint8_t> octetStringDer(std::span<const std::uint8_t> content) {
  std::vector<std::uint8_t> der{0x04, static_cast<std::uint8_t>(content.size())};
  der.insert(der.end(), content.begin(), content.end());
  return der;
}

std::vector<std::uint8_t> goodExtension(std::string_view key_auth = kKeyAuth) {
  const auto d = crypto::sha256(key_auth);
  return octetStringDer(d);
}

struct CertSpec {
  std::vector<core::Identifier> sans{{"dns", "localhost"}};
  std::optional<std::vector<std::uint8_t>> acme_ext = goodExtension();
  bool critical = true;
  bool duplicate_ext = false;
};

struct KeyCert {
  crypto::PKey key;
  crypto::X509Ptr cert;
};

void addAcmeExt(X509* cert, const std::vector<std::uint8_t>& der, bool critical) {
  std::unique_ptr<ASN1_OBJECT, crypto::OsslDeleter<ASN1_OBJECT_free>> obj(
      OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1));
  crypto::Asn1OctetStringPtr data(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(data.get(), der.data(), static_cast<int>(der.size()));
  crypto::X509ExtPtr ext(
      X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, data.get()));
  ASSERT_TRUE(ext);
  ASSERT_EQ(X509_add_ext(cert, ext.get(), -1), 1);
}

KeyCert makeCert(const CertSpec& spec) {
  KeyCert kc;
  kc.key.reset(EVP_EC_gen("P-256"));
  kc.cert.reset(X509_new());
  X509* c = kc.cert.get();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("acme tls test"), -1, -1, 0);
  X509_set_issuer_name(c, X509_get_subject_name(c));
  X509_set_pubkey(c, kc.key.get());
  if (!spec.sans.empty()) {
    crypto::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
    for (const auto& id : spec.sans) {
      GENERAL_NAME* gn = nullptr;
      if (id.type == "dns") {
        gn = GENERAL_NAME_new();
        ASN1_IA5STRING* s = ASN1_IA5STRING_new();
        ASN1_STRING_set(s, id.value.data(), static_cast<int>(id.value.size()));
        GENERAL_NAME_set0_value(gn, GEN_DNS, s);
      } else {
        gn = GENERAL_NAME_new();
        GENERAL_NAME_set0_value(gn, GEN_IPADD, a2i_IPADDRESS(id.value.c_str()));
      }
      sk_GENERAL_NAME_push(names.get(), gn);
    }
    X509_add1_ext_i2d(c, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT);
  }
  if (spec.acme_ext) {
    addAcmeExt(c, *spec.acme_ext, spec.critical);
    if (spec.duplicate_ext) addAcmeExt(c, *spec.acme_ext, spec.critical);
  }
  X509_sign(c, kc.key.get(), EVP_sha256());
  return kc;
}

struct ServerSpec {
  std::string alpn = "acme-tls/1";  // empty: the server does no ALPN
  bool tls12_only = false;
};

// A TLS server on 127.0.0.1:0 with its own thread; records the SNI of each handshake.
class TlsTestServer {
 public:
  TlsTestServer(KeyCert kc, ServerSpec spec, const char* bind = "127.0.0.1")
      : kc_(std::move(kc)), spec_(std::move(spec)), ctx_(ssl::context::tls_server) {
    SSL_CTX* c = ctx_.native_handle();
    SSL_CTX_use_certificate(c, kc_.cert.get());
    SSL_CTX_use_PrivateKey(c, kc_.key.get());
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    if (spec_.tls12_only) SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    if (!spec_.alpn.empty()) {
      alpn_wire_.push_back(static_cast<unsigned char>(spec_.alpn.size()));
      alpn_wire_.insert(alpn_wire_.end(), spec_.alpn.begin(), spec_.alpn.end());
      SSL_CTX_set_alpn_select_cb(c, &TlsTestServer::selectAlpn, this);
    }
    acceptor_.open(tcp::endpoint(asio::ip::make_address(bind), 0).protocol());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address(bind), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsTestServer() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::string lastSni() {
    std::lock_guard lock(mutex_);
    return sni_;
  }
  bool tls12Negotiated() {
    std::lock_guard lock(mutex_);
    return version_ == TLS1_2_VERSION;
  }

 private:
  // Called while the ClientHello is processed, i.e. before the client can finish: recording
  // the SNI here cannot race with the test reading it.
  static int selectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                        const unsigned char* in, unsigned int inlen, void* arg) {
    auto* self = static_cast<TlsTestServer*>(arg);
    {
      std::lock_guard lock(self->mutex_);
      const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      self->sni_ = name ? name : "";
      self->version_ = SSL_version(ssl);
    }
    unsigned char* sel = nullptr;
    if (SSL_select_next_proto(&sel, outlen, self->alpn_wire_.data(),
                              static_cast<unsigned int>(self->alpn_wire_.size()), in,
                              inlen) != OPENSSL_NPN_NEGOTIATED) {
      return SSL_TLSEXT_ERR_NOACK;
    }
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
  }

  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ssl::stream<tcp::socket> stream(std::move(sock), ctx_);
      auto [hec] = co_await stream.async_handshake(ssl::stream_base::server,
                                                   asio::as_tuple(asio::use_awaitable));
      if (hec) continue;
      char buf[64];
      (void)co_await stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    }
  }

  KeyCert kc_;
  ServerSpec spec_;
  ssl::context ctx_;
  std::vector<unsigned char> alpn_wire_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::string sni_;
  int version_ = 0;
};

TlsAlpnSettings settingsFor(const TlsTestServer& s) {
  TlsAlpnSettings t;
  t.port = s.port();
  t.allow_private_ips = true;
  t.timeout = std::chrono::milliseconds(3000);
  return t;
}

core::Status validate(const TlsTestServer& server, core::Identifier id = {"dns", "localhost"},
                      std::string key_auth = kKeyAuth) {
  asio::io_context io;
  FakeResolver resolver;  // localhost and IP literals are never looked up
  return run(io,
             validateTlsAlpn01(resolver, std::move(id), std::move(key_auth), settingsFor(server)));
}

}  // namespace

TEST(TlsAlpn01, ReverseDnsName) {
  EXPECT_EQ(reverseDnsName(asio::ip::make_address("1.2.3.4")), "4.3.2.1.in-addr.arpa");
  EXPECT_EQ(reverseDnsName(asio::ip::make_address("2001:db8::567:89ab")),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST(TlsAlpn01, Success) {
  TlsTestServer server(makeCert({}), {});
  auto s = validate(server);
  EXPECT_TRUE(s) << s.error().detail;
  EXPECT_EQ(server.lastSni(), "localhost");
}

TEST(TlsAlpn01, Tls12OnlyServer) {
  TlsTestServer server(makeCert({}), {"acme-tls/1", true});
  auto s = validate(server);
  EXPECT_TRUE(s) << s.error().detail;
  EXPECT_TRUE(server.tls12Negotiated());
}

TEST(TlsAlpn01, IpIdentifierUsesReverseDnsSni) {
  CertSpec spec;
  spec.sans = {{"ip", "127.0.0.1"}};
  TlsTestServer server(makeCert(spec), {});
  auto s = validate(server, {"ip", "127.0.0.1"});
  EXPECT_TRUE(s) << s.error().detail;
  EXPECT_EQ(server.lastSni(), "1.0.0.127.in-addr.arpa");
}

TEST(TlsAlpn01, Ipv6Identifier) {
  CertSpec spec;
  spec.sans = {{"ip", "::1"}};
  boost::system::error_code ec;
  asio::io_context probe;
  tcp::acceptor a(probe);
  a.open(tcp::v6(), ec);
  if (!ec) a.bind(tcp::endpoint(asio::ip::make_address("::1"), 0), ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback";
  a.close();
  TlsTestServer server(makeCert(spec), {}, "::1");
  auto s = validate(server, {"ip", "::1"});
  EXPECT_TRUE(s) << s.error().detail;
  EXPECT_EQ(server.lastSni(), reverseDnsName(asio::ip::make_address("::1")));
}

TEST(TlsAlpn01, WrongDigest) {
  CertSpec spec;
  spec.acme_ext = goodExtension("someone-else.thumbprint");
  TlsTestServer server(makeCert(spec), {});
  auto s = validate(server);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kIncorrectResponse);
  EXPECT_NE(s.error().detail.find("localhost:"), std::string::npos) << s.error().detail;
}

TEST(TlsAlpn01, MalformedExtensionValue) {
  CertSpec spec;
  const auto d = crypto::sha256(kKeyAuth);
  spec.acme_ext = std::vector<std::uint8_t>(d.begin(), d.end());  // raw digest, not DER
  TlsTestServer server(makeCert(spec), {});
  auto s = validate(server);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kIncorrectResponse);
  EXPECT_NE(s.error().detail.find("DER OCTET STRING"), std::string::npos) << s.error().detail;
}

TEST(TlsAlpn01, MissingExtension) {
  CertSpec spec;
  spec.acme_ext.reset();
  TlsTestServer server(makeCert(spec), {});
  auto s = validate(server);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  EXPECT_NE(s.error().detail.find("no acmeIdentifier"), std::string::npos) << s.error().detail;
}

TEST(TlsAlpn01, NonCriticalExtension) {
  CertSpec spec;
  spec.critical = false;
  TlsTestServer server(makeCert(spec), {});
  auto s = validate(server);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  EXPECT_NE(s.error().detail.find("not marked critical"), std::string::npos) << s.error().detail;
}

TEST(TlsAlpn01, DuplicateExtension) {
  CertSpec spec;
  spec.duplicate_ext = true;
  auto kc = makeCert(spec);
  auto s = checkTlsAlpnCertificate(kc.cert.get(), {"dns", "localhost"}, kKeyAuth);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
}

TEST(TlsAlpn01, TwoSans) {
  CertSpec spec;
  spec.sans = {{"dns", "localhost"}, {"dns", "other.example"}};
  TlsTestServer server(makeCert(spec), {});
  auto s = validate(server);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  EXPECT_NE(s.error().detail.find("exactly one subjectAltName"), std::string::npos)
      << s.error().detail;
  EXPECT_NE(s.error().detail.find("other.example"), std::string::npos) << s.error().detail;
}

TEST(TlsAlpn01, SanMismatchAndWrongKind) {
  CertSpec spec;
  spec.sans = {{"dns", "other.example"}};
  auto kc = makeCert(spec);
  EXPECT_FALSE(checkTlsAlpnCertificate(kc.cert.get(), {"dns", "localhost"}, kKeyAuth));
  // An IP identifier needs an iPAddress SAN, not a dNSName spelling the address.
  spec.sans = {{"dns", "127.0.0.1"}};
  auto kc2 = makeCert(spec);
  EXPECT_FALSE(checkTlsAlpnCertificate(kc2.cert.get(), {"ip", "127.0.0.1"}, kKeyAuth));
  spec.sans = {};
  auto kc3 = makeCert(spec);
  auto s = checkTlsAlpnCertificate(kc3.cert.get(), {"dns", "localhost"}, kKeyAuth);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().detail.find("no subjectAltName"), std::string::npos);
  // Case-insensitive dNSName.
  spec.sans = {{"dns", "LocalHost"}};
  auto kc4 = makeCert(spec);
  EXPECT_TRUE(checkTlsAlpnCertificate(kc4.cert.get(), {"dns", "localhost"}, kKeyAuth));
}

TEST(TlsAlpn01, NoAlpnNegotiated) {
  TlsTestServer server(makeCert({}), {"", false});
  auto s = validate(server);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kUnauthorized);
  EXPECT_NE(s.error().detail.find("acme-tls/1"), std::string::npos) << s.error().detail;
}

TEST(TlsAlpn01, ServerInsistingOnOtherAlpn) {
  TlsTestServer server(makeCert({}), {"h2", false});
  auto s = validate(server);
  ASSERT_FALSE(s);  // the server cannot select a protocol we did not offer
  EXPECT_TRUE(s.error().type == core::ProblemType::kUnauthorized ||
              s.error().type == core::ProblemType::kTls)
      << s.error().detail;
}

TEST(TlsAlpn01, PrivateAddressRefusedUnlessAllowed) {
  TlsTestServer server(makeCert({}), {});
  auto settings = settingsFor(server);
  settings.allow_private_ips = false;
  asio::io_context io;
  FakeResolver resolver;  // localhost and IP literals are never looked up
  auto s = run(io, validateTlsAlpn01(resolver, {"dns", "localhost"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kRejectedIdentifier);
  s = run(io, validateTlsAlpn01(resolver, {"ip", "127.0.0.1"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kRejectedIdentifier);
}

TEST(TlsAlpn01, ConnectionRefused) {
  std::uint16_t port = 0;
  {
    asio::io_context tmp;
    tcp::acceptor a(tmp, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  TlsAlpnSettings settings;
  settings.port = port;
  settings.allow_private_ips = true;
  settings.timeout = std::chrono::milliseconds(2000);
  asio::io_context io;
  FakeResolver resolver;  // localhost and IP literals are never looked up
  auto s = run(io, validateTlsAlpn01(resolver, {"dns", "localhost"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kConnection);
  EXPECT_NE(s.error().detail.find(fmt::format("localhost:{}", port)), std::string::npos)
      << s.error().detail;
}

TEST(TlsAlpn01, NotTlsIsTlsProblemAndSilentServerTimesOut) {
  asio::io_context srv;
  tcp::acceptor a(srv, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::thread t([&] {
    // Accept, send garbage for the first connection; accept and stay silent for the second.
    tcp::socket s1(srv);
    a.accept(s1);
    boost::system::error_code ec;
    asio::write(s1, asio::buffer(std::string("HTTP/1.1 400 Bad Request\r\n\r\n")), ec);
    s1.close();
    tcp::socket s2(srv);
    a.accept(s2);
    char buf[4096];
    while (!ec) s2.read_some(asio::buffer(buf), ec);  // until the client gives up
  });
  TlsAlpnSettings settings;
  settings.port = a.local_endpoint().port();
  settings.allow_private_ips = true;
  settings.timeout = std::chrono::milliseconds(500);
  asio::io_context io;
  FakeResolver resolver;  // localhost and IP literals are never looked up
  auto s = run(io, validateTlsAlpn01(resolver, {"dns", "localhost"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kTls) << s.error().detail;
  const auto start = std::chrono::steady_clock::now();
  s = run(io, validateTlsAlpn01(resolver, {"dns", "localhost"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kConnection) << s.error().detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  t.join();
}

TEST(TlsAlpn01, WildcardRefused) {
  asio::io_context io;
  FakeResolver resolver;  // localhost and IP literals are never looked up
  auto s = run(io, validateTlsAlpn01(resolver, {"dns", "*.example.com"}, kKeyAuth, {}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kMalformed);
}

// The name exists only in the configured resolver (the test DNS server): it is resolved
// through the Resolver seam, not the system's getaddrinfo.
TEST(TlsAlpn01, NameKnownOnlyToTheConfiguredResolverValidates) {
  CertSpec spec;
  spec.sans = {{"dns", "only-in-test-dns.example"}};
  TlsTestServer server(makeCert(spec), {});
  akamu::validation::testing::DnsFixture f;
  f.server->setA("only-in-test-dns.example", "127.0.0.1");
  auto s = run(f.io, validateTlsAlpn01(*f.resolver, {"dns", "only-in-test-dns.example"}, kKeyAuth,
                                       settingsFor(server)));
  EXPECT_TRUE(s) << s.error().detail;
  EXPECT_EQ(server.lastSni(), "only-in-test-dns.example");
  EXPECT_GE(f.server->queryCount(), 1u);
}

// A lookup that never answers ends with the validation's timeout (500 ms), not with the
// resolver's own per-query timeout (30 s).
TEST(TlsAlpn01, LookupThatNeverAnswersFailsWithinTheValidationTimeout) {
  akamu::validation::testing::DnsFixture f(std::chrono::seconds(30));
  f.server->setDrop("silent.example");
  TlsAlpnSettings settings;
  settings.port = 443;
  settings.allow_private_ips = true;
  settings.timeout = std::chrono::milliseconds(500);
  auto s = run(f.io, validateTlsAlpn01(*f.resolver, {"dns", "silent.example"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kDns) << s.error().detail;
  EXPECT_NE(s.error().detail.find("validation time"), std::string::npos) << s.error().detail;
}

TEST(TlsAlpn01, NeverAnsweringFakeLookupIsCancelledAtTheDeadline) {
  FakeResolver resolver;
  resolver.setNeverAnswersAll();
  resolver.setQueryTimeout(std::chrono::seconds(30));
  TlsAlpnSettings settings;
  settings.allow_private_ips = true;
  settings.timeout = std::chrono::milliseconds(200);
  asio::io_context io;
  auto s = run(io, validateTlsAlpn01(resolver, {"dns", "silent.example"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kDns) << s.error().detail;
  EXPECT_EQ(resolver.pendingCount(), 0u);
  EXPECT_TRUE(resolver.wasQueried("silent.example", RrType::kA));
  EXPECT_TRUE(resolver.wasQueried("silent.example", RrType::kAaaa));
}

TEST(TlsAlpn01, PrivateAddressFromDnsRefusedUnlessAllowed) {
  FakeResolver resolver;
  resolver.setAddresses("internal.example", {"192.168.1.10"});
  TlsAlpnSettings settings;
  settings.timeout = std::chrono::milliseconds(2000);
  asio::io_context io;
  auto s = run(io, validateTlsAlpn01(resolver, {"dns", "internal.example"}, kKeyAuth, settings));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().type, core::ProblemType::kRejectedIdentifier) << s.error().detail;
}
