#pragma once
// The registration authority (RA): every policy decision and every state transition of the
// ACME resources. The front end authenticates a request, parses its payload and calls one
// method here; it never decides policy and never writes to the store.
//
// Rules every method follows:
//  - each state change is compare-and-set in the store on the state it was decided from; a
//    lost race is answered with the precise ACME problem (or re-decided from the fresh state),
//    never written over;
//  - ownership is checked here: a resource of another account is `unauthorized`;
//  - an action that needs an audit trail before it happens (signing) is refused when the audit
//    log cannot be written; the audit line of an outcome is written after its commit and
//    reports what happened.
#include <openssl/evp.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "acme/eab.hpp"
#include "acme/model.hpp"
#include "acme/renewal_window.hpp"
#include "ca/certificate_authority.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "crypto/csr.hpp"
#include "ra/audit_log.hpp"
#include "ra/rate_limiter.hpp"
#include "ra/resource_urls.hpp"
#include "ra/validation_signal.hpp"
#include "store/store.hpp"
#include "validation/engine.hpp"

namespace akamu::ra {

template <class T>
using Task = boost::asio::awaitable<core::Result<T>>;

struct RaDeps {
  const config::Config& config;
  store::Store& store;
  const ca::CertificateAuthority& ca;
  AuditLog& audit;
  const core::Clock& clock;
  validation::ValidationEngine& validation;
  const ResourceUrls& urls;
  // Told, after a revocation has committed, which certificate it was: the CRL generator and
  // the OCSP cache act on it. Null = nobody listens. Must not block (it runs on the request).
  std::function<void(const acme::Certificate&)> on_revoked = nullptr;
  // Told of issuance, revocation, validation and ARI replacement outcomes; null = not recorded.
  core::Metrics* metrics = nullptr;
  // RFC 8555 §6.6 rate limits; null when [rate_limits] is off (then nothing is checked).
  RateLimiter* limits = nullptr;
};

// Who signed the request, as the front end verified it.
struct Requester {
  std::optional<acme::Account> account;  // kid requests: the account, status valid
  std::string thumbprint;                // RFC 7638 of the signing key
  const EVP_PKEY* key = nullptr;         // the signing key (lives as long as the request)
  std::string principal() const { return "acme:" + thumbprint; }
};

struct NewAccountRequest {
  std::string jwk_json;  // canonical JWK of the signing key
  std::string thumbprint;
  bool only_return_existing = false;
  std::optional<bool> terms_of_service_agreed;
  std::optional<std::vector<std::string>> contacts;  // as sent (checked here)
  // RFC 8555 §7.3.4: the payload's "externalAccountBinding" as sent (parsed and verified
  // here), and the outer JWS's url, which its inner "url" must equal.
  std::optional<boost::json::value> external_account_binding;
  std::string url;
  // The client's address as the front end determined it (peer, or X-Forwarded-For from a
  // trusted proxy): the key of the registration limits. Empty when unknown.
  std::string client_ip;
};
struct AccountResult {
  acme::Account account;
  bool created = false;  // 201 vs 200
};

struct AccountUpdate {
  std::optional<std::vector<std::string>> contacts;
  std::optional<bool> terms_of_service_agreed;
  bool deactivate = false;
};

struct KeyChangeRequest {
  std::string account_url;     // the inner payload's "account"
  std::string old_thumbprint;  // of the inner payload's "oldKey"
  std::string new_jwk_json;    // canonical JWK of the inner JWS's key (its signature verified)
  std::string new_thumbprint;
};

struct KeyChangeResult {
  std::optional<acme::Account> account;  // the account with its new key
  std::string conflicting_account_id;    // set instead when the new key is taken
};

// RFC 8739 §3.1.1: the newOrder "auto-renewal" object as sent; the front end checks only the
// JSON types, every rule is here.
struct AutoRenewalRequest {
  std::optional<core::TimePoint> start_date;
  std::optional<core::TimePoint> end_date;
  std::optional<std::int64_t> lifetime;
  std::optional<std::int64_t> lifetime_adjust;
  std::optional<bool> allow_certificate_get;
};

struct NewOrderRequest {
  std::vector<core::Identifier> identifiers;  // as sent (checked here)
  std::optional<core::TimePoint> not_before;
  std::optional<core::TimePoint> not_after;
  std::optional<std::string> profile;   // draft-ietf-acme-profiles; unset: the default
  std::optional<std::string> replaces;  // RFC 9773 §5: the certID of the certificate replaced
  std::optional<AutoRenewalRequest> auto_renewal;  // RFC 8739: a STAR order
  // RFC 9444 §4.3: each identifier's "ancestorDomain" as sent, by index into `identifiers`
  // (shorter or empty when none was sent).
  std::vector<std::optional<std::string>> ancestor_domains;
};

// RFC 8555 §7.4.1 (and RFC 9444 §4.2): a newAuthz payload as sent.
struct NewAuthzRequest {
  core::Identifier identifier;
  std::optional<bool> subdomain_auth_allowed;
};

// What one pass of the STAR reissue schedule did.
struct StarPassCounts {
  std::size_t orders = 0;   // live STAR orders looked at
  std::size_t issued = 0;   // period certificates this pass stored
  std::size_t missed = 0;   // periods that started without their certificate (logged)
  std::size_t stopped = 0;  // orders canceled because their account is no longer valid
  std::size_t failed = 0;   // orders whose due certificate could not be issued (retried)
};

// Totals since start, for tests and (later) metrics.
struct StarCounters {
  std::uint64_t issued = 0;
  std::uint64_t missed = 0;
  std::uint64_t stopped = 0;
  std::uint64_t failed = 0;
};

// RFC 9773 §4.2: what renewal-info answers for one certificate.
struct RenewalInfo {
  acme::RenewalWindow window;
  std::optional<std::string> explanation_url;
  std::chrono::seconds retry_after{0};
};

struct OrdersPage {
  std::vector<std::string> order_ids;
  bool more = false;
};

struct ChallengeResult {
  acme::Authorization authz;
  acme::Challenge challenge;
  // Set when this request started the validation: notified once its outcome is stored.
  std::shared_ptr<ValidationSignal> started;
};

struct RevocationRequest {
  std::vector<std::uint8_t> certificate_der;
  std::optional<std::int64_t> reason;
};

// RFC 8555 §7.3.6: what a request from an account that is not valid gets (401 unauthorized).
core::Problem accountNotValid(acme::AccountStatus status);

class RegistrationAuthority {
 public:
  explicit RegistrationAuthority(RaDeps deps);

  // RFC 8555 §7.3, §7.3.1: create, or return the account of this key. With a binding
  // (§7.3.4) the account is created only together with one use of the credential; without
  // one, only when `external_account_required` is off.
  Task<AccountResult> newAccount(NewAccountRequest request);
  // The credential an account was bound with (nullopt for an account created without one),
  // for the scope checks of newOrder and finalize (acme::eabScopeAllowsProfile,
  // eabScopeAllowsIdentifier). An account whose credential was revoked since is refused
  // here (unauthorized): revoking a credential takes back what it granted.
  Task<std::optional<acme::EabCredential>> eabScopeOf(const acme::Account& account);
  // §7.3.2, §7.3.6: contact/terms update and deactivation of the requester's own account.
  Task<acme::Account> updateAccount(const Requester& requester, std::string account_id,
                                    AccountUpdate update);
  // §7.3.5: the requester's account gets the new key. A new key that another account holds is
  // not an error here but a result naming that account: the front end answers 409 with its
  // URL in Location, as §7.3.5 requires.
  Task<KeyChangeResult> changeKey(const Requester& requester, KeyChangeRequest request);
  // §7.1.2.1: one page of the account's orders; `page` counts from 0.
  Task<OrdersPage> listOrders(const Requester& requester, std::string account_id, std::size_t page);

  // §7.4: an authorization for every identifier: a still valid one of the account
  // ([server] reuse_*: its own earlier orders, pre-authorizations, RFC 9444 subdomain
  // authorizations of an ancestor), or a new one with its challenges.
  Task<acme::Order> newOrder(const Requester& requester, NewOrderRequest request);
  // §7.4.1: a pending pre-authorization for one identifier (never a wildcard), with
  // subdomainAuthAllowed when asked for and enabled (RFC 9444 §4.2); `notFound` when
  // [server] allow_pre_authorization is off.
  Task<acme::Authorization> newAuthorization(const Requester& requester, NewAuthzRequest request);
  // The order with its status brought up to date (expiry, authorization outcomes). `store`
  // is the main store or its readOnly() view.
  Task<acme::Order> order(const Requester& requester, std::string order_id, store::Store& store);
  // §7.4: re-reads every authorization at this moment, re-checks CAA when the check is stale,
  // checks the CSR, claims the order (ready -> processing, conditional on every authorization
  // being valid and unexpired), signs, and commits the certificate with the order.
  Task<acme::Order> finalize(const Requester& requester, std::string order_id,
                             std::vector<std::uint8_t> csr_der);

  Task<acme::Authorization> authorization(const Requester& requester, std::string authz_id,
                                          store::Store& store);
  // §7.5.2: pending or valid -> deactivated, final.
  Task<acme::Authorization> deactivateAuthorization(const Requester& requester,
                                                    std::string authz_id);
  // §7.5.1: with `respond` the client says it is ready: a pending challenge of a pending,
  // unexpired authorization moves to processing (once, however many requests race) and its
  // validation starts on `executor`. Without it, the challenge as stored.
  Task<ChallengeResult> challenge(const Requester& requester, std::string authz_id,
                                  std::string challenge_id, bool respond,
                                  boost::asio::any_io_executor executor);

  // §7.6.
  Task<acme::Certificate> certificate(std::optional<std::string> account_id,
                                      std::string certificate_id);
  Task<void> revoke(const Requester& requester, RevocationRequest request);

  // RFC 9773 §4: unauthenticated, from the read-only store. The window fixed at issuance; for
  // a revoked certificate or one an operator attached to an incident, a window already in the
  // past (with the incident's explanation URL). `malformed` for a bad certID, 404 for a
  // certificate this CA did not issue.
  Task<RenewalInfo> renewalInfo(std::string cert_id);

  // RFC 8739 §3.1.2: {"status":"canceled"} on the order URL: valid -> canceled for a STAR
  // order of the requester; `autoRenewalCancellationInvalid` for any other order or state.
  Task<acme::Order> cancelOrder(const Requester& requester, std::string order_id);
  // RFC 8739 §3.3: the current certificate of a STAR order, from the read-only store.
  // `account_id` unset: an unauthenticated GET, allowed only when the order has
  // allow-certificate-get. `autoRenewalCanceled` / `autoRenewalExpired` once it ended.
  Task<acme::Certificate> starCertificate(std::optional<std::string> account_id,
                                          std::string order_id);
  // One pass of the reissue schedule: every live STAR order whose due period has no
  // certificate yet gets it (once: the store decides per period), missed periods are logged
  // and counted, and orders of accounts that are no longer valid are canceled.
  Task<StarPassCounts> renewStarOrders();
  StarCounters starCounters() const;

  // ---- Operator actions (the admin API) ----------------------------------------------------
  // `principal` is "operator:<name>". Both are compare-and-set on the state they were decided
  // from and audited (admin.cert.revoke, admin.account.deactivate) after the commit.
  //
  // Revokes any certificate of this CA, STAR period certificates included. RFC 5280 reasons
  // except certificateHold (6: this CA never releases a hold), removeFromCRL (8: delta CRLs
  // only) and the unassigned 7 are badRevocationReason; an unknown id notFound; an already
  // revoked certificate alreadyRevoked. The CRL and OCSP hear of it through on_revoked.
  Task<acme::Certificate> revokeByOperator(std::string principal, std::string certificate_id,
                                           std::int64_t reason);
  // valid -> deactivated (RFC 8555 §7.3.6: every later request of the account is refused).
  // notFound for an unknown id; kConflict for an account that is not valid (also when a
  // concurrent change won).
  Task<acme::Account> deactivateAccountByOperator(std::string principal, std::string account_id);

 private:
  // Claims the order for signing (ready -> processing), or says precisely why not.
  Task<void> claimForFinalize(const acme::Order& order);
  // Finalize of a STAR order: the claim, the CSR stored with the effective start-date, and the
  // first period's certificate when it is due already.
  Task<acme::Order> finalizeStar(acme::Order order, const config::ProfileConfig& profile,
                                 const crypto::ParsedCsr& csr,
                                 const std::vector<std::uint8_t>& csr_der,
                                 const std::string& principal);
  // Signs period `period` of a STAR order and stores it, conditional on the order still being
  // `expected` and that period not issued yet. The order as stored afterwards; `issued` tells
  // whether this call stored the certificate.
  struct StarIssue {
    acme::Order order;
    bool issued = false;
  };
  Task<StarIssue> issueStarPeriod(const acme::Order& order, const config::ProfileConfig& profile,
                                  const crypto::ParsedCsr& csr, std::int64_t period,
                                  acme::OrderStatus expected, const std::string& principal);
  // One order of a pass.
  boost::asio::awaitable<void> renewStarOrder(acme::Order order, StarPassCounts& counts);

  // `read` (optional) receives the authorizations the decision was made from (left as is
  // when the order is in a state that reads none).
  Task<acme::Order> refreshOrder(store::Store& store, acme::Order order,
                                 std::vector<acme::Authorization>* read = nullptr);
  // After an authorization changed: the status of every order that lists it brought up to
  // date now, so a client polling one sees the change. Best effort: a failure is seen by the
  // next refresh.
  boost::asio::awaitable<void> moveOrdersOn(store::Store& store, std::string authz_id);
  // The identifiers of a newOrder or newAuthz, checked and normalized: syntax, the profile's
  // rules, the account's external account binding scope, the private-address policy.
  Task<std::vector<core::Identifier>> acceptedIdentifiers(
      const Requester& requester, const config::ProfileConfig& profile,
      const std::vector<core::Identifier>& requested);
  // A new pending authorization for `id` (as ordered) with the challenges the profile allows
  // (dns-01 only for a subdomain authorization); `rejectedIdentifier` when there are none.
  core::Result<acme::Authorization> freshAuthorization(
      const core::Identifier& id, const std::string& account_id, const std::string& order_id,
      core::TimePoint expires, const config::ProfileConfig& profile, bool subdomain) const;
  // The account's authorization a new order may reuse for `id` (through `ancestor`'s
  // subdomain authorization when the client named one), if any.
  Task<std::optional<acme::Authorization>> reusableAuthorization(
      const std::string& account_id, const core::Identifier& id,
      const std::optional<std::string>& ancestor, const config::ProfileConfig& profile,
      core::TimePoint now);
  Task<acme::Order> ownedOrder(const Requester& requester, const std::string& order_id,
                               store::Store& store, std::vector<acme::Authorization>* authzs);
  Task<acme::Authorization> ownedAuthorization(store::Store& store, const std::string& authz_id,
                                               const std::string& account_id);
  // The background half of a validation: awaits it, records its outcome (conditional on the
  // authorization still being pending), audits, moves the order on, wakes `signal`.
  // Everything by value: it outlives the request that started it.
  boost::asio::awaitable<void> completeValidation(validation::ValidationRequest request,
                                                  std::string authz_id, std::string challenge_id,
                                                  std::string principal,
                                                  std::shared_ptr<ValidationSignal> signal);
  // Signs the order's names for the CSR's key under the profile's template, and the record
  // to store: serial, CRL shard, profile, issue time and the ARI window of the profile's rule.
  core::Result<acme::Certificate> signCertificate(const acme::Order& order,
                                                  const config::ProfileConfig& profile,
                                                  const crypto::ParsedCsr& csr,
                                                  std::optional<core::TimePoint> not_before,
                                                  std::optional<core::TimePoint> not_after) const;
  // `started`: when the finalize request reached the RA (for the issuance latency metric).
  Task<acme::Order> issue(acme::Order order, const config::ProfileConfig& profile,
                          const crypto::ParsedCsr& csr, const std::string& principal,
                          std::chrono::steady_clock::time_point started);
  // newAccount with a binding: verified, then the account and one use of the credential in
  // one transaction.
  Task<AccountResult> newAccountWithEab(NewAccountRequest request, acme::Account account);
  core::Status audit(std::string type, bool success, std::string subject, std::string principal,
                     std::string detail);
  // A rate-limit refusal is audited (ratelimit.deny) before it is answered; anything else
  // passes through. Returns the problem to answer with.
  core::Problem auditedRefusal(core::Problem problem, const std::string& subject,
                               const std::string& principal);
  // After a commit: a failure to write is logged, never reported to the client (the change
  // has happened).
  void auditOutcome(std::string type, bool success, std::string subject, std::string principal,
                    std::string detail);

  // §5: the certificate `replaces` names, checked against the order's account and names.
  Task<acme::Certificate> replacedCertificate(const std::string& cert_id,
                                              const std::string& account_id,
                                              const std::vector<core::Identifier>& identifiers);

  // After an account insert failed: a uniqueness conflict is a concurrent newAccount with the
  // same key, answered as for an existing account; anything else is the error.
  Task<AccountResult> accountAfterFailedInsert(std::string thumbprint, core::Problem why);

  RaDeps deps_;
  std::vector<std::uint8_t> authority_key_id_;  // the AKI of every leaf this CA signs
  std::atomic<std::uint64_t> star_issued_{0};
  std::atomic<std::uint64_t> star_missed_{0};
  std::atomic<std::uint64_t> star_stopped_{0};
  std::atomic<std::uint64_t> star_failed_{0};
};

}  // namespace akamu::ra
