// HTTPS listeners: TLS versions, session resumption, [tls] files and auto mode (issuance,
// renewal at 2/3 of the lifetime under a fake clock), reload, extra plain and Unix-socket
// listeners, and systemd socket activation. Real TLS over loopback, with OpenSSL as the client.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ca/certificate_authority.hpp"
#include "harness.hpp"

namespace akamu::itest {
namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct SessionFree {
  void operator()(SSL_SESSION* p) const { SSL_SESSION_free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

// A socket fd closed with the object.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Fd connectTcp(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return Fd();
  return fd;
}

Fd connectUnix(const std::string& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return Fd();
  return fd;
}

std::string directoryRequest(bool keep_alive) {
  return std::string("GET /acme/directory HTTP/1.1\r\nHost: akamu\r\n") +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

// Reads one HTTP/1.1 response with a Content-Length body (what the server writes).
template <class ReadFn>
std::string readResponse(ReadFn&& read) {
  std::string data;
  char buf[4096];
  for (;;) {
    auto header_end = data.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      auto cl = data.find("Content-Length: ");
      if (cl != std::string::npos && cl < header_end) {
        std::size_t len = std::stoul(data.substr(cl + 16));
        if (data.size() >= header_end + 4 + len) return data.substr(0, header_end + 4 + len);
      }
    }
    int n = read(buf, static_cast<int>(sizeof buf));
    if (n <= 0) return data;
    data.append(buf, static_cast<std::size_t>(n));
  }
}

std::string plainGetDirectory(Fd fd) {
  if (fd.get() < 0) return "<connect failed>";
  const std::string req = directoryRequest(false);
  if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return "<send failed>";
  return readResponse([&](char* b, int n) { return static_cast<int>(::recv(fd.get(), b, n, 0)); });
}

struct ClientOptions {
  std::string ca_file;  // trust anchor; the handshake verifies the chain and the host
  std::string host = "127.0.0.1";
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::optional<core::TimePoint> verify_at;  // certificates issued under a fake clock
  bool insecure_legacy = false;              // security level 0, to offer TLS 1.1 at all
};

// One TLS connection to the server, blocking, with a 10 s socket timeout.
class TlsConnection {
 public:
  TlsConnection(std::uint16_t port, const ClientOptions& o, SSL_SESSION* resume = nullptr) {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(ctx_.get(), o.min_version);
    SSL_CTX_set_max_proto_version(ctx_.get(), o.max_version);
    if (o.insecure_legacy) {
      SSL_CTX_set_security_level(ctx_.get(), 0);
      SSL_CTX_set_cipher_list(ctx_.get(), "DEFAULT:@SECLEVEL=0");
    }
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_.get(), o.ca_file.c_str(), nullptr) != 1) {
      error_ = "cannot load " + o.ca_file;
      return;
    }
    if (o.verify_at) {
      X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx_.get()),
                                 static_cast<time_t>(core::toUnixSeconds(*o.verify_at)));
    }
    fd_ = connectTcp(port);
    if (fd_.get() < 0) {
      error_ = "connect failed";
      return;
    }
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_.get());
    const bool ip = o.host.find_first_not_of("0123456789.") == std::string::npos;
    if (!ip) SSL_set_tlsext_host_name(ssl_.get(), o.host.c_str());
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), 0);
    }
    if (resume != nullptr) SSL_set_session(ssl_.get(), resume);
    if (SSL_connect(ssl_.get()) != 1) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      error_ = std::string("handshake failed: ") + buf;
      ERR_clear_error();
      ssl_.reset();
    }
  }

  // Marked as shut down (without writing to a socket the server may have closed): OpenSSL
  // otherwise declares the session of a connection freed mid-stream not resumable.
  ~TlsConnection() {
    if (ssl_) SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  bool ok() const { return ssl_ != nullptr; }
  const std::string& error() const { return error_; }
  std::string version() const { return SSL_get_version(ssl_.get()); }
  bool reused() const { return SSL_session_reused(ssl_.get()) == 1; }
  SessionPtr session() const { return SessionPtr(SSL_get1_session(ssl_.get())); }
  std::string peerSerial() const {
    X509* cert = SSL_get0_peer_certificate(ssl_.get());
    return cert ? crypto::serialHex(cert) : "";
  }
  X509* peer() const { return SSL_get0_peer_certificate(ssl_.get()); }

  // GET the directory on this connection.
  std::string getDirectory(bool keep_alive = true) {
    const std::string req = directoryRequest(keep_alive);
    if (SSL_write(ssl_.get(), req.data(), static_cast<int>(req.size())) <= 0) {
      return "<write failed>";
    }
    return readResponse([&](char* b, int n) { return SSL_read(ssl_.get(), b, n); });
  }

 private:
  SslCtxPtr ctx_;
  Fd fd_;
  SslPtr ssl_;
  std::string error_;
};

bool isDirectory(const std::string& response, const std::string& base_url) {
  return response.starts_with("HTTP/1.1 200") &&
         response.find("\"newAccount\":\"" + base_url + "/acme/new-account\"") != std::string::npos;
}

void writeFile(const std::string& path, const std::string& text, mode_t mode) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

// A certificate for 127.0.0.1 and "localhost" from a CA of the test's own (dir/test-ca.*), as
// an operator's PKI would provide: the chain and key files in dir, the anchor in caFile().
class TestPki {
 public:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {
    ca::CaSettings settings;
    settings.key_file = dir_ + "/test-ca.key";
    settings.cert_file = caFile();
    settings.common_name = "Test PKI";
    auto ca = ca::CertificateAuthority::loadOrCreate(settings, clock_);
    EXPECT_TRUE(ca) << (ca ? "" : ca.error().detail);
    if (ca) ca_ = std::move(*ca);
  }
  std::string caFile() const { return dir_ + "/test-ca.pem"; }
  std::string certFile() const { return dir_ + "/tls.pem"; }
  std::string keyFile() const { return dir_ + "/tls.key"; }

  // Writes a new certificate and key over the files; returns the serial.
  std::string writeNew(mode_t key_mode = 0600) {
    auto key = makeKey();
    auto issued = ca_->issue(key.get(), {{"ip", "127.0.0.1"}, {"dns", "localhost"}}, "localhost",
                             std::nullopt, std::nullopt);
    EXPECT_TRUE(issued) << (issued ? "" : issued.error().detail);
    if (!issued) return "";
    writeFile(certFile(), issued->pem_chain, 0644);
    writeFile(keyFile(), crypto::privateKeyToPem(key.get()), key_mode);
    return issued->serial_hex;
  }

 private:
  std::string dir_;
  core::SystemClock clock_;
  std::unique_ptr<ca::CertificateAuthority> ca_;
};

config::TlsConfig filesTls(const TestPki& pki) {
  config::TlsConfig tls;
  tls.cert_file = pki.certFile();
  tls.key_file = pki.keyFile();
  return tls;
}

TEST(Tls, FilesServeTls13AndTls12AndRefuseTls11) {
  TempDir dir;
  TestPki pki(dir.path());
  const std::string serial = pki.writeNew();
  auto ts = TestServer::start({.configure = [&](config::Config& c) { c.tls = filesTls(pki); }});
  ASSERT_TRUE(ts);
  const std::string base = ts->server().baseUrl();
  EXPECT_TRUE(base.starts_with("https://127.0.0.1:")) << base;
  const auto port = ts->server().port();

  ClientOptions o{.ca_file = pki.caFile()};
  o.min_version = o.max_version = TLS1_3_VERSION;
  TlsConnection v13(port, o);
  ASSERT_TRUE(v13.ok()) << v13.error();
  EXPECT_EQ(v13.version(), "TLSv1.3");
  EXPECT_EQ(v13.peerSerial(), serial);
  EXPECT_TRUE(isDirectory(v13.getDirectory(), base));
  // Keep-alive: a second request on the same connection.
  EXPECT_TRUE(isDirectory(v13.getDirectory(), base));

  o.min_version = o.max_version = TLS1_2_VERSION;
  TlsConnection v12(port, o);
  ASSERT_TRUE(v12.ok()) << v12.error();
  EXPECT_EQ(v12.version(), "TLSv1.2");
  EXPECT_TRUE(isDirectory(v12.getDirectory(), base));

  o.min_version = o.max_version = TLS1_1_VERSION;
  o.insecure_legacy = true;
  TlsConnection v11(port, o);
  EXPECT_FALSE(v11.ok());
  // The server's refusal (a protocol_version alert), not the client declining to offer it.
  EXPECT_THAT(v11.error(), ::testing::HasSubstr("protocol version")) << v11.error();

  // Plain HTTP on the TLS port gets no HTTP answer.
  EXPECT_FALSE(plainGetDirectory(connectTcp(port)).starts_with("HTTP/1.1 200"));
}

TEST(Tls, SessionsAreResumed) {
  TempDir dir;
  TestPki pki(dir.path());
  pki.writeNew();
  auto ts = TestServer::start({.configure = [&](config::Config& c) { c.tls = filesTls(pki); }});
  ASSERT_TRUE(ts);
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    ClientOptions o{.ca_file = pki.caFile()};
    o.min_version = o.max_version = version;
    SessionPtr session;
    {
      TlsConnection first(ts->server().port(), o);
      ASSERT_TRUE(first.ok()) << first.error();
      EXPECT_FALSE(first.reused());
      // TLS 1.3 tickets arrive after the handshake: read a response first.
      EXPECT_TRUE(isDirectory(first.getDirectory(false), ts->server().baseUrl()));
      session = first.session();
      ASSERT_TRUE(session);
    }
    TlsConnection second(ts->server().port(), o, session.get());
    ASSERT_TRUE(second.ok()) << second.error();
    EXPECT_TRUE(second.reused()) << "version " << version;
    EXPECT_TRUE(isDirectory(second.getDirectory(false), ts->server().baseUrl()));
  }
}

TEST(Tls, ReloadServesNewFilesAndKeepsTheOldCertificateOnABrokenOne) {
  TempDir dir;
  TestPki pki(dir.path());
  const std::string first = pki.writeNew();
  auto ts = TestServer::start({.configure = [&](config::Config& c) { c.tls = filesTls(pki); }});
  ASSERT_TRUE(ts);
  const ClientOptions o{.ca_file = pki.caFile()};
  TlsConnection before(ts->server().port(), o);
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(before.peerSerial(), first);

  const std::string second = pki.writeNew();
  ASSERT_NE(first, second);
  ASSERT_TRUE(ts->server().reloadTls());
  TlsConnection after(ts->server().port(), o);
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.peerSerial(), second);
  // The connection made before the reload carries on with its certificate.
  EXPECT_TRUE(isDirectory(before.getDirectory(), ts->server().baseUrl()));

  // A truncated certificate file: the reload fails, the current certificate stays.
  writeFile(pki.certFile(), "-----BEGIN CERTIFICATE-----\nMIIB\n", 0644);
  auto broken = ts->server().reloadTls();
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().detail, ::testing::HasSubstr("tls.cert_file"));
  // A key file that became world-readable is refused too.
  pki.writeNew(0644);
  auto readable = ts->server().reloadTls();
  ASSERT_FALSE(readable);
  EXPECT_THAT(readable.error().detail, ::testing::HasSubstr("mode 0644"));
  TlsConnection still(ts->server().port(), o);
  ASSERT_TRUE(still.ok()) << still.error();
  EXPECT_EQ(still.peerSerial(), second);
}

TEST(Tls, KeyFileReadableByOthersIsRefusedAtStart) {
  TempDir dir;
  TestPki pki(dir.path());
  pki.writeNew(0644);
  config::Config cfg = TestServer::baseConfig(dir.path(), 80);
  cfg.tls = filesTls(pki);
  auto server = server::Server::create(cfg);
  ASSERT_TRUE(server) << server.error().detail;
  auto started = (*server)->start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().detail,
            "tls.key_file " + pki.keyFile() +
                " has mode 0644: a private key must not be accessible to group or others (chmod "
                "600 it)");
}

TEST(Tls, AutoIssuesForTheBaseUrlHostChainedToTheCa) {
  // An IP base_url (the default one, from the bound address) gets an IP SAN.
  auto ts = TestServer::start(
      {.configure = [](config::Config& c) { c.tls = config::TlsConfig{.auto_issue = true}; }});
  ASSERT_TRUE(ts);
  const std::string base = ts->server().baseUrl();
  ASSERT_TRUE(base.starts_with("https://127.0.0.1:")) << base;
  // The clients' trust anchor is the CA certificate file the server wrote.
  const ClientOptions o{.ca_file = ts->server().config().ca.cert_file};
  TlsConnection c(ts->server().port(), o);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(X509_check_ip_asc(c.peer(), "127.0.0.1", 0), 1);
  EXPECT_EQ(crypto::verifyChain(c.peer(), ts->server().ca().certificate()).has_value(), true);
  EXPECT_TRUE(isDirectory(c.getDirectory(), base));
  bool audited = false;
  for (const auto& e : ts->auditEvents()) audited |= str(e, "event_type") == "tls.issue";
  EXPECT_TRUE(audited);

  // A DNS base_url gets a DNS SAN (and SNI/host verification for that name passes).
  auto named = TestServer::start({.configure = [](config::Config& c) {
    c.base_url = "https://acme.akamu.test";
    c.tls = config::TlsConfig{.auto_issue = true};
  }});
  ASSERT_TRUE(named);
  ClientOptions by_name{.ca_file = named->server().config().ca.cert_file};
  by_name.host = "acme.akamu.test";
  TlsConnection n(named->server().port(), by_name);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(X509_check_host(n.peer(), "acme.akamu.test", 0, 0, nullptr), 1);
  EXPECT_TRUE(isDirectory(n.getDirectory(), "https://acme.akamu.test"));
}

TEST(Tls, AutoRenewsAtTwoThirdsOfTheLifetime) {
  auto clock = std::make_shared<core::FakeClock>(std::chrono::system_clock::now());
  auto ts = TestServer::start({.configure =
                                   [](config::Config& c) {
                                     c.tls = config::TlsConfig{.auto_issue = true,
                                                               .auto_validity_secs = 3 * 3600};
                                   },
                               .clock = clock});
  ASSERT_TRUE(ts);
  ClientOptions o{.ca_file = ts->server().config().ca.cert_file};
  o.verify_at = clock->now();
  TlsConnection before(ts->server().port(), o);
  ASSERT_TRUE(before.ok()) << before.error();
  const std::string first = before.peerSerial();

  // Not due yet: nothing changes.
  auto early = ts->server().renewTlsNow();
  ASSERT_TRUE(early) << early.error().detail;
  EXPECT_FALSE(*early);
  clock->advance(std::chrono::minutes(100));
  early = ts->server().renewTlsNow();
  ASSERT_TRUE(early);
  EXPECT_FALSE(*early);

  // Lifetime 3 h + 1 min (notBefore is a minute back): due 1 h 59 min 40 s after issuance.
  clock->advance(std::chrono::minutes(21));
  auto renewed = ts->server().renewTlsNow();
  ASSERT_TRUE(renewed) << renewed.error().detail;
  EXPECT_TRUE(*renewed);
  o.verify_at = clock->now();
  TlsConnection after(ts->server().port(), o);
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_NE(after.peerSerial(), first);
  EXPECT_FALSE(after.peerSerial().empty());
  // The connection from before the renewal keeps working with the old certificate.
  EXPECT_TRUE(isDirectory(before.getDirectory(), ts->server().baseUrl()));
  EXPECT_EQ(before.peerSerial(), first);
  // And the new one is not due again at once.
  auto again = ts->server().renewTlsNow();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST(Tls, ExtraPlainAndUnixSocketListenersServeTheSameApi) {
  TempDir dir;
  const std::string sock = dir.path() + "/akamu.sock";
  {
    // A stale socket file from a server that is gone: bound, never accepted on, closed.
    Fd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock.c_str());
    ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  }
  ASSERT_TRUE(std::filesystem::exists(sock));
  auto ts = TestServer::start({.configure = [&](config::Config& c) {
    c.tls = config::TlsConfig{.auto_issue = true};
    c.listeners = {{"127.0.0.1:0", false}, {"unix:" + sock, false}};
  }});
  ASSERT_TRUE(ts);
  const auto& listeners = ts->server().listeners();
  ASSERT_EQ(listeners.size(), 3u);
  EXPECT_TRUE(listeners[0].tls);
  EXPECT_FALSE(listeners[1].tls);
  EXPECT_EQ(listeners[2].addr, "unix:" + sock);
  const std::string base = ts->server().baseUrl();
  EXPECT_TRUE(base.starts_with("https://"));
  // Every listener builds its URLs from base_url.
  EXPECT_TRUE(isDirectory(plainGetDirectory(connectTcp(listeners[1].port)), base));
  EXPECT_TRUE(isDirectory(plainGetDirectory(connectUnix(sock)), base));
  struct stat st {};
  ASSERT_EQ(::stat(sock.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  // A second server refuses the socket while the first one accepts on it.
  config::Config other = TestServer::baseConfig(dir.path() + "/other", 80);
  std::filesystem::create_directories(dir.path() + "/other");
  other.listeners = {{"unix:" + sock, false}};
  auto second = server::Server::create(other);
  ASSERT_TRUE(second) << second.error().detail;
  auto refused = (*second)->start();
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().detail, ::testing::HasSubstr("another process is accepting"));
  second->reset();
  ts->server().stop();
  EXPECT_FALSE(std::filesystem::exists(sock));
}

// Listening sockets the test made, at consecutive fds (as systemd hands them over).
std::vector<Fd> consecutiveListeners(int count) {
  std::vector<Fd> out;
  int want = 200;
  for (int i = 0; i < count; ++i) {
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(s.get(), 16), 0);
    int fd = ::fcntl(s.get(), F_DUPFD_CLOEXEC, want);
    EXPECT_EQ(fd, want) << "fd " << want << " is taken";
    out.emplace_back(fd);
    want = fd + 1;
  }
  return out;
}

std::uint16_t localPort(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

TEST(Tls, SocketActivationReplacesTheConfiguredListeners) {
  auto fds = consecutiveListeners(2);
  ASSERT_EQ(fds.size(), 2u);
  const std::uint16_t tls_port = localPort(fds[0].get());
  const std::uint16_t plain_port = localPort(fds[1].get());
  TempDir dir;
  config::Config cfg = TestServer::baseConfig(dir.path(), 80);
  cfg.base_url = "https://127.0.0.1:" + std::to_string(tls_port);
  cfg.listen_addr = "127.0.0.1:1";  // not bound: the inherited sockets replace it
  cfg.tls = config::TlsConfig{.auto_issue = true};
  cfg.listeners = {{"127.0.0.1:2", false}};
  auto server = server::Server::create(cfg);
  ASSERT_TRUE(server) << server.error().detail;
  const std::string pid = std::to_string(::getpid());
  auto env = [&](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "LISTEN_PID") return pid;
    if (std::string_view(name) == "LISTEN_FDS") return "2";
    return std::nullopt;
  };
  auto started = (*server)->start(env, fds[0].get());
  ASSERT_TRUE(started) << started.error().detail;
  for (auto& fd : fds) fd.release();  // the server owns them now
  const auto& listeners = (*server)->listeners();
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[0].port, tls_port);
  EXPECT_TRUE(listeners[0].tls);
  EXPECT_EQ(listeners[1].port, plain_port);
  EXPECT_FALSE(listeners[1].tls);
  EXPECT_EQ((*server)->port(), tls_port);
  const ClientOptions o{.ca_file = cfg.ca.cert_file};
  TlsConnection c(tls_port, o);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(isDirectory(c.getDirectory(), cfg.base_url));
  EXPECT_TRUE(isDirectory(plainGetDirectory(connectTcp(plain_port)), cfg.base_url));
  (*server)->stop();
}

TEST(Tls, SocketActivationForAnotherProcessOrTooManySocketsIsNotTaken) {
  TempDir dir;
  config::Config cfg = TestServer::baseConfig(dir.path(), 80);
  auto server = server::Server::create(cfg);
  ASSERT_TRUE(server) << server.error().detail;
  // LISTEN_PID of another process: the variables are not ours; the configured listener is used.
  auto foreign = [](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "LISTEN_PID") return "1";
    if (std::string_view(name) == "LISTEN_FDS") return "1";
    return std::nullopt;
  };
  auto started = (*server)->start(foreign, 200);
  ASSERT_TRUE(started) << started.error().detail;
  EXPECT_NE((*server)->port(), 0);
  EXPECT_TRUE(isDirectory(plainGetDirectory(connectTcp((*server)->port())), (*server)->baseUrl()));
  (*server)->stop();

  auto again = server::Server::create(TestServer::baseConfig(dir.path(), 80));
  ASSERT_TRUE(again);
  const std::string pid = std::to_string(::getpid());
  auto too_many = [&](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "LISTEN_PID") return pid;
    if (std::string_view(name) == "LISTEN_FDS") return "3";
    return std::nullopt;
  };
  auto refused = (*again)->start(too_many, 200);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().detail, ::testing::HasSubstr("systemd passed 3 sockets"));
}

}  // namespace
}  // namespace akamu::itest
