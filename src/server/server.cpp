#include "server/server.hpp"

#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>
#include <ctime>

#include "core/database_url.hpp"
#include "crypto/key_type.hpp"
#include "store/open_store.hpp"

namespace akamu::server {

namespace {

// The one reading of the [database] retention keys, for the schedule and for pruneNow alike.
store::RetentionSettings retentionSettings(const config::DatabaseConfig& db) {
  store::RetentionSettings settings;
  settings.interval = std::chrono::seconds(db.prune_interval_secs);
  settings.after_expiry = std::chrono::seconds(db.prune_after_expiry_secs);
  return settings;
}

}  // namespace

core::Status Server::checkConfig(config::Config& cfg) {
  config::applyProfileDefaults(cfg);
  if (config::findProfile(cfg, cfg.server.default_profile) == nullptr) {
    return core::fail(core::malformed("server.default_profile = \"" + cfg.server.default_profile +
                                      "\" names no profile"));
  }
  auto key_type = crypto::parseKeyType(cfg.ca.key_type);
  if (!key_type) return core::fail(key_type.error());
  if (key_type->algorithm == crypto::KeyAlgorithm::kMlDsa && !crypto::mlDsaAvailable()) {
    return core::fail(core::serverInternal("ca.key_type = \"" + cfg.ca.key_type +
                                           "\" needs ML-DSA, which requires OpenSSL >= 3.5; "
                                           "this akamu uses " +
                                           crypto::opensslVersion()));
  }
  return {};
}

core::Result<std::unique_ptr<Server>> Server::create(config::Config config,
                                                     std::shared_ptr<core::Clock> clock) {
  std::unique_ptr<Server> s(new Server());
  s->config_ = std::move(config);
  s->clock_ = clock ? std::move(clock) : std::make_shared<core::SystemClock>();
  if (auto st = checkConfig(s->config_); !st) return core::fail(st.error());
  const auto& cfg = s->config_;
  if (cfg.rate_limits.enabled) {
    auto suffixes = ra::PublicSuffixList::load(cfg.rate_limits.public_suffix_file);
    if (!suffixes) return core::fail(suffixes.error());
    s->suffixes_ = std::move(*suffixes);
  }
  auto audit = ra::AuditLog::open(cfg.server.audit_log_file, *s->clock_);
  if (!audit) return core::fail(audit.error());
  s->audit_ = std::move(*audit);

  store::StoreOptions store_options;
  store_options.pool_connections = static_cast<std::size_t>(cfg.database.pool_connections);
  store_options.ro_connections = static_cast<std::size_t>(cfg.database.ro_connections);
  store_options.require_tls = cfg.database.require_tls;
  // Metrics are recorded only when someone can read them: off, the hot path pays nothing.
  if (!cfg.server.metrics_listen_addr.empty()) {
    s->metrics_ = std::make_unique<ServerMetrics>();
    store_options.metrics = s->metrics_.get();
  }
  auto store = store::openStore(cfg.database.url, store_options, s->ioc_.get_executor());
  if (!store) return core::fail(store.error());
  s->store_ = std::move(*store);

  ca::CaSettings ca_settings;
  ca_settings.key_file = cfg.ca.key_file;
  ca_settings.cert_file = cfg.ca.cert_file;
  ca_settings.key_type = cfg.ca.key_type;
  ca_settings.hash_alg = cfg.ca.hash_alg;
  ca_settings.validity_days = cfg.ca.validity_days;
  ca_settings.ca_validity_days = cfg.ca.ca_validity_days;
  ca_settings.common_name = cfg.ca.common_name;
  ca_settings.organization = cfg.ca.organization;
  auto ca = ca::CertificateAuthority::loadOrCreate(ca_settings, *s->clock_, &s->created_ca_);
  if (!ca) return core::fail(ca.error());
  s->ca_ = std::move(*ca);

  validation::ResolverSettings dns;
  dns.upstream = cfg.server.dns_resolver_addr;
  dns.timeout = std::chrono::seconds(cfg.server.dns_timeout_secs);
  dns.trust_anchor_file = cfg.server.dns_trust_anchor_file;
  auto resolver = validation::UnboundResolver::create(s->ioc_.get_executor(), dns);
  if (!resolver) return core::fail(resolver.error());
  s->resolver_ = std::move(*resolver);
  if (!cfg.server.dns_persist01_resolver_addr.empty()) {
    dns.upstream = cfg.server.dns_persist01_resolver_addr;
    auto persist = validation::UnboundResolver::create(s->ioc_.get_executor(), dns);
    if (!persist) return core::fail(persist.error());
    s->persist_resolver_ = std::move(*persist);
  }
  return s;
}

namespace {

// sd_listen_fds(3) without libsystemd: LISTEN_PID names this process, LISTEN_FDS counts the
// sockets from fd 3. Zero when the variables are absent or meant for another process.
core::Result<int> inheritedSocketCount(const Server::EnvLookup& getenv) {
  if (!getenv) return 0;
  auto pid = getenv("LISTEN_PID");
  auto fds = getenv("LISTEN_FDS");
  if (!pid || !fds) return 0;
  if (*pid != std::to_string(::getpid())) return 0;
  int n = 0;
  for (char c : *fds) {
    if (c < '0' || c > '9' || n > 1000) {
      return core::fail(core::serverInternal("LISTEN_FDS=" + *fds + " is not a socket count"));
    }
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

core::Status Server::bindListeners(const EnvLookup& getenv, int first_inherited_fd) {
  struct Spec {
    std::string addr;
    bool tls;
  };
  std::vector<Spec> specs{{config_.listen_addr, config_.tls.has_value()}};
  for (const auto& l : config_.listeners) specs.push_back({l.addr, l.tls});
  for (const auto& spec : specs) {
    if (spec.tls && !config_.tls) {
      return core::fail(
          core::malformed("listener " + spec.addr + " wants TLS but there is no [tls]"));
    }
  }
  auto inherited = inheritedSocketCount(getenv);
  if (!inherited) return core::fail(inherited.error());
  if (*inherited > 0) {
    if (static_cast<std::size_t>(*inherited) > specs.size()) {
      return core::fail(core::serverInternal(
          "systemd passed " + std::to_string(*inherited) + " sockets (LISTEN_FDS) but " +
          std::to_string(specs.size()) +
          " listeners are configured (listen_addr and [[listeners]]): each inherited socket takes "
          "the TLS setting of the configured listener at its position"));
    }
    for (int i = 0; i < *inherited; ++i) {
      const int fd = first_inherited_fd + i;
      auto bound = http_->adopt(fd, specs[i].tls ? &tls_slot_ : nullptr);
      if (!bound) return core::fail(bound.error());
      spdlog::info("listening on {} ({}, inherited fd {})", bound->addr,
                   bound->tls ? "https" : "http", fd);
    }
    return {};
  }
  for (const auto& spec : specs) {
    auto bound = http_->listen(spec.addr, spec.tls ? &tls_slot_ : nullptr);
    if (!bound) return core::fail(bound.error());
    spdlog::info("listening on {} ({})", bound->addr, bound->tls ? "https" : "http");
  }
  return {};
}

core::Status Server::start(const EnvLookup& getenv, int first_inherited_fd) {
  http_ = std::make_unique<HttpServer>(
      ioc_, [this](HttpRequest r) { return service_->handleAsync(std::move(r)); },
      config_.server.max_body_bytes);
  if (auto s = bindListeners(getenv, first_inherited_fd); !s) return s;
  const BoundListener& first = http_->listeners().front();
  port_ = first.port;
  base_url_ = config_.base_url;
  if (base_url_.empty()) {
    if (first.port == 0) {
      return core::fail(
          core::malformed("base_url is required when the first listener is " + first.addr));
    }
    base_url_ = (first.tls ? "https://" : "http://") + first.addr;
  }
  if (config_.tls) {
    auto tls = ServerTls::create(*config_.tls, *ca_, *clock_, *audit_, base_url_, tls_slot_);
    if (!tls) return core::fail(tls.error());
    tls_ = std::move(*tls);
  }
  const auto& cfg = config_.server;
  validation::ValidationSettings checks;
  checks.http.port = static_cast<std::uint16_t>(cfg.http_validation_port);
  checks.http.allow_private_ips = cfg.http_validation_allow_private_ips;
  checks.http.timeout = std::chrono::seconds(cfg.validation_timeout_secs);
  checks.tls.port = static_cast<std::uint16_t>(cfg.tls_alpn_validation_port);
  checks.tls.allow_private_ips = cfg.http_validation_allow_private_ips;
  checks.tls.timeout = std::chrono::seconds(cfg.validation_timeout_secs);
  checks.dns_persist_issuer_domains = cfg.dns_persist_issuer_domains;
  checks.caa_identities = cfg.caa_identities;
  checks.timeout = std::chrono::seconds(cfg.validation_timeout_secs);
  validation_ = std::make_unique<validation::ValidationEngine>(
      *resolver_, persist_resolver_ ? *persist_resolver_ : *resolver_, std::move(checks));
  urls_ = std::make_unique<AcmeUrls>(base_url_);
  if (auto s = startRevocation(); !s) return s;
  ra::RaDeps ra_deps{config_, *store_, *ca_, *audit_, *clock_, *validation_, *urls_};
  ra_deps.metrics = metrics_.get();
  if (config_.rate_limits.enabled) {
    if (config_.rate_limits.help_url.empty()) {
      config_.rate_limits.help_url = base_url_ + "/docs/rate-limits";
    }
    store::BucketStore* buckets = store_->sharedBuckets();
    if (buckets == nullptr) {
      memory_buckets_ = std::make_unique<store::MemoryBucketStore>();
      buckets = memory_buckets_.get();
    }
    limiter_ = std::make_unique<ra::RateLimiter>(
        ra::RateLimiter::Deps{config_.rate_limits, *store_, *buckets, suffixes_, *clock_});
    ra_deps.limits = limiter_.get();
  }
  ra_deps.on_revoked = [this](const acme::Certificate& cert) {
    if (crl_schedule_) crl_schedule_->shardChanged(cert.crl_shard);
    if (ocsp_) ocsp_->invalidate(cert.serial_hex);
  };
  ra_ = std::make_unique<ra::RegistrationAuthority>(std::move(ra_deps));
  health_ = std::make_unique<Health>(HealthDeps{*store_, *ca_, *audit_});
  service_ =
      std::make_unique<AcmeService>(ServiceDeps{config_, *store_, *ra_, *audit_, revocation_.get(),
                                                health_.get(), metrics_.get()},
                                    *urls_);
  if (!config_.admin.socket.empty()) {
    admin_ = std::make_unique<AdminApi>(
        AdminDeps{*store_, *ra_, *clock_, config_.server.audit_log_file});
    // Requests are small (a revocation reason at most).
    constexpr std::size_t kAdminMaxBody = 64 * 1024;
    admin_http_ = std::make_unique<HttpServer>(
        ioc_, [this](HttpRequest r) { return admin_->handle(std::move(r)); }, kAdminMaxBody);
    auto bound =
        admin_http_->listen("unix:" + config_.admin.socket, nullptr, config_.admin.socket_mode);
    if (!bound) return core::fail(bound.error());
    spdlog::info("admin API on {} (mode {:o})", bound->addr, config_.admin.socket_mode);
  }
  if (auto s = audit_->record({"ca.start", true, base_url_, "system", "akamu started"}); !s) {
    return core::fail(s.error());
  }
  unsigned n = config_.server.threads > 0 ? static_cast<unsigned>(config_.server.threads)
                                          : std::max(1u, std::thread::hardware_concurrency());
  // With SQLite a request is pure CPU on its thread, and one loop per thread saves the
  // cross-thread wake-ups. With PostgreSQL every request waits on the database, whose backends
  // compete for the same cores; there one shared loop lets an idle thread take over the ready
  // work of a busy one. Measured against the shared loop in the same runs, a loop per thread
  // made 0.91/0.93/0.92 of its throughput at 10 clients and 0.94/0.87/0.90 at 25.
  const bool loop_per_thread = !core::isPostgresUrl(config_.database.url);
  std::vector<boost::asio::any_io_executor> session_executors;
  if (loop_per_thread) {
    session_executors.push_back(ioc_.get_executor());
    try {
      for (unsigned i = 1; i < n; ++i) {
        worker_loops_.push_back(std::make_unique<boost::asio::io_context>(1));
        session_executors.push_back(worker_loops_.back()->get_executor());
      }
    } catch (const std::exception& e) {  // e.g. out of file descriptors for the epoll sets
      return core::fail(
          core::serverInternal("cannot create " + std::to_string(n) + " event loops: " + e.what()));
    }
  }
  http_->start(std::move(session_executors));
  if (admin_http_) admin_http_->start();
  if (tls_) tls_->startRenewal(ioc_.get_executor());
  if (auto st = startMetricsListener(); !st) return st;
  retention_ = std::make_unique<store::RetentionSchedule>(
      ioc_.get_executor(), *store_, *clock_, retentionSettings(config_.database),
      [](const core::Result<store::PruneCounts>& r) {
        if (!r) {
          spdlog::warn("retention: pruning failed: {}", r.error().detail);
        } else if (r->orders + r->authorizations + r->challenges > 0) {
          spdlog::info("retention: pruned {} orders, {} authorizations, {} challenges", r->orders,
                       r->authorizations, r->challenges);
        }
      });
  retention_->start();
  if (config_.star.enabled) {
    star_ = std::make_unique<ra::StarSchedule>(
        ioc_.get_executor(), *ra_, std::chrono::seconds(config_.star.check_interval_secs),
        [](const core::Result<ra::StarPassCounts>& r) {
          if (!r) {
            spdlog::warn("star: reissue pass failed: {}", r.error().detail);
          } else if (r->issued + r->missed + r->stopped + r->failed > 0) {
            spdlog::info(
                "star: {} orders, {} certificates issued, {} periods missed, {} stopped, "
                "{} failed",
                r->orders, r->issued, r->missed, r->stopped, r->failed);
          }
        });
    star_->start();
  }
  // Threads needed from here on: the first CRLs are generated on the loop.
  if (crls_) {
    // Every shard once before start() returns, so the CRLs are there when the server answers;
    // a failure is only logged: the schedule retries.
    for (int shard = 0; shard < crls_->shards(); ++shard) {
      auto done = boost::asio::co_spawn(ioc_, crls_->runOnce(shard), boost::asio::use_future);
      startThreadsOnce(n, loop_per_thread);
      if (auto st = done.get(); !st) {
        spdlog::warn("crl: generating shard {} failed: {}", shard, st.error().detail);
      }
    }
    crl_schedule_->start();
  }
  startThreadsOnce(n, loop_per_thread);
  return {};
}

void Server::startThreadsOnce(unsigned n, bool loop_per_thread) {
  if (!threads_.empty()) return;
  for (unsigned i = 0; i < (loop_per_thread ? 1 : n); ++i) {
    threads_.emplace_back([this] {
      auto guard = boost::asio::make_work_guard(ioc_);
      ioc_.run();
    });
  }
  for (auto& loop : worker_loops_) {
    threads_.emplace_back([loop = loop.get()] {
      auto guard = boost::asio::make_work_guard(*loop);
      loop->run();
    });
  }
}

core::Status Server::startMetricsListener() {
  const std::string& addr = config_.server.metrics_listen_addr;
  if (addr.empty()) return {};
  auto split = config::splitListenAddr(addr);
  if (!split) return core::fail(core::malformed("invalid server.metrics_listen_addr " + addr));
  // The CA certificate does not change while the server runs: its notAfter is read once.
  if (const ASN1_TIME* t = X509_get0_notAfter(ca_->certificate())) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) == 1) {
      ca_not_after_ = core::TimePoint(std::chrono::seconds(timegm(&tm)));
    }
  }
  // Requests here are a scraper's GETs: no body worth more than a few KiB.
  metrics_http_ = std::make_unique<HttpServer>(
      ioc_, [this](HttpRequest r) { return serveMetricsListener(std::move(r)); }, 4096);
  auto bound = metrics_http_->listen(addr, nullptr);  // plain HTTP, whatever [tls] says
  if (!bound) {
    return core::fail(
        core::serverInternal("server.metrics_listen_addr " + addr + ": " + bound.error().detail));
  }
  metrics_port_ = bound->port;
  metrics_http_->start();
  return {};
}

boost::asio::awaitable<HttpResponse> Server::serveMetricsListener(HttpRequest request) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (get && request.path == "/metrics") {
    MetricsSnapshot snapshot;
    snapshot.nonces_redeemed = service_->nonces().redeemed();
    snapshot.nonce_capacity = service_->nonces().capacity();
    const auto depths = store_->queueDepths();
    snapshot.writes_queued = depths.writes_queued;
    snapshot.connection_waiters = depths.connection_waiters;
    snapshot.ca_expiry_seconds =
        std::chrono::duration<double>(ca_not_after_ - clock_->now()).count();
    co_return HttpResponse{
        200, "text/plain; version=0.0.4; charset=utf-8", {}, metrics_->render(snapshot)};
  }
  if (get && request.path == routePath(RouteId::kHealthLive).pattern) co_return Health::live();
  if (get && request.path == routePath(RouteId::kHealthReady).pattern) {
    co_return co_await health_->ready();
  }
  co_return HttpResponse{404, "text/plain; charset=utf-8", {}, "not found\n"};
}

core::Status Server::startRevocation() {
  const auto& ca = config_.ca;
  ca::RevocationUrls urls;
  urls.crl_base = config::effectiveCrlUrl(ca, base_url_);
  urls.crl_shards = ca.crl_shards;
  urls.ocsp_url = ca.ocsp_url;
  ca_->configureRevocation(urls);
  if (urls.crl_base) {
    ra::CrlSettings settings;
    settings.shards = ca.crl_shards;
    settings.next_update = std::chrono::seconds(ca.crl_next_update_secs);
    settings.lookback = std::chrono::seconds(ca.crl_lookback_secs);
    crls_ = std::make_unique<ra::CrlGenerator>(*store_, *ca_, *clock_, settings);
    crl_schedule_ = std::make_unique<ra::CrlSchedule>(
        ioc_.get_executor(), *crls_, *clock_, [](int shard, const core::Status& st) {
          if (!st) spdlog::warn("crl: generating shard {} failed: {}", shard, st.error().detail);
        });
  }
  if (urls.ocsp_url) {
    ra::OcspSettings settings;
    settings.delegated = ca.ocsp_responder == "delegated";
    settings.next_update = std::chrono::seconds(ca.ocsp_next_update_secs);
    auto responder = ra::OcspResponder::create(*store_, *ca_, *clock_, settings);
    if (!responder) return core::fail(responder.error());
    ocsp_ = std::move(*responder);
  }
  revocation_ = std::make_unique<RevocationEndpoints>(urls.crl_base, crls_.get(), urls.ocsp_url,
                                                      ocsp_.get(), *clock_);
  return {};
}

core::Status Server::setRateLimitOverride(const store::RateLimitOverride& o) {
  return boost::asio::co_spawn(ioc_, store_->setRateLimitOverride(o), boost::asio::use_future)
      .get();
}

core::Result<bool> Server::unpauseRateLimit(const std::string& account_id,
                                            const std::string& identifier) {
  return boost::asio::co_spawn(ioc_, store_->removeRateLimitPause(account_id, identifier),
                               boost::asio::use_future)
      .get();
}

core::Status Server::addIncident(const acme::Incident& incident) {
  auto done =
      boost::asio::co_spawn(ioc_, store_->insertIncident(incident), boost::asio::use_future);
  return done.get();
}

core::Result<store::PruneCounts> Server::pruneNow() {
  auto done = boost::asio::co_spawn(
      ioc_, store::pruneOnce(*store_, *clock_, retentionSettings(config_.database)),
      boost::asio::use_future);
  return done.get();
}

core::Result<ra::StarPassCounts> Server::runStarNow() {
  auto done = boost::asio::co_spawn(ioc_, ra_->renewStarOrders(), boost::asio::use_future);
  return done.get();
}

std::string Server::adminAddr() const {
  if (!admin_http_ || admin_http_->listeners().empty()) return {};
  return admin_http_->listeners().front().addr;
}

core::Status Server::reloadTls() {
  if (!tls_) return core::fail(core::malformed("no [tls] configured: nothing to reload"));
  return tls_->reload();
}

core::Result<bool> Server::renewTlsNow() {
  if (!tls_) return core::fail(core::malformed("no [tls] configured"));
  return tls_->renewIfDue();
}

ra::StarCounters Server::starCounters() const { return ra_->starCounters(); }

core::Status Server::reopenLogs() { return audit_->reopen(); }

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  // No new connections and no new background passes; then the requests being handled get
  // [server] shutdown_grace_secs to finish (their threads keep running meanwhile), so that a
  // client whose finalize was in flight gets its answer rather than a reset connection.
  if (http_) http_->stop();
  if (star_) star_->stop();
  if (retention_) retention_->stop();
  if (crl_schedule_) crl_schedule_->stop();
  if (tls_) tls_->stop();  // the auto-renewal timer
  if (service_ && !threads_.empty()) {
    const auto grace = std::chrono::seconds(config_.server.shutdown_grace_secs);
    const std::size_t busy = service_->inFlight().count();
    if (busy > 0) spdlog::info("stopping: waiting up to {} s for {} requests", grace.count(), busy);
    if (!service_->inFlight().waitIdle(std::chrono::steady_clock::now() + grace)) {
      spdlog::warn("stopping: {} requests still running after {} s; cutting them off",
                   service_->inFlight().count(), grace.count());
    }
  }
  // The metrics and admin listeners last, so that the drain can be watched.
  if (metrics_http_) metrics_http_->stop();
  if (admin_http_) admin_http_->stop();
  if (audit_) (void)audit_->record({"ca.stop", true, base_url_, "system", "akamu stopping"});
  for (auto& loop : worker_loops_) loop->stop();
  ioc_.stop();
}

void Server::wait() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Server::~Server() {
  stop();
  wait();
  retention_.reset();
  star_.reset();
  admin_http_.reset();
  admin_.reset();
  service_.reset();
  health_.reset();
  ra_.reset();
  limiter_.reset();
  revocation_.reset();
  crl_schedule_.reset();
  ocsp_.reset();
  crls_.reset();
  validation_.reset();
  persist_resolver_.reset();
  resolver_.reset();
  // Before the event loops: the SQLite writer answers its last callers by posting to theirs,
  // and PostgreSQL calls still suspended in one keep their connection pool alive on their own.
  store_.reset();
}

}  // namespace akamu::server
