#pragma once
// RFC 8555 §6.6 rate limits, after Boulder's `ratelimits` package: the limiter decides, the RA
// consults it at newAccount, newOrder, issuance and failed validations (and audits each
// denial). Its one job: turn "this request, this account, these names" into bucket checks and
// spends (acme/gcra.hpp on a store::BucketStore) under the configured limits and the
// operator's per-account overrides, and answer a denial as 429 rateLimited with Retry-After
// and the help link.
//
// With [rate_limits] absent or disabled nothing here is called (the RA holds no limiter).
#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "acme/gcra.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "ra/public_suffix.hpp"
#include "store/bucket_store.hpp"
#include "store/store.hpp"

namespace akamu::ra {

// What a newOrder spent, for the refund when the order then fails in the same request.
struct OrderSpend {
  std::string account_id;
  bool new_orders = false;
};

// How an order relates to earlier issuance, for the exemptions.
struct OrderExemptions {
  bool renewal = false;        // the same identifier set was issued recently
  bool ari_in_window = false;  // RFC 9773 replacement inside the replaced certificate's window
};

class RateLimiter {
 public:
  struct Deps {
    const config::RateLimitsConfig& config;
    store::Store& store;
    store::BucketStore& buckets;
    std::shared_ptr<const PublicSuffixList> suffixes;
    const core::Clock& clock;
  };
  explicit RateLimiter(Deps deps);

  // newAccount by `client_ip`: NewRegistrationsPerIPAddress and, for IPv6,
  // NewRegistrationsPerIPv6Range (/48), both spent. rateLimited when either is exhausted.
  boost::asio::awaitable<core::Status> spendNewAccount(const std::string& client_ip);
  // Gives back spendNewAccount after the account could not be created.
  boost::asio::awaitable<void> refundNewAccount(const std::string& client_ip);

  // newOrder: pauses, CertificatesPerDomain / CertificatesPerFQDNSet (checked, spent at
  // issuance), FailedAuthorizationsPerDomainPerAccount (checked), PendingAuthorizationsPerAccount,
  // then NewOrdersPerAccount spent. Renewals skip NewOrdersPerAccount and CertificatesPerDomain;
  // in-window ARI replacements skip every limit (pauses still hold).
  boost::asio::awaitable<core::Result<OrderSpend>> checkNewOrder(
      const std::string& account_id, const std::vector<core::Identifier>& identifiers,
      OrderExemptions exemptions);
  boost::asio::awaitable<void> refund(const OrderSpend& spent);
  // Whether the identifier set counts as a renewal: a certificate for exactly this set was
  // issued within `window` (Boulder: any account).
  boost::asio::awaitable<core::Result<bool>> isRenewal(
      const std::vector<core::Identifier>& identifiers, std::chrono::seconds window);
  // After a certificate was issued: CertificatesPerDomain (per registered domain, unless a
  // renewal) and CertificatesPerFQDNSet spent. Best effort: the certificate exists already.
  boost::asio::awaitable<void> spendIssuance(const std::string& account_id,
                                             const std::vector<core::Identifier>& identifiers,
                                             bool renewal);
  // After a validation failed: FailedAuthorizationsPerDomainPerAccount and the pausing limit
  // spent; when the pausing limit is exhausted the account is paused for the identifier.
  // True when this call paused it.
  boost::asio::awaitable<core::Result<bool>> spendFailedAuthorization(
      const std::string& account_id, const core::Identifier& identifier);

  // The pause key of an identifier ("dns:example.com"; a wildcard's base name).
  static std::string pauseKey(const core::Identifier& identifier);

  // Denials since start, per limit name (config::kRateLimitNames order) and in total; the
  // metrics endpoint reads these.
  std::uint64_t denied(std::string_view limit) const;
  std::uint64_t deniedTotal() const;
  std::vector<std::pair<std::string, std::uint64_t>> deniedCounts() const;

 private:
  using Limit = acme::gcra::Limit;
  // The limit for `account_id` (an override, else the configured one); nullopt = not enforced.
  boost::asio::awaitable<core::Result<std::optional<Limit>>> limitFor(
      std::string_view name, const std::string& account_id);
  // Spends (or with check, only checks) `cost` on name:key; a denial is answered, and
  // counted when it refuses a request (`refusal`).
  boost::asio::awaitable<core::Status> take(std::string_view name, const std::string& account_id,
                                            const std::string& key, std::int64_t cost, bool check,
                                            const std::string& what, bool refusal = true);
  core::Problem denial(std::string_view name, const Limit& limit, acme::gcra::Nanos retry_after,
                       const std::string& what);
  void count(std::string_view name);

  Deps deps_;
  std::array<std::atomic<std::uint64_t>, std::size(config::kRateLimitNames)> denied_{};
  // The operator's overrides, re-read at most every override_cache_secs.
  std::mutex overrides_mutex_;
  std::map<std::pair<std::string, std::string>, Limit> overrides_;
  std::optional<core::TimePoint> overrides_read_at_;
};

}  // namespace akamu::ra
