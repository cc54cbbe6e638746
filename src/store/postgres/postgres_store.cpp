#include "store/postgres/postgres_store.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <limits>
#include <source_location>
#include <utility>
#include <vector>

#include "core/base64url.hpp"
#include "store/bucket_store.hpp"
#include "store/call_timer.hpp"
#include "store/certificate_filter.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/pool.hpp"
#include "store/renewal_columns.hpp"
#include "store/sqlite/json_columns.hpp"

namespace akamu::store::postgres {
namespace {

using acme::Account;
using acme::Authorization;
using acme::Certificate;
using acme::Challenge;
using acme::Order;
using core::fail;
using core::TimePoint;
using sqlite::identifiersFromJson;
using sqlite::identifiersToJson;
using sqlite::problemFromStoredJson;
using sqlite::problemToStoredJson;
using sqlite::stringsFromJson;
using sqlite::stringsToJson;

// ---- SQL ----------------------------------------------------------------------------------
// Every call is one statement where one statement gives the atomicity; the others are one
// pipeline (one implicit transaction). Reads that must see one snapshot are one statement.

enum Stmt : std::size_t {
  kInsertAccount,
  kUpdateAccountIf,
  kSelectAccountById,
  kSelectAccountByThumbprint,
  kInsertOrder,
  kUpdateOrderIfStatus,
  kSelectOrder,
  kListOrderIds,
  kInsertAuthz,
  kInsertChallenge,
  kUpdateAuthzIfStatus,
  kUpdateChallengeIfStatus,
  kSelectAuthz,
  kSelectAuthzs,
  kHasValidAuthzs,
  kLockOrderForClaim,
  kLockAuthzsForClaim,
  kLockAccountForClaim,
  kClaimOrderForFinalize,
  kInsertCertificateForOrder,
  kSelectCertificateById,
  kSelectCertificateBySerial,
  kRevokeCertificate,
  kListRevokedCertificates,
  kPruneExpired,
  kDeleteDeadReplacement,
  kInsertReplacement,
  kInsertIncident,
  kSelectIncidents,
  kDeleteIncident,
  kFindIncidentFor,
  kInsertEab,
  kSelectEab,
  kListEab,
  kListEabAccounts,
  kRevokeEab,
  kInsertAccountWithEab,
  kBeginStarOrder,
  kInsertStarCertificate,
  kListStarOrders,
  kInsertOrderAuthz,
  kSelectReusableAuthz,
  kSelectOrderIdsForAuthz,
  kUpsertRateLimitOverride,
  kSelectRateLimitOverrides,
  kDeleteRateLimitOverride,
  kInsertRateLimitPause,
  kSelectRateLimitPauses,
  kDeleteRateLimitPause,
  kCountPendingAuthzs,
  kHasCertificateForFqdnSet,
  kSpendBucket,
  kSelectBucket,
  kRefundBucket,
  // Operator queries.
  kSearchCertificates,
  kCountAll,
  kStatementCount
};

#define AKAMU_ACCOUNT_COLUMNS \
  "id, thumbprint, jwk_json, status, contacts, tos_agreed, created_at, eab_key_id"
#define AKAMU_EAB_COLUMNS                                                                        \
  "key_id, hmac_key, state, created_at, expires, max_uses, uses, revoked_at, allowed_profiles, " \
  "identifier_patterns"
// The columns insertOrder writes; an order reads back with its STAR CSR and period too.
#define AKAMU_ORDER_INSERT_COLUMNS                                                          \
  "id, account_id, status, expires, identifiers, authz_ids, not_before, not_after, error, " \
  "certificate_id, created_at, profile, replaces, replaces_serial, star_start, star_end, "  \
  "star_lifetime, star_lifetime_adjust, star_allow_get"
#define AKAMU_ORDER_COLUMNS AKAMU_ORDER_INSERT_COLUMNS ", star_csr, star_period"
#define AKAMU_CERT_COLUMNS                                                            \
  "id, serial_hex, account_id, order_id, pem_chain, not_before, not_after, revoked, " \
  "revocation_reason, revoked_at, profile, issued_at, renewal_start, renewal_end, crl_shard"
#define AKAMU_INCIDENT_COLUMNS "id, scope, value, explanation_url, created_at"
// An authorization (8 columns), one of its challenges (6 columns, NULL when it has none), then
// the authorization's subdomainAuthAllowed (column 14, added by migration 8).
#define AKAMU_AUTHZ_CHALLENGE_COLUMNS                                                 \
  "a.id, a.account_id, a.order_id, a.identifier_type, a.identifier_value, a.status, " \
  "a.expires, a.wildcard, c.id, c.type, c.token, c.status, c.validated, c.error, "    \
  "a.subdomain_auth_allowed"

constexpr Statement kStatements[] = {
    {"akamu_insert_account",
     "INSERT INTO accounts(" AKAMU_ACCOUNT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"},
    // The compare-and-set: $7 and $8 are the status and thumbprint the caller decided from.
    {"akamu_update_account_if",
     "UPDATE accounts SET thumbprint = $2, jwk_json = $3, status = $4, contacts = $5, "
     "tos_agreed = $6 WHERE id = $1 AND status = $7 AND thumbprint = $8"},
    {"akamu_select_account_by_id", "SELECT " AKAMU_ACCOUNT_COLUMNS " FROM accounts WHERE id = $1"},
    {"akamu_select_account_by_thumbprint",
     "SELECT " AKAMU_ACCOUNT_COLUMNS " FROM accounts WHERE thumbprint = $1"},
    {"akamu_insert_order",
     "INSERT INTO orders(" AKAMU_ORDER_INSERT_COLUMNS
     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
     "$18, $19)"},
    // The compare-and-set: $2 is the status the caller last saw. The profile and what the
    // order replaces are fixed at insertion and not written again.
    {"akamu_update_order_if_status",
     "UPDATE orders SET status = $3, expires = $4, identifiers = $5, authz_ids = $6, "
     "not_before = $7, not_after = $8, error = $9, certificate_id = $10 "
     "WHERE id = $1 AND status = $2"},
    {"akamu_select_order", "SELECT " AKAMU_ORDER_COLUMNS " FROM orders WHERE id = $1"},
    {"akamu_list_order_ids",
     "SELECT id FROM orders WHERE account_id = $1 ORDER BY created_at, seq LIMIT $2 OFFSET $3"},
    {"akamu_insert_authz",
     "INSERT INTO authorizations(id, account_id, order_id, identifier_type, identifier_value, "
     "status, expires, wildcard, subdomain_auth_allowed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
     "$9)"},
    {"akamu_insert_challenge",
     "INSERT INTO challenges(id, authz_id, position, type, token, status, validated, error) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"},
    // The compare-and-set of an authorization ($3 is the status the caller last saw) with its
    // challenges ($4..$7, one array element per challenge), in one statement: the challenges
    // are written only through `won`, so not at all when the status no longer matches. When it
    // matches, a challenge that is not the authorization's own fails the statement (and the
    // transaction) rather than being skipped. Column 0: the authorizations written (0 or 1).
    {"akamu_update_authz_if_status",
     "WITH won AS (UPDATE authorizations SET status = $2 WHERE id = $1 AND status = $3 "
     "RETURNING id),"
     " v AS (SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[], $7::text[])"
     " AS v(id, status, validated, error)),"
     " ch AS (UPDATE challenges c SET status = v.status, validated = v.validated, "
     "error = v.error FROM v, won WHERE c.id = v.id AND c.authz_id = won.id RETURNING 1)"
     " SELECT w.n, akamu_require_row(CASE WHEN w.n = 0 OR (SELECT count(*) FROM ch) = "
     "(SELECT count(*) FROM v) THEN 1 ELSE 0 END, 'a challenge of authorization ' || $1) "
     "FROM (SELECT count(*) AS n FROM won) w"},
    {"akamu_update_challenge_if_status",
     "UPDATE challenges SET status = $3, validated = $4, error = $5 WHERE id = $1 AND status = $2"},
    // One statement, one snapshot: the authorization and its challenges agree.
    {"akamu_select_authz", "SELECT " AKAMU_AUTHZ_CHALLENGE_COLUMNS
                           " FROM authorizations a LEFT JOIN challenges c ON c.authz_id = a.id "
                           "WHERE a.id = $1 ORDER BY c.position"},
    // Column 15 numbers the requested ids, so that results follow the request (duplicates too).
    {"akamu_select_authzs",
     "SELECT " AKAMU_AUTHZ_CHALLENGE_COLUMNS
     ", r.ord FROM unnest($1::text[]) WITH ORDINALITY AS r(id, ord) "
     "JOIN authorizations a ON a.id = r.id LEFT JOIN challenges c ON c.authz_id = a.id "
     "ORDER BY r.ord, c.position"},
    // $3 holds base names and $5 the wildcard flags: "*.example.com" is (example.com, true).
    {"akamu_has_valid_authzs",
     "SELECT NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[], $5::boolean[]) "
     "AS i(type, value, wildcard) "
     "WHERE NOT EXISTS (SELECT 1 FROM authorizations a WHERE a.account_id = $1 "
     "AND a.identifier_type = i.type AND a.identifier_value = i.value "
     "AND a.wildcard = i.wildcard AND a.status = 'valid' AND a.expires > $4::bigint))"},
    // Finalize's claim, three statements of one pipeline (one transaction). The order row is
    // locked first, so that the claim takes its locks in the same order as retention (order,
    // then authorizations) and concurrent claims queue on it. Then its authorizations are
    // locked FOR SHARE: a deactivation or expiry that has not committed yet is waited for, and
    // one that comes later waits for this transaction. The last statement runs on a snapshot
    // taken after both, so it sees every change committed before the locks were granted.
    {"akamu_lock_order_for_claim", "SELECT 1 FROM orders WHERE id = $1 FOR NO KEY UPDATE"},
    {"akamu_lock_authzs_for_claim",
     "SELECT 1 FROM authorizations WHERE id IN (SELECT json_array_elements_text(o.authz_ids::json) "
     "FROM orders o WHERE o.id = $1) ORDER BY id FOR SHARE"},
    // The account too: a deactivation that commits first makes the claim fail, one that comes
    // later waits for it.
    {"akamu_lock_account_for_claim",
     "SELECT 1 FROM accounts WHERE id = (SELECT account_id FROM orders WHERE id = $1) FOR SHARE"},
    // Ready -> processing only while every authorization the order lists exists, is valid and
    // expires after $2 (an order listing none is never claimed).
    {"akamu_claim_order_for_finalize",
     "UPDATE orders o SET status = 'processing' WHERE o.id = $1 AND o.status = 'ready' "
     "AND json_array_length(o.authz_ids::json) > 0 AND NOT EXISTS (SELECT 1 FROM "
     "json_array_elements_text(o.authz_ids::json) AS r(id) LEFT JOIN authorizations a "
     "ON a.id = r.id WHERE a.id IS NULL OR a.status <> 'valid' OR a.expires <= $2::bigint) "
     "AND EXISTS (SELECT 1 FROM accounts ac WHERE ac.id = o.account_id AND ac.status = 'valid')"},
    // The order moves out of processing and the certificate appears in one statement; when
    // the order is no longer processing, `won` is empty and nothing is inserted.
    {"akamu_insert_certificate_for_order",
     "WITH won AS (UPDATE orders SET status = $3, expires = $4, identifiers = $5, "
     "authz_ids = $6, not_before = $7, not_after = $8, error = $9, certificate_id = $10 "
     "WHERE id = $1 AND status = $2 RETURNING id) "
     "INSERT INTO certificates(" AKAMU_CERT_COLUMNS
     ", fqdn_set_hash) SELECT $11::text, $12::text, $13::text, $14::text, $15::bytea, "
     "$16::bigint, $17::bigint, $18::boolean, $19::integer, $20::bigint, $21::text, "
     "$22::bigint, $23::bigint, $24::bigint, $25::integer, $26::text FROM won"},
    {"akamu_select_certificate_by_id",
     "SELECT " AKAMU_CERT_COLUMNS " FROM certificates WHERE id = $1"},
    {"akamu_select_certificate_by_serial",
     "SELECT " AKAMU_CERT_COLUMNS " FROM certificates WHERE serial_hex = $1"},
    {"akamu_revoke_certificate",
     "UPDATE certificates SET revoked = true, revocation_reason = $2, revoked_at = $3 "
     "WHERE id = $1 AND NOT revoked"},
    // `WHERE revoked` as the partial index certificates_revoked_by_shard is declared.
    {"akamu_list_revoked_certificates",
     "SELECT serial_hex, revoked_at, revocation_reason FROM certificates "
     "WHERE revoked AND crl_shard = $1::integer AND not_after >= $2::bigint "
     "ORDER BY serial_hex COLLATE \"C\""},
    // Retention in one statement (one snapshot; foreign keys are checked at its end, after
    // every delete). Rows another transaction is changing are skipped, not waited for: the
    // next pass gets them. Orders are locked so that one gaining a certificate meanwhile is
    // re-checked and kept.
    {"akamu_prune_expired",
     "WITH doomed_orders AS ("
     "  SELECT o.id FROM orders o WHERE o.expires < $1 AND o.certificate_id IS NULL"
     "  AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.order_id = o.id)"
     "  ORDER BY o.expires LIMIT $2 FOR UPDATE OF o SKIP LOCKED),"
     // The authorizations that go with the doomed orders: expired and listed by no other
     // order (a shared one stays for the orders that still list it; an unexpired one stays,
     // unlisted, until it expires).
     " freed_authzs AS ("
     "  SELECT DISTINCT l.authz_id AS id FROM order_authorizations l"
     "  JOIN authorizations a ON a.id = l.authz_id"
     "  WHERE l.order_id IN (SELECT id FROM doomed_orders) AND a.expires < $1"
     "  AND NOT EXISTS (SELECT 1 FROM order_authorizations m WHERE m.authz_id = l.authz_id"
     "  AND m.order_id NOT IN (SELECT id FROM doomed_orders))),"
     // Then expired ones that no uncertified order lists once the doomed orders are gone:
     // those of certified orders, unused pre-authorizations. (An expired authorization is
     // never reused, so no newOrder links to one of these meanwhile.)
     " kept_authzs AS ("
     "  SELECT a.id FROM authorizations a WHERE a.expires < $1"
     "  AND a.id NOT IN (SELECT id FROM freed_authzs) AND NOT EXISTS (SELECT 1 FROM"
     "  order_authorizations l JOIN orders o ON o.id = l.order_id WHERE l.authz_id = a.id"
     "  AND o.certificate_id IS NULL AND o.id NOT IN (SELECT id FROM doomed_orders))"
     "  ORDER BY a.expires LIMIT $2 FOR UPDATE OF a SKIP LOCKED),"
     " doomed_authzs AS (SELECT id FROM freed_authzs UNION ALL SELECT id FROM kept_authzs),"
     " deleted_links AS (DELETE FROM order_authorizations"
     "  WHERE order_id IN (SELECT id FROM doomed_orders)"
     "  OR authz_id IN (SELECT id FROM doomed_authzs)),"
     " deleted_challenges AS (DELETE FROM challenges"
     "  WHERE authz_id IN (SELECT id FROM doomed_authzs) RETURNING 1),"
     " deleted_authzs AS (DELETE FROM authorizations"
     "  WHERE id IN (SELECT id FROM doomed_authzs) RETURNING 1),"
     " deleted_orders AS (DELETE FROM orders"
     "  WHERE id IN (SELECT id FROM doomed_orders) RETURNING 1),"
     // A deleted order's replacement claim is dead anyway: keep the table small.
     " deleted_replacements AS (DELETE FROM replacements"
     "  WHERE order_id IN (SELECT id FROM doomed_orders))"
     " SELECT (SELECT count(*) FROM deleted_orders), (SELECT count(*) FROM deleted_authzs),"
     " (SELECT count(*) FROM deleted_challenges), (SELECT count(*) FROM kept_authzs)"},
    // insertReplacementOrder, the first two statements of its pipeline (one transaction, READ
    // COMMITTED). First the dead claim on serial $1 goes: its order gone (pruned), invalid, or
    // pending/ready and expired at $2. Then the new claim is inserted, and the primary key
    // decides. Why that is race-free, for two calls A and B on one serial:
    //  - no claim, or a live one: neither deletes anything; a live claim makes both inserts
    //    fail, and with none the second insert waits on the first one's uncommitted key and
    //    fails once it commits (or succeeds if it rolled back). Exactly one wins.
    //  - a dead claim: both find it; A deletes it and holds the row lock, B's delete waits.
    //    When A commits, the row B waited for is deleted, so B deletes nothing (READ COMMITTED
    //    skips a row deleted under it; it never sees A's new claim, which is another row) and
    //    B's insert hits A's committed claim. If A rolls back, B deletes the dead claim itself.
    //  - a claim that dies meanwhile (its order becomes invalid, or is pruned, while B runs):
    //    B decided on a snapshot where it was live and loses, as if it had come just before.
    //    A claim row is only ever inserted with its order in one transaction, so a statement
    //    that sees the claim sees its order; an order never becomes live again.
    // A claimant whose own order ends up invalid releases the serial to the next call.
    {"akamu_delete_dead_replacement",
     "DELETE FROM replacements r WHERE r.replaced_serial = $1 AND NOT EXISTS (SELECT 1 FROM "
     "orders o WHERE o.id = r.order_id AND (o.status IN ('valid', 'processing') OR "
     "(o.status IN ('pending', 'ready') AND o.expires > $2::bigint)))"},
    {"akamu_insert_replacement",
     "INSERT INTO replacements(replaced_serial, order_id) VALUES ($1, $2)"},
    {"akamu_insert_incident",
     "INSERT INTO incidents(" AKAMU_INCIDENT_COLUMNS ") VALUES ($1, $2, $3, $4, $5)"},
    {"akamu_select_incidents",
     "SELECT " AKAMU_INCIDENT_COLUMNS " FROM incidents ORDER BY created_at, id"},
    {"akamu_delete_incident", "DELETE FROM incidents WHERE id = $1"},
    // $1 serial, $2 account, $3 profile, $4 issued_at. Each arm is a prefix of incidents_match.
    {"akamu_find_incident_for", "SELECT " AKAMU_INCIDENT_COLUMNS " FROM incidents "
                                "WHERE (scope = 'serial' AND value = $1) "
                                "OR (scope = 'account' AND value = $2 AND created_at > $4::bigint) "
                                "OR (scope = 'profile' AND value = $3 AND created_at > $4::bigint) "
                                "ORDER BY created_at, id LIMIT 1"},
    {"akamu_insert_eab", "INSERT INTO eab_credentials(" AKAMU_EAB_COLUMNS
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"},
    {"akamu_select_eab", "SELECT " AKAMU_EAB_COLUMNS " FROM eab_credentials WHERE key_id = $1"},
    {"akamu_list_eab",
     "SELECT " AKAMU_EAB_COLUMNS " FROM eab_credentials ORDER BY created_at, key_id"},
    {"akamu_list_eab_accounts",
     "SELECT id FROM accounts WHERE eab_key_id = $1 ORDER BY created_at, id"},
    {"akamu_revoke_eab",
     "UPDATE eab_credentials SET state = 'revoked', revoked_at = $2 "
     "WHERE key_id = $1 AND state <> 'revoked'"},
    // One use of the credential and the account in one statement: the account row is
    // inserted only through `used`, so not at all when the credential may no longer bind. Two
    // racing uses of the last one: the second UPDATE waits for the first's row lock, then
    // re-checks its WHERE on the committed row (READ COMMITTED) and finds no use left.
    {"akamu_insert_account_with_eab",
     "WITH used AS (UPDATE eab_credentials SET uses = uses + 1, state = 'bound' "
     "WHERE key_id = $8 AND state <> 'revoked' AND (expires IS NULL OR expires > $9::bigint) "
     "AND (max_uses IS NULL OR uses < max_uses) RETURNING key_id) "
     "INSERT INTO accounts(" AKAMU_ACCOUNT_COLUMNS
     ") SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::boolean, $7::bigint, "
     "key_id FROM used"},
    // STAR (RFC 8739). Finalize records the CSR once, while the order is processing.
    {"akamu_begin_star_order",
     "UPDATE orders SET star_csr = $2, star_start = $3, expires = $4 WHERE id = $1 "
     "AND status = 'processing' AND star_end IS NOT NULL AND star_csr IS NULL"},
    // One period's certificate in one statement: the order moves on only from the status the
    // caller saw ($2), to a later period ($5), while its account is valid; the certificate is
    // inserted only through `won`. Two callers for one period: the second's UPDATE waits for
    // the first's row lock and then finds star_period = $5, so it writes nothing (and the
    // unique index on certificates (order_id, star_period) backs this up).
    {"akamu_insert_star_certificate",
     "WITH won AS (UPDATE orders o SET status = $3, certificate_id = $4, star_period = $5 "
     "WHERE o.id = $1 AND o.status = $2 AND o.star_csr IS NOT NULL "
     "AND (o.star_period IS NULL OR o.star_period < $5::bigint) "
     "AND EXISTS (SELECT 1 FROM accounts ac WHERE ac.id = o.account_id AND ac.status = 'valid') "
     "RETURNING o.id) "
     "INSERT INTO certificates(" AKAMU_CERT_COLUMNS
     ", star_period) SELECT $4::text, $6::text, $7::text, $8::text, $9::bytea, $10::bigint, "
     "$11::bigint, false, NULL, NULL, $12::text, $13::bigint, $14::bigint, $15::bigint, "
     "$16::integer, $5::bigint FROM won"},
    {"akamu_list_star_orders",
     "SELECT " AKAMU_ORDER_COLUMNS " FROM orders WHERE star_csr IS NOT NULL "
     "AND status IN ('processing', 'valid') AND id > $2 AND star_end > $1::bigint "
     "ORDER BY id LIMIT $3"},
    // The link of an order to one of its authorizations (insertOrder), when it exists.
    {"akamu_insert_order_authz",
     "INSERT INTO order_authorizations(order_id, authz_id, position) SELECT $1::text, $2::text, "
     "$3::integer WHERE EXISTS (SELECT 1 FROM authorizations WHERE id = $2)"},
    // newOrder's reuse in one statement: $2/$3/$4 the identifier as stored, $5 the earliest
    // expiry, $6 pending ones too, $8 only subdomainAuthAllowed ones of it, $7 the ancestors whose
    // valid subdomainAuthAllowed authorization covers it. Rank: the identifier valid, an ancestor,
    // the identifier pending; then the latest expiry.
    {"akamu_select_reusable_authz",
     "WITH pick AS (SELECT a.id FROM authorizations a WHERE a.account_id = $1 "
     "AND a.expires > $5::bigint AND ((a.identifier_type = $2 AND a.identifier_value = $3 "
     "AND a.wildcard = $4::boolean AND (a.subdomain_auth_allowed OR NOT $8::boolean) "
     "AND (a.status = 'valid' OR ($6::boolean AND a.status = 'pending'))) OR (a.identifier_type = "
     "'dns' AND a.identifier_value = ANY($7::text[]) "
     "AND NOT a.wildcard AND a.subdomain_auth_allowed AND a.status = 'valid')) "
     "ORDER BY CASE WHEN a.status <> 'valid' THEN 2 WHEN a.identifier_value = $3 "
     "AND a.identifier_type = $2 THEN 0 ELSE 1 END, a.expires DESC LIMIT 1) "
     "SELECT " AKAMU_AUTHZ_CHALLENGE_COLUMNS " FROM pick JOIN authorizations a ON a.id = pick.id "
     "LEFT JOIN challenges c ON c.authz_id = a.id ORDER BY c.position"},
    {"akamu_select_order_ids_for_authz",
     "SELECT order_id FROM order_authorizations WHERE authz_id = $1 ORDER BY order_id LIMIT $2"},
    {"akamu_upsert_rate_limit_override",
     "INSERT INTO rate_limit_overrides(account_id, limit_name, burst, per_period, period_secs, "
     "updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, limit_name) DO UPDATE "
     "SET burst = excluded.burst, per_period = excluded.per_period, "
     "period_secs = excluded.period_secs, updated_at = excluded.updated_at"},
    {"akamu_select_rate_limit_overrides",
     "SELECT account_id, limit_name, burst, per_period, period_secs, updated_at "
     "FROM rate_limit_overrides ORDER BY account_id, limit_name"},
    {"akamu_delete_rate_limit_override",
     "DELETE FROM rate_limit_overrides WHERE account_id = $1 AND limit_name = $2"},
    {"akamu_insert_rate_limit_pause",
     "INSERT INTO rate_limit_pauses(account_id, identifier, paused_at) VALUES ($1, $2, $3) "
     "ON CONFLICT (account_id, identifier) DO NOTHING"},
    {"akamu_select_rate_limit_pauses",
     "SELECT account_id, identifier, paused_at FROM rate_limit_pauses "
     "WHERE $1 = '' OR account_id = $1 ORDER BY account_id, identifier"},
    {"akamu_delete_rate_limit_pause",
     "DELETE FROM rate_limit_pauses WHERE account_id = $1 AND identifier = $2"},
    {"akamu_count_pending_authzs",
     "SELECT count(*) FROM authorizations WHERE account_id = $1 AND status = 'pending' "
     "AND expires > $2::bigint"},
    {"akamu_has_certificate_for_fqdn_set",
     "SELECT 1 FROM certificates WHERE fqdn_set_hash = $1 AND issued_at >= $2::bigint LIMIT 1"},
    // GCRA in one statement (acme/gcra.hpp): $2 now, $3 cost x interval, $4 burst x interval,
    // all nanoseconds. A new bucket takes the spend (the caller refused a cost above the burst);
    // an existing one only when max(tat, now) + cost - burst <= now. The row lock of the upsert
    // makes concurrent spends of one bucket queue: of two spends of the last request one wins.
    // No row back = denied, nothing written.
    {"akamu_spend_bucket",
     "INSERT INTO rate_limit_buckets(bucket_key, tat) VALUES ($1, $2::bigint + $3::bigint) "
     "ON CONFLICT (bucket_key) DO UPDATE "
     "SET tat = GREATEST(rate_limit_buckets.tat, $2::bigint) + $3::bigint "
     "WHERE GREATEST(rate_limit_buckets.tat, $2::bigint) + $3::bigint - $4::bigint <= $2::bigint "
     "RETURNING tat"},
    {"akamu_select_bucket", "SELECT tat FROM rate_limit_buckets WHERE bucket_key = $1"},
    {"akamu_refund_bucket",
     "UPDATE rate_limit_buckets SET tat = GREATEST(tat - $3::bigint, $2::bigint) "
     "WHERE bucket_key = $1"},
    // Operator queries: each filter NULL when unset; $6 an exact name, $7 a suffix
    // (".example.com"), both lower case. A full scan at worst, as for SQLite.
    {"akamu_search_certificates",
     "SELECT c.id, c.serial_hex, c.account_id, c.order_id, c.pem_chain, c.not_before, "
     "c.not_after, c.revoked, c.revocation_reason, c.revoked_at, c.profile, c.issued_at, "
     "c.renewal_start, c.renewal_end, c.crl_shard, o.identifiers "
     "FROM certificates c JOIN orders o ON o.id = c.order_id "
     "WHERE ($1::text IS NULL OR c.serial_hex = $1) AND ($2::text IS NULL OR c.account_id = $2) "
     "AND ($3::bigint IS NULL OR c.not_after < $3) AND ($4::bigint IS NULL OR c.not_after >= $4) "
     "AND ($5::boolean IS NULL OR c.revoked = $5) "
     "AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM json_array_elements(o.identifiers::json) j "
     "WHERE lower(j->>'value') = $6)) "
     "AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM json_array_elements(o.identifiers::json) j "
     "WHERE right(lower(j->>'value'), length($7)) = $7)) "
     "ORDER BY c.issued_at DESC, c.id DESC LIMIT $8 OFFSET $9"},
    {"akamu_count_all",
     "SELECT (SELECT count(*) FROM accounts WHERE status = 'valid'), "
     "(SELECT count(*) FROM accounts WHERE status = 'deactivated'), "
     "(SELECT count(*) FROM accounts WHERE status = 'revoked'), "
     "(SELECT count(*) FROM orders WHERE status = 'pending'), "
     "(SELECT count(*) FROM orders WHERE status = 'ready'), "
     "(SELECT count(*) FROM orders WHERE status = 'processing'), "
     "(SELECT count(*) FROM orders WHERE status = 'valid'), "
     "(SELECT count(*) FROM orders WHERE status = 'invalid'), "
     "(SELECT count(*) FROM orders WHERE status = 'canceled'), "
     "(SELECT count(*) FROM certificates WHERE NOT revoked AND not_after >= $1::bigint), "
     "(SELECT count(*) FROM certificates WHERE revoked), "
     "(SELECT count(*) FROM certificates WHERE NOT revoked AND not_after < $1::bigint), "
     "(SELECT count(*) FROM certificates WHERE issued_at >= $2::bigint)"},
};
static_assert(std::size(kStatements) == kStatementCount);

#undef AKAMU_ACCOUNT_COLUMNS
#undef AKAMU_EAB_COLUMNS
#undef AKAMU_ORDER_COLUMNS
#undef AKAMU_ORDER_INSERT_COLUMNS
#undef AKAMU_CERT_COLUMNS
#undef AKAMU_AUTHZ_CHALLENGE_COLUMNS
#undef AKAMU_INCIDENT_COLUMNS

// Run once on every new connection; $1 is the statement timeout in milliseconds.
constexpr const char* kInitReadWrite = "SELECT set_config('statement_timeout', $1, false)";
constexpr const char* kInitReadOnly =
    "SELECT set_config('statement_timeout', $1, false), "
    "set_config('default_transaction_read_only', 'on', false)";

// ---- values -------------------------------------------------------------------------------

std::int64_t seconds(TimePoint t) { return core::toUnixSeconds(t); }
std::optional<std::int64_t> seconds(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return core::toUnixSeconds(*t);
}
std::optional<std::string> problemJson(const std::optional<core::Problem>& p) {
  if (!p) return std::nullopt;
  return problemToStoredJson(*p);
}
std::int64_t clampToInt64(std::size_t n) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(n, kMax));
}

core::Problem corrupt(std::string_view what) {
  return core::serverInternal("postgres: stored " + std::string(what) + " is not valid");
}
core::Problem corruptStatus(std::string_view table, std::string_view value) {
  return core::serverInternal("postgres: unknown " + std::string(table) + " status \"" +
                              std::string(value) + "\"");
}

// One row of a text-format result. Readers take what they need and check ok() at the end.
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}

  bool null(int col) const { return PQgetisnull(result_, row_, col) != 0; }
  std::string text(int col) const {
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<std::size_t>(PQgetlength(result_, row_, col)));
  }
  std::optional<std::string> optText(int col) const {
    if (null(col)) return std::nullopt;
    return text(col);
  }
  std::int64_t int64(int col) {
    const char* begin = PQgetvalue(result_, row_, col);
    const char* end = begin + PQgetlength(result_, row_, col);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end || null(col)) ok_ = false;
    return value;
  }
  std::optional<std::int64_t> optInt64(int col) {
    if (null(col)) return std::nullopt;
    return int64(col);
  }
  std::optional<TimePoint> optTime(int col) {
    if (null(col)) return std::nullopt;
    return core::fromUnixSeconds(int64(col));
  }
  TimePoint time(int col) { return core::fromUnixSeconds(int64(col)); }
  bool boolean(int col) const { return std::string_view(PQgetvalue(result_, row_, col)) == "t"; }
  // bytea in text format (hex, or the old escape format), decoded by libpq.
  std::string bytes(int col) {
    std::size_t length = 0;
    unsigned char* raw = PQunescapeBytea(
        reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row_, col)), &length);
    if (raw == nullptr) {
      ok_ = false;
      return {};
    }
    std::string out(reinterpret_cast<const char*>(raw), length);
    PQfreemem(raw);
    return out;
  }
  core::Result<std::optional<core::Problem>> optProblem(int col) const {
    if (null(col)) return std::optional<core::Problem>();
    auto p = problemFromStoredJson(text(col));
    if (!p) return fail(p.error());
    return std::optional<core::Problem>(std::move(*p));
  }
  bool ok() const { return ok_; }

 private:
  const PGresult* result_;
  int row_;
  bool ok_ = true;
};

// ---- row readers --------------------------------------------------------------------------

core::Result<Account> readAccount(Row r) {
  Account a;
  a.id = r.text(0);
  a.thumbprint = r.text(1);
  a.jwk_json = r.text(2);
  auto status = acme::accountStatusFrom(r.text(3));
  if (!status) return fail(corruptStatus("account", r.text(3)));
  a.status = *status;
  auto contacts = stringsFromJson(r.text(4));
  if (!contacts) return fail(contacts.error());
  a.contacts = std::move(*contacts);
  a.tos_agreed = r.boolean(5);
  a.created_at = r.time(6);
  a.eab_key_id = r.optText(7);
  if (!r.ok()) return fail(corrupt("account"));
  return a;
}

core::Result<acme::EabCredential> readEab(Row r) {
  acme::EabCredential c;
  c.key_id = r.text(0);
  auto key = core::base64urlDecode(r.text(1));
  if (!key) return fail(corrupt("EAB key"));
  c.hmac_key = std::move(*key);
  auto state = acme::eabStateFrom(r.text(2));
  if (!state) return fail(corruptStatus("eab credential", r.text(2)));
  c.state = *state;
  c.created_at = r.time(3);
  c.expires = r.optTime(4);
  if (auto max = r.optInt64(5)) c.max_uses = static_cast<std::uint32_t>(*max);
  c.uses = static_cast<std::uint32_t>(r.int64(6));
  c.revoked_at = r.optTime(7);
  auto profiles = stringsFromJson(r.text(8));
  if (!profiles) return fail(profiles.error());
  c.allowed_profiles = std::move(*profiles);
  auto patterns = stringsFromJson(r.text(9));
  if (!patterns) return fail(patterns.error());
  c.identifier_patterns = std::move(*patterns);
  if (!r.ok()) return fail(corrupt("eab credential"));
  return c;
}

core::Result<Order> readOrder(Row r) {
  Order o;
  o.id = r.text(0);
  o.account_id = r.text(1);
  auto status = acme::orderStatusFrom(r.text(2));
  if (!status) return fail(corruptStatus("order", r.text(2)));
  o.status = *status;
  o.expires = r.time(3);
  auto identifiers = identifiersFromJson(r.text(4));
  if (!identifiers) return fail(identifiers.error());
  o.identifiers = std::move(*identifiers);
  auto authz_ids = stringsFromJson(r.text(5));
  if (!authz_ids) return fail(authz_ids.error());
  o.authz_ids = std::move(*authz_ids);
  o.not_before = r.optTime(6);
  o.not_after = r.optTime(7);
  auto error = r.optProblem(8);
  if (!error) return fail(error.error());
  o.error = std::move(*error);
  o.certificate_id = r.optText(9);
  o.created_at = r.time(10);
  o.profile = r.text(11);
  o.replaces = r.optText(12);
  o.replaces_serial = r.optText(13);
  if (auto end = r.optInt64(15)) {
    acme::AutoRenewal ar;
    ar.start_date = r.optTime(14);
    ar.end_date = core::fromUnixSeconds(*end);
    ar.lifetime = std::chrono::seconds(r.optInt64(16).value_or(0));
    ar.lifetime_adjust = std::chrono::seconds(r.optInt64(17).value_or(0));
    ar.allow_certificate_get = !r.null(18) && r.boolean(18);
    o.auto_renewal = ar;
  }
  if (!r.null(19)) {
    const std::string der = r.bytes(19);
    o.star_csr_der.assign(der.begin(), der.end());
  }
  o.star_period = r.optInt64(20);
  if (!r.ok()) return fail(corrupt("order"));
  return o;
}

core::Result<Certificate> readCertificate(Row r) {
  Certificate c;
  c.id = r.text(0);
  c.serial_hex = r.text(1);
  c.account_id = r.text(2);
  c.order_id = r.text(3);
  c.pem_chain = r.bytes(4);
  c.not_before = r.time(5);
  c.not_after = r.time(6);
  c.revoked = r.boolean(7);
  if (auto reason = r.optInt64(8)) c.revocation_reason = static_cast<int>(*reason);
  c.revoked_at = r.optTime(9);
  c.profile = r.text(10);
  c.issued_at = r.time(11);
  setRenewalWindow(c, r.optTime(12), r.optTime(13));
  c.crl_shard = static_cast<int>(r.int64(14));
  if (!r.ok()) return fail(corrupt("certificate"));
  return c;
}

core::Result<store::RateLimitOverride> readOverride(Row r) {
  store::RateLimitOverride o;
  o.account_id = r.text(0);
  o.limit = r.text(1);
  o.burst = r.int64(2);
  o.count = r.int64(3);
  o.period_secs = r.int64(4);
  o.updated_at = core::fromUnixSeconds(r.int64(5));
  return o;
}

core::Result<store::RateLimitPause> readPause(Row r) {
  store::RateLimitPause p;
  p.account_id = r.text(0);
  p.identifier = r.text(1);
  p.paused_at = core::fromUnixSeconds(r.int64(2));
  return p;
}

core::Result<acme::Incident> readIncident(Row r) {
  acme::Incident i;
  i.id = r.text(0);
  auto scope = acme::incidentScopeFrom(r.text(1));
  if (!scope) {
    return fail(core::serverInternal("postgres: unknown incident scope \"" + r.text(1) + "\""));
  }
  i.scope = *scope;
  i.value = r.text(2);
  i.explanation_url = r.text(3);
  i.created_at = r.time(4);
  if (!r.ok()) return fail(corrupt("incident"));
  return i;
}

core::Result<Authorization> readAuthorization(Row r) {
  Authorization a;
  a.id = r.text(0);
  a.account_id = r.text(1);
  a.order_id = r.optText(2).value_or("");
  a.identifier = core::Identifier{r.text(3), r.text(4)};
  auto status = acme::authzStatusFrom(r.text(5));
  if (!status) return fail(corruptStatus("authorization", r.text(5)));
  a.status = *status;
  a.expires = r.time(6);
  a.wildcard = r.boolean(7);
  a.subdomain_auth_allowed = r.boolean(14);
  if (!r.ok()) return fail(corrupt("authorization"));
  return a;
}

// Columns 8..13 of AKAMU_AUTHZ_CHALLENGE_COLUMNS.
core::Result<Challenge> readChallenge(Row r, const std::string& authz_id) {
  Challenge c;
  c.id = r.text(8);
  c.authz_id = authz_id;
  c.type = r.text(9);
  c.token = r.text(10);
  auto status = acme::challengeStatusFrom(r.text(11));
  if (!status) return fail(corruptStatus("challenge", r.text(11)));
  c.status = *status;
  c.validated = r.optTime(12);
  auto error = r.optProblem(13);
  if (!error) return fail(error.error());
  c.error = std::move(*error);
  if (!r.ok()) return fail(corrupt("challenge"));
  return c;
}

// Rows of authorization-with-challenge, grouped by column `group_col` (consecutive rows with
// the same value are one authorization) or, when it is negative, all one authorization.
core::Result<std::vector<Authorization>> readAuthorizations(const PGresult* result, int group_col) {
  std::vector<Authorization> out;
  std::string current_group;
  const int rows = PQntuples(result);
  for (int i = 0; i < rows; ++i) {
    Row row(result, i);
    const std::string group = group_col >= 0 ? row.text(group_col) : std::string();
    if (i == 0 || group != current_group) {
      auto authz = readAuthorization(row);
      if (!authz) return fail(authz.error());
      out.push_back(std::move(*authz));
      current_group = group;
    }
    if (!row.null(8)) {
      auto challenge = readChallenge(row, out.back().id);
      if (!challenge) return fail(challenge.error());
      out.back().challenges.push_back(std::move(*challenge));
    }
  }
  return out;
}

// Column 0 of every row, as text.
std::vector<std::string> firstColumn(const PGresult* result) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(PQntuples(result)));
  for (int i = 0; i < PQntuples(result); ++i) out.push_back(Row(result, i).text(0));
  return out;
}

// At most one authorization (with its challenges) from rows of one.
core::Result<std::optional<Authorization>> readOneAuthorization(const PGresult* result) {
  auto authzs = readAuthorizations(result, -1);
  if (!authzs) return fail(authzs.error());
  if (authzs->empty()) return std::optional<Authorization>();
  return std::optional<Authorization>(std::move(authzs->front()));
}

template <class T, class Reader>
core::Result<std::optional<T>> readOne(const PGresult* result, Reader reader) {
  if (PQntuples(result) == 0) return std::optional<T>();
  auto value = reader(Row(result, 0));
  if (!value) return fail(value.error());
  return std::optional<T>(std::move(*value));
}

std::int64_t rowsAffected(const PGresult* result) {
  const char* n = PQcmdTuples(const_cast<PGresult*>(result));
  return n != nullptr && *n != '\0' ? std::atoll(n) : 0;
}

// ---- command builders ---------------------------------------------------------------------

Command command(Stmt statement) {
  Command c;
  c.statement = statement;
  return c;
}

Params& accountParams(Params& p, const Account& a) {
  return p.text(a.id)
      .text(a.thumbprint)
      .text(a.jwk_json)
      .text(acme::toString(a.status))
      .text(stringsToJson(a.contacts))
      .boolean(a.tos_agreed);
}

// $1..$10 of the order compare-and-set.
Params& orderUpdateParams(Params& p, const Order& o, acme::OrderStatus expected) {
  return p.text(o.id)
      .text(acme::toString(expected))
      .text(acme::toString(o.status))
      .int64(seconds(o.expires))
      .text(identifiersToJson(o.identifiers))
      .text(stringsToJson(o.authz_ids))
      .optInt64(seconds(o.not_before))
      .optInt64(seconds(o.not_after))
      .optText(problemJson(o.error))
      .optText(o.certificate_id);
}

// The statements that insert one authorization with its challenges.
void appendAuthzInsert(std::vector<Command>& cmds, const Authorization& a) {
  Command& authz = cmds.emplace_back(command(kInsertAuthz));
  authz.params.text(a.id)
      .text(a.account_id)
      .optText(a.order_id.empty() ? std::nullopt : std::optional<std::string>(a.order_id))
      .text(a.identifier.type)
      .text(a.identifier.value)
      .text(acme::toString(a.status))
      .int64(seconds(a.expires))
      .boolean(a.wildcard)
      .boolean(a.subdomain_auth_allowed);
  for (std::size_t i = 0; i < a.challenges.size(); ++i) {
    const Challenge& c = a.challenges[i];
    Command& ch = cmds.emplace_back(command(kInsertChallenge));
    // The parent's id, not the challenge's copy, so that the authorization always reads
    // back with exactly the challenges it was inserted with.
    ch.params.text(c.id)
        .text(a.id)
        .int64(static_cast<std::int64_t>(i))
        .text(c.type)
        .text(c.token)
        .text(acme::toString(c.status))
        .optInt64(seconds(c.validated))
        .optText(problemJson(c.error));
  }
}

// The statements of insertOrder: the order, each new authorization with its challenges, and
// the links to every authorization it lists.
void appendOrderInsert(std::vector<Command>& cmds, const Order& order,
                       const std::vector<Authorization>& authorizations) {
  cmds.emplace_back(command(kInsertOrder))
      .params.text(order.id)
      .text(order.account_id)
      .text(acme::toString(order.status))
      .int64(seconds(order.expires))
      .text(identifiersToJson(order.identifiers))
      .text(stringsToJson(order.authz_ids))
      .optInt64(seconds(order.not_before))
      .optInt64(seconds(order.not_after))
      .optText(problemJson(order.error))
      .optText(order.certificate_id)
      .int64(seconds(order.created_at))
      .text(order.profile)
      .optText(order.replaces)
      .optText(order.replaces_serial);
  Params& p = cmds[cmds.size() - 1].params;
  if (const auto& r = order.auto_renewal) {
    p.optInt64(seconds(r->start_date))
        .int64(seconds(r->end_date))
        .int64(r->lifetime.count())
        .int64(r->lifetime_adjust.count())
        .boolean(r->allow_certificate_get);
  } else {
    p.optInt64(std::nullopt)
        .optInt64(std::nullopt)
        .optInt64(std::nullopt)
        .optInt64(std::nullopt)
        .optInt64(std::nullopt);
  }
  for (const Authorization& a : authorizations) appendAuthzInsert(cmds, a);
  // Every authorization the order lists, new or reused, linked in the order's own order.
  for (std::size_t i = 0; i < order.authz_ids.size(); ++i) {
    cmds.emplace_back(command(kInsertOrderAuthz))
        .params.text(order.id)
        .text(order.authz_ids[i])
        .int64(static_cast<std::int64_t>(i));
  }
}

// The uniqueness violation of the replacement claim's primary key, and no other (a duplicate
// order or authorization id stays kConflict). Only the primary message reaches the Problem; it
// quotes the constraint's name in every server locale.
bool isLostReplacementClaim(const core::Problem& problem) {
  return problem.type == core::ProblemType::kConflict &&
         problem.detail.find("\"akamu_replacement_claim\"") != std::string::npos;
}

Params& challengeUpdateParams(Params& p, const Challenge& c, const std::string& key,
                              std::string_view status_or_authz) {
  return p.text(key)
      .text(status_or_authz)
      .text(acme::toString(c.status))
      .optInt64(seconds(c.validated))
      .optText(problemJson(c.error));
}

// ---- the store ----------------------------------------------------------------------------

using Results = std::vector<PgResultPtr>;

// The pools and settings shared by the store and its read-only view.
struct Backend {
  std::chrono::seconds query_timeout;
  std::shared_ptr<Pool> main;
  std::shared_ptr<Pool> read_only;   // null without ro_connections
  core::Metrics* metrics = nullptr;  // times every execute(); may be null
};

class PostgresStore final : public Store, public BucketStore {
 public:
  // The main store: everything on the main pool; readOnly() is the view when there is one.
  explicit PostgresStore(std::unique_ptr<Backend> backend)
      : owned_(std::move(backend)), backend_(owned_.get()), reads_(backend_->main.get()) {
    if (backend_->read_only) {
      view_ = std::unique_ptr<PostgresStore>(new PostgresStore(*backend_));
    }
  }

  Store& readOnly() override { return view_ ? *view_ : *this; }

  QueueDepths queueDepths() const override {
    QueueDepths depths;
    depths.connection_waiters = backend_->main->waiters();
    if (backend_->read_only) depths.connection_waiters += backend_->read_only->waiters();
    return depths;
  }

  Awaitable<Status> insertAccount(const Account& account) override {
    std::vector<Command> cmds{command(kInsertAccount)};
    accountParams(cmds[0].params, account)
        .int64(seconds(account.created_at))
        .optText(account.eab_key_id);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  Awaitable<Status> insertEabCredential(const acme::EabCredential& c) override {
    std::vector<Command> cmds{command(kInsertEab)};
    cmds[0]
        .params.text(c.key_id)
        .text(core::base64urlEncode(c.hmac_key))
        .text(acme::toString(c.state))
        .int64(seconds(c.created_at))
        .optInt64(seconds(c.expires))
        .optInt64(c.max_uses ? std::optional<std::int64_t>(*c.max_uses) : std::nullopt)
        .int64(c.uses)
        .optInt64(seconds(c.revoked_at))
        .text(stringsToJson(c.allowed_profiles))
        .text(stringsToJson(c.identifier_patterns));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  Awaitable<Result<std::optional<acme::EabCredential>>> getEabCredential(
      const std::string& key_id) override {
    std::vector<Command> cmds{command(kSelectEab)};
    cmds[0].params.text(key_id);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOne<acme::EabCredential>((*r)[0].get(), readEab);
  }

  Awaitable<Result<std::vector<acme::EabCredential>>> listEabCredentials() override {
    std::vector<Command> cmds{command(kListEab)};
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    std::vector<acme::EabCredential> out;
    for (int i = 0; i < PQntuples(result); ++i) {
      auto c = readEab(Row(result, i));
      if (!c) co_return fail(c.error());
      out.push_back(std::move(*c));
    }
    co_return out;
  }

  Awaitable<Result<std::vector<std::string>>> listEabBoundAccountIds(
      const std::string& key_id) override {
    std::vector<Command> cmds{command(kListEabAccounts)};
    cmds[0].params.text(key_id);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return firstColumn((*r)[0].get());
  }

  Awaitable<Result<bool>> revokeEabCredential(const std::string& key_id, TimePoint at) override {
    std::vector<Command> cmds{command(kRevokeEab)};
    cmds[0].params.text(key_id).int64(seconds(at));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Result<bool>> insertAccountWithEab(const Account& account, TimePoint now) override {
    if (!account.eab_key_id) {
      co_return fail(core::serverInternal("insertAccountWithEab: the account names no credential"));
    }
    std::vector<Command> cmds{command(kInsertAccountWithEab)};
    accountParams(cmds[0].params, account)
        .int64(seconds(account.created_at))
        .text(*account.eab_key_id)
        .int64(seconds(now));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Result<std::optional<Account>>> getAccount(const std::string& id) override {
    std::vector<Command> cmds{command(kSelectAccountById)};
    cmds[0].params.text(id);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOne<Account>((*r)[0].get(), readAccount);
  }

  Awaitable<Result<std::optional<Account>>> findAccountByThumbprint(
      const std::string& thumbprint) override {
    std::vector<Command> cmds{command(kSelectAccountByThumbprint)};
    cmds[0].params.text(thumbprint);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOne<Account>((*r)[0].get(), readAccount);
  }

  Awaitable<Result<bool>> updateAccountIf(const Account& account,
                                          acme::AccountStatus expected_status,
                                          const std::string& expected_thumbprint) override {
    std::vector<Command> cmds{command(kUpdateAccountIf)};
    accountParams(cmds[0].params, account)
        .text(acme::toString(expected_status))
        .text(expected_thumbprint);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Status> insertOrder(const Order& order,
                                const std::vector<Authorization>& authorizations) override {
    std::vector<Command> cmds;
    appendOrderInsert(cmds, order, authorizations);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  Awaitable<Result<bool>> insertReplacementOrder(const Order& order,
                                                 const std::vector<Authorization>& authorizations,
                                                 TimePoint now) override {
    if (!order.replaces_serial) {
      co_return fail(core::serverInternal("insertReplacementOrder: the order replaces nothing"));
    }
    // The claim, then the order (see akamu_delete_dead_replacement): one pipeline, so a lost
    // claim fails the whole transaction and nothing is written.
    std::vector<Command> cmds{command(kDeleteDeadReplacement), command(kInsertReplacement)};
    cmds[0].params.text(*order.replaces_serial).int64(seconds(now));
    cmds[1].params.text(*order.replaces_serial).text(order.id);
    appendOrderInsert(cmds, order, authorizations);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) {
      if (isLostReplacementClaim(r.error())) co_return false;
      co_return fail(r.error());
    }
    co_return true;
  }

  Awaitable<Result<std::optional<Order>>> getOrder(const std::string& id) override {
    std::vector<Command> cmds{command(kSelectOrder)};
    cmds[0].params.text(id);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOne<Order>((*r)[0].get(), readOrder);
  }

  Awaitable<Result<std::vector<std::string>>> listOrderIds(const std::string& account_id,
                                                           std::size_t offset,
                                                           std::size_t limit) override {
    if (limit == 0) co_return std::vector<std::string>();
    std::vector<Command> cmds{command(kListOrderIds)};
    cmds[0].params.text(account_id).int64(clampToInt64(limit)).int64(clampToInt64(offset));
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return firstColumn((*r)[0].get());
  }

  Awaitable<Result<bool>> updateOrderIfStatus(const Order& order,
                                              acme::OrderStatus expected) override {
    std::vector<Command> cmds{command(kUpdateOrderIfStatus)};
    orderUpdateParams(cmds[0].params, order, expected);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Result<std::optional<Authorization>>> getAuthorization(const std::string& id) override {
    std::vector<Command> cmds{command(kSelectAuthz)};
    cmds[0].params.text(id);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOneAuthorization((*r)[0].get());
  }

  Awaitable<Result<std::vector<Authorization>>> getAuthorizations(
      const std::vector<std::string>& ids) override {
    if (ids.empty()) co_return std::vector<Authorization>();
    std::vector<Command> cmds{command(kSelectAuthzs)};
    cmds[0].params.textArray(ids);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readAuthorizations((*r)[0].get(), 15);
  }

  Awaitable<Status> insertAuthorization(const Authorization& authz) override {
    std::vector<Command> cmds;
    appendAuthzInsert(cmds, authz);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  Awaitable<Result<std::optional<Authorization>>> findReusableAuthorization(
      const AuthzReuseQuery& q) override {
    std::vector<Command> cmds{command(kSelectReusableAuthz)};
    cmds[0]
        .params.text(q.account_id)
        .text(q.identifier.type)
        .text(q.identifier.value)
        .boolean(q.wildcard)
        .int64(seconds(q.expires_after))
        .boolean(q.include_pending)
        .textArray(q.ancestors)
        .boolean(q.require_subdomain_auth);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOneAuthorization((*r)[0].get());
  }

  Awaitable<Result<std::vector<std::string>>> listOrderIdsForAuthorization(
      const std::string& authz_id, std::size_t limit) override {
    std::vector<Command> cmds{command(kSelectOrderIdsForAuthz)};
    cmds[0].params.text(authz_id).int64(clampToInt64(limit));
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return firstColumn((*r)[0].get());
  }

  Awaitable<Result<bool>> updateAuthorizationIfStatus(const Authorization& authz,
                                                      acme::AuthzStatus expected) override {
    std::vector<std::optional<std::string>> ids, statuses, validated, errors;
    for (const Challenge& c : authz.challenges) {
      ids.emplace_back(c.id);
      statuses.emplace_back(acme::toString(c.status));
      auto when = seconds(c.validated);
      validated.push_back(when ? std::optional<std::string>(std::to_string(*when)) : std::nullopt);
      errors.push_back(problemJson(c.error));
    }
    std::vector<Command> cmds{command(kUpdateAuthzIfStatus)};
    cmds[0]
        .params.text(authz.id)
        .text(acme::toString(authz.status))
        .text(acme::toString(expected))
        .optTextArray(ids)
        .optTextArray(statuses)
        .optTextArray(validated)
        .optTextArray(errors);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    Row row((*r)[0].get(), 0);
    const std::int64_t written = row.int64(0);
    if (!row.ok()) co_return fail(corrupt("authorization update count"));
    co_return written == 1;
  }

  Awaitable<Result<bool>> hasValidAuthorizations(const std::string& account_id,
                                                 const std::vector<core::Identifier>& identifiers,
                                                 TimePoint now) override {
    if (identifiers.empty()) co_return false;
    std::vector<std::string> types;
    std::vector<std::string> values;
    std::vector<std::string> wildcards;
    for (const auto& id : identifiers) {
      const bool wildcard = id.value.starts_with("*.");
      types.push_back(id.type);
      values.push_back(wildcard ? id.value.substr(2) : id.value);
      wildcards.emplace_back(wildcard ? "t" : "f");
    }
    std::vector<Command> cmds{command(kHasValidAuthzs)};
    cmds[0]
        .params.text(account_id)
        .textArray(types)
        .textArray(values)
        .int64(seconds(now))
        .textArray(wildcards);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Row((*r)[0].get(), 0).boolean(0);
  }

  Awaitable<Result<bool>> updateChallengeIfStatus(const Challenge& challenge,
                                                  acme::ChallengeStatus expected) override {
    std::vector<Command> cmds{command(kUpdateChallengeIfStatus)};
    challengeUpdateParams(cmds[0].params, challenge, challenge.id, acme::toString(expected));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Result<bool>> claimOrderForFinalize(const std::string& order_id,
                                                TimePoint now) override {
    std::vector<Command> cmds{command(kLockOrderForClaim), command(kLockAuthzsForClaim),
                              command(kLockAccountForClaim), command(kClaimOrderForFinalize)};
    cmds[0].params.text(order_id);
    cmds[1].params.text(order_id);
    cmds[2].params.text(order_id);
    cmds[3].params.text(order_id).int64(seconds(now));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[3].get()) == 1;
  }

  Awaitable<Result<bool>> insertCertificateForOrder(const Certificate& cert,
                                                    const Order& order) override {
    const auto window = storedRenewalWindow(cert);
    std::vector<Command> cmds{command(kInsertCertificateForOrder)};
    orderUpdateParams(cmds[0].params, order, acme::OrderStatus::kProcessing)
        .text(cert.id)
        .text(cert.serial_hex)
        .text(cert.account_id)
        .text(cert.order_id)
        .bytes(cert.pem_chain)
        .int64(seconds(cert.not_before))
        .int64(seconds(cert.not_after))
        .boolean(cert.revoked)
        .optInt64(cert.revocation_reason ? std::optional<std::int64_t>(*cert.revocation_reason)
                                         : std::nullopt)
        .optInt64(seconds(cert.revoked_at))
        .text(cert.profile)
        .int64(seconds(cert.issued_at))
        .optInt64(seconds(window.start))
        .optInt64(seconds(window.end))
        .int64(cert.crl_shard)
        .optText(cert.fqdn_set_hash.empty() ? std::nullopt
                                            : std::optional<std::string>(cert.fqdn_set_hash));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Result<std::optional<Certificate>>> getCertificate(const std::string& id) override {
    std::vector<Command> cmds{command(kSelectCertificateById)};
    cmds[0].params.text(id);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOne<Certificate>((*r)[0].get(), readCertificate);
  }

  Awaitable<Result<std::optional<Certificate>>> findCertificateBySerial(
      const std::string& serial_hex) override {
    std::vector<Command> cmds{command(kSelectCertificateBySerial)};
    cmds[0].params.text(serial_hex);
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOne<Certificate>((*r)[0].get(), readCertificate);
  }

  Awaitable<Result<bool>> revokeCertificate(const std::string& id, int reason,
                                            TimePoint at) override {
    std::vector<Command> cmds{command(kRevokeCertificate)};
    cmds[0].params.text(id).int64(reason).int64(seconds(at));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Status> insertIncident(const acme::Incident& incident) override {
    std::vector<Command> cmds{command(kInsertIncident)};
    cmds[0]
        .params.text(incident.id)
        .text(acme::toString(incident.scope))
        .text(incident.value)
        .text(incident.explanation_url)
        .int64(seconds(incident.created_at));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  Awaitable<Result<bool>> beginStarOrder(const std::string& order_id,
                                         const std::vector<std::uint8_t>& csr_der,
                                         TimePoint start_date, TimePoint expires) override {
    std::vector<Command> cmds{command(kBeginStarOrder)};
    cmds[0]
        .params.text(order_id)
        .bytes(std::string_view(reinterpret_cast<const char*>(csr_der.data()), csr_der.size()))
        .int64(seconds(start_date))
        .int64(seconds(expires));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Result<bool>> insertStarCertificate(const Certificate& cert, const Order& order,
                                                std::int64_t period,
                                                acme::OrderStatus expected) override {
    const auto window = storedRenewalWindow(cert);
    std::vector<Command> cmds{command(kInsertStarCertificate)};
    cmds[0]
        .params.text(order.id)
        .text(acme::toString(expected))
        .text(acme::toString(order.status))
        .text(cert.id)
        .int64(period)
        .text(cert.serial_hex)
        .text(cert.account_id)
        .text(cert.order_id)
        .bytes(cert.pem_chain)
        .int64(seconds(cert.not_before))
        .int64(seconds(cert.not_after))
        .text(cert.profile)
        .int64(seconds(cert.issued_at))
        .optInt64(seconds(window.start))
        .optInt64(seconds(window.end))
        .int64(cert.crl_shard);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  Awaitable<Result<std::vector<Order>>> listStarOrders(TimePoint now, const std::string& after_id,
                                                       std::size_t limit) override {
    std::vector<Order> out;
    if (limit == 0) co_return out;
    std::vector<Command> cmds{command(kListStarOrders)};
    cmds[0].params.int64(seconds(now)).text(after_id).int64(clampToInt64(limit));
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    out.reserve(static_cast<std::size_t>(PQntuples(result)));
    for (int i = 0; i < PQntuples(result); ++i) {
      auto order = readOrder(Row(result, i));
      if (!order) co_return fail(order.error());
      out.push_back(std::move(*order));
    }
    co_return out;
  }

  Awaitable<Result<std::vector<CertificateListing>>> searchCertificates(
      const CertificateFilter& filter) override {
    std::vector<CertificateListing> out;
    if (filter.limit == 0) co_return out;
    const auto name = nameFilter(filter.name);
    std::optional<std::string> revoked;
    if (filter.revoked) revoked = *filter.revoked ? "true" : "false";
    std::vector<Command> cmds{command(kSearchCertificates)};
    cmds[0]
        .params.optText(filter.serial_hex)
        .optText(filter.account_id)
        .optInt64(unixSecondsOpt(filter.expires_before))
        .optInt64(unixSecondsOpt(filter.expires_after))
        .optText(revoked)
        .optText(name.exact)
        .optText(name.suffix)
        .int64(clampToInt64(filter.limit))
        .int64(clampToInt64(filter.offset));
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    out.reserve(static_cast<std::size_t>(PQntuples(result)));
    for (int i = 0; i < PQntuples(result); ++i) {
      Row row(result, i);
      auto cert = readCertificate(row);
      if (!cert) co_return fail(cert.error());
      auto identifiers = identifiersFromJson(row.text(15));
      if (!identifiers) co_return fail(identifiers.error());
      out.push_back({std::move(*cert), std::move(*identifiers)});
    }
    co_return out;
  }

  Awaitable<Result<StoreCounts>> countAll(TimePoint now, TimePoint issued_since) override {
    std::vector<Command> cmds{command(kCountAll)};
    cmds[0].params.int64(seconds(now)).int64(seconds(issued_since));
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    if (PQntuples(result) != 1) co_return fail(corrupt("counts"));
    Row row(result, 0);
    StoreCounts c;
    const auto fields = countColumns(c);
    for (std::size_t i = 0; i < fields.size(); ++i) *fields[i] = row.int64(static_cast<int>(i));
    if (!row.ok()) co_return fail(corrupt("counts"));
    co_return c;
  }

  Awaitable<Result<std::vector<acme::Incident>>> listIncidents() override {
    std::vector<Command> cmds{command(kSelectIncidents)};
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    std::vector<acme::Incident> out;
    out.reserve(static_cast<std::size_t>(PQntuples(result)));
    for (int i = 0; i < PQntuples(result); ++i) {
      auto incident = readIncident(Row(result, i));
      if (!incident) co_return fail(incident.error());
      out.push_back(std::move(*incident));
    }
    co_return out;
  }

  Awaitable<Result<bool>> deleteIncident(const std::string& id) override {
    std::vector<Command> cmds{command(kDeleteIncident)};
    cmds[0].params.text(id);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  // On the ARI read path: served by the read pool of the read-only view, like getCertificate.
  Awaitable<Result<std::optional<acme::Incident>>> findIncidentFor(
      const Certificate& cert) override {
    std::vector<Command> cmds{command(kFindIncidentFor)};
    cmds[0]
        .params.text(cert.serial_hex)
        .text(cert.account_id)
        .text(cert.profile)
        .int64(seconds(cert.issued_at));
    auto r = co_await execute(*reads_, std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return readOne<acme::Incident>((*r)[0].get(), readIncident);
  }

  Awaitable<Status> setRateLimitOverride(const store::RateLimitOverride& o) override {
    std::vector<Command> cmds{command(kUpsertRateLimitOverride)};
    cmds[0]
        .params.text(o.account_id)
        .text(o.limit)
        .int64(o.burst)
        .int64(o.count)
        .int64(o.period_secs)
        .int64(seconds(o.updated_at));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  // The main pool: a node must see an operator's change once its cache expires.
  Awaitable<Result<std::vector<store::RateLimitOverride>>> listRateLimitOverrides() override {
    std::vector<Command> cmds{command(kSelectRateLimitOverrides)};
    co_return co_await readRows<store::RateLimitOverride>(std::move(cmds), readOverride);
  }

  Awaitable<Result<bool>> removeRateLimitOverride(const std::string& account_id,
                                                  const std::string& limit) override {
    co_return co_await deletePair(kDeleteRateLimitOverride, account_id, limit);
  }

  Awaitable<Status> insertRateLimitPause(const store::RateLimitPause& pause) override {
    std::vector<Command> cmds{command(kInsertRateLimitPause)};
    cmds[0].params.text(pause.account_id).text(pause.identifier).int64(seconds(pause.paused_at));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  Awaitable<Result<std::vector<store::RateLimitPause>>> listRateLimitPauses(
      const std::string& account_id) override {
    std::vector<Command> cmds{command(kSelectRateLimitPauses)};
    cmds[0].params.text(account_id);
    co_return co_await readRows<store::RateLimitPause>(std::move(cmds), readPause);
  }

  Awaitable<Result<bool>> removeRateLimitPause(const std::string& account_id,
                                               const std::string& identifier) override {
    co_return co_await deletePair(kDeleteRateLimitPause, account_id, identifier);
  }

  Awaitable<Result<std::int64_t>> countPendingAuthorizations(const std::string& account_id,
                                                             TimePoint now) override {
    std::vector<Command> cmds{command(kCountPendingAuthzs)};
    cmds[0].params.text(account_id).int64(seconds(now));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    if (PQntuples(result) != 1) co_return std::int64_t{0};
    co_return Row(result, 0).int64(0);
  }

  Awaitable<Result<bool>> hasCertificateForFqdnSet(const std::string& fqdn_set_hash,
                                                   TimePoint since) override {
    std::vector<Command> cmds{command(kHasCertificateForFqdnSet)};
    cmds[0].params.text(fqdn_set_hash).int64(seconds(since));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return PQntuples((*r)[0].get()) > 0;
  }

  BucketStore* sharedBuckets() override { return this; }

  Awaitable<Result<acme::gcra::Decision>> spend(const std::string& key,
                                                const acme::gcra::Limit& limit, std::int64_t cost,
                                                TimePoint now) override {
    const auto n = toNanos(now);
    // A cost above the burst never passes: nothing to write.
    if (cost > limit.burst) co_return co_await check(key, limit, cost, now);
    // A lost spend is re-decided from the stored TAT; a refund in between can make that
    // allowed, so a few rounds.
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::vector<Command> cmds{command(kSpendBucket)};
      cmds[0]
          .params.text(key)
          .int64(n)
          .int64(cost * limit.emissionInterval())
          .int64(limit.burstOffset());
      auto r = co_await execute(writes(), std::move(cmds));
      if (!r) co_return fail(r.error());
      const PGresult* result = (*r)[0].get();
      if (PQntuples(result) == 1) {
        acme::gcra::Decision d;
        d.allowed = true;
        d.new_tat = Row(result, 0).int64(0);
        d.remaining = (n - (d.new_tat - limit.burstOffset())) / limit.emissionInterval();
        co_return d;
      }
      auto d = co_await check(key, limit, cost, now);
      if (!d || !d->allowed) co_return d;
    }
    co_return fail(core::serverInternal("rate limit bucket " + key + " changed concurrently"));
  }

  Awaitable<Result<acme::gcra::Decision>> check(const std::string& key,
                                                const acme::gcra::Limit& limit, std::int64_t cost,
                                                TimePoint now) override {
    std::vector<Command> cmds{command(kSelectBucket)};
    cmds[0].params.text(key);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    std::optional<acme::gcra::Nanos> tat;
    if (PQntuples(result) == 1) tat = Row(result, 0).int64(0);
    co_return acme::gcra::decide(limit, tat, cost, toNanos(now));
  }

  Awaitable<Status> refund(const std::string& key, const acme::gcra::Limit& limit,
                           std::int64_t cost, TimePoint now) override {
    std::vector<Command> cmds{command(kRefundBucket)};
    cmds[0].params.text(key).int64(toNanos(now)).int64(cost * limit.emissionInterval());
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return Status{};
  }

  // The main pool, not the read-only one: the CRL generator runs right after a revocation
  // commits and must see it.
  Awaitable<Result<std::vector<store::RevokedCertificate>>> listRevokedCertificates(
      int shard, TimePoint expired_cutoff) override {
    std::vector<Command> cmds{command(kListRevokedCertificates)};
    cmds[0].params.int64(shard).int64(seconds(expired_cutoff));
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    std::vector<store::RevokedCertificate> out;
    out.reserve(static_cast<std::size_t>(PQntuples(result)));
    for (int i = 0; i < PQntuples(result); ++i) {
      Row row(result, i);
      store::RevokedCertificate entry;
      entry.serial_hex = row.text(0);
      entry.revoked_at = row.time(1);
      entry.reason = static_cast<int>(row.optInt64(2).value_or(0));
      if (!row.ok()) co_return fail(corrupt("revoked certificate"));
      out.push_back(std::move(entry));
    }
    co_return out;
  }

  Awaitable<Result<PruneCounts>> pruneExpired(TimePoint cutoff, std::size_t max_orders) override {
    // Nothing may be deleted, so no limit can be reached: `more` stays false.
    if (max_orders == 0) co_return PruneCounts{};
    const std::int64_t limit = clampToInt64(max_orders);
    std::vector<Command> cmds{command(kPruneExpired)};
    cmds[0].params.int64(seconds(cutoff)).int64(limit);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    Row row((*r)[0].get(), 0);
    PruneCounts counts;
    counts.orders = static_cast<std::size_t>(row.int64(0));
    counts.authorizations = static_cast<std::size_t>(row.int64(1));
    counts.challenges = static_cast<std::size_t>(row.int64(2));
    const std::int64_t kept_authzs = row.int64(3);
    if (!row.ok()) co_return fail(corrupt("prune counts"));
    counts.more = static_cast<std::int64_t>(counts.orders) == limit || kept_authzs == limit;
    co_return counts;
  }

 private:
  // The read-only view: lookups on the read-only pool, writes on the main one.
  explicit PostgresStore(Backend& backend) : backend_(&backend), reads_(backend.read_only.get()) {}

  Pool& writes() { return *backend_->main; }

  // One call: a connection from `pool`, the commands as one pipeline, the connection back
  // (or dropped when it is not clean). Bounded by the query timeout from start to end.
  Awaitable<Result<Results>> execute(Pool& pool, std::vector<Command> commands,
                                     std::source_location where = std::source_location::current()) {
    const CallTimer timer(backend_->metrics, where);
    try {
      const Deadline deadline = Clock::now() + backend_->query_timeout;
      auto lease = co_await pool.acquire(deadline);
      if (!lease) co_return fail(lease.error());
      auto results = co_await lease->connection().run(kStatements, commands, deadline);
      if (lease->connection().reusable()) lease->keep();
      co_return results;
    } catch (const std::exception& e) {
      co_return fail(core::serverInternal(std::string("postgres store: ") + e.what()));
    }
  }

  std::unique_ptr<Backend> owned_;  // the main store owns the pools; the view borrows them
  Backend* backend_;
  Pool* reads_;
  template <class T, class Reader>
  Awaitable<Result<std::vector<T>>> readRows(std::vector<Command> cmds, Reader reader) {
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    const PGresult* result = (*r)[0].get();
    std::vector<T> out;
    for (int i = 0; i < PQntuples(result); ++i) {
      auto value = reader(Row(result, i));
      if (!value) co_return fail(value.error());
      out.push_back(std::move(*value));
    }
    co_return out;
  }

  Awaitable<Result<bool>> deletePair(Stmt statement, const std::string& a, const std::string& b) {
    std::vector<Command> cmds{command(statement)};
    cmds[0].params.text(a).text(b);
    auto r = co_await execute(writes(), std::move(cmds));
    if (!r) co_return fail(r.error());
    co_return rowsAffected((*r)[0].get()) == 1;
  }

  std::unique_ptr<PostgresStore> view_;
};

// Opens `count` connections for a pool, blocking.
core::Result<std::vector<std::unique_ptr<Connection>>> connectPool(const ConnectConfig& config,
                                                                   const char* init_sql,
                                                                   std::size_t count) {
  std::vector<std::unique_ptr<Connection>> out;
  for (std::size_t i = 0; i < count; ++i) {
    auto conn = connectBlocking(config, init_sql);
    if (!conn) return fail(conn.error());
    auto adopted = Connection::adopt(std::move(*conn), kStatementCount);
    if (!adopted) return fail(adopted.error());
    out.push_back(std::move(*adopted));
  }
  return out;
}

}  // namespace

core::Result<std::unique_ptr<Store>> openPostgresStore(boost::asio::any_io_executor executor,
                                                       const std::string& conninfo,
                                                       const PostgresOptions& options) {
  try {
    if (options.pool_connections == 0) {
      return fail(core::serverInternal("postgres: pool_connections must be at least 1"));
    }
    auto config = ConnectConfig::make(
        conninfo, options.require_tls, options.connect_timeout,
        std::chrono::duration_cast<std::chrono::milliseconds>(options.query_timeout));
    if (!config) return fail(config.error());
    auto shared = std::make_shared<const ConnectConfig>(std::move(*config));

    // The first connection migrates, before the pool starts using it.
    auto first = connectBlocking(*shared, kInitReadWrite);
    if (!first) return fail(first.error());
    if (auto st = migrate(first->get()); !st) return fail(st.error());

    std::vector<std::unique_ptr<Connection>> main;
    auto adopted = Connection::adopt(std::move(*first), kStatementCount);
    if (!adopted) return fail(adopted.error());
    main.push_back(std::move(*adopted));
    auto rest = connectPool(*shared, kInitReadWrite, options.pool_connections - 1);
    if (!rest) return fail(rest.error());
    for (auto& c : *rest) main.push_back(std::move(c));

    auto backend = std::make_unique<Backend>();
    backend->query_timeout = options.query_timeout;
    backend->metrics = options.metrics;
    backend->main = std::make_shared<Pool>(executor, shared, kInitReadWrite, kStatements,
                                           options.pool_connections);
    backend->main->open(std::move(main));
    if (options.ro_connections > 0) {
      auto ro = connectPool(*shared, kInitReadOnly, options.ro_connections);
      if (!ro) return fail(ro.error());
      backend->read_only = std::make_shared<Pool>(executor, shared, kInitReadOnly, kStatements,
                                                  options.ro_connections);
      backend->read_only->open(std::move(*ro));
    }
    return std::unique_ptr<Store>(std::make_unique<PostgresStore>(std::move(backend)));
  } catch (const std::exception& e) {
    return fail(core::serverInternal(std::string("postgres store: ") + e.what()));
  }
}

}  // namespace akamu::store::postgres
