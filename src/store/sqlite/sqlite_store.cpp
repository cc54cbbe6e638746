#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <source_location>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/base64url.hpp"
#include "store/call_timer.hpp"
#include "store/certificate_filter.hpp"
#include "store/renewal_columns.hpp"
#include "store/sqlite/database.hpp"
#include "store/sqlite/json_columns.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/write_batcher.hpp"

namespace akamu::store::sqlite {
namespace {

using acme::Account;
using acme::Authorization;
using acme::Certificate;
using acme::Challenge;
using acme::Order;
using core::fail;
using core::TimePoint;

// ---- SQL ----------------------------------------------------------------------------------

constexpr std::string_view kInsertAccount =
    "INSERT INTO accounts(id, thumbprint, jwk_json, status, contacts, tos_agreed, created_at, "
    "eab_key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
// The compare-and-set: ?7 and ?8 are the status and thumbprint the caller decided from.
constexpr std::string_view kUpdateAccountIf =
    "UPDATE accounts SET thumbprint = ?2, jwk_json = ?3, status = ?4, contacts = ?5, "
    "tos_agreed = ?6 WHERE id = ?1 AND status = ?7 AND thumbprint = ?8";
constexpr std::string_view kSelectAccountById =
    "SELECT id, thumbprint, jwk_json, status, contacts, tos_agreed, created_at, eab_key_id "
    "FROM accounts WHERE id = ?1";
constexpr std::string_view kSelectAccountByThumbprint =
    "SELECT id, thumbprint, jwk_json, status, contacts, tos_agreed, created_at, eab_key_id "
    "FROM accounts WHERE thumbprint = ?1";

#define AKAMU_EAB_COLUMNS                                                                        \
  "key_id, hmac_key, state, created_at, expires, max_uses, uses, revoked_at, allowed_profiles, " \
  "identifier_patterns"
constexpr std::string_view kInsertEab = "INSERT INTO eab_credentials(" AKAMU_EAB_COLUMNS
                                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr std::string_view kSelectEab =
    "SELECT " AKAMU_EAB_COLUMNS " FROM eab_credentials WHERE key_id = ?1";
constexpr std::string_view kListEab =
    "SELECT " AKAMU_EAB_COLUMNS " FROM eab_credentials ORDER BY created_at, key_id";
#undef AKAMU_EAB_COLUMNS
constexpr std::string_view kListEabAccounts =
    "SELECT id FROM accounts WHERE eab_key_id = ?1 ORDER BY created_at, rowid";
constexpr std::string_view kRevokeEab =
    "UPDATE eab_credentials SET state = 'revoked', revoked_at = ?2 "
    "WHERE key_id = ?1 AND state <> 'revoked'";
// One use of a credential, only while it may still bind (?2 is now): the compare-and-set of
// insertAccountWithEab. The account row follows in the same transaction.
constexpr std::string_view kConsumeEab =
    "UPDATE eab_credentials SET uses = uses + 1, state = 'bound' WHERE key_id = ?1 "
    "AND state <> 'revoked' AND (expires IS NULL OR expires > ?2) "
    "AND (max_uses IS NULL OR uses < max_uses)";

constexpr std::string_view kInsertOrder =
    "INSERT INTO orders(id, account_id, status, expires, identifiers, authz_ids, not_before, "
    "not_after, error, certificate_id, created_at, profile, replaces, replaces_serial, "
    "star_start, star_end, star_lifetime, star_lifetime_adjust, star_allow_get) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19)";
// The compare-and-set: ?2 is the status the caller last saw. The profile and what the order
// replaces are fixed at insertion and not written again.
constexpr std::string_view kUpdateOrderIfStatus =
    "UPDATE orders SET status = ?3, expires = ?4, identifiers = ?5, authz_ids = ?6, "
    "not_before = ?7, not_after = ?8, error = ?9, certificate_id = ?10 "
    "WHERE id = ?1 AND status = ?2";
#define AKAMU_ORDER_COLUMNS                                                                 \
  "id, account_id, status, expires, identifiers, authz_ids, not_before, not_after, error, " \
  "certificate_id, created_at, profile, replaces, replaces_serial, star_start, star_end, "  \
  "star_lifetime, star_lifetime_adjust, star_allow_get, star_csr, star_period"
constexpr std::string_view kSelectOrder =
    "SELECT " AKAMU_ORDER_COLUMNS " FROM orders WHERE id = ?1";
// STAR (RFC 8739). The finalize of a STAR order records its CSR once, while it is processing.
constexpr std::string_view kBeginStarOrder =
    "UPDATE orders SET star_csr = ?2, star_start = ?3, expires = ?4 WHERE id = ?1 "
    "AND status = 'processing' AND star_end IS NOT NULL AND star_csr IS NULL";
// One period's certificate, step one: the order moves on only from the status the caller saw,
// to a later period, while its account is valid. The unique index on (order_id, star_period)
// of certificates backs this up.
constexpr std::string_view kAdvanceStarOrder =
    "UPDATE orders SET status = ?3, certificate_id = ?4, star_period = ?5 WHERE id = ?1 "
    "AND status = ?2 AND star_csr IS NOT NULL AND (star_period IS NULL OR star_period < ?5) "
    "AND EXISTS (SELECT 1 FROM accounts ac WHERE ac.id = orders.account_id "
    "AND ac.status = 'valid')";
constexpr std::string_view kSetCertificateStarPeriod =
    "UPDATE certificates SET star_period = ?2 WHERE id = ?1";
// The reissue schedule's scan (the partial index orders_star_live).
constexpr std::string_view kListStarOrders =
    "SELECT " AKAMU_ORDER_COLUMNS
    " FROM orders WHERE star_csr IS NOT NULL "
    "AND status IN ('processing', 'valid') AND id > ?2 AND star_end > ?1 ORDER BY id LIMIT ?3";
#undef AKAMU_ORDER_COLUMNS
// Finalize's claim: ready -> processing only while every authorization the order lists exists,
// is valid and expires after ?2 (an order listing none is never claimed). One statement inside
// the writer's transaction, and SQLite has one writer: nothing can change in between.
constexpr std::string_view kClaimOrderForFinalize =
    "UPDATE orders SET status = 'processing' WHERE id = ?1 AND status = 'ready' "
    "AND json_array_length(authz_ids) > 0 AND NOT EXISTS (SELECT 1 FROM "
    "json_each(orders.authz_ids) "
    "AS r LEFT JOIN authorizations a ON a.id = r.value "
    "WHERE a.id IS NULL OR a.status <> 'valid' OR a.expires <= ?2) "
    "AND EXISTS (SELECT 1 FROM accounts ac WHERE ac.id = orders.account_id "
    "AND ac.status = 'valid')";
constexpr std::string_view kListOrderIds =
    "SELECT id FROM orders WHERE account_id = ?1 ORDER BY created_at, rowid LIMIT ?2 OFFSET ?3";

constexpr std::string_view kInsertAuthz =
    "INSERT INTO authorizations(id, account_id, order_id, identifier_type, identifier_value, "
    "status, expires, wildcard, subdomain_auth_allowed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9)";
// The link of an order to one of its authorizations, when that authorization exists.
constexpr std::string_view kInsertOrderAuthz =
    "INSERT INTO order_authorizations(order_id, authz_id, position) SELECT ?1, ?2, ?3 "
    "WHERE EXISTS (SELECT 1 FROM authorizations WHERE id = ?2)";
constexpr std::string_view kSelectOrderIdsForAuthz =
    "SELECT order_id FROM order_authorizations WHERE authz_id = ?1 ORDER BY order_id LIMIT ?2";
// newOrder's reuse, one candidate name at a time (the index authorizations_account_identifier):
// ?3 the name, ?4 the wildcard flag, ?5 the earliest expiry, ?6 1 = only subdomainAuthAllowed,
// ?7 the statuses accepted ('valid', or 'valid' and 'pending'). Valid first, then the latest.
constexpr std::string_view kSelectReusableAuthz =
    "SELECT id FROM authorizations WHERE account_id = ?1 AND identifier_type = ?2 AND "
    "identifier_value = ?3 AND wildcard = ?4 AND expires > ?5 AND subdomain_auth_allowed >= ?6 "
    "AND (status = 'valid' OR (?7 = 1 AND status = 'pending')) "
    "ORDER BY status = 'valid' DESC, expires DESC LIMIT 1";
// ?3 is the base name and ?5 the wildcard flag: "*.example.com" is (example.com, 1).
constexpr std::string_view kSelectValidAuthzForIdentifier =
    "SELECT 1 FROM authorizations WHERE account_id = ?1 AND identifier_type = ?2 AND "
    "identifier_value = ?3 AND wildcard = ?5 AND status = 'valid' AND expires > ?4 LIMIT 1";
// The compare-and-set: ?3 is the status the caller last saw.
constexpr std::string_view kUpdateAuthzIfStatus =
    "UPDATE authorizations SET status = ?2 WHERE id = ?1 AND status = ?3";
constexpr std::string_view kSelectAuthz =
    "SELECT id, account_id, order_id, identifier_type, identifier_value, status, expires, "
    "wildcard, subdomain_auth_allowed FROM authorizations WHERE id = ?1";

constexpr std::string_view kInsertChallenge =
    "INSERT INTO challenges(id, authz_id, position, type, token, status, validated, error) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr std::string_view kUpdateChallenge =
    "UPDATE challenges SET status = ?3, validated = ?4, error = ?5 WHERE id = ?1 AND authz_id = ?2";
constexpr std::string_view kUpdateChallengeIfStatus =
    "UPDATE challenges SET status = ?3, validated = ?4, error = ?5 WHERE id = ?1 AND status = ?2";
constexpr std::string_view kSelectChallenges =
    "SELECT id, authz_id, type, token, status, validated, error FROM challenges "
    "WHERE authz_id = ?1 ORDER BY position";

constexpr std::string_view kInsertCertificate =
    "INSERT INTO certificates(id, serial_hex, account_id, order_id, pem_chain, not_before, "
    "not_after, revoked, revocation_reason, revoked_at, profile, issued_at, renewal_start, "
    "renewal_end, crl_shard, fqdn_set_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12, ?13, ?14, ?15, ?16)";
#define AKAMU_CERT_COLUMNS                                                            \
  "id, serial_hex, account_id, order_id, pem_chain, not_before, not_after, revoked, " \
  "revocation_reason, revoked_at, profile, issued_at, renewal_start, renewal_end, crl_shard"
constexpr std::string_view kSelectCertificateById =
    "SELECT " AKAMU_CERT_COLUMNS " FROM certificates WHERE id = ?1";
constexpr std::string_view kSelectCertificateBySerial =
    "SELECT " AKAMU_CERT_COLUMNS " FROM certificates WHERE serial_hex = ?1";
#undef AKAMU_CERT_COLUMNS
constexpr std::string_view kRevokeCertificate =
    "UPDATE certificates SET revoked = 1, revocation_reason = ?2, revoked_at = ?3 "
    "WHERE id = ?1 AND revoked = 0";
// `revoked = 1` as the partial index (certificates_revoked_by_shard) is declared, so it is used.
constexpr std::string_view kListRevokedCertificates =
    "SELECT serial_hex, revoked_at, revocation_reason FROM certificates "
    "WHERE revoked = 1 AND crl_shard = ?1 AND not_after >= ?2 ORDER BY serial_hex";

// Operator queries (searchCertificates, countAll). Each filter is NULL when unset; ?6 is an
// exact name, ?7 a suffix (".example.com"), both lower case. A full scan at worst: these are an
// operator's occasional reads, and the indexes the hot path needs stay as they are.
constexpr std::string_view kSearchCertificates =
    "SELECT c.id, c.serial_hex, c.account_id, c.order_id, c.pem_chain, c.not_before, "
    "c.not_after, c.revoked, c.revocation_reason, c.revoked_at, c.profile, c.issued_at, "
    "c.renewal_start, c.renewal_end, c.crl_shard, o.identifiers "
    "FROM certificates c JOIN orders o ON o.id = c.order_id "
    "WHERE (?1 IS NULL OR c.serial_hex = ?1) AND (?2 IS NULL OR c.account_id = ?2) "
    "AND (?3 IS NULL OR c.not_after < ?3) AND (?4 IS NULL OR c.not_after >= ?4) "
    "AND (?5 IS NULL OR c.revoked = ?5) "
    "AND (?6 IS NULL OR EXISTS (SELECT 1 FROM json_each(o.identifiers) j "
    "WHERE lower(json_extract(j.value, '$.value')) = ?6)) "
    "AND (?7 IS NULL OR EXISTS (SELECT 1 FROM json_each(o.identifiers) j "
    "WHERE substr(lower(json_extract(j.value, '$.value')), -length(?7)) = ?7)) "
    "ORDER BY c.issued_at DESC, c.id DESC LIMIT ?8 OFFSET ?9";
constexpr std::string_view kCountAll =
    "SELECT (SELECT count(*) FROM accounts WHERE status = 'valid'), "
    "(SELECT count(*) FROM accounts WHERE status = 'deactivated'), "
    "(SELECT count(*) FROM accounts WHERE status = 'revoked'), "
    "(SELECT count(*) FROM orders WHERE status = 'pending'), "
    "(SELECT count(*) FROM orders WHERE status = 'ready'), "
    "(SELECT count(*) FROM orders WHERE status = 'processing'), "
    "(SELECT count(*) FROM orders WHERE status = 'valid'), "
    "(SELECT count(*) FROM orders WHERE status = 'invalid'), "
    "(SELECT count(*) FROM orders WHERE status = 'canceled'), "
    "(SELECT count(*) FROM certificates WHERE revoked = 0 AND not_after >= ?1), "
    "(SELECT count(*) FROM certificates WHERE revoked = 1), "
    "(SELECT count(*) FROM certificates WHERE revoked = 0 AND not_after < ?1), "
    "(SELECT count(*) FROM certificates WHERE issued_at >= ?2)";

// ARI replacement claims (insertReplacementOrder). A claim is dead when its order is gone
// (pruned), invalid, or pending/ready and expired at ?2; only a live one keeps the serial.
constexpr std::string_view kDeleteDeadReplacement =
    "DELETE FROM replacements WHERE replaced_serial = ?1 AND NOT EXISTS (SELECT 1 FROM orders o "
    "WHERE o.id = replacements.order_id AND (o.status IN ('valid', 'processing') OR "
    "(o.status IN ('pending', 'ready') AND o.expires > ?2)))";
constexpr std::string_view kSelectReplacement =
    "SELECT 1 FROM replacements WHERE replaced_serial = ?1";
constexpr std::string_view kInsertReplacement =
    "INSERT INTO replacements(replaced_serial, order_id) VALUES (?1, ?2)";

constexpr std::string_view kInsertIncident =
    "INSERT INTO incidents(id, scope, value, explanation_url, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr std::string_view kSelectIncidents =
    "SELECT id, scope, value, explanation_url, created_at FROM incidents ORDER BY created_at, id";
constexpr std::string_view kDeleteIncident = "DELETE FROM incidents WHERE id = ?1";
// ?1 serial, ?2 account, ?3 profile, ?4 issued_at. Each arm is a prefix of incidents_match.
constexpr std::string_view kFindIncidentFor =
    "SELECT id, scope, value, explanation_url, created_at FROM incidents "
    "WHERE (scope = 'serial' AND value = ?1) "
    "OR (scope = 'account' AND value = ?2 AND created_at > ?4) "
    "OR (scope = 'profile' AND value = ?3 AND created_at > ?4) "
    "ORDER BY created_at, id LIMIT 1";

constexpr std::string_view kUpsertRateLimitOverride =
    "INSERT INTO rate_limit_overrides(account_id, limit_name, burst, per_period, period_secs, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(account_id, limit_name) DO UPDATE "
    "SET burst = excluded.burst, per_period = excluded.per_period, "
    "period_secs = excluded.period_secs, updated_at = excluded.updated_at";
constexpr std::string_view kSelectRateLimitOverrides =
    "SELECT account_id, limit_name, burst, per_period, period_secs, updated_at "
    "FROM rate_limit_overrides ORDER BY account_id, limit_name";
constexpr std::string_view kDeleteRateLimitOverride =
    "DELETE FROM rate_limit_overrides WHERE account_id = ?1 AND limit_name = ?2";
constexpr std::string_view kInsertRateLimitPause =
    "INSERT INTO rate_limit_pauses(account_id, identifier, paused_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(account_id, identifier) DO NOTHING";
constexpr std::string_view kSelectRateLimitPauses =
    "SELECT account_id, identifier, paused_at FROM rate_limit_pauses "
    "WHERE ?1 = '' OR account_id = ?1 ORDER BY account_id, identifier";
constexpr std::string_view kDeleteRateLimitPause =
    "DELETE FROM rate_limit_pauses WHERE account_id = ?1 AND identifier = ?2";
constexpr std::string_view kCountPendingAuthzs =
    "SELECT count(*) FROM authorizations WHERE account_id = ?1 AND status = 'pending' "
    "AND expires > ?2";
constexpr std::string_view kHasCertificateForFqdnSet =
    "SELECT 1 FROM certificates WHERE fqdn_set_hash = ?1 AND issued_at >= ?2 LIMIT 1";

// ---- value conversions --------------------------------------------------------------------

std::int64_t seconds(TimePoint t) { return core::toUnixSeconds(t); }
std::optional<std::int64_t> seconds(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return core::toUnixSeconds(*t);
}
std::optional<TimePoint> timeOpt(const std::optional<std::int64_t>& s) {
  if (!s) return std::nullopt;
  return core::fromUnixSeconds(*s);
}
std::optional<std::string> problemJson(const std::optional<core::Problem>& p) {
  if (!p) return std::nullopt;
  return problemToStoredJson(*p);
}
core::Result<std::optional<core::Problem>> problemOpt(const std::optional<std::string>& json) {
  if (!json) return std::optional<core::Problem>();
  auto p = problemFromStoredJson(*json);
  if (!p) return fail(p.error());
  return std::optional<core::Problem>(std::move(*p));
}
core::Problem corruptStatus(std::string_view table, std::string_view value) {
  return core::serverInternal("sqlite: unknown " + std::string(table) + " status \"" +
                              std::string(value) + "\"");
}
core::Problem missingRow(std::string_view what, const std::string& id) {
  // An unconditional update of a row that does not exist is a caller bug, not a lookup miss.
  return core::serverInternal("sqlite: " + std::string(what) + " " + id + " does not exist");
}

// ---- row readers --------------------------------------------------------------------------

core::Result<Account> readAccount(const Statement& s) {
  Account a;
  a.id = s.columnText(0);
  a.thumbprint = s.columnText(1);
  a.jwk_json = s.columnText(2);
  auto status = acme::accountStatusFrom(s.columnText(3));
  if (!status) return fail(corruptStatus("account", s.columnText(3)));
  a.status = *status;
  auto contacts = stringsFromJson(s.columnText(4));
  if (!contacts) return fail(contacts.error());
  a.contacts = std::move(*contacts);
  a.tos_agreed = s.columnInt(5) != 0;
  a.created_at = core::fromUnixSeconds(s.columnInt(6));
  a.eab_key_id = s.columnOptText(7);
  return a;
}

core::Result<acme::EabCredential> readEab(const Statement& s) {
  acme::EabCredential c;
  c.key_id = s.columnText(0);
  auto key = core::base64urlDecode(s.columnText(1));
  if (!key)
    return fail(core::serverInternal("sqlite: stored EAB key " + c.key_id + " is not valid"));
  c.hmac_key = std::move(*key);
  auto state = acme::eabStateFrom(s.columnText(2));
  if (!state) return fail(corruptStatus("eab credential", s.columnText(2)));
  c.state = *state;
  c.created_at = core::fromUnixSeconds(s.columnInt(3));
  c.expires = timeOpt(s.columnOptInt(4));
  if (auto max = s.columnOptInt(5)) c.max_uses = static_cast<std::uint32_t>(*max);
  c.uses = static_cast<std::uint32_t>(s.columnInt(6));
  c.revoked_at = timeOpt(s.columnOptInt(7));
  auto profiles = stringsFromJson(s.columnText(8));
  if (!profiles) return fail(profiles.error());
  c.allowed_profiles = std::move(*profiles);
  auto patterns = stringsFromJson(s.columnText(9));
  if (!patterns) return fail(patterns.error());
  c.identifier_patterns = std::move(*patterns);
  return c;
}

core::Result<Order> readOrder(const Statement& s) {
  Order o;
  o.id = s.columnText(0);
  o.account_id = s.columnText(1);
  auto status = acme::orderStatusFrom(s.columnText(2));
  if (!status) return fail(corruptStatus("order", s.columnText(2)));
  o.status = *status;
  o.expires = core::fromUnixSeconds(s.columnInt(3));
  auto identifiers = identifiersFromJson(s.columnText(4));
  if (!identifiers) return fail(identifiers.error());
  o.identifiers = std::move(*identifiers);
  auto authz_ids = stringsFromJson(s.columnText(5));
  if (!authz_ids) return fail(authz_ids.error());
  o.authz_ids = std::move(*authz_ids);
  o.not_before = timeOpt(s.columnOptInt(6));
  o.not_after = timeOpt(s.columnOptInt(7));
  auto error = problemOpt(s.columnOptText(8));
  if (!error) return fail(error.error());
  o.error = std::move(*error);
  o.certificate_id = s.columnOptText(9);
  o.created_at = core::fromUnixSeconds(s.columnInt(10));
  o.profile = s.columnText(11);
  o.replaces = s.columnOptText(12);
  o.replaces_serial = s.columnOptText(13);
  if (auto end = s.columnOptInt(15)) {
    acme::AutoRenewal r;
    r.start_date = timeOpt(s.columnOptInt(14));
    r.end_date = core::fromUnixSeconds(*end);
    r.lifetime = std::chrono::seconds(s.columnOptInt(16).value_or(0));
    r.lifetime_adjust = std::chrono::seconds(s.columnOptInt(17).value_or(0));
    r.allow_certificate_get = s.columnOptInt(18).value_or(0) != 0;
    o.auto_renewal = r;
  }
  if (auto csr = s.columnOptText(19)) {
    auto der = core::base64urlDecode(*csr);
    if (!der) return fail(core::serverInternal("sqlite: stored STAR CSR is not base64url"));
    o.star_csr_der = std::move(*der);
  }
  o.star_period = s.columnOptInt(20);
  return o;
}

core::Result<Challenge> readChallenge(const Statement& s) {
  Challenge c;
  c.id = s.columnText(0);
  c.authz_id = s.columnText(1);
  c.type = s.columnText(2);
  c.token = s.columnText(3);
  auto status = acme::challengeStatusFrom(s.columnText(4));
  if (!status) return fail(corruptStatus("challenge", s.columnText(4)));
  c.status = *status;
  c.validated = timeOpt(s.columnOptInt(5));
  auto error = problemOpt(s.columnOptText(6));
  if (!error) return fail(error.error());
  c.error = std::move(*error);
  return c;
}

core::Result<Authorization> readAuthorization(const Statement& s) {
  Authorization a;
  a.id = s.columnText(0);
  a.account_id = s.columnText(1);
  a.order_id = s.columnOptText(2).value_or("");
  a.identifier = core::Identifier{s.columnText(3), s.columnText(4)};
  auto status = acme::authzStatusFrom(s.columnText(5));
  if (!status) return fail(corruptStatus("authorization", s.columnText(5)));
  a.status = *status;
  a.expires = core::fromUnixSeconds(s.columnInt(6));
  a.wildcard = s.columnInt(7) != 0;
  a.subdomain_auth_allowed = s.columnInt(8) != 0;
  return a;
}

core::Result<Certificate> readCertificate(const Statement& s) {
  Certificate c;
  c.id = s.columnText(0);
  c.serial_hex = s.columnText(1);
  c.account_id = s.columnText(2);
  c.order_id = s.columnText(3);
  c.pem_chain = s.columnText(4);
  c.not_before = core::fromUnixSeconds(s.columnInt(5));
  c.not_after = core::fromUnixSeconds(s.columnInt(6));
  c.revoked = s.columnInt(7) != 0;
  if (auto reason = s.columnOptInt(8)) c.revocation_reason = static_cast<int>(*reason);
  c.revoked_at = timeOpt(s.columnOptInt(9));
  c.profile = s.columnText(10);
  c.issued_at = core::fromUnixSeconds(s.columnInt(11));
  setRenewalWindow(c, timeOpt(s.columnOptInt(12)), timeOpt(s.columnOptInt(13)));
  c.crl_shard = static_cast<int>(s.columnInt(14));
  return c;
}

core::Result<store::RateLimitOverride> readOverride(const Statement& s) {
  store::RateLimitOverride o;
  o.account_id = s.columnText(0);
  o.limit = s.columnText(1);
  o.burst = s.columnInt(2);
  o.count = s.columnInt(3);
  o.period_secs = s.columnInt(4);
  o.updated_at = core::fromUnixSeconds(s.columnInt(5));
  return o;
}

core::Result<store::RateLimitPause> readPause(const Statement& s) {
  store::RateLimitPause p;
  p.account_id = s.columnText(0);
  p.identifier = s.columnText(1);
  p.paused_at = core::fromUnixSeconds(s.columnInt(2));
  return p;
}

core::Result<acme::Incident> readIncident(const Statement& s) {
  acme::Incident i;
  i.id = s.columnText(0);
  auto scope = acme::incidentScopeFrom(s.columnText(1));
  if (!scope) {
    return fail(core::serverInternal("sqlite: unknown incident scope \"" + s.columnText(1) + "\""));
  }
  i.scope = *scope;
  i.value = s.columnText(2);
  i.explanation_url = s.columnText(3);
  i.created_at = core::fromUnixSeconds(s.columnInt(4));
  return i;
}

// Steps the prepared statement `s` to its end, reading each row with `reader` (which returns
// a Result).
template <class Stmt, class Reader>
auto readAll(Stmt& s, Reader reader) -> core::Result<
    std::vector<typename std::invoke_result_t<Reader, const Statement&>::value_type>> {
  using T = typename std::invoke_result_t<Reader, const Statement&>::value_type;
  std::vector<T> out;
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!*row) break;
    auto value = reader(*s);
    if (!value) return fail(value.error());
    out.push_back(std::move(*value));
  }
  return out;
}

// Runs a query keyed by one text parameter and reads at most one row with `reader`.
template <class Reader>
auto selectOne(Database& db, std::string_view sql, std::string_view key, Reader reader)
    -> core::Result<
        std::optional<typename std::invoke_result_t<Reader, const Statement&>::value_type>> {
  using T = typename std::invoke_result_t<Reader, const Statement&>::value_type;
  auto s = db.prepare(sql);
  if (!s) return fail(s.error());
  s->bindText(1, key);
  auto row = s->step();
  if (!row) return fail(row.error());
  if (!*row) return std::optional<T>();
  auto value = reader(*s);
  if (!value) return fail(value.error());
  return std::optional<T>(std::move(*value));
}

// Loads one authorization with its challenges; the caller provides the read transaction.
core::Result<std::optional<Authorization>> loadAuthorization(Database& db, const std::string& id) {
  auto authz = selectOne(db, kSelectAuthz, id, readAuthorization);
  if (!authz || !*authz) return authz;
  auto s = db.prepare(kSelectChallenges);
  if (!s) return fail(s.error());
  s->bindText(1, id);
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!*row) break;
    auto challenge = readChallenge(*s);
    if (!challenge) return fail(challenge.error());
    (*authz)->challenges.push_back(std::move(*challenge));
  }
  return authz;
}

// ---- row writers: small bodies that run inside the caller's write transaction -----------

core::Status runExpectingChange(Statement& s, std::string_view what, const std::string& id) {
  auto changed = s.run();
  if (!changed) return fail(changed.error());
  if (*changed == 0) return fail(missingRow(what, id));
  return {};
}

core::Status insertAccountRow(Database& db, const Account& account) {
  auto s = db.prepare(kInsertAccount);
  if (!s) return fail(s.error());
  s->bindText(1, account.id)
      .bindText(2, account.thumbprint)
      .bindText(3, account.jwk_json)
      .bindText(4, acme::toString(account.status))
      .bindText(5, stringsToJson(account.contacts))
      .bindInt(6, account.tos_agreed ? 1 : 0)
      .bindInt(7, seconds(account.created_at))
      .bindOptText(8, account.eab_key_id);
  if (auto rc = s->run(); !rc) return fail(rc.error());
  return {};
}

Statement& bindOrderUpdate(Statement& s, const Order& o, acme::OrderStatus expected) {
  return s.bindText(1, o.id)
      .bindText(2, acme::toString(expected))
      .bindText(3, acme::toString(o.status))
      .bindInt(4, seconds(o.expires))
      .bindText(5, identifiersToJson(o.identifiers))
      .bindText(6, stringsToJson(o.authz_ids))
      .bindOptInt(7, seconds(o.not_before))
      .bindOptInt(8, seconds(o.not_after))
      .bindOptText(9, problemJson(o.error))
      .bindOptText(10, o.certificate_id);
}

core::Result<bool> updateOrderIfStatusRow(Database& db, const Order& o,
                                          acme::OrderStatus expected) {
  auto s = db.prepare(kUpdateOrderIfStatus);
  if (!s) return fail(s.error());
  auto changed = bindOrderUpdate(*s, o, expected).run();
  if (!changed) return fail(changed.error());
  return *changed == 1;
}

core::Status insertChallengeRow(Database& db, const std::string& authz_id, std::int64_t position,
                                const Challenge& c) {
  auto s = db.prepare(kInsertChallenge);
  if (!s) return fail(s.error());
  s->bindText(1, c.id)
      .bindText(2, authz_id)
      .bindInt(3, position)
      .bindText(4, c.type)
      .bindText(5, c.token)
      .bindText(6, acme::toString(c.status))
      .bindOptInt(7, seconds(c.validated))
      .bindOptText(8, problemJson(c.error));
  if (auto rc = s->run(); !rc) return fail(rc.error());
  return {};
}

core::Status insertAuthorizationRow(Database& db, const Authorization& a) {
  {
    auto s = db.prepare(kInsertAuthz);
    if (!s) return fail(s.error());
    s->bindText(1, a.id)
        .bindText(2, a.account_id)
        .bindOptText(3, a.order_id.empty() ? std::nullopt : std::optional<std::string>(a.order_id))
        .bindText(4, a.identifier.type)
        .bindText(5, a.identifier.value)
        .bindText(6, acme::toString(a.status))
        .bindInt(7, seconds(a.expires))
        .bindInt(8, a.wildcard ? 1 : 0)
        .bindInt(9, a.subdomain_auth_allowed ? 1 : 0);
    if (auto rc = s->run(); !rc) return fail(rc.error());
  }
  for (std::size_t i = 0; i < a.challenges.size(); ++i) {
    // The parent's id, not the challenge's copy, so that the authorization always reads back
    // with exactly the challenges it was inserted with.
    if (auto st = insertChallengeRow(db, a.id, static_cast<std::int64_t>(i), a.challenges[i]);
        !st) {
      return st;
    }
  }
  return {};
}

core::Status insertOrderRow(Database& db, const Order& o) {
  auto s = db.prepare(kInsertOrder);
  if (!s) return fail(s.error());
  s->bindText(1, o.id)
      .bindText(2, o.account_id)
      .bindText(3, acme::toString(o.status))
      .bindInt(4, seconds(o.expires))
      .bindText(5, identifiersToJson(o.identifiers))
      .bindText(6, stringsToJson(o.authz_ids))
      .bindOptInt(7, seconds(o.not_before))
      .bindOptInt(8, seconds(o.not_after))
      .bindOptText(9, problemJson(o.error))
      .bindOptText(10, o.certificate_id)
      .bindInt(11, seconds(o.created_at))
      .bindText(12, o.profile)
      .bindOptText(13, o.replaces)
      .bindOptText(14, o.replaces_serial);
  if (const auto& r = o.auto_renewal) {
    s->bindOptInt(15, seconds(r->start_date))
        .bindInt(16, seconds(r->end_date))
        .bindInt(17, r->lifetime.count())
        .bindInt(18, r->lifetime_adjust.count())
        .bindInt(19, r->allow_certificate_get ? 1 : 0);
  } else {
    for (int i = 15; i <= 19; ++i) s->bindNull(i);
  }
  if (auto rc = s->run(); !rc) return fail(rc.error());
  return {};
}

core::Status insertCertificateRow(Database& db, const Certificate& c) {
  auto s = db.prepare(kInsertCertificate);
  if (!s) return fail(s.error());
  s->bindText(1, c.id)
      .bindText(2, c.serial_hex)
      .bindText(3, c.account_id)
      .bindText(4, c.order_id)
      .bindText(5, c.pem_chain)
      .bindInt(6, seconds(c.not_before))
      .bindInt(7, seconds(c.not_after))
      .bindInt(8, c.revoked ? 1 : 0)
      .bindOptInt(
          9, c.revocation_reason ? std::optional<std::int64_t>(*c.revocation_reason) : std::nullopt)
      .bindOptInt(10, seconds(c.revoked_at));
  const auto window = storedRenewalWindow(c);
  s->bindText(11, c.profile)
      .bindInt(12, seconds(c.issued_at))
      .bindOptInt(13, seconds(window.start))
      .bindOptInt(14, seconds(window.end))
      .bindInt(15, c.crl_shard);
  if (c.fqdn_set_hash.empty()) {
    s->bindNull(16);
  } else {
    s->bindText(16, c.fqdn_set_hash);
  }
  if (auto rc = s->run(); !rc) return fail(rc.error());
  return {};
}

core::Status insertOrderWithAuthorizations(Database& db, const Order& order,
                                           const std::vector<Authorization>& authorizations) {
  if (auto st = insertOrderRow(db, order); !st) return st;
  for (const auto& authz : authorizations) {
    if (auto st = insertAuthorizationRow(db, authz); !st) return st;
  }
  for (std::size_t i = 0; i < order.authz_ids.size(); ++i) {
    auto s = db.prepare(kInsertOrderAuthz);
    if (!s) return fail(s.error());
    s->bindText(1, order.id)
        .bindText(2, order.authz_ids[i])
        .bindInt(3, static_cast<std::int64_t>(i));
    if (auto rc = s->run(); !rc) return fail(rc.error());
  }
  return {};
}

// ---- retention ----------------------------------------------------------------------------

constexpr std::string_view kSelectPrunableOrders =
    "SELECT id FROM orders WHERE expires < ?1 AND certificate_id IS NULL LIMIT ?2";
// The authorizations that go with a pruned order (?1): expired before the cutoff (?2) and
// listed by no other order. (Shared ones stay for the orders that still list them; an
// unexpired one stays, unlisted, until it expires.)
constexpr std::string_view kSelectAuthzsFreedByOrder =
    "SELECT l.authz_id FROM order_authorizations l JOIN authorizations a ON a.id = l.authz_id "
    "WHERE l.order_id = ?1 AND a.expires < ?2 AND NOT EXISTS (SELECT 1 FROM "
    "order_authorizations m WHERE m.authz_id = l.authz_id AND m.order_id <> ?1)";
constexpr std::string_view kDeleteLinksOfOrder =
    "DELETE FROM order_authorizations WHERE order_id = ?1";
constexpr std::string_view kDeleteLinksOfAuthz =
    "DELETE FROM order_authorizations WHERE authz_id = ?1";
constexpr std::string_view kDeleteOrder = "DELETE FROM orders WHERE id = ?1";
// A pruned order's replacement claim is dead anyway; deleting it keeps the table small.
constexpr std::string_view kDeleteReplacementsOfOrder =
    "DELETE FROM replacements WHERE order_id = ?1";
// Expired authorizations that no remaining uncertified order lists (runs after the orders
// above are deleted): those of certified orders and unused pre-authorizations. One still
// listed by a kept order without a certificate stays.
constexpr std::string_view kSelectPrunableAuthzs =
    "SELECT a.id FROM authorizations a WHERE a.expires < ?1 AND NOT EXISTS (SELECT 1 FROM "
    "order_authorizations l JOIN orders o ON o.id = l.order_id WHERE l.authz_id = a.id "
    "AND o.certificate_id IS NULL) LIMIT ?2";
constexpr std::string_view kDeleteChallengesOfAuthz = "DELETE FROM challenges WHERE authz_id = ?1";
constexpr std::string_view kDeleteAuthz = "DELETE FROM authorizations WHERE id = ?1";

core::Result<std::vector<std::string>> selectIds(Database& db, std::string_view sql,
                                                 std::int64_t cutoff, std::int64_t limit) {
  auto s = db.prepare(sql);
  if (!s) return fail(s.error());
  s->bindInt(1, cutoff).bindInt(2, limit);
  std::vector<std::string> ids;
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!*row) break;
    ids.push_back(s->columnText(0));
  }
  return ids;
}

core::Result<int> deleteById(Database& db, std::string_view sql, const std::string& id) {
  auto s = db.prepare(sql);
  if (!s) return fail(s.error());
  s->bindText(1, id);
  return s->run();
}

// One authorization with its challenges and links: (challenges, authorizations) deleted.
core::Result<std::pair<std::size_t, std::size_t>> deleteAuthorizationRows(Database& db,
                                                                          const std::string& id) {
  if (auto l = deleteById(db, kDeleteLinksOfAuthz, id); !l) return fail(l.error());
  auto c = deleteById(db, kDeleteChallengesOfAuthz, id);
  if (!c) return fail(c.error());
  auto a = deleteById(db, kDeleteAuthz, id);
  if (!a) return fail(a.error());
  return std::pair{static_cast<std::size_t>(*c), static_cast<std::size_t>(*a)};
}

core::Result<PruneCounts> pruneRows(Database& db, TimePoint cutoff, std::size_t max_orders) {
  PruneCounts counts;
  if (max_orders == 0) return counts;
  const auto limit = static_cast<std::int64_t>(
      std::min<std::size_t>(max_orders, std::numeric_limits<std::int32_t>::max()));
  auto orders = selectIds(db, kSelectPrunableOrders, seconds(cutoff), limit);
  if (!orders) return fail(orders.error());
  for (const auto& id : *orders) {
    std::vector<std::string> freed;
    {
      auto s = db.prepare(kSelectAuthzsFreedByOrder);
      if (!s) return fail(s.error());
      s->bindText(1, id).bindInt(2, seconds(cutoff));
      auto ids =
          readAll(s, [](const Statement& row) -> Result<std::string> { return row.columnText(0); });
      if (!ids) return fail(ids.error());
      freed = std::move(*ids);
    }
    for (const auto& authz_id : freed) {
      auto removed = deleteAuthorizationRows(db, authz_id);
      if (!removed) return fail(removed.error());
      counts.challenges += removed->first;
      counts.authorizations += removed->second;
    }
    if (auto l = deleteById(db, kDeleteLinksOfOrder, id); !l) return fail(l.error());
    if (auto r = deleteById(db, kDeleteReplacementsOfOrder, id); !r) return fail(r.error());
    auto o = deleteById(db, kDeleteOrder, id);
    if (!o) return fail(o.error());
    counts.orders += static_cast<std::size_t>(*o);
  }
  auto authzs = selectIds(db, kSelectPrunableAuthzs, seconds(cutoff), limit);
  if (!authzs) return fail(authzs.error());
  for (const auto& id : *authzs) {
    auto removed = deleteAuthorizationRows(db, id);
    if (!removed) return fail(removed.error());
    counts.challenges += removed->first;
    counts.authorizations += removed->second;
  }
  counts.more = orders->size() == static_cast<std::size_t>(limit) ||
                authzs->size() == static_cast<std::size_t>(limit);
  return counts;
}

// ---- read connections ---------------------------------------------------------------------

// A fixed set of connections for lookups; acquire() waits for a free one. Lookups take
// microseconds, so a short wait on a condition variable is cheaper than a hop to another thread.
class ReadPool {
 public:
  class Lease {
   public:
    Lease(ReadPool& pool, std::unique_ptr<Database> db) : pool_(&pool), db_(std::move(db)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_->release(std::move(db_)); }
    Database& db() { return *db_; }

   private:
    ReadPool* pool_;
    std::unique_ptr<Database> db_;
  };

  void add(std::unique_ptr<Database> db) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(db));
    ++size_;
  }
  bool empty() const { return size_ == 0; }

  Lease acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty(); });
    auto db = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(db));
  }

 private:
  void release(std::unique_ptr<Database> db) {
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(db));
    }
    available_.notify_one();
  }

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Database>> idle_;
  std::size_t size_ = 0;  // fixed after construction, so empty() needs no lock
};

// ---- the writer: a write call becomes a job for the batching thread ------------------------

template <class T>
bool succeeded(const core::Result<T>& r) {
  return r.has_value();
}

// Holds the caller's completion handler and the body to run. The body is owned by the awaiting
// coroutine's frame, which stays suspended (and therefore alive) until complete() resumes it.
template <class R, class Body, class Handler>
class HandlerJob final : public WriteJob {
 public:
  HandlerJob(Body* body, Handler handler)
      : body_(body),
        handler_(std::move(handler)),
        work_(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler_))) {}

  bool run(Database& db) noexcept override {
    try {
      result_.emplace((*body_)(db));
    } catch (const std::exception& e) {
      result_.emplace(core::fail(core::serverInternal(std::string("sqlite store: ") + e.what())));
    }
    return succeeded(*result_);
  }
  void fail(const core::Problem& problem) noexcept override {
    result_.emplace(core::fail(problem));
  }
  void complete() noexcept override {
    auto executor = boost::asio::get_associated_executor(handler_);
    boost::asio::post(
        executor, [handler = std::move(handler_), result = std::move(*result_),
                   work = std::move(work_)]() mutable { std::move(handler)(std::move(result)); });
  }

 private:
  Body* body_;
  Handler handler_;
  boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work_;
  std::optional<R> result_;
};

// ---- the store ----------------------------------------------------------------------------

// Everything the store and its read-only view share.
struct Shared {
  std::mutex writer_mutex;  // held by the writer for a batch, and by readers of ":memory:"
  std::unique_ptr<Database> writer;
  ReadPool pool;                     // `[database] pool_connections`
  ReadPool ro_pool;                  // `[database] ro_connections`, opened SQLITE_OPEN_READONLY
  core::Metrics* metrics = nullptr;  // times every read() and write(); may be null
  // File databases only (see write()); last, so it stops before the connections close.
  std::unique_ptr<WriteBatcher> batcher;
};

class SqliteStore final : public Store {
 public:
  // `reads` is the pool this instance reads from; `main` is null for the main store, or the
  // main store for the read-only view (its writes go there, though they would work here too).
  SqliteStore(std::shared_ptr<Shared> shared, ReadPool* reads)
      : shared_(std::move(shared)), reads_(reads) {}

  void setReadOnlyView(std::unique_ptr<SqliteStore> view) { ro_view_ = std::move(view); }
  Store& readOnly() override { return ro_view_ ? static_cast<Store&>(*ro_view_) : *this; }

  QueueDepths queueDepths() const override {
    QueueDepths depths;
    if (shared_->batcher) depths.writes_queued = shared_->batcher->pending();
    return depths;
  }

  Awaitable<Status> insertAccount(const Account& account) override {
    co_return co_await write<Status>(
        [&](Database& db) -> Status { return insertAccountRow(db, account); });
  }

  Awaitable<Status> insertEabCredential(const acme::EabCredential& c) override {
    co_return co_await write<Status>([&](Database& db) -> Status {
      auto s = db.prepare(kInsertEab);
      if (!s) return fail(s.error());
      s->bindText(1, c.key_id)
          .bindText(2, core::base64urlEncode(c.hmac_key))
          .bindText(3, acme::toString(c.state))
          .bindInt(4, seconds(c.created_at))
          .bindOptInt(5, seconds(c.expires))
          .bindOptInt(6, c.max_uses ? std::optional<std::int64_t>(*c.max_uses) : std::nullopt)
          .bindInt(7, c.uses)
          .bindOptInt(8, seconds(c.revoked_at))
          .bindText(9, stringsToJson(c.allowed_profiles))
          .bindText(10, stringsToJson(c.identifier_patterns));
      if (auto rc = s->run(); !rc) return fail(rc.error());
      return {};
    });
  }

  Awaitable<Result<std::optional<acme::EabCredential>>> getEabCredential(
      const std::string& key_id) override {
    co_return read([&](Database& db) { return selectOne(db, kSelectEab, key_id, readEab); });
  }

  Awaitable<Result<std::vector<acme::EabCredential>>> listEabCredentials() override {
    co_return read([&](Database& db) -> Result<std::vector<acme::EabCredential>> {
      auto s = db.prepare(kListEab);
      if (!s) return fail(s.error());
      return readAll(s, readEab);
    });
  }

  Awaitable<Result<std::vector<std::string>>> listEabBoundAccountIds(
      const std::string& key_id) override {
    co_return read([&](Database& db) -> Result<std::vector<std::string>> {
      auto s = db.prepare(kListEabAccounts);
      if (!s) return fail(s.error());
      s->bindText(1, key_id);
      std::vector<std::string> ids;
      for (;;) {
        auto row = s->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        ids.push_back(s->columnText(0));
      }
      return ids;
    });
  }

  Awaitable<Result<bool>> revokeEabCredential(const std::string& key_id, TimePoint at) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto s = db.prepare(kRevokeEab);
      if (!s) return fail(s.error());
      s->bindText(1, key_id).bindInt(2, seconds(at));
      auto changed = s->run();
      if (!changed) return fail(changed.error());
      return *changed == 1;
    });
  }

  Awaitable<Result<bool>> insertAccountWithEab(const Account& account, TimePoint now) override {
    if (!account.eab_key_id) {
      co_return fail(core::serverInternal("insertAccountWithEab: the account names no credential"));
    }
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      {
        auto s = db.prepare(kConsumeEab);
        if (!s) return fail(s.error());
        s->bindText(1, *account.eab_key_id).bindInt(2, seconds(now));
        auto changed = s->run();
        if (!changed) return fail(changed.error());
        if (*changed == 0) return false;  // nothing written
      }
      // A failure here (a taken thumbprint) fails the call, and its transaction (or the
      // batch's savepoint) takes the use back.
      if (auto st = insertAccountRow(db, account); !st) return fail(st.error());
      return true;
    });
  }

  Awaitable<Result<std::optional<Account>>> getAccount(const std::string& id) override {
    co_return read(
        [&](Database& db) { return selectOne(db, kSelectAccountById, id, readAccount); });
  }

  Awaitable<Result<std::optional<Account>>> findAccountByThumbprint(
      const std::string& thumbprint) override {
    co_return read([&](Database& db) {
      return selectOne(db, kSelectAccountByThumbprint, thumbprint, readAccount);
    });
  }

  Awaitable<Result<bool>> updateAccountIf(const Account& account,
                                          acme::AccountStatus expected_status,
                                          const std::string& expected_thumbprint) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto s = db.prepare(kUpdateAccountIf);
      if (!s) return fail(s.error());
      s->bindText(1, account.id)
          .bindText(2, account.thumbprint)
          .bindText(3, account.jwk_json)
          .bindText(4, acme::toString(account.status))
          .bindText(5, stringsToJson(account.contacts))
          .bindInt(6, account.tos_agreed ? 1 : 0)
          .bindText(7, acme::toString(expected_status))
          .bindText(8, expected_thumbprint);
      auto changed = s->run();
      if (!changed) return fail(changed.error());
      return *changed == 1;
    });
  }

  Awaitable<Status> insertOrder(const Order& order,
                                const std::vector<Authorization>& authorizations) override {
    co_return co_await write<Status>(
        [&](Database& db) { return insertOrderWithAuthorizations(db, order, authorizations); });
  }

  Awaitable<Result<bool>> insertReplacementOrder(const Order& order,
                                                 const std::vector<Authorization>& authorizations,
                                                 TimePoint now) override {
    if (!order.replaces_serial) {
      co_return fail(core::serverInternal("insertReplacementOrder: the order replaces nothing"));
    }
    const std::string& serial = *order.replaces_serial;
    // Check, release and claim run in one write transaction, and SQLite has one writer (the
    // batcher's thread, or writer_mutex inline; IMMEDIATE across processes): no other claim
    // can land between the check and the insert.
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      {
        auto s = db.prepare(kDeleteDeadReplacement);
        if (!s) return fail(s.error());
        s->bindText(1, serial).bindInt(2, seconds(now));
        if (auto rc = s->run(); !rc) return fail(rc.error());
      }
      {
        auto s = db.prepare(kSelectReplacement);
        if (!s) return fail(s.error());
        s->bindText(1, serial);
        auto row = s->step();
        if (!row) return fail(row.error());
        // A live claim: nothing was deleted above, so nothing has been written.
        if (*row) return false;
      }
      {
        auto s = db.prepare(kInsertReplacement);
        if (!s) return fail(s.error());
        s->bindText(1, serial).bindText(2, order.id);
        if (auto rc = s->run(); !rc) return fail(rc.error());
      }
      if (auto st = insertOrderWithAuthorizations(db, order, authorizations); !st) {
        return fail(st.error());
      }
      return true;
    });
  }

  Awaitable<Result<std::optional<Order>>> getOrder(const std::string& id) override {
    co_return read([&](Database& db) { return selectOne(db, kSelectOrder, id, readOrder); });
  }

  Awaitable<Result<std::vector<std::string>>> listOrderIds(const std::string& account_id,
                                                           std::size_t offset,
                                                           std::size_t limit) override {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    co_return read([&](Database& db) -> Result<std::vector<std::string>> {
      std::vector<std::string> ids;
      if (limit == 0) return ids;
      auto s = db.prepare(kListOrderIds);
      if (!s) return fail(s.error());
      s->bindText(1, account_id)
          .bindInt(2, static_cast<std::int64_t>(std::min(limit, kMax)))
          .bindInt(3, static_cast<std::int64_t>(std::min(offset, kMax)));
      for (;;) {
        auto row = s->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        ids.push_back(s->columnText(0));
      }
      return ids;
    });
  }

  Awaitable<Result<bool>> updateOrderIfStatus(const Order& order,
                                              acme::OrderStatus expected) override {
    co_return co_await write<Result<bool>>(
        [&](Database& db) { return updateOrderIfStatusRow(db, order, expected); });
  }

  Awaitable<Result<std::optional<Authorization>>> getAuthorization(const std::string& id) override {
    co_return read([&](Database& db) -> Result<std::optional<Authorization>> {
      // One snapshot for the authorization and its challenges.
      return inSnapshot(db, [&] { return loadAuthorization(db, id); });
    });
  }

  Awaitable<Result<std::vector<Authorization>>> getAuthorizations(
      const std::vector<std::string>& ids) override {
    co_return read([&](Database& db) -> Result<std::vector<Authorization>> {
      return inSnapshot(db, [&]() -> Result<std::vector<Authorization>> {
        std::vector<Authorization> out;
        out.reserve(ids.size());
        for (const auto& id : ids) {
          auto authz = loadAuthorization(db, id);
          if (!authz) return fail(authz.error());
          if (*authz) out.push_back(std::move(**authz));
        }
        return out;
      });
    });
  }

  Awaitable<Result<bool>> hasValidAuthorizations(const std::string& account_id,
                                                 const std::vector<core::Identifier>& identifiers,
                                                 TimePoint now) override {
    co_return read([&](Database& db) -> Result<bool> {
      for (const auto& id : identifiers) {
        auto s = db.prepare(kSelectValidAuthzForIdentifier);
        if (!s) return fail(s.error());
        const bool wildcard = id.value.starts_with("*.");
        s->bindText(1, account_id)
            .bindText(2, id.type)
            .bindText(3, wildcard ? std::string_view(id.value).substr(2) : id.value)
            .bindInt(4, seconds(now))
            .bindInt(5, wildcard ? 1 : 0);
        auto row = s->step();
        if (!row) return fail(row.error());
        if (!*row) return false;
      }
      return !identifiers.empty();
    });
  }

  Awaitable<Status> insertAuthorization(const Authorization& authz) override {
    co_return co_await write<Status>(
        [&](Database& db) { return insertAuthorizationRow(db, authz); });
  }

  Awaitable<Result<std::optional<Authorization>>> findReusableAuthorization(
      const AuthzReuseQuery& q) override {
    co_return read([&](Database& db) -> Result<std::optional<Authorization>> {
      // In preference order: the name itself (valid), each ancestor (valid and
      // subdomainAuthAllowed), the name itself (pending too). The search is plain statements
      // (no transaction: a miss, the common case, costs one indexed SELECT); a hit is loaded
      // with its challenges in one snapshot and checked again there.
      struct Step {
        const std::string* name;
        bool wildcard;
        bool subdomain_only;
        bool pending;
      };
      const bool own_subdomain = q.require_subdomain_auth;
      std::vector<Step> steps{{&q.identifier.value, q.wildcard, own_subdomain, false}};
      for (const auto& a : q.ancestors) steps.push_back({&a, false, true, false});
      if (q.include_pending)
        steps.push_back({&q.identifier.value, q.wildcard, own_subdomain, true});
      for (const auto& step : steps) {
        std::string id;
        {  // the statement is done (reset) before the snapshot below begins
          auto s = db.prepare(kSelectReusableAuthz);
          if (!s) return fail(s.error());
          s->bindText(1, q.account_id)
              .bindText(2,
                        step.name != &q.identifier.value ? std::string("dns") : q.identifier.type)
              .bindText(3, *step.name)
              .bindInt(4, step.wildcard ? 1 : 0)
              .bindInt(5, seconds(q.expires_after))
              .bindInt(6, step.subdomain_only ? 1 : 0)
              .bindInt(7, step.pending ? 1 : 0);
          auto row = s->step();
          if (!row) return fail(row.error());
          if (!*row) continue;
          id = s->columnText(0);
        }
        auto found = inSnapshot(db, [&] { return loadAuthorization(db, id); });
        if (!found || !*found) return found;
        // Changed since the SELECT (a deactivation, a failed validation): not reusable.
        const auto& a = **found;
        const bool still = a.status == acme::AuthzStatus::kValid ||
                           (step.pending && a.status == acme::AuthzStatus::kPending);
        if (!still || a.expires <= q.expires_after) return std::optional<Authorization>();
        return found;
      }
      return std::optional<Authorization>();
    });
  }

  Awaitable<Result<std::vector<std::string>>> listOrderIdsForAuthorization(
      const std::string& authz_id, std::size_t limit) override {
    co_return read([&](Database& db) -> Result<std::vector<std::string>> {
      auto s = db.prepare(kSelectOrderIdsForAuthz);
      if (!s) return fail(s.error());
      s->bindText(1, authz_id)
          .bindInt(2, static_cast<std::int64_t>(
                          std::min<std::size_t>(limit, std::numeric_limits<std::int32_t>::max())));
      return readAll(s,
                     [](const Statement& row) -> Result<std::string> { return row.columnText(0); });
    });
  }

  Awaitable<Result<bool>> updateAuthorizationIfStatus(const Authorization& authz,
                                                      acme::AuthzStatus expected) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      {
        auto s = db.prepare(kUpdateAuthzIfStatus);
        if (!s) return fail(s.error());
        s->bindText(1, authz.id)
            .bindText(2, acme::toString(authz.status))
            .bindText(3, acme::toString(expected));
        auto changed = s->run();
        if (!changed) return fail(changed.error());
        // Lost (or no such authorization): nothing was written, the challenges are left alone.
        if (*changed == 0) return false;
      }
      // Won: every challenge must be one of its own; a missing one fails the whole call (the
      // job's savepoint rolls the status back too).
      for (const auto& c : authz.challenges) {
        auto s = db.prepare(kUpdateChallenge);
        if (!s) return fail(s.error());
        s->bindText(1, c.id)
            .bindText(2, authz.id)
            .bindText(3, acme::toString(c.status))
            .bindOptInt(4, seconds(c.validated))
            .bindOptText(5, problemJson(c.error));
        if (auto st = runExpectingChange(*s, "challenge", c.id); !st) return fail(st.error());
      }
      return true;
    });
  }

  Awaitable<Result<bool>> updateChallengeIfStatus(const Challenge& challenge,
                                                  acme::ChallengeStatus expected) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto s = db.prepare(kUpdateChallengeIfStatus);
      if (!s) return fail(s.error());
      s->bindText(1, challenge.id)
          .bindText(2, acme::toString(expected))
          .bindText(3, acme::toString(challenge.status))
          .bindOptInt(4, seconds(challenge.validated))
          .bindOptText(5, problemJson(challenge.error));
      auto changed = s->run();
      if (!changed) return fail(changed.error());
      return *changed == 1;
    });
  }

  Awaitable<Result<bool>> claimOrderForFinalize(const std::string& order_id,
                                                TimePoint now) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto s = db.prepare(kClaimOrderForFinalize);
      if (!s) return fail(s.error());
      s->bindText(1, order_id).bindInt(2, seconds(now));
      auto changed = s->run();
      if (!changed) return fail(changed.error());
      return *changed == 1;
    });
  }

  Awaitable<Result<bool>> insertCertificateForOrder(const Certificate& cert,
                                                    const Order& order) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      // The order first: when it is no longer processing nothing has been written yet.
      auto won = updateOrderIfStatusRow(db, order, acme::OrderStatus::kProcessing);
      if (!won || !*won) return won;
      if (auto st = insertCertificateRow(db, cert); !st) return fail(st.error());
      return true;
    });
  }

  Awaitable<Result<std::optional<Certificate>>> getCertificate(const std::string& id) override {
    co_return read(
        [&](Database& db) { return selectOne(db, kSelectCertificateById, id, readCertificate); });
  }

  Awaitable<Result<std::optional<Certificate>>> findCertificateBySerial(
      const std::string& serial_hex) override {
    co_return read([&](Database& db) {
      return selectOne(db, kSelectCertificateBySerial, serial_hex, readCertificate);
    });
  }

  Awaitable<Result<bool>> revokeCertificate(const std::string& id, int reason,
                                            TimePoint at) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto s = db.prepare(kRevokeCertificate);
      if (!s) return fail(s.error());
      s->bindText(1, id).bindInt(2, reason).bindInt(3, seconds(at));
      auto changed = s->run();
      if (!changed) return fail(changed.error());
      return *changed == 1;
    });
  }

  Awaitable<Result<bool>> beginStarOrder(const std::string& order_id,
                                         const std::vector<std::uint8_t>& csr_der,
                                         TimePoint start_date, TimePoint expires) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto s = db.prepare(kBeginStarOrder);
      if (!s) return fail(s.error());
      s->bindText(1, order_id)
          .bindText(2, core::base64urlEncode(csr_der))
          .bindInt(3, seconds(start_date))
          .bindInt(4, seconds(expires));
      auto changed = s->run();
      if (!changed) return fail(changed.error());
      return *changed == 1;
    });
  }

  Awaitable<Result<bool>> insertStarCertificate(const Certificate& cert, const Order& order,
                                                std::int64_t period,
                                                acme::OrderStatus expected) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      // The order first: when it lost (another node, an earlier attempt) nothing is written.
      {
        auto s = db.prepare(kAdvanceStarOrder);
        if (!s) return fail(s.error());
        s->bindText(1, order.id)
            .bindText(2, acme::toString(expected))
            .bindText(3, acme::toString(order.status))
            .bindText(4, cert.id)
            .bindInt(5, period);
        auto changed = s->run();
        if (!changed) return fail(changed.error());
        if (*changed == 0) return false;
      }
      if (auto st = insertCertificateRow(db, cert); !st) return fail(st.error());
      auto s = db.prepare(kSetCertificateStarPeriod);
      if (!s) return fail(s.error());
      s->bindText(1, cert.id).bindInt(2, period);
      if (auto st = runExpectingChange(*s, "certificate", cert.id); !st) return fail(st.error());
      return true;
    });
  }

  Awaitable<Result<std::vector<Order>>> listStarOrders(TimePoint now, const std::string& after_id,
                                                       std::size_t limit) override {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    co_return read([&](Database& db) -> Result<std::vector<Order>> {
      std::vector<Order> orders;
      if (limit == 0) return orders;
      auto s = db.prepare(kListStarOrders);
      if (!s) return fail(s.error());
      s->bindInt(1, seconds(now))
          .bindText(2, after_id)
          .bindInt(3, static_cast<std::int64_t>(std::min(limit, kMax)));
      for (;;) {
        auto row = s->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        auto order = readOrder(*s);
        if (!order) return fail(order.error());
        orders.push_back(std::move(*order));
      }
      return orders;
    });
  }

  Awaitable<Result<std::vector<CertificateListing>>> searchCertificates(
      const CertificateFilter& filter) override {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    co_return read([&](Database& db) -> Result<std::vector<CertificateListing>> {
      std::vector<CertificateListing> out;
      if (filter.limit == 0) return out;
      auto s = db.prepare(kSearchCertificates);
      if (!s) return fail(s.error());
      const auto name = nameFilter(filter.name);
      std::optional<std::int64_t> revoked;
      if (filter.revoked) revoked = *filter.revoked ? 1 : 0;
      s->bindOptText(1, filter.serial_hex)
          .bindOptText(2, filter.account_id)
          .bindOptInt(3, unixSecondsOpt(filter.expires_before))
          .bindOptInt(4, unixSecondsOpt(filter.expires_after))
          .bindOptInt(5, revoked)
          .bindOptText(6, name.exact)
          .bindOptText(7, name.suffix)
          .bindInt(8, static_cast<std::int64_t>(std::min(filter.limit, kMax)))
          .bindInt(9, static_cast<std::int64_t>(std::min(filter.offset, kMax)));
      for (;;) {
        auto row = s->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        auto cert = readCertificate(*s);
        if (!cert) return fail(cert.error());
        auto identifiers = identifiersFromJson(s->columnText(15));
        if (!identifiers) return fail(identifiers.error());
        out.push_back({std::move(*cert), std::move(*identifiers)});
      }
      return out;
    });
  }

  Awaitable<Result<StoreCounts>> countAll(TimePoint now, TimePoint issued_since) override {
    co_return read([&](Database& db) -> Result<StoreCounts> {
      auto s = db.prepare(kCountAll);
      if (!s) return fail(s.error());
      s->bindInt(1, seconds(now)).bindInt(2, seconds(issued_since));
      auto row = s->step();
      if (!row) return fail(row.error());
      if (!*row) return fail(core::serverInternal("sqlite: the counts returned no row"));
      StoreCounts c;
      const auto fields = countColumns(c);
      for (std::size_t i = 0; i < fields.size(); ++i) {
        *fields[i] = s->columnInt(static_cast<int>(i));
      }
      return c;
    });
  }

  Awaitable<Status> insertIncident(const acme::Incident& incident) override {
    co_return co_await write<Status>([&](Database& db) -> Status {
      auto s = db.prepare(kInsertIncident);
      if (!s) return fail(s.error());
      s->bindText(1, incident.id)
          .bindText(2, acme::toString(incident.scope))
          .bindText(3, incident.value)
          .bindText(4, incident.explanation_url)
          .bindInt(5, seconds(incident.created_at));
      if (auto rc = s->run(); !rc) return fail(rc.error());
      return {};
    });
  }

  Awaitable<Result<std::vector<acme::Incident>>> listIncidents() override {
    co_return read([&](Database& db) -> Result<std::vector<acme::Incident>> {
      auto s = db.prepare(kSelectIncidents);
      if (!s) return fail(s.error());
      return readAll(s, readIncident);
    });
  }

  Awaitable<Result<bool>> deleteIncident(const std::string& id) override {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto deleted = deleteById(db, kDeleteIncident, id);
      if (!deleted) return fail(deleted.error());
      return *deleted == 1;
    });
  }

  Awaitable<Result<std::optional<acme::Incident>>> findIncidentFor(
      const Certificate& cert) override {
    co_return read([&](Database& db) -> Result<std::optional<acme::Incident>> {
      auto s = db.prepare(kFindIncidentFor);
      if (!s) return fail(s.error());
      s->bindText(1, cert.serial_hex)
          .bindText(2, cert.account_id)
          .bindText(3, cert.profile)
          .bindInt(4, seconds(cert.issued_at));
      auto row = s->step();
      if (!row) return fail(row.error());
      if (!*row) return std::optional<acme::Incident>();
      auto incident = readIncident(*s);
      if (!incident) return fail(incident.error());
      return std::optional<acme::Incident>(std::move(*incident));
    });
  }

  Awaitable<Status> setRateLimitOverride(const store::RateLimitOverride& o) override {
    co_return co_await write<Status>([&](Database& db) -> Status {
      auto s = db.prepare(kUpsertRateLimitOverride);
      if (!s) return fail(s.error());
      s->bindText(1, o.account_id)
          .bindText(2, o.limit)
          .bindInt(3, o.burst)
          .bindInt(4, o.count)
          .bindInt(5, o.period_secs)
          .bindInt(6, seconds(o.updated_at));
      if (auto rc = s->run(); !rc) return fail(rc.error());
      return {};
    });
  }

  Awaitable<Result<std::vector<store::RateLimitOverride>>> listRateLimitOverrides() override {
    co_return read([&](Database& db) -> Result<std::vector<store::RateLimitOverride>> {
      auto s = db.prepare(kSelectRateLimitOverrides);
      if (!s) return fail(s.error());
      return readAll(s, readOverride);
    });
  }

  Awaitable<Result<bool>> removeRateLimitOverride(const std::string& account_id,
                                                  const std::string& limit) override {
    co_return co_await deletePair(kDeleteRateLimitOverride, account_id, limit);
  }

  Awaitable<Status> insertRateLimitPause(const store::RateLimitPause& pause) override {
    co_return co_await write<Status>([&](Database& db) -> Status {
      auto s = db.prepare(kInsertRateLimitPause);
      if (!s) return fail(s.error());
      s->bindText(1, pause.account_id)
          .bindText(2, pause.identifier)
          .bindInt(3, seconds(pause.paused_at));
      if (auto rc = s->run(); !rc) return fail(rc.error());
      return {};
    });
  }

  Awaitable<Result<std::vector<store::RateLimitPause>>> listRateLimitPauses(
      const std::string& account_id) override {
    co_return read([&](Database& db) -> Result<std::vector<store::RateLimitPause>> {
      auto s = db.prepare(kSelectRateLimitPauses);
      if (!s) return fail(s.error());
      s->bindText(1, account_id);
      return readAll(s, readPause);
    });
  }

  Awaitable<Result<bool>> removeRateLimitPause(const std::string& account_id,
                                               const std::string& identifier) override {
    co_return co_await deletePair(kDeleteRateLimitPause, account_id, identifier);
  }

  Awaitable<Result<std::int64_t>> countPendingAuthorizations(const std::string& account_id,
                                                             TimePoint now) override {
    co_return read([&](Database& db) -> Result<std::int64_t> {
      auto s = db.prepare(kCountPendingAuthzs);
      if (!s) return fail(s.error());
      s->bindText(1, account_id).bindInt(2, seconds(now));
      auto row = s->step();
      if (!row) return fail(row.error());
      return *row ? s->columnInt(0) : 0;
    });
  }

  Awaitable<Result<bool>> hasCertificateForFqdnSet(const std::string& fqdn_set_hash,
                                                   TimePoint since) override {
    co_return read([&](Database& db) -> Result<bool> {
      auto s = db.prepare(kHasCertificateForFqdnSet);
      if (!s) return fail(s.error());
      s->bindText(1, fqdn_set_hash).bindInt(2, seconds(since));
      auto row = s->step();
      if (!row) return fail(row.error());
      return *row;
    });
  }

  Awaitable<Result<std::vector<store::RevokedCertificate>>> listRevokedCertificates(
      int shard, TimePoint expired_cutoff) override {
    co_return read([&](Database& db) -> Result<std::vector<store::RevokedCertificate>> {
      auto s = db.prepare(kListRevokedCertificates);
      if (!s) return fail(s.error());
      s->bindInt(1, shard).bindInt(2, seconds(expired_cutoff));
      std::vector<store::RevokedCertificate> out;
      for (;;) {
        auto row = s->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        store::RevokedCertificate r;
        r.serial_hex = s->columnText(0);
        r.revoked_at = core::fromUnixSeconds(s->columnOptInt(1).value_or(0));
        r.reason = static_cast<int>(s->columnOptInt(2).value_or(0));
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  Awaitable<Result<PruneCounts>> pruneExpired(TimePoint cutoff, std::size_t max_orders) override {
    co_return co_await write<Result<PruneCounts>>(
        [&](Database& db) { return pruneRows(db, cutoff, max_orders); });
  }

 private:
  // Queues `body` for the writer thread and resumes the caller, on its own executor, once the
  // batch holding it has committed. ":memory:" has no batcher: with nothing to sync, a write
  // is microseconds of CPU like a lookup, and two thread hops would cost more than it does, so
  // it runs here in its own transaction.
  template <class R, class Body>
  Awaitable<R> write(Body body, std::source_location where = std::source_location::current()) {
    const CallTimer timer(shared_->metrics, where);
    if (!shared_->batcher) {
      std::unique_lock lock(shared_->writer_mutex);
      co_return writeInline<R>(body);
    }
    // No write in progress and none queued: commit here rather than wake the writer thread
    // and be woken again by it (two context switches, most of a write's cost on two busy
    // cores). Writes that overlap queue up and are committed together by the writer thread.
    if (shared_->batcher->idle()) {
      std::unique_lock lock(shared_->writer_mutex, std::try_to_lock);
      if (lock.owns_lock()) co_return writeInline<R>(body);
    }
    co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(R)>(
        [this](auto handler, Body* b) {
          using Job = HandlerJob<R, Body, decltype(handler)>;
          shared_->batcher->submit(std::make_unique<Job>(b, std::move(handler)));
        },
        boost::asio::use_awaitable, &body);
  }

  // The caller holds writer_mutex.
  template <class R, class Body>
  R writeInline(Body& body) {
    try {
      auto tx = Transaction::begin(*shared_->writer, Transaction::Mode::kImmediate);
      if (!tx) return fail(tx.error());
      R result = body(*shared_->writer);
      if (!result) return result;
      if (auto st = tx->commit(); !st) return fail(st.error());
      return result;
    } catch (const std::exception& e) {
      return fail(core::serverInternal(std::string("sqlite store: ") + e.what()));
    }
  }

  // Runs a lookup of several statements on one consistent view. The writer connection is only
  // ever used under writer_mutex, so nothing can commit between its statements and it needs
  // no transaction (which cost a BEGIN and a COMMIT per lookup, on the :memory: hot path). A
  // pooled connection takes a read transaction: the writer may commit in between.
  template <class F>
  std::invoke_result_t<F&> inSnapshot(Database& db, F&& lookup) {
    if (&db == shared_->writer.get()) return lookup();
    auto tx = Transaction::begin(db, Transaction::Mode::kDeferred);
    if (!tx) return fail(tx.error());
    auto result = lookup();
    if (!result) return result;
    if (auto st = tx->commit(); !st) return fail(st.error());
    return result;
  }

  // Lookups run on the calling thread, on this instance's pool; without one (":memory:") they
  // share the writer connection between batches.
  template <class Body>
  std::invoke_result_t<Body&, Database&> read(
      Body&& body, std::source_location where = std::source_location::current()) {
    const CallTimer timer(shared_->metrics, where);
    try {
      if (reads_ == nullptr || reads_->empty()) {
        std::lock_guard lock(shared_->writer_mutex);
        return body(*shared_->writer);
      }
      if (reads_ == &shared_->pool && shared_->batcher->idle()) {
        // The writer's page cache holds what was just written, while a pooled connection
        // drops its cache whenever the WAL changed and reads the pages again. So when nobody
        // is writing, a lookup of the write path borrows the writer connection.
        std::unique_lock lock(shared_->writer_mutex, std::try_to_lock);
        if (lock.owns_lock()) return body(*shared_->writer);
      }
      auto lease = reads_->acquire();
      return body(lease.db());
    } catch (const std::exception& e) {
      return fail(core::serverInternal(std::string("sqlite store: ") + e.what()));
    }
  }

  std::shared_ptr<Shared> shared_;
  ReadPool* reads_;
  // DELETE keyed by two text parameters; true when a row went.
  Awaitable<Result<bool>> deletePair(std::string_view sql, const std::string& a,
                                     const std::string& b) {
    co_return co_await write<Result<bool>>([&](Database& db) -> Result<bool> {
      auto s = db.prepare(sql);
      if (!s) return fail(s.error());
      s->bindText(1, a).bindText(2, b);
      auto n = s->run();
      if (!n) return fail(n.error());
      return *n == 1;
    });
  }

  std::unique_ptr<SqliteStore> ro_view_;
};

core::Result<std::unique_ptr<Database>> openReader(const std::string& path, int flags,
                                                   const SqliteOptions& options) {
  auto reader = Database::open(path, flags);
  if (!reader) return reader;
  sqlite3_busy_timeout((*reader)->handle(), options.busy_timeout_ms);
  return reader;
}

}  // namespace

core::Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                                     const SqliteOptions& options) {
  try {
    const bool memory = path == ":memory:";
    auto writer = Database::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!writer) return fail(writer.error());
    Database& w = **writer;
    sqlite3_busy_timeout(w.handle(), options.busy_timeout_ms);
    if (!memory) {
      auto mode = w.queryText("PRAGMA journal_mode=WAL");
      if (!mode) return fail(mode.error());
      if (*mode != "wal") {
        return fail(core::serverInternal("sqlite: cannot use WAL journal mode on " + path +
                                         " (got \"" + *mode + "\")"));
      }
      // FULL: a commit is on disk before anyone is told it happened, so a certificate reported
      // issued survives a power failure too. The writer batches commits, which keeps the cost
      // to one WAL sync per batch.
      if (auto st = w.exec("PRAGMA synchronous=FULL"); !st) return fail(st.error());
    }
    if (memory) {
      // An in-memory database still keeps a rollback journal in memory, and every write copies
      // each page it touches into it. Rows here are a few hundred bytes, so 1 KiB pages cut
      // that copying (about 75 KB of allocation per issuance) without deepening the trees much.
      if (auto st = w.exec("PRAGMA page_size=1024"); !st) return fail(st.error());
    }
    // Migrations first: a table rebuild (migration 8) is only possible with foreign keys off,
    // and the pragma is a no-op inside the migration's transaction.
    if (auto st = migrate(w); !st) return fail(st.error());
    if (auto st = w.exec("PRAGMA foreign_keys=ON"); !st) return fail(st.error());

    auto shared = std::make_shared<Shared>();
    shared->writer = std::move(*writer);
    shared->metrics = options.metrics;
    if (!memory) {
      for (std::size_t i = 0; i < options.pool_connections; ++i) {
        auto reader = openReader(path, SQLITE_OPEN_READWRITE, options);
        if (!reader) return fail(reader.error());
        shared->pool.add(std::move(*reader));
      }
      for (std::size_t i = 0; i < options.ro_connections; ++i) {
        auto reader = openReader(path, SQLITE_OPEN_READONLY, options);
        if (!reader) return fail(reader.error());
        shared->ro_pool.add(std::move(*reader));
      }
    }
    if (!memory) {
      shared->batcher = std::make_unique<WriteBatcher>(*shared->writer, shared->writer_mutex,
                                                       options.max_write_batch);
    }
    auto store = std::make_unique<SqliteStore>(shared, &shared->pool);
    if (!shared->ro_pool.empty()) {
      store->setReadOnlyView(std::make_unique<SqliteStore>(shared, &shared->ro_pool));
    }
    return std::unique_ptr<Store>(std::move(store));
  } catch (const std::exception& e) {
    return fail(core::serverInternal(std::string("sqlite store: ") + e.what()));
  }
}

}  // namespace akamu::store::sqlite
