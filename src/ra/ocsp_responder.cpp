#include "ra/ocsp_responder.hpp"

#include <spdlog/spdlog.h>

namespace akamu::ra {

namespace {

OcspReply errorReply(crypto::OcspErrorStatus status) {
  return OcspReply{crypto::ocspErrorResponse(status), std::nullopt, std::nullopt};
}

}  // namespace

OcspResponder::OcspResponder(store::Store& store, const ca::CertificateAuthority& ca,
                             const core::Clock& clock, OcspSettings settings)
    : store_(store), ca_(ca), clock_(clock), settings_(settings) {}

core::Result<std::unique_ptr<OcspResponder>> OcspResponder::create(
    store::Store& store, const ca::CertificateAuthority& ca, const core::Clock& clock,
    OcspSettings settings) {
  std::unique_ptr<OcspResponder> r(new OcspResponder(store, ca, clock, settings));
  // A delegated responder that cannot be issued is a start-up error, not a first-request one.
  auto first = r->signer();
  if (!first) return core::fail(first.error());
  return r;
}

core::Result<std::shared_ptr<const OcspResponder::Signer>> OcspResponder::signer() {
  std::lock_guard lock(signer_mutex_);
  if (!settings_.delegated) {
    if (!signer_) {
      auto s = std::make_shared<Signer>();
      s->view = ca_.ocspSigner();
      signer_ = std::move(s);
    }
    return signer_;
  }
  const auto now = clock_.now();
  // Renewed with an hour to spare: a response signed now must not outlive its signer.
  if (signer_ && now + settings_.next_update + std::chrono::hours(1) < signer_not_after_) {
    return signer_;
  }
  // Short-lived (id-pkix-ocsp-nocheck means nobody can check it for revocation): two response
  // lifetimes and a day.
  const auto validity = 2 * settings_.next_update + std::chrono::hours(24);
  auto issued = ca_.issueOcspResponder(std::chrono::duration_cast<std::chrono::seconds>(validity));
  if (!issued) return core::fail(issued.error());
  auto s = std::make_shared<Signer>();
  s->cert = std::move(issued->cert);
  s->key = std::move(issued->key);
  s->view = crypto::OcspSigner{s->cert.get(), s->key.get(), ca_.ocspSigner().hash, true};
  signer_not_after_ = now + validity;
  signer_ = std::move(s);
  return signer_;
}

std::shared_ptr<const X509> OcspResponder::delegatedCertificate() {
  auto s = signer();
  if (!s || !(*s)->cert) return nullptr;
  return std::shared_ptr<const X509>(*s, (*s)->cert.get());
}

void OcspResponder::invalidate(const std::string& serial_hex) {
  revocations_.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lock(cache_mutex_);
  cache_.erase(serial_hex);
}

boost::asio::awaitable<OcspReply> OcspResponder::respond(std::vector<std::uint8_t> request_der) {
  auto request = crypto::parseOcspRequest(request_der, ca_.certificate(), settings_.max_cert_ids);
  if (!request) co_return errorReply(crypto::OcspErrorStatus::kMalformedRequest);
  for (const auto& id : request->cert_ids) {
    if (!id.issuer_matches) co_return errorReply(crypto::OcspErrorStatus::kUnauthorized);
  }
  const bool cacheable = request->cert_ids.size() == 1 && !request->has_nonce;
  const auto now = clock_.now();
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    auto it = cache_.find(request->cert_ids[0].serial_hex);
    // Re-signed at half of its validity, like the CRLs; never served once the clock is before
    // it (a clock stepped back).
    if (it != cache_.end() && now >= it->second.this_update &&
        now < it->second.this_update + settings_.next_update / 2) {
      co_return OcspReply{it->second.der, it->second.this_update, it->second.next_update};
    }
  }
  const std::uint64_t revocations_before = revocations_.load(std::memory_order_acquire);
  std::vector<crypto::OcspSingleStatus> statuses;
  for (const auto& id : request->cert_ids) {
    crypto::OcspSingleStatus status;
    if (!id.serial_hex.empty()) {
      auto cert = co_await store_.readOnly().findCertificateBySerial(id.serial_hex);
      if (!cert) {
        spdlog::warn("ocsp: looking up serial {} failed: {}", id.serial_hex, cert.error().detail);
        co_return errorReply(crypto::OcspErrorStatus::kInternalError);
      }
      if (*cert && (*cert)->revoked) {
        status.status = crypto::OcspCertStatus::kRevoked;
        status.revoked_at = (*cert)->revoked_at.value_or(core::TimePoint{});
        status.reason = (*cert)->revocation_reason.value_or(0);
      } else if (*cert) {
        status.status = crypto::OcspCertStatus::kGood;
      }
    }
    statuses.push_back(status);
  }
  auto sign_with = signer();
  if (!sign_with) {
    spdlog::error("ocsp: no responder: {}", sign_with.error().detail);
    co_return errorReply(crypto::OcspErrorStatus::kInternalError);
  }
  const auto next_update = now + settings_.next_update;
  auto der = crypto::signOcspResponse(*request, statuses, (*sign_with)->view, now, next_update);
  if (!der) {
    spdlog::error("ocsp: signing failed: {}", der.error().detail);
    co_return errorReply(crypto::OcspErrorStatus::kInternalError);
  }
  if (!cacheable) co_return OcspReply{std::move(*der), std::nullopt, std::nullopt};
  // "unknown" is never cached: the serial may be issued a moment later.
  if (statuses[0].status != crypto::OcspCertStatus::kUnknown) {
    std::lock_guard lock(cache_mutex_);
    if (revocations_.load(std::memory_order_acquire) == revocations_before) {
      if (cache_.size() >= settings_.max_cached) cache_.clear();
      cache_[request->cert_ids[0].serial_hex] = Cached{*der, now, next_update};
    }
  }
  co_return OcspReply{std::move(*der), now, next_update};
}

}  // namespace akamu::ra
