// akamu: the ACME certificate authority. `init` writes a config, `serve` runs it, `config check`
// validates one, `eab` manages external account binding keys, `incident` ARI incidents.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "config/effective_config.hpp"
#include "crypto/key_type.hpp"
#include "eab_command.hpp"
#include "incident_command.hpp"
#include "ratelimit_command.hpp"
#include "server/json_log_formatter.hpp"
#include "server/server.hpp"

namespace {

// The file with the process environment's overrides (AKAMU_LISTEN).
akamu::core::Result<akamu::config::Config> loadConfig(const std::string& path) {
  return akamu::config::loadConfigFile(path, [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
}

void configureLogging(const akamu::config::LogConfig& log) {
  spdlog::set_level(spdlog::level::from_str(log.level));
  if (log.format == "json")
    spdlog::set_formatter(std::make_unique<akamu::server::JsonLogFormatter>());
}

int runInit(const std::string& output, const std::string& data_dir, const std::string& listen,
            const std::string& base_url, int http_port, bool allow_private, bool force, bool tls,
            const std::string& admin_socket) {
  akamu::config::InitOptions opts;
  // Relative to where the operator ran init, not to where the config file lands.
  opts.data_dir = std::filesystem::absolute(data_dir).lexically_normal().string();
  opts.listen_addr = listen;
  opts.base_url = base_url.empty() ? (tls ? "https://" : "http://") + listen : base_url;
  opts.tls = tls;
  opts.admin_socket = admin_socket;
  opts.http_validation_port = http_port;
  opts.allow_private_ips = allow_private;
  if (!akamu::config::splitListenAddr(listen)) {
    std::cerr << "akamu init: invalid --listen \"" << listen << "\" (want host:port)\n";
    return 2;
  }
  if (std::filesystem::exists(output) && !force) {
    std::cerr << "akamu init: " << output << " exists; use --force to overwrite\n";
    return 1;
  }
  std::ofstream out(output, std::ios::trunc);
  out << akamu::config::renderInitConfig(opts);
  out.close();
  if (!out) {
    std::cerr << "akamu init: cannot write " << output << "\n";
    return 1;
  }
  std::cout << "wrote " << output << "; start the CA with: akamu serve -c " << output << "\n";
  return 0;
}

int runServe(const std::string& config_path) {
  auto cfg = loadConfig(config_path);
  if (!cfg) {
    std::cerr << "akamu: " << cfg.error().detail << "\n";
    return 1;
  }
  configureLogging(cfg->log);
  auto server = akamu::server::Server::create(*cfg);
  if (!server) {
    std::cerr << "akamu: " << server.error().detail << "\n";
    return 1;
  }
  if ((*server)->createdCa()) {
    spdlog::info("created a new {} CA: key {} (mode 0600), certificate {}", cfg->ca.key_type,
                 cfg->ca.key_file, cfg->ca.cert_file);
  }
  // Signals are taken by this thread only: the workers start with them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const auto getenv = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  if (auto s = (*server)->start(getenv); !s) {
    std::cerr << "akamu: " << s.error().detail << "\n";
    return 1;
  }
  // sd_listen_fds(3) unsets these so that children do not take the sockets for theirs.
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  spdlog::info("akamu {} listening on {}; directory {}", AKAMU_VERSION,
               (*server)->listeners().front().addr, (*server)->directoryUrl());
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGHUP) {
      spdlog::info("signal {} received, stopping", sig);
      break;
    }
    // SIGHUP (logrotate's postrotate, `systemctl reload`): the audit log was renamed, so write
    // to a new file at its path; and read the TLS certificate files again.
    if (auto st = (*server)->reopenLogs(); !st) {
      spdlog::error("SIGHUP: {}; still writing to the previous audit log file", st.error().detail);
    } else {
      spdlog::info("SIGHUP: reopened the audit log {}", cfg->server.audit_log_file);
    }
    if (!cfg->tls) continue;
    if (auto s = (*server)->reloadTls(); !s) {
      spdlog::error("SIGHUP: TLS reload failed, keeping the current certificate: {}",
                    s.error().detail);
    } else {
      spdlog::info("SIGHUP: TLS certificate reloaded");
    }
  }
  (*server)->stop();
  (*server)->wait();
  spdlog::info("stopped");
  return 0;
}

// `akamu config check`: the file as the server would read it, every default filled in, secrets
// masked; non-zero with the reasons when the server would refuse it.
int runConfigCheck(const std::string& config_path) {
  auto cfg = loadConfig(config_path);
  if (!cfg) {
    std::cerr << "akamu config check: " << cfg.error().detail << "\n";
    return 1;
  }
  if (auto st = akamu::server::Server::checkConfig(*cfg); !st) {
    std::cerr << "akamu config check: " << config_path << ": " << st.error().detail << "\n";
    return 1;
  }
  std::cout << akamu::config::renderEffectiveConfig(*cfg);
  std::cerr << config_path << ": configuration OK\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"akamu: a self-hosted ACME (RFC 8555) certificate authority"};
  app.require_subcommand(1);

  auto* init = app.add_subcommand("init", "write a commented, working configuration file");
  std::string output = "akamu.toml", data_dir = "./akamu-data", listen = "127.0.0.1:8080", base_url;
  std::string admin_socket;
  bool force = false, allow_private = false, init_tls = false;
  int http_port = 80;
  init->add_option("-o,--output", output, "config file to write")->capture_default_str();
  init->add_option("--data-dir", data_dir, "where the CA key, database and audit log live")
      ->capture_default_str();
  init->add_option("--listen", listen, "listen address host:port")->capture_default_str();
  init->add_option("--base-url", base_url,
                   "public base URL (default http://<listen>, https://<listen> with --tls)");
  init->add_flag("--tls", init_tls,
                 "serve HTTPS with a server certificate the CA issues itself ([tls] auto = true)");
  init->add_option("--admin-socket", admin_socket,
                   "enable the admin API for akamuctl on this Unix socket (mode 0660)");
  init->add_option("--http-validation-port", http_port, "port http-01 validation connects to")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  init->add_flag("--allow-private-ips", allow_private,
                 "let http-01 validation reach private and loopback addresses");
  init->add_flag("--force", force, "overwrite an existing file");

  auto* serve = app.add_subcommand("serve", "run the ACME server");
  std::string config_path = "akamu.toml";
  serve->add_option("-c,--config", config_path, "config file")->capture_default_str();

  auto* config_cmd = app.add_subcommand("config", "inspect a configuration file");
  config_cmd->require_subcommand(1);
  auto* config_check = config_cmd->add_subcommand(
      "check", "validate the file and print the effective configuration, secrets masked");
  std::string check_path = "akamu.toml";
  config_check->add_option("-c,--config", check_path, "config file")->capture_default_str();

  auto* version = app.add_subcommand("version", "print the version and the OpenSSL in use");
  auto run_incident = akamu::cli::addIncidentCommand(app);
  auto run_ratelimit = akamu::cli::addRateLimitCommand(app);

  const akamu::app::EabCommand eab(app);

  CLI11_PARSE(app, argc, argv);
  if (init->parsed())
    return runInit(output, data_dir, listen, base_url, http_port, allow_private, force, init_tls,
                   admin_socket);
  if (serve->parsed()) return runServe(config_path);
  if (config_check->parsed()) return runConfigCheck(check_path);
  if (int rc = run_incident(); rc >= 0) return rc;
  if (int rc = run_ratelimit(); rc >= 0) return rc;
  if (auto rc = eab.run(std::cout, std::cerr)) return *rc;
  if (version->parsed()) {
    std::cout << "akamu " << AKAMU_VERSION << "\n"
              << akamu::crypto::opensslVersion() << " (ML-DSA "
              << (akamu::crypto::mlDsaAvailable() ? "available"
                                                  : "unavailable: needs OpenSSL >= 3.5")
              << ")\n";
    return 0;
  }
  return 0;
}
