#pragma once
// One running Akāmu: configuration in, a listening ACME server out. Used by `akamu serve`,
// by the integration tests (port 0, in-process) and by acme-bench --spawn inprocess.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ca/certificate_authority.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "ra/audit_log.hpp"
#include "ra/crl_generator.hpp"
#include "ra/ocsp_responder.hpp"
#include "ra/public_suffix.hpp"
#include "ra/rate_limiter.hpp"
#include "ra/registration_authority.hpp"
#include "ra/star_schedule.hpp"
#include "server/acme_service.hpp"
#include "server/admin_api.hpp"
#include "server/health.hpp"
#include "server/http_server.hpp"
#include "server/metrics.hpp"
#include "server/revocation_endpoints.hpp"
#include "server/server_tls.hpp"
#include "server/tls_context.hpp"
#include "store/bucket_store.hpp"
#include "store/retention.hpp"
#include "store/store.hpp"
#include "validation/engine.hpp"
#include "validation/resolver.hpp"

namespace akamu::server {

class Server {
 public:
  // Opens the audit log and the database, loads or creates the CA. Fails with a problem
  // whose detail is the one line an operator needs.
  static core::Result<std::unique_ptr<Server>> create(config::Config config,
                                                      std::shared_ptr<core::Clock> clock = nullptr);
  ~Server();
  // What create() checks before it opens anything (profiles filled in and the default one
  // present, a CA key type this OpenSSL can make); `akamu config check` runs it too.
  static core::Status checkConfig(config::Config& config);

  using EnvLookup = std::function<std::optional<std::string>(const char*)>;
  // Binds listen_addr and the [[listeners]] (or, when `getenv` reports systemd socket
  // activation — LISTEN_PID is this process, LISTEN_FDS = n — serves fds 3..3+n-1 instead, the
  // i-th with the TLS setting of the i-th configured listener, listen_addr first), sets up
  // [tls], and starts the worker threads. When base_url is empty it becomes
  // http(s)://<listen host>:<bound port>. The lookup is injected so tests need not touch the
  // process environment; `first_inherited_fd` is 3 (sd_listen_fds) except in tests, whose
  // process may already use fd 3.
  core::Status start(const EnvLookup& getenv = {}, int first_inherited_fd = 3);
  // Graceful: closes the listeners, stops the background schedules, waits up to [server]
  // shutdown_grace_secs for the requests being handled, then stops the event loops.
  void stop();
  // Blocks until stop() (e.g. from a signal handler thread).
  void wait();

  // The port of the first listener (listen_addr, or the first inherited socket).
  std::uint16_t port() const { return port_; }
  // The admin API's socket ("unix:/path"), empty without [admin] socket.
  std::string adminAddr() const;
  // Every listener, in configuration order, with what it is bound to.
  const std::vector<BoundListener>& listeners() const { return http_->listeners(); }
  // [tls] with cert_file/key_file: reads both files again and serves them to new handshakes;
  // on any error the current certificate stays and the error is returned. Auto mode: issues a
  // new certificate now. Without [tls]: an error. SIGHUP calls this.
  core::Status reloadTls();
  // Auto mode: renews the server certificate when two thirds of its lifetime have passed on
  // the server clock (what the renewal timer does when it fires); true when it renewed. For
  // tests that move a fake clock, like pokeCrlSchedule.
  core::Result<bool> renewTlsNow();
  // The bound port of [server] metrics_listen_addr after start(); 0 when it is off.
  std::uint16_t metricsPort() const { return metrics_port_; }
  const std::string& baseUrl() const { return base_url_; }
  std::string directoryUrl() const { return base_url_ + "/acme/directory"; }
  const ca::CertificateAuthority& ca() const { return *ca_; }
  bool createdCa() const { return created_ca_; }
  const config::Config& config() const { return config_; }
  // One retention pass now, at the server clock's current time (what the schedule runs every
  // prune_interval_secs); blocks until it is done. For tests and operators' tools; needs
  // start() to have been called.
  core::Result<store::PruneCounts> pruneNow();
  // Declares an incident (RFC 9773 §4.2) in the server's store, as `akamu incident add` does;
  // blocks until it is committed. Needs start().
  core::Status addIncident(const acme::Incident& incident);
  // The revocation jobs, after start(): null when CRLs / OCSP are off.
  ra::CrlGenerator* crlGenerator() { return crls_.get(); }
  ra::OcspResponder* ocspResponder() { return ocsp_.get(); }
  // Makes the CRL schedule look at the clock now (after a test moved a fake clock); it
  // regenerates the shards that are due.
  void pokeCrlSchedule() {
    if (crl_schedule_) crl_schedule_->poke();
  }
  // One STAR reissue pass now, at the server clock's current time (what the schedule runs
  // every [star] check_interval_secs); blocks until it is done. Needs start().
  core::Result<ra::StarPassCounts> runStarNow();
  // What the STAR passes did since start (issued, missed periods, stopped, failed).
  ra::StarCounters starCounters() const;
  // Reopens the audit log at its configured path (SIGHUP, after logrotate renamed it). On
  // failure the old file stays in use.
  core::Status reopenLogs();
  // Requests being handled now.
  std::size_t requestsInFlight() const { return service_ ? service_->inFlight().count() : 0; }
  // What `akamu ratelimit override set` and `unpause` do, on the server's store; block until
  // committed. Need start().
  core::Status setRateLimitOverride(const store::RateLimitOverride& o);
  core::Result<bool> unpauseRateLimit(const std::string& account_id, const std::string& identifier);
  // The rate limiter after start(), for its denial counters; null when [rate_limits] is off.
  const ra::RateLimiter* rateLimiter() const { return limiter_.get(); }

 private:
  Server() = default;
  // CA revocation URLs, the CRL generator and schedule, the OCSP responder, their endpoints.
  core::Status startRevocation();
  void startThreadsOnce(unsigned n, bool loop_per_thread);
  // listen_addr and [[listeners]], or the sockets systemd handed over.
  core::Status bindListeners(const EnvLookup& getenv, int first_inherited_fd);
  // Binds [server] metrics_listen_addr (when set) and serves /metrics and /health/* there.
  core::Status startMetricsListener();
  boost::asio::awaitable<HttpResponse> serveMetricsListener(HttpRequest request);

  config::Config config_;
  std::shared_ptr<core::Clock> clock_;
  // Before everything that records into it (the store above all, which may still complete
  // calls while it is torn down); null when [server] metrics_listen_addr is off.
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<ra::AuditLog> audit_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ca::CertificateAuthority> ca_;
  bool created_ca_ = false;
  // With SQLite, one more event loop per further thread, each run by its own thread and
  // serving the connections handed to it: a request never waits for another thread to be
  // woken, which on few cores cost more than the work it moved (see docs/architecture.md).
  // Declared before ioc_ so that they outlive it: requests suspended in a resolver lookup are
  // owned by handlers queued on ioc_'s strand, and destroying those touches the worker loop
  // the request belongs to.
  std::vector<std::unique_ptr<boost::asio::io_context>> worker_loops_;
  // The main event loop: the listener, the resolvers and the retention schedule. With SQLite
  // the first thread runs it and serves its share of the connections too; with PostgreSQL
  // every thread runs it and there are no worker loops.
  boost::asio::io_context ioc_;
  // Declared after ioc_: resolvers must be destroyed before the io_context they run on.
  std::unique_ptr<validation::Resolver> resolver_;
  std::unique_ptr<validation::Resolver> persist_resolver_;
  // The roles, built by start(): front end -> RA -> validation / store / CA.
  std::unique_ptr<AcmeUrls> urls_;
  std::unique_ptr<validation::ValidationEngine> validation_;
  std::unique_ptr<ra::CrlGenerator> crls_;
  std::unique_ptr<ra::CrlSchedule> crl_schedule_;
  std::unique_ptr<ra::OcspResponder> ocsp_;
  std::unique_ptr<RevocationEndpoints> revocation_;
  // Rate limits (null when off): the public suffix list, loaded once at create(), and the
  // buckets: the database's when it shares them (PostgreSQL), else this process's memory.
  std::shared_ptr<const ra::PublicSuffixList> suffixes_;
  std::unique_ptr<store::MemoryBucketStore> memory_buckets_;
  std::unique_ptr<ra::RateLimiter> limiter_;
  std::unique_ptr<ra::RegistrationAuthority> ra_;
  std::unique_ptr<Health> health_;
  std::unique_ptr<AcmeService> service_;
  std::unique_ptr<store::RetentionSchedule> retention_;
  std::unique_ptr<ra::StarSchedule> star_;
  // The server certificate: the slot every TLS listener reads per handshake, and what fills it.
  TlsContextSlot tls_slot_;
  std::unique_ptr<ServerTls> tls_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> metrics_http_;
  std::uint16_t metrics_port_ = 0;
  core::TimePoint ca_not_after_{};
  // [admin]: the operator's API on its own Unix socket, its own route table.
  std::unique_ptr<AdminApi> admin_;
  std::unique_ptr<HttpServer> admin_http_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  std::string base_url_;
  bool stopped_ = false;
};

}  // namespace akamu::server
