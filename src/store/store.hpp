#pragma once
// The persistence seam. Handlers talk only to this interface; the SQLite backend is the
// embedded default and the PostgreSQL backend plugs in behind the same calls.
//
// Every call is a coroutine: `co_await store.getOrder(id)`. A backend never blocks the calling
// event-loop thread on I/O it does not control: SQLite writes go to one writer thread that
// batches them, PostgreSQL queries run on non-blocking libpq connections watched by the loop.
// Reference parameters are only read while the returned awaitable is being awaited, so pass
// temporaries freely but always co_await the call in the same full expression.
//
// Contract for every implementation:
//  - each call is one transaction: it either happens entirely or not at all;
//  - a call completes only after its transaction is durable (committed);
//  - calls are safe from any thread and any executor; completion resumes the caller on its own
//    executor;
//  - every state change is a compare-and-set on the state the caller decided from (the
//    ...If calls, claimOrderForFinalize, insertCertificateForOrder, revokeCertificate): a lost
//    race, or a row that does not exist, is `false` with nothing written, never an error;
//  - failures are Problems: kServerInternal for database errors, kConflict for a uniqueness
//    violation, kNotFound never (lookups return std::nullopt instead).
//
// store_contract.hpp holds the tests of this contract, run against every backend.
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acme/eab.hpp"
#include "acme/model.hpp"
#include "core/result.hpp"

namespace akamu::store {

using core::Result;
using core::Status;
template <class T>
using Awaitable = boost::asio::awaitable<T>;

// What one pruning pass removed.
struct PruneCounts {
  std::size_t orders = 0;
  std::size_t authorizations = 0;
  std::size_t challenges = 0;
  // A limit was reached: there may be more to prune; call again.
  bool more = false;
};

// One entry of a CRL: a revoked certificate as the CRL generator lists it.
struct RevokedCertificate {
  std::string serial_hex;
  core::TimePoint revoked_at{};
  int reason = 0;
};

// findReusableAuthorization's question. The identifier is as an authorization names it: a
// wildcard's base name with `wildcard` set.
struct AuthzReuseQuery {
  std::string account_id;
  core::Identifier identifier;
  bool wildcard = false;
  core::TimePoint expires_after{};
  bool include_pending = false;
  // Only authorizations of the identifier itself with subdomainAuthAllowed (a newOrder
  // identifier's RFC 9444 "ancestorDomain" names the identifier asked for here).
  bool require_subdomain_auth = false;
  // DNS names (ancestors of the identifier) whose valid subdomainAuthAllowed authorization
  // covers it; empty when subdomain authorizations are off.
  std::vector<std::string> ancestors;
};

// An operator's per-account limit (`akamu ratelimit override set`), replacing the configured
// one for that account.
struct RateLimitOverride {
  std::string account_id;
  std::string limit;  // a config::kRateLimitNames entry
  std::int64_t burst = 0;
  std::int64_t count = 0;
  std::int64_t period_secs = 0;
  core::TimePoint updated_at{};
};

// An account paused for an identifier after too many failed validations
// (FailedAuthorizationsForPausingPerDomainPerAccount): its newOrders naming it are refused
// until an operator unpauses it.
struct RateLimitPause {
  std::string account_id;
  std::string identifier;  // "dns:example.com", "ip:192.0.2.1" (the base name of a wildcard)
  core::TimePoint paused_at{};
};

class BucketStore;

// ---- Operator queries (admin API, akamuctl) ----------------------------------------------

// What searchCertificates matches: every field that is set must hold.
struct CertificateFilter {
  // An identifier of the certificate's order, compared in lower case: exact, or "*.suffix" for
  // every name that ends in ".suffix" (which includes the wildcard "*.suffix" itself).
  std::optional<std::string> name;
  std::optional<std::string> serial_hex;  // as stored: lower case, no leading zeros
  std::optional<std::string> account_id;
  std::optional<core::TimePoint> expires_before;  // notAfter before this
  std::optional<core::TimePoint> expires_after;   // notAfter at or after this
  std::optional<bool> revoked;
  std::size_t offset = 0;
  std::size_t limit = 50;
};

// One certificate of a search, with the identifiers of the order it was issued for.
struct CertificateListing {
  acme::Certificate certificate;
  std::vector<core::Identifier> identifiers;
};

// The operator's overview, counted in one snapshot.
struct StoreCounts {
  std::int64_t accounts_valid = 0;
  std::int64_t accounts_deactivated = 0;
  std::int64_t accounts_revoked = 0;
  std::int64_t orders_pending = 0;
  std::int64_t orders_ready = 0;
  std::int64_t orders_processing = 0;
  std::int64_t orders_valid = 0;
  std::int64_t orders_invalid = 0;
  std::int64_t orders_canceled = 0;
  std::int64_t certificates_valid = 0;    // not revoked, notAfter at or after `now`
  std::int64_t certificates_revoked = 0;  // whether expired or not
  std::int64_t certificates_expired = 0;  // not revoked, notAfter before `now`
  std::int64_t certificates_issued_since = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Accounts. The thumbprint is unique: inserting or changing to a taken one is kConflict.
  virtual Awaitable<Status> insertAccount(const acme::Account& account) = 0;
  virtual Awaitable<Result<std::optional<acme::Account>>> getAccount(const std::string& id) = 0;
  virtual Awaitable<Result<std::optional<acme::Account>>> findAccountByThumbprint(
      const std::string& thumbprint) = 0;
  // Writes every field of `account` (key, thumbprint, status, contacts, terms) only if the
  // stored account still has status `expected_status` and thumbprint `expected_thumbprint`:
  // the state the caller decided from. False (nothing written) when either changed: a
  // deactivation or key change won the race. A thumbprint taken by another account is
  // kConflict.
  virtual Awaitable<Result<bool>> updateAccountIf(const acme::Account& account,
                                                  acme::AccountStatus expected_status,
                                                  const std::string& expected_thumbprint) = 0;

  // External account binding (RFC 8555 §7.3.4). Credentials are created and revoked by the
  // operator (`akamu eab`), consumed by newAccount. A duplicate key id is kConflict.
  virtual Awaitable<Status> insertEabCredential(const acme::EabCredential& credential) = 0;
  virtual Awaitable<Result<std::optional<acme::EabCredential>>> getEabCredential(
      const std::string& key_id) = 0;
  // Every credential, oldest first (created_at, then key id).
  virtual Awaitable<Result<std::vector<acme::EabCredential>>> listEabCredentials() = 0;
  // The ids of the accounts bound with `key_id`, oldest first.
  virtual Awaitable<Result<std::vector<std::string>>> listEabBoundAccountIds(
      const std::string& key_id) = 0;
  // unused/bound -> revoked, recording `at`; false (nothing written) when it already was
  // revoked or does not exist.
  virtual Awaitable<Result<bool>> revokeEabCredential(const std::string& key_id,
                                                      core::TimePoint at) = 0;
  // Creates `account` (whose eab_key_id names the credential) and consumes one use of that
  // credential, in one transaction, only if the credential exists, is not revoked, has not
  // expired at `now` and has uses left; the credential becomes `bound`. False (nothing
  // written) otherwise: of two requests racing for the last use, exactly one wins. A taken
  // id or thumbprint is kConflict (and no use is consumed).
  virtual Awaitable<Result<bool>> insertAccountWithEab(const acme::Account& account,
                                                       core::TimePoint now) = 0;

  // An order with its new authorizations and their challenges, inserted together.
  // `order.authz_ids` lists every authorization of the order, in its order: the new ones in
  // `authorizations` and ones already stored that the order reuses (of the same account).
  // Each is linked to the order (the order-authorization link table), which is how an
  // authorization's change finds every order that lists it. An id that names no stored
  // authorization (one pruned since the RA found it) gets no link: the order lists it, never
  // becomes ready through it, and is never claimed (claimOrderForFinalize).
  virtual Awaitable<Status> insertOrder(const acme::Order& order,
                                        const std::vector<acme::Authorization>& authorizations) = 0;
  // RFC 9773 §5: `order.replaces_serial` must be set. Inserts like insertOrder and, in the
  // same transaction, records the order as the replacement of that certificate, only if no
  // other live order replaces it: false (nothing written) when one does. Live means valid,
  // processing, or pending/ready and not expired at `now`; an order that became invalid,
  // expired unfinished, or was pruned releases its claim.
  virtual Awaitable<Result<bool>> insertReplacementOrder(
      const acme::Order& order, const std::vector<acme::Authorization>& authorizations,
      core::TimePoint now) = 0;
  virtual Awaitable<Result<std::optional<acme::Order>>> getOrder(const std::string& id) = 0;
  // Oldest first, at most `limit` after skipping `offset`.
  virtual Awaitable<Result<std::vector<std::string>>> listOrderIds(const std::string& account_id,
                                                                   std::size_t offset,
                                                                   std::size_t limit) = 0;
  // Writes `order` only if the stored status is still `expected`; false if it was not.
  virtual Awaitable<Result<bool>> updateOrderIfStatus(const acme::Order& order,
                                                      acme::OrderStatus expected) = 0;

  // Authorizations are returned with their challenges.
  virtual Awaitable<Result<std::optional<acme::Authorization>>> getAuthorization(
      const std::string& id) = 0;
  // In the order of `ids`; ids that do not exist are left out.
  virtual Awaitable<Result<std::vector<acme::Authorization>>> getAuthorizations(
      const std::vector<std::string>& ids) = 0;
  // Writes the authorization's status and every one of its challenges only if the stored
  // authorization status is still `expected`; false (nothing written) otherwise. This is how
  // a validation outcome, a deactivation and an expiry are recorded: a deactivated
  // authorization can never be made valid by a validation that finishes later.
  virtual Awaitable<Result<bool>> updateAuthorizationIfStatus(const acme::Authorization& authz,
                                                              acme::AuthzStatus expected) = 0;
  // True when the account holds, for every identifier, a valid authorization that has not
  // expired at `now` (false for an empty list). A wildcard identifier ("*.example.com") is
  // matched only by a wildcard authorization of its base name (identifier "example.com",
  // wildcard = true); any other identifier only by a non-wildcard authorization.
  virtual Awaitable<Result<bool>> hasValidAuthorizations(
      const std::string& account_id, const std::vector<core::Identifier>& identifiers,
      core::TimePoint now) = 0;
  // RFC 8555 §7.4.1: a pre-authorization, with its challenges, linked to no order.
  virtual Awaitable<Status> insertAuthorization(const acme::Authorization& authz) = 0;
  // newOrder's reuse. The account's authorization that covers the identifier best, or
  // nullopt: a valid one of the identifier itself, else a valid one with
  // subdomainAuthAllowed (RFC 9444) for one of `query.ancestors`, else (with
  // `include_pending`) a pending one of the identifier itself; among equals the one that
  // expires last. Only authorizations that expire after `query.expires_after` count.
  virtual Awaitable<Result<std::optional<acme::Authorization>>> findReusableAuthorization(
      const AuthzReuseQuery& query) = 0;
  // The ids of the orders that list the authorization (by id), at most `limit`.
  virtual Awaitable<Result<std::vector<std::string>>> listOrderIdsForAuthorization(
      const std::string& authz_id, std::size_t limit) = 0;
  // Writes one challenge only if its stored status is still `expected`.
  virtual Awaitable<Result<bool>> updateChallengeIfStatus(const acme::Challenge& challenge,
                                                          acme::ChallengeStatus expected) = 0;

  // Finalize's claim: moves the order from `ready` to `processing` in one transaction, only if
  // it is still `ready`, its account is still `valid`, and every one of its authorizations is
  // `valid` and expires after `now`. False (nothing written) otherwise; an order that lists an
  // authorization the store does not have, or lists none, is never claimed. On PostgreSQL the
  // authorization rows are locked (FOR SHARE) for the transaction, so a concurrent deactivation
  // either commits first (and the claim fails) or waits for the claim.
  virtual Awaitable<Result<bool>> claimOrderForFinalize(const std::string& order_id,
                                                        core::TimePoint now) = 0;

  // Issuance: the certificate and the order that now points at it, in one transaction, and
  // only if the order is still `processing` (false otherwise; nothing written).
  virtual Awaitable<Result<bool>> insertCertificateForOrder(const acme::Certificate& cert,
                                                            const acme::Order& order) = 0;
  virtual Awaitable<Result<std::optional<acme::Certificate>>> getCertificate(
      const std::string& id) = 0;
  virtual Awaitable<Result<std::optional<acme::Certificate>>> findCertificateBySerial(
      const std::string& serial_hex) = 0;
  // Marks the certificate revoked if it is not yet; false if it already was.
  virtual Awaitable<Result<bool>> revokeCertificate(const std::string& id, int reason,
                                                    core::TimePoint at) = 0;
  // The revoked certificates of CRL shard `shard` whose notAfter is at or after
  // `expired_cutoff` (the CRL generator passes now - lookback, so a certificate stays listed
  // for the lookback after it expires), ordered by serial_hex. One snapshot.
  virtual Awaitable<Result<std::vector<RevokedCertificate>>> listRevokedCertificates(
      int shard, core::TimePoint expired_cutoff) = 0;

  // STAR (RFC 8739). An order's auto-renewal parameters are written by insertOrder (fixed
  // then, like its profile) and read back with it; updateOrderIfStatus never writes them.
  //
  // Finalize of a STAR order: stores the CSR, the effective start-date and the order's new
  // `expires` only if the order is still `processing` and has no CSR yet. False otherwise.
  virtual Awaitable<Result<bool>> beginStarOrder(const std::string& order_id,
                                                 const std::vector<std::uint8_t>& csr_der,
                                                 core::TimePoint start_date,
                                                 core::TimePoint expires) = 0;
  // One period's certificate: inserts `cert` (of order `order.id`) as the certificate of
  // `period`, and sets the order's status to `order.status`, its certificate_id to cert.id and
  // its last period to `period`, in one transaction, only if the stored order is still
  // `expected`, a STAR order whose last period is below `period`, and its account is still
  // valid. The certificates of one order are unique per period too. False (nothing written)
  // otherwise: two nodes, or a retry after a crash, never store two certificates for a period.
  virtual Awaitable<Result<bool>> insertStarCertificate(const acme::Certificate& cert,
                                                        const acme::Order& order,
                                                        std::int64_t period,
                                                        acme::OrderStatus expected) = 0;
  // The STAR orders the reissue schedule looks at: a CSR stored, status processing or valid,
  // end-date after `now`. Ordered by id, at most `limit` of those with an id above `after_id`
  // (pages, so that a scan holds no transaction open).
  virtual Awaitable<Result<std::vector<acme::Order>>> listStarOrders(core::TimePoint now,
                                                                     const std::string& after_id,
                                                                     std::size_t limit) = 0;

  // Incidents (RFC 9773 §4.2). Ids are unique (kConflict otherwise).
  virtual Awaitable<Status> insertIncident(const acme::Incident& incident) = 0;
  // Oldest first.
  virtual Awaitable<Result<std::vector<acme::Incident>>> listIncidents() = 0;
  // False when there was no such incident.
  virtual Awaitable<Result<bool>> deleteIncident(const std::string& id) = 0;
  // The oldest incident that matches `cert`: by its serial, or by its account or profile when
  // the incident was created after the certificate was issued (cert.issued_at).
  virtual Awaitable<Result<std::optional<acme::Incident>>> findIncidentFor(
      const acme::Certificate& cert) = 0;

  // Retention. Deletes, in one transaction, at most `max_orders` orders that expired before
  // `cutoff` and never got a certificate, with their links to authorizations and those of
  // their authorizations (with challenges) that expired before `cutoff` and that no other
  // order lists; then at most `max_orders` authorizations (with challenges and links) that
  // expired before `cutoff` and that no remaining order without a certificate lists (those
  // of certified orders, unused pre-authorizations). An authorization that a kept order
  // without a certificate still lists is never deleted. Accounts, certificates, revocation
  // records and orders with a certificate are never deleted. Callers repeat while `more` is
  // set, so a backlog drains in bounded transactions.
  virtual Awaitable<Result<PruneCounts>> pruneExpired(core::TimePoint cutoff,
                                                      std::size_t max_orders) = 0;

  // Rate limits (ra/rate_limiter). Overrides: one per (account, limit); set replaces.
  virtual Awaitable<Status> setRateLimitOverride(const RateLimitOverride& o) = 0;
  // Every override, by account then limit.
  virtual Awaitable<Result<std::vector<RateLimitOverride>>> listRateLimitOverrides() = 0;
  virtual Awaitable<Result<bool>> removeRateLimitOverride(const std::string& account_id,
                                                          const std::string& limit) = 0;
  // Records a pause; pausing a pair that is paused already changes nothing (not an error).
  virtual Awaitable<Status> insertRateLimitPause(const RateLimitPause& pause) = 0;
  // The pauses of `account_id` (every account's when empty), by account then identifier.
  virtual Awaitable<Result<std::vector<RateLimitPause>>> listRateLimitPauses(
      const std::string& account_id) = 0;
  virtual Awaitable<Result<bool>> removeRateLimitPause(const std::string& account_id,
                                                       const std::string& identifier) = 0;
  // PendingAuthorizationsPerAccount: the account's pending authorizations that have not
  // expired at `now`.
  virtual Awaitable<Result<std::int64_t>> countPendingAuthorizations(const std::string& account_id,
                                                                     core::TimePoint now) = 0;
  // Renewal exemption: whether a certificate with this fqdn_set_hash was issued at or after
  // `since` (any account, as Boulder).
  virtual Awaitable<Result<bool>> hasCertificateForFqdnSet(const std::string& fqdn_set_hash,
                                                           core::TimePoint since) = 0;
  // The buckets shared by every process on this database, or null when the backend has none
  // (SQLite: the server keeps them in memory). Lives as long as the store.
  virtual BucketStore* sharedBuckets() { return nullptr; }

  // The same store for the read-only handlers (order, authorization and certificate GETs):
  // lookups through the returned reference use the read-only pool when one is configured
  // (`[database] ro_connections`); writes through it go to the main store as usual.
  virtual Store& readOnly() { return *this; }

  // Work waiting inside the backend, for the metrics scrape: SQLite writes queued for (or in)
  // the writer thread, PostgreSQL calls waiting for a pooled connection. Cheap; any thread.
  struct QueueDepths {
    std::size_t writes_queued = 0;
    std::size_t connection_waiters = 0;
  };
  virtual QueueDepths queueDepths() const { return {}; }
  // ---- Operator queries (admin API, akamuctl) ---------------------------------------------
  // The certificates matching `filter`, newest first (issued_at, then id, descending), at most
  // `filter.limit` after skipping `filter.offset`, each with its order's identifiers. One
  // snapshot.
  virtual Awaitable<Result<std::vector<CertificateListing>>> searchCertificates(
      const CertificateFilter& filter) = 0;
  // Accounts by status, orders by status, certificates valid / revoked / expired at `now`, and
  // certificates issued at or after `issued_since`: one statement, one snapshot.
  virtual Awaitable<Result<StoreCounts>> countAll(core::TimePoint now,
                                                  core::TimePoint issued_since) = 0;
};

}  // namespace akamu::store
