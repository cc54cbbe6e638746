#pragma once
// The OCSP responder (RFC 6960, profiled by RFC 5019): decides each requested certificate's
// status from the store's read-only path and answers with a response signed by the CA or by a
// delegated responder certificate the CA issued at start-up. Responses without a nonce are
// pre-signed per serial, cached in memory and dropped when that certificate is revoked.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ca/certificate_authority.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace akamu::ra {

struct OcspSettings {
  bool delegated = false;                   // sign with a delegated responder, not the CA key
  std::chrono::seconds next_update{86400};  // response validity
  std::size_t max_cached = 100000;          // pre-signed responses kept (then the cache restarts)
  std::size_t max_cert_ids = 8;             // CertIDs per request (RFC 5019 clients send one)
};

struct OcspReply {
  std::vector<std::uint8_t> der;  // always an OCSPResponse, successful or an error status
  // Set for a successful response that holds no nonce: HTTP caches may keep it until then.
  std::optional<core::TimePoint> this_update;
  std::optional<core::TimePoint> next_update;
};

class OcspResponder {
 public:
  static core::Result<std::unique_ptr<OcspResponder>> create(store::Store& store,
                                                             const ca::CertificateAuthority& ca,
                                                             const core::Clock& clock,
                                                             OcspSettings settings);

  // Never fails: a request that cannot be parsed is malformedRequest, one for another issuer
  // unauthorized (RFC 5019 §2.2.3: we have no authoritative record for it), a store failure
  // internalError.
  boost::asio::awaitable<OcspReply> respond(std::vector<std::uint8_t> request_der);

  // The certificate was revoked: its pre-signed response is dropped, and a response being
  // built from the state before is not cached.
  void invalidate(const std::string& serial_hex);

  // The delegated responder's certificate now (null when the CA signs). For tests.
  std::shared_ptr<const X509> delegatedCertificate();

 private:
  struct Signer {
    crypto::X509Ptr cert;  // the delegated responder's; null when the CA signs
    crypto::PKey key;
    crypto::OcspSigner view;
  };
  struct Cached {
    std::vector<std::uint8_t> der;
    core::TimePoint this_update{};
    core::TimePoint next_update{};
  };

  OcspResponder(store::Store& store, const ca::CertificateAuthority& ca, const core::Clock& clock,
                OcspSettings settings);
  // The current signer; a delegated responder is issued again before its certificate would end
  // before the nextUpdate of a response signed now.
  core::Result<std::shared_ptr<const Signer>> signer();

  store::Store& store_;
  const ca::CertificateAuthority& ca_;
  const core::Clock& clock_;
  OcspSettings settings_;
  std::mutex signer_mutex_;
  std::shared_ptr<const Signer> signer_;
  core::TimePoint signer_not_after_{};
  std::mutex cache_mutex_;
  std::unordered_map<std::string, Cached> cache_;
  // Bumped by every invalidation: a response whose status was read before one is not cached.
  std::atomic<std::uint64_t> revocations_{0};
};

}  // namespace akamu::ra
