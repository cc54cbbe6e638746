#pragma once
// The server certificate of the HTTPS listeners ([tls]): loaded from cert_file/key_file and
// re-read on reload (SIGHUP), or in auto mode issued by this CA for the host of base_url and
// renewed at two thirds of its lifetime, on the server's clock, without a restart. Each new
// context goes into the TlsContextSlot the listeners read per handshake; connections made with
// the previous one keep it until they close.
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "ca/certificate_authority.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "ra/audit_log.hpp"
#include "server/tls_context.hpp"

namespace akamu::server {

class ServerTls {
 public:
  // Puts the first context into `slot` (which must outlive this), or returns the one-line reason
  // the server cannot start (a key file others may read, a certificate that does not match its key,
  // a base_url host the CA cannot name).
  static core::Result<std::unique_ptr<ServerTls>> create(
      const config::TlsConfig& config, const ca::CertificateAuthority& ca, const core::Clock& clock,
      ra::AuditLog& audit, const std::string& base_url, TlsContextSlot& slot);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // Files: reads them again; on any error the current certificate stays. Auto: issues a new
  // certificate now.
  core::Status reload();
  // Auto mode: renews when two thirds of the current certificate's lifetime have passed on the
  // clock; true when it did. Files: always false.
  core::Result<bool> renewIfDue();
  // Auto mode: a timer that calls renewIfDue when due (and at least hourly, so a clock that
  // jumps, or a suspended host, is noticed). No-op for files.
  void startRenewal(boost::asio::any_io_executor executor);
  void stop();
  // When the auto certificate is due for renewal (the epoch for files).
  core::TimePoint renewalDue() const;

  struct State;  // shared with the renewal loop

 private:
  explicit ServerTls(std::shared_ptr<State> state);
  core::Status issue();

  std::shared_ptr<State> state_;
};

}  // namespace akamu::server
