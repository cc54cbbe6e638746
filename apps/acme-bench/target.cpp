#include "target.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "client/http_client.hpp"
#include "config/config.hpp"
#include "server/server.hpp"

namespace akamu::bench {

namespace fs = std::filesystem;

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kStartTimeout = std::chrono::seconds(60);  // rsa:4096 CA keygen can take seconds
constexpr auto kStopTimeout = std::chrono::seconds(10);

core::Problem setupError(std::string detail) { return core::serverInternal(std::move(detail)); }

config::Config serverConfig(const Options& o, std::uint16_t responder_port,
                            const std::string& dns_addr, const std::string& work_dir,
                            const std::string& listen) {
  config::Config c;
  c.listen_addr = listen;
  c.base_url = "";  // derived from the bound port (in-process) or set by the caller
  c.database.url = o.db_url;
  c.database.pool_connections = o.pool_connections;
  c.database.ro_connections = o.ro_connections;
  c.ca.key_file = work_dir + "/ca.key";
  c.ca.cert_file = work_dir + "/ca.pem";
  c.ca.key_type = o.ca_key_type;
  c.server.audit_log_file = o.audit_log;
  c.server.http_validation_port = responder_port;
  c.server.http_validation_allow_private_ips = true;
  c.server.threads = o.server_threads;
  if (!dns_addr.empty()) {
    c.server.dns_persist_issuer_domains = {kPersistIssuerDomain};
    c.server.dns_persist01_resolver_addr = dns_addr;
  }
  if (o.rate_limits) {
    c.rate_limits.enabled = true;
    for (auto name : config::kRateLimitNames) {
      c.rate_limits.limits.emplace_back(std::string(name),
                                        config::RateLimitConfig{1000000000, 1000000000, 3600});
    }
  }
  c.log.level = "warn";
  // The two profiles `akamu init` writes, so that --profile can name either.
  config::ProfileConfig def;
  def.name = "default";
  config::ProfileConfig shortlived;
  shortlived.name = "shortlived";
  shortlived.validity_secs = 7 * 86400;
  shortlived.omit_subject_key_id = true;
  shortlived.include_crl_url = false;
  shortlived.include_ocsp_url = false;
  shortlived.renewal_point = 0.5;
  c.profiles = {def, shortlived};
  return c;
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Asks the kernel for a free loopback port by binding port 0, then releases it for the child.
// Another process could take it in between; the child then fails to bind and we say so.
core::Result<std::uint16_t> pickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return core::fail(setupError(std::string("socket: ") + std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return core::fail(setupError("binding a free port: " + err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

class InProcessTarget final : public Target {
 public:
  explicit InProcessTarget(std::unique_ptr<server::Server> server)
      : server_(std::move(server)), url_(server_->directoryUrl()) {}
  ~InProcessTarget() override { stop(); }
  const std::string& directoryUrl() const override { return url_; }
  std::optional<std::string> caCertificatePem() const override {
    return server_->ca().certificatePem();
  }
  void stop() override {
    if (!server_) return;
    server_->stop();
    server_->wait();
  }

 private:
  std::unique_ptr<server::Server> server_;
  std::string url_;
};

class ProcessTarget final : public Target {
 public:
  ProcessTarget(pid_t pid, std::string url, std::string ca_file, std::string log_file)
      : pid_(pid), url_(std::move(url)), ca_file_(std::move(ca_file)), log_(std::move(log_file)) {}
  ~ProcessTarget() override { stop(); }
  const std::string& directoryUrl() const override { return url_; }
  std::optional<std::string> caCertificatePem() const override { return readFile(ca_file_); }
  void stop() override {
    if (pid_ <= 0) return;
    // The whole process group: --akamu-bin may be a wrapper (perf record, heaptrack, strace)
    // whose akamu child would otherwise outlive the run.
    ::kill(-pid_, SIGTERM);
    const auto give_up = SteadyClock::now() + kStopTimeout;
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        if (r == pid_ && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
          spdlog::warn("akamu (pid {}) did not exit cleanly (status {}); its log: {}", pid_, status,
                       log_);
        }
        break;
      }
      if (SteadyClock::now() > give_up) {
        spdlog::warn("akamu (pid {}) ignored SIGTERM for {} s; killing it", pid_,
                     std::chrono::duration_cast<std::chrono::seconds>(kStopTimeout).count());
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

 private:
  pid_t pid_;
  std::string url_;
  std::string ca_file_;
  std::string log_;
};

class ExternalTarget final : public Target {
 public:
  explicit ExternalTarget(std::string url) : url_(std::move(url)) {}
  const std::string& directoryUrl() const override { return url_; }

 private:
  std::string url_;
};

std::string tail(const std::string& path, std::size_t max_bytes = 2000) {
  auto text = readFile(path).value_or("");
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

core::Result<std::unique_ptr<Target>> startInProcess(const Options& o, std::uint16_t responder_port,
                                                     const std::string& dns_addr,
                                                     const std::string& work_dir) {
  spdlog::set_level(spdlog::level::warn);
  // --ocsp: the certificates name the responder's URL, so the port must be known up front.
  std::string listen = "127.0.0.1:0";
  if (o.ocsp) {
    auto port = pickFreePort();
    if (!port) return core::fail(port.error());
    listen = "127.0.0.1:" + std::to_string(*port);
  }
  auto cfg = serverConfig(o, responder_port, dns_addr, work_dir, listen);
  if (o.ocsp) {
    cfg.base_url = "http://" + listen;
    cfg.ca.ocsp_url = cfg.base_url + "/ocsp";
  }
  auto server = server::Server::create(std::move(cfg));
  if (!server) return core::fail(setupError("cannot create the server: " + server.error().detail));
  if (auto s = (*server)->start(); !s) {
    return core::fail(setupError("cannot start the server: " + s.error().detail));
  }
  return std::unique_ptr<Target>(new InProcessTarget(std::move(*server)));
}

core::Result<std::unique_ptr<Target>> startProcess(const Options& o, std::uint16_t responder_port,
                                                   const std::string& dns_addr,
                                                   const std::string& work_dir) {
  const std::string binary = o.akamu_bin.empty() ? defaultAkamuBinary() : o.akamu_bin;
  if (::access(binary.c_str(), X_OK) != 0) {
    return core::fail(
        setupError("cannot execute " + binary + " (build the akamu target, or pass --akamu-bin)"));
  }
  auto port = pickFreePort();
  if (!port) return core::fail(port.error());
  const std::string listen = "127.0.0.1:" + std::to_string(*port);
  const std::string base_url = "http://" + listen;
  const auto c = serverConfig(o, responder_port, dns_addr, work_dir, listen);

  std::ostringstream toml;
  toml << "# written by acme-bench --spawn process\n"
       << "listen_addr = " << config::tomlBasicString(c.listen_addr) << "\n"
       << "base_url = " << config::tomlBasicString(base_url) << "\n\n"
       << "[database]\nurl = " << config::tomlBasicString(c.database.url)
       << "\npool_connections = " << c.database.pool_connections
       << "\nro_connections = " << c.database.ro_connections << "\n\n"
       << "[ca]\nkey_file = " << config::tomlBasicString(c.ca.key_file)
       << "\ncert_file = " << config::tomlBasicString(c.ca.cert_file)
       << "\nkey_type = " << config::tomlBasicString(c.ca.key_type) << "\n"
       << (o.ocsp ? "ocsp_url = " + config::tomlBasicString(base_url + "/ocsp") + "\n" : "") << "\n"
       << "[server]\naudit_log_file = " << config::tomlBasicString(c.server.audit_log_file)
       << "\nhttp_validation_port = " << c.server.http_validation_port
       << "\nhttp_validation_allow_private_ips = true"
       << "\nthreads = " << c.server.threads << "\n";
  if (!c.server.dns_persist_issuer_domains.empty()) {
    toml << "dns_persist_issuer_domains = [";
    for (std::size_t i = 0; i < c.server.dns_persist_issuer_domains.size(); ++i) {
      toml << (i > 0 ? ", " : "")
           << config::tomlBasicString(c.server.dns_persist_issuer_domains[i]);
    }
    toml << "]\ndns_persist01_resolver_addr = "
         << config::tomlBasicString(c.server.dns_persist01_resolver_addr) << "\n";
  }
  if (c.rate_limits.enabled) {
    toml << "\n[rate_limits]\nenabled = true\n";
    for (const auto& [name, l] : c.rate_limits.limits) {
      toml << "[rate_limits." << name << "]\nburst = " << l.burst << "\ncount = " << l.count
           << "\nperiod_secs = " << l.period_secs << "\n";
    }
  }
  toml << "\n[profiles.default]\n\n[profiles.shortlived]\nvalidity_secs = 604800\n"
       << "omit_subject_key_id = true\ninclude_crl_url = false\ninclude_ocsp_url = false\n"
       << "renewal_point = 0.5\n\n"
       << "[log]\nlevel = " << config::tomlBasicString(c.log.level) << "\n";
  const std::string config_file = work_dir + "/akamu.toml";
  const std::string log_file = work_dir + "/akamu.log";
  {
    // 0600: the database URL may carry a password.
    const std::string text = toml.str();
    int fd = ::open(config_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return core::fail(setupError("cannot write " + config_file));
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (written != text.size()) return core::fail(setupError("cannot write " + config_file));
  }

  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls.
  std::vector<std::string> args = {binary, "serve", "-c", config_file};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return core::fail(setupError(std::string("fork: ") + std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);                     // its own group, which stop() signals as a whole
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the bench
    if (::getppid() != parent) ::_exit(126);
    int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }

  // Ready when the directory answers 200.
  client::HttpClient http(client::HttpClientOptions{"", std::chrono::milliseconds(1000)});
  const auto give_up = SteadyClock::now() + kStartTimeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      std::string why = WIFEXITED(status)
                            ? "exited with status " + std::to_string(WEXITSTATUS(status))
                            : "was killed by signal " + std::to_string(WTERMSIG(status));
      return core::fail(
          setupError("akamu " + why + " before serving; its output:\n" + tail(log_file)));
    }
    auto r = http.request("GET", base_url + "/acme/directory");
    if (r && r->status == 200) break;
    if (SteadyClock::now() > give_up) {
      ProcessTarget(pid, "", "", log_file).stop();
      return core::fail(setupError("akamu did not serve its directory within " +
                                   std::to_string(kStartTimeout.count()) + " s; its log:\n" +
                                   tail(log_file)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::unique_ptr<Target>(
      new ProcessTarget(pid, base_url + "/acme/directory", c.ca.cert_file, log_file));
}

}  // namespace

core::Result<TempDir> TempDir::create(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return core::fail(setupError("mkdtemp " + tmpl + ": " + std::strerror(errno)));
  }
  return TempDir(tmpl);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string defaultAkamuBinary() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "akamu";
  return (self.parent_path() / "akamu").string();
}

core::Result<std::unique_ptr<Target>> startTarget(const Options& o, std::uint16_t responder_port,
                                                  const std::string& dns_addr,
                                                  const std::string& work_dir) {
  if (!o.server_url.empty()) return std::unique_ptr<Target>(new ExternalTarget(o.server_url));
  if (o.spawn == "process") return startProcess(o, responder_port, dns_addr, work_dir);
  return startInProcess(o, responder_port, dns_addr, work_dir);
}

}  // namespace akamu::bench
