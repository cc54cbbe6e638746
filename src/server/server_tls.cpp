#include "server/server_tls.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <optional>

#include "core/problem.hpp"
#include "crypto/key_type.hpp"
#include "crypto/pem.hpp"

namespace akamu::server {
namespace asio = boost::asio;

namespace {
// The longest the renewal timer sleeps before it looks at the clock again.
constexpr std::chrono::hours kMaxRenewalSleep{1};
}  // namespace

struct ServerTls::State {
  config::TlsConfig config;
  const ca::CertificateAuthority& ca;
  const core::Clock& clock;
  ra::AuditLog& audit;
  core::Identifier host;
  TlsContextSlot* slot = nullptr;
  // Serialises reload, renewal and the due time they set (SIGHUP thread vs renewal timer).
  std::mutex mutex;
  core::TimePoint due{};
  std::atomic<bool> stopped{false};
  std::optional<asio::strand<asio::any_io_executor>> strand;
  std::optional<asio::steady_timer> timer;
};

namespace {

// The identifier the auto certificate names: the host of base_url, an IP SAN for an address.
core::Result<core::Identifier> baseUrlHost(const std::string& base_url) {
  auto url = boost::urls::parse_uri(base_url);
  if (!url) return core::fail(core::serverInternal("tls.auto: cannot parse base_url " + base_url));
  switch (url->host_type()) {
    case boost::urls::host_type::ipv4:
      return core::Identifier{"ip", url->host_address()};
    case boost::urls::host_type::ipv6:
      return core::Identifier{"ip", url->host_ipv6_address().to_string()};
    case boost::urls::host_type::name: {
      std::string name = url->host_name();
      if (!name.empty()) return core::Identifier{"dns", std::move(name)};
      break;
    }
    default:
      break;
  }
  return core::fail(core::serverInternal("tls.auto: base_url " + base_url +
                                         " has no host name or IP address to certify"));
}

// Issues a key and certificate for `host` and makes a context of them. The key lives only in
// that context: nothing secret is written to disk, and each start issues a fresh certificate.
core::Result<TlsContextPtr> issueContext(ServerTls::State& s, core::TimePoint& due) {
  auto key_type = crypto::parseKeyType("ec:P-256");
  if (!key_type) return core::fail(key_type.error());
  auto key = crypto::generateKey(*key_type);
  if (!key) return core::fail(key.error());
  ca::LeafProfile profile;
  profile.validity = std::chrono::seconds(s.config.auto_validity_secs);
  profile.client_auth = false;
  // Not in the store, so no CRL or OCSP would ever list it: do not point relying parties there.
  profile.include_crl_url = false;
  profile.include_ocsp_url = false;
  const std::optional<std::string> cn = s.host.type == "dns" && s.host.value.size() <= 64
                                            ? std::optional(s.host.value)
                                            : std::nullopt;
  auto issued = s.ca.issue(key->get(), {s.host}, cn, std::nullopt, std::nullopt, nullptr, profile);
  if (!issued) return core::fail(issued.error());
  auto context = makeServerTlsContext(issued->pem_chain, key->get());
  if (!context) return core::fail(context.error());
  due = issued->not_before + (issued->not_after - issued->not_before) * 2 / 3;
  (void)s.audit.record({"tls.issue", true, s.host.value, "system",
                        "server certificate serial " + issued->serial_hex + " valid until " +
                            core::formatRfc3339(issued->not_after)});
  spdlog::info("tls: issued the server certificate for {} (serial {}), renewal at {}", s.host.value,
               issued->serial_hex, core::formatRfc3339(due));
  return context;
}

asio::awaitable<void> renewalLoop(std::shared_ptr<ServerTls::State> state, ServerTls* tls) {
  for (;;) {
    if (state->stopped) co_return;
    auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(tls->renewalDue() -
                                                                                state->clock.now());
    wait = std::clamp<std::chrono::steady_clock::duration>(wait, std::chrono::seconds(1),
                                                           kMaxRenewalSleep);
    state->timer->expires_after(wait);
    auto [ec] = co_await state->timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || state->stopped) co_return;
    if (auto renewed = tls->renewIfDue(); !renewed) {
      spdlog::error("tls: renewing the server certificate failed (the current one stays): {}",
                    renewed.error().detail);
    }
  }
}

}  // namespace

ServerTls::ServerTls(std::shared_ptr<State> state) : state_(std::move(state)) {}

ServerTls::~ServerTls() { stop(); }

core::Result<std::unique_ptr<ServerTls>> ServerTls::create(
    const config::TlsConfig& config, const ca::CertificateAuthority& ca, const core::Clock& clock,
    ra::AuditLog& audit, const std::string& base_url, TlsContextSlot& slot) {
  auto state = std::shared_ptr<State>(new State{config, ca, clock, audit, {}, &slot});
  if (config.auto_issue) {
    auto host = baseUrlHost(base_url);
    if (!host) return core::fail(host.error());
    state->host = std::move(*host);
  }
  std::unique_ptr<ServerTls> tls(new ServerTls(std::move(state)));
  if (auto s = tls->reload(); !s) return core::fail(s.error());
  return tls;
}

core::Status ServerTls::issue() {
  core::TimePoint due{};
  auto context = issueContext(*state_, due);
  if (!context) return core::fail(context.error());
  state_->slot->replace(std::move(*context));
  state_->due = due;
  return {};
}

core::Status ServerTls::reload() {
  std::lock_guard lock(state_->mutex);
  if (state_->config.auto_issue) return issue();
  auto context = loadServerTlsContext(state_->config.cert_file, state_->config.key_file);
  if (!context) return core::fail(context.error());
  state_->slot->replace(std::move(*context));
  return {};
}

core::Result<bool> ServerTls::renewIfDue() {
  std::lock_guard lock(state_->mutex);
  if (!state_->config.auto_issue || state_->clock.now() < state_->due) return false;
  if (auto s = issue(); !s) return core::fail(s.error());
  return true;
}

core::TimePoint ServerTls::renewalDue() const {
  std::lock_guard lock(state_->mutex);
  return state_->due;
}

void ServerTls::startRenewal(asio::any_io_executor executor) {
  if (!state_->config.auto_issue || state_->timer) return;
  state_->strand.emplace(asio::make_strand(executor));
  state_->timer.emplace(*state_->strand);
  asio::co_spawn(*state_->strand, renewalLoop(state_, this), asio::detached);
}

void ServerTls::stop() {
  state_->stopped = true;
  if (state_->strand) {
    asio::post(*state_->strand, [state = state_] { state->timer->cancel(); });
  }
}

}  // namespace akamu::server
