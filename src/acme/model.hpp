#pragma once
// The ACME resource model (RFC 8555 §7.1): plain values, no I/O. Handlers load these from the
// Store, change them through the state machines in state.hpp, and write them back.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/problem.hpp"

namespace akamu::acme {

using core::Identifier;
using core::TimePoint;

enum class AccountStatus { kValid, kDeactivated, kRevoked };
// kCanceled: a STAR order whose automatic renewal its account canceled (RFC 8739 §3.1.2).
enum class OrderStatus { kPending, kReady, kProcessing, kValid, kInvalid, kCanceled };
enum class AuthzStatus { kPending, kValid, kInvalid, kDeactivated, kExpired, kRevoked };
enum class ChallengeStatus { kPending, kProcessing, kValid, kInvalid };

struct Account {
  std::string id;
  std::string jwk_json;    // the account public key as canonical JWK JSON
  std::string thumbprint;  // RFC 7638, base64url; unique per account
  AccountStatus status = AccountStatus::kValid;
  std::vector<std::string> contacts;
  bool tos_agreed = false;
  TimePoint created_at{};
  // The external account binding credential the account was created with (RFC 8555 §7.3.4);
  // its scope limits what the account may order.
  std::optional<std::string> eab_key_id;
};

struct Challenge {
  std::string id;  // unique; also the URL path segment
  std::string authz_id;
  std::string type;   // "http-01", ...
  std::string token;  // base64url, >= 128 bits of entropy
  ChallengeStatus status = ChallengeStatus::kPending;
  std::optional<TimePoint> validated;
  std::optional<core::Problem> error;
};

struct Authorization {
  std::string id;
  std::string account_id;
  // The order the authorization was created for; empty for a pre-authorization (RFC 8555
  // §7.4.1). Informational only: which orders list it is the store's order-authorization
  // link table, since a valid authorization is reused by later orders of the same account.
  std::string order_id;
  Identifier identifier;
  AuthzStatus status = AuthzStatus::kPending;
  TimePoint expires{};
  bool wildcard = false;
  // RFC 9444 §4.1: once valid, it also authorizes every subdomain of `identifier` for the
  // account (dns-01 only, never for a wildcard or an IP address).
  bool subdomain_auth_allowed = false;
  std::vector<Challenge> challenges;
};

// RFC 8739 §3.1.1: the automatic renewal a STAR order asked for, as the server accepted it
// (echoed in the order). Times are whole seconds.
struct AutoRenewal {
  // Unset until finalize when the client named none: the renewal then starts when the order is
  // finalized (which is also when a start-date in the past is moved to).
  std::optional<TimePoint> start_date;
  TimePoint end_date{};
  std::chrono::seconds lifetime{0};
  std::chrono::seconds lifetime_adjust{0};  // at most `lifetime` (§3.5: min(T, la))
  bool allow_certificate_get = false;
  bool operator==(const AutoRenewal&) const = default;
};

struct Order {
  std::string id;
  std::string account_id;
  OrderStatus status = OrderStatus::kPending;
  TimePoint expires{};
  std::vector<Identifier> identifiers;
  std::vector<std::string> authz_ids;
  std::optional<TimePoint> not_before;
  std::optional<TimePoint> not_after;
  std::optional<core::Problem> error;
  std::optional<std::string> certificate_id;
  TimePoint created_at{};
  // The certificate profile the order was accepted under (draft-ietf-acme-profiles): always
  // set by the RA, to the requested profile or the configured default.
  std::string profile;
  // RFC 9773 §5: the ARI certID of the certificate this order replaces, as the client sent it
  // (echoed in the order), and that certificate's serial (lower-case hex, no leading zeros).
  std::optional<std::string> replaces;
  std::optional<std::string> replaces_serial;
  // RFC 8739 (STAR): set for an auto-renewal order. The CSR (DER) is stored at finalize and
  // every period's certificate is signed from it; star_period is the last period issued
  // (certificate_id is that period's certificate). A STAR order is `processing` from finalize
  // until its first certificate, then `valid` (also after end-date, §3.3) until canceled.
  std::optional<AutoRenewal> auto_renewal;
  std::vector<std::uint8_t> star_csr_der;
  std::optional<std::int64_t> star_period;
};

struct Certificate {
  std::string id;
  std::string serial_hex;  // lower-case hex of the positive serial
  std::string account_id;
  std::string order_id;
  std::string pem_chain;  // leaf then issuer
  TimePoint not_before{};
  TimePoint not_after{};
  bool revoked = false;
  std::optional<int> revocation_reason;
  std::optional<TimePoint> revoked_at;
  std::string profile;    // the order's profile
  TimePoint issued_at{};  // when it was signed (notBefore may be backdated or chosen)
  // RFC 9773: the suggested renewal window, fixed at issuance from the profile's rule.
  // Certificates stored before ARI existed read back with the default rule's window.
  TimePoint renewal_start{};
  TimePoint renewal_end{};
  // The CRL shard that lists it when revoked, fixed at issuance (and named in the
  // certificate's CRL Distribution Points): changing [ca] crl_shards never moves a certificate.
  int crl_shard = 0;
  // acme::fqdnSetHash of the order's identifiers, written at issuance (not read back): the
  // rate limiter finds renewals by it. Empty for STAR periods and older certificates.
  std::string fqdn_set_hash;
};

// Hex SHA-256 of the sorted, de-duplicated, lower-cased identifiers ("dns:a.example", ...):
// equal for two orders exactly when they name the same set.
std::string fqdnSetHash(const std::vector<core::Identifier>& identifiers);

// An operator's request for early renewal (RFC 9773 §4.2): certificates it matches get a
// renewal window in the past and its explanation URL. A serial incident matches that one
// certificate; an account or profile incident every certificate of that account or profile
// issued before the incident was declared.
enum class IncidentScope { kSerial, kAccount, kProfile };
struct Incident {
  std::string id;
  IncidentScope scope = IncidentScope::kSerial;
  std::string value;  // serial hex (lower case, no leading zeros), account id or profile name
  std::string explanation_url;
  TimePoint created_at{};
};

const char* toString(AccountStatus s);
const char* toString(OrderStatus s);
const char* toString(AuthzStatus s);
const char* toString(ChallengeStatus s);
const char* toString(IncidentScope s);
std::optional<IncidentScope> incidentScopeFrom(std::string_view s);
std::optional<AccountStatus> accountStatusFrom(std::string_view s);
std::optional<OrderStatus> orderStatusFrom(std::string_view s);
std::optional<AuthzStatus> authzStatusFrom(std::string_view s);
std::optional<ChallengeStatus> challengeStatusFrom(std::string_view s);

}  // namespace akamu::acme
