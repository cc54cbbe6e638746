#include "ra/rate_limiter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <set>

namespace akamu::ra {
namespace {

constexpr std::string_view kRegistrationsPerIp = "NewRegistrationsPerIPAddress";
constexpr std::string_view kRegistrationsPerRange = "NewRegistrationsPerIPv6Range";
constexpr std::string_view kNewOrders = "NewOrdersPerAccount";
constexpr std::string_view kCertsPerDomain = "CertificatesPerDomain";
constexpr std::string_view kCertsPerFqdnSet = "CertificatesPerFQDNSet";
constexpr std::string_view kFailedAuthz = "FailedAuthorizationsPerDomainPerAccount";
constexpr std::string_view kFailedAuthzPausing =
    "FailedAuthorizationsForPausingPerDomainPerAccount";
constexpr std::string_view kPendingAuthz = "PendingAuthorizationsPerAccount";

std::size_t indexOf(std::string_view name) {
  const auto* it =
      std::find(std::begin(config::kRateLimitNames), std::end(config::kRateLimitNames), name);
  return static_cast<std::size_t>(it - std::begin(config::kRateLimitNames));
}

acme::gcra::Limit limitOf(const config::RateLimitConfig& c) {
  return {c.burst, c.count, std::chrono::seconds(c.period_secs)};
}

// Limit name, its parameters, then the key: a changed limit (an operator's override, a new
// configuration) starts from a full bucket of its own rather than inheriting a TAT computed
// under other parameters (a raised limit would otherwise stay exhausted for the old period).
std::string bucketKey(std::string_view name, const acme::gcra::Limit& limit,
                      const std::string& key) {
  return std::string(name) + ":" + std::to_string(limit.burst) + "/" + std::to_string(limit.count) +
         "/" + std::to_string(limit.period.count()) + ":" + key;
}

// The registered domains (or IP ranges) of an order, each once.
std::vector<std::string> domainsOf(const PublicSuffixList& psl,
                                   const std::vector<core::Identifier>& identifiers) {
  std::set<std::string> keys;
  for (const auto& id : identifiers) keys.insert(domainBucketKey(psl, id));
  return {keys.begin(), keys.end()};
}

}  // namespace

RateLimiter::RateLimiter(Deps deps) : deps_(std::move(deps)) {}

std::string RateLimiter::pauseKey(const core::Identifier& identifier) {
  std::string_view value = identifier.value;
  if (value.starts_with("*.")) value.remove_prefix(2);
  return identifier.type + ":" + std::string(value);
}

void RateLimiter::count(std::string_view name) {
  if (auto i = indexOf(name); i < denied_.size())
    denied_[i].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t RateLimiter::denied(std::string_view limit) const {
  const auto i = indexOf(limit);
  return i < denied_.size() ? denied_[i].load(std::memory_order_relaxed) : 0;
}

std::uint64_t RateLimiter::deniedTotal() const {
  std::uint64_t total = 0;
  for (const auto& d : denied_) total += d.load(std::memory_order_relaxed);
  return total;
}

std::vector<std::pair<std::string, std::uint64_t>> RateLimiter::deniedCounts() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::size_t i = 0; i < denied_.size(); ++i) {
    out.emplace_back(std::string(config::kRateLimitNames[i]),
                     denied_[i].load(std::memory_order_relaxed));
  }
  return out;
}

core::Problem RateLimiter::denial(std::string_view name, const Limit& limit,
                                  acme::gcra::Nanos retry_after, const std::string& what) {
  const std::int64_t secs = std::max<std::int64_t>(1, acme::gcra::ceilSeconds(retry_after));
  return core::rateLimited(std::string(name) + ": " + what + " (" + std::to_string(limit.count) +
                               " per " + std::to_string(limit.period.count()) + " s, burst " +
                               std::to_string(limit.burst) + "); retry after " +
                               core::formatRfc3339(deps_.clock.now() + std::chrono::seconds(secs)),
                           secs, deps_.config.help_url);
}

boost::asio::awaitable<core::Result<std::optional<acme::gcra::Limit>>> RateLimiter::limitFor(
    std::string_view name, const std::string& account_id) {
  const auto now = deps_.clock.now();
  const auto ttl = std::chrono::seconds(deps_.config.override_cache_secs);
  bool stale = false;
  {
    std::lock_guard lock(overrides_mutex_);
    stale = !overrides_read_at_ || now - *overrides_read_at_ >= ttl || now < *overrides_read_at_;
  }
  if (stale) {
    // Read outside the lock (a store call suspends); two threads refreshing at once both
    // install a fresh copy, which is harmless.
    auto rows = co_await deps_.store.listRateLimitOverrides();
    if (!rows) co_return core::fail(rows.error());
    std::map<std::pair<std::string, std::string>, Limit> fresh;
    for (const auto& o : *rows) {
      fresh[{o.account_id, o.limit}] = Limit{o.burst, o.count, std::chrono::seconds(o.period_secs)};
    }
    std::lock_guard lock(overrides_mutex_);
    overrides_ = std::move(fresh);
    overrides_read_at_ = now;
  }
  std::optional<Limit> overridden;
  if (!account_id.empty()) {
    std::lock_guard lock(overrides_mutex_);
    if (auto it = overrides_.find({account_id, std::string(name)}); it != overrides_.end()) {
      overridden = it->second;
    }
  }
  if (overridden) co_return overridden;
  if (const auto* configured = deps_.config.find(name)) {
    co_return std::optional<Limit>(limitOf(*configured));
  }
  co_return std::optional<Limit>();
}

boost::asio::awaitable<core::Status> RateLimiter::take(std::string_view name,
                                                       const std::string& account_id,
                                                       const std::string& key, std::int64_t cost,
                                                       bool check, const std::string& what,
                                                       bool refusal) {
  auto limit = co_await limitFor(name, account_id);
  if (!limit) co_return core::fail(limit.error());
  if (!*limit) co_return core::Status{};
  const auto k = bucketKey(name, **limit, key);
  const auto now = deps_.clock.now();
  // Two statements, not a conditional expression: GCC 12 miscompiles co_await in `?:`.
  core::Result<acme::gcra::Decision> d = core::fail(core::serverInternal("unreached"));
  if (check) {
    d = co_await deps_.buckets.check(k, **limit, cost, now);
  } else {
    d = co_await deps_.buckets.spend(k, **limit, cost, now);
  }
  if (!d) co_return core::fail(d.error());
  if (!d->allowed) {
    if (refusal) count(name);
    co_return core::fail(denial(name, **limit, d->retry_after, what));
  }
  co_return core::Status{};
}

boost::asio::awaitable<core::Status> RateLimiter::spendNewAccount(const std::string& client_ip) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(client_ip, ec);
  if (ec) co_return core::Status{};  // no peer address (in-process callers): nothing to key on
  const std::string ip = address.to_string();
  if (auto s =
          co_await take(kRegistrationsPerIp, "", ip, 1, false, "too many new accounts from " + ip);
      !s) {
    co_return s;
  }
  if (address.is_v6()) {
    const std::string range = addressRange(address, 48);
    if (auto s = co_await take(kRegistrationsPerRange, "", range, 1, false,
                               "too many new accounts from " + range);
        !s) {
      if (s.error().type == core::ProblemType::kRateLimited) {
        if (auto l = co_await limitFor(kRegistrationsPerIp, ""); l && *l) {
          (void)co_await deps_.buckets.refund(bucketKey(kRegistrationsPerIp, **l, ip), **l, 1,
                                              deps_.clock.now());
        }
      }
      co_return s;
    }
  }
  co_return core::Status{};
}

boost::asio::awaitable<void> RateLimiter::refundNewAccount(const std::string& client_ip) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(client_ip, ec);
  if (ec) co_return;
  const auto now = deps_.clock.now();
  if (auto l = co_await limitFor(kRegistrationsPerIp, ""); l && *l) {
    (void)co_await deps_.buckets.refund(bucketKey(kRegistrationsPerIp, **l, address.to_string()),
                                        **l, 1, now);
  }
  if (!address.is_v6()) co_return;
  if (auto l = co_await limitFor(kRegistrationsPerRange, ""); l && *l) {
    (void)co_await deps_.buckets.refund(
        bucketKey(kRegistrationsPerRange, **l, addressRange(address, 48)), **l, 1, now);
  }
}

boost::asio::awaitable<core::Result<bool>> RateLimiter::isRenewal(
    const std::vector<core::Identifier>& identifiers, std::chrono::seconds window) {
  co_return co_await deps_.store.hasCertificateForFqdnSet(acme::fqdnSetHash(identifiers),
                                                          deps_.clock.now() - window);
}

boost::asio::awaitable<core::Result<OrderSpend>> RateLimiter::checkNewOrder(
    const std::string& account_id, const std::vector<core::Identifier>& identifiers,
    OrderExemptions exemptions) {
  // Pauses first: they are the operator's business, and no exemption lifts them.
  auto pauses = co_await deps_.store.listRateLimitPauses(account_id);
  if (!pauses) co_return core::fail(pauses.error());
  for (const auto& id : identifiers) {
    const std::string key = pauseKey(id);
    for (const auto& p : *pauses) {
      if (p.identifier != key) continue;
      count(kFailedAuthzPausing);
      std::int64_t retry = 86400;
      if (const auto* c = deps_.config.find(kFailedAuthzPausing)) retry = c->period_secs;
      co_return core::fail(core::rateLimited(
          std::string(kFailedAuthzPausing) + ": this account is paused for " + key +
              " after repeated failed validations; the CA operator must unpause it (akamu "
              "ratelimit unpause)",
          retry, deps_.config.help_url));
    }
  }
  OrderSpend spent;
  spent.account_id = account_id;
  if (exemptions.ari_in_window) co_return spent;

  // Checks only: what is spent at issuance must still be there.
  if (!exemptions.renewal) {
    for (const auto& domain : domainsOf(*deps_.suffixes, identifiers)) {
      if (auto s = co_await take(kCertsPerDomain, account_id, domain, 1, true,
                                 "too many certificates for " + domain);
          !s) {
        co_return core::fail(s.error());
      }
    }
  }
  const std::string fqdn_set = acme::fqdnSetHash(identifiers);
  if (auto s = co_await take(kCertsPerFqdnSet, account_id, fqdn_set, 1, true,
                             "too many certificates for exactly this set of identifiers");
      !s) {
    co_return core::fail(s.error());
  }
  for (const auto& id : identifiers) {
    const std::string key = account_id + ":" + pauseKey(id);
    if (auto s =
            co_await take(kFailedAuthz, account_id, key, 1, true,
                          "too many failed validations of " + pauseKey(id) + " by this account");
        !s) {
      co_return core::fail(s.error());
    }
  }
  if (auto pending_limit = co_await limitFor(kPendingAuthz, account_id); !pending_limit) {
    co_return core::fail(pending_limit.error());
  } else if (*pending_limit) {
    auto pending = co_await deps_.store.countPendingAuthorizations(account_id, deps_.clock.now());
    if (!pending) co_return core::fail(pending.error());
    const auto max = (*pending_limit)->count;
    if (*pending + static_cast<std::int64_t>(identifiers.size()) > max) {
      count(kPendingAuthz);
      co_return core::fail(
          core::rateLimited(std::string(kPendingAuthz) + ": this account has " +
                                std::to_string(*pending) + " pending authorizations (at most " +
                                std::to_string(max) + "); complete or deactivate some",
                            (*pending_limit)->period.count(), deps_.config.help_url));
    }
  }
  // The one spend of newOrder, last: a denial above has spent nothing.
  if (!exemptions.renewal) {
    if (auto s = co_await take(kNewOrders, account_id, account_id, 1, false,
                               "too many new orders for this account");
        !s) {
      co_return core::fail(s.error());
    }
    spent.new_orders = true;
  }
  co_return spent;
}

boost::asio::awaitable<void> RateLimiter::refund(const OrderSpend& spent) {
  if (!spent.new_orders) co_return;
  auto l = co_await limitFor(kNewOrders, spent.account_id);
  if (!l || !*l) co_return;
  (void)co_await deps_.buckets.refund(bucketKey(kNewOrders, **l, spent.account_id), **l, 1,
                                      deps_.clock.now());
}

boost::asio::awaitable<void> RateLimiter::spendIssuance(
    const std::string& account_id, const std::vector<core::Identifier>& identifiers, bool renewal) {
  // A bucket that ran dry meanwhile (concurrent issuance for the same names, checked at their
  // newOrders) stays empty: a denied spend refuses nothing here, so it is not counted.
  std::vector<std::pair<std::string_view, std::string>> spends;
  if (!renewal) {
    for (auto& domain : domainsOf(*deps_.suffixes, identifiers)) {
      spends.emplace_back(kCertsPerDomain, std::move(domain));
    }
  }
  spends.emplace_back(kCertsPerFqdnSet, acme::fqdnSetHash(identifiers));
  for (const auto& [name, key] : spends) {
    auto s = co_await take(name, account_id, key, 1, false, "issuance", false);
    if (!s && s.error().type != core::ProblemType::kRateLimited) {
      spdlog::warn("rate limits: cannot count an issuance in {}: {}", name, s.error().detail);
    }
  }
}

boost::asio::awaitable<core::Result<bool>> RateLimiter::spendFailedAuthorization(
    const std::string& account_id, const core::Identifier& identifier) {
  const std::string key = account_id + ":" + pauseKey(identifier);
  // An exhausted bucket here refuses nothing (the validation has failed already): uncounted.
  auto failed = co_await take(kFailedAuthz, account_id, key, 1, false, "failed validation", false);
  if (!failed && failed.error().type != core::ProblemType::kRateLimited) {
    co_return core::fail(failed.error());
  }
  auto pausing =
      co_await take(kFailedAuthzPausing, account_id, key, 1, false, "failed validation", false);
  if (pausing) co_return false;
  if (pausing.error().type != core::ProblemType::kRateLimited) {
    co_return core::fail(pausing.error());
  }
  store::RateLimitPause pause{account_id, pauseKey(identifier), deps_.clock.now()};
  if (auto s = co_await deps_.store.insertRateLimitPause(pause); !s)
    co_return core::fail(s.error());
  co_return true;
}

}  // namespace akamu::ra
