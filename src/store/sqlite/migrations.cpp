#include "store/sqlite/migrations.hpp"

#include <string>

namespace akamu::store::sqlite {
namespace {

// STRICT tables make SQLite reject a value of the wrong type instead of storing it. Times are
// unix seconds. JSON columns hold values written by json_columns.cpp.
constexpr const char* kInitialSchema = R"sql(
CREATE TABLE accounts (
  id          TEXT PRIMARY KEY,
  thumbprint  TEXT NOT NULL UNIQUE,
  jwk_json    TEXT NOT NULL,
  status      TEXT NOT NULL,
  contacts    TEXT NOT NULL,   -- JSON array of strings
  tos_agreed  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE orders (
  id              TEXT PRIMARY KEY,
  account_id      TEXT NOT NULL REFERENCES accounts(id),
  status          TEXT NOT NULL,
  expires         INTEGER NOT NULL,
  identifiers     TEXT NOT NULL,  -- JSON array of {"type","value"}
  authz_ids       TEXT NOT NULL,  -- JSON array of strings, in the order's own order
  not_before      INTEGER,
  not_after       INTEGER,
  error           TEXT,           -- JSON problem
  -- No foreign key: certificates.order_id already points back here, and the certificate row
  -- is written in the same transaction as the order that names it.
  certificate_id  TEXT,
  created_at      INTEGER NOT NULL
) STRICT;
-- listOrderIds: an account's orders oldest first (the index ends in rowid, the tie-breaker).
CREATE INDEX orders_account_created ON orders(account_id, created_at);

CREATE TABLE authorizations (
  id                TEXT PRIMARY KEY,
  account_id        TEXT NOT NULL REFERENCES accounts(id),
  order_id          TEXT NOT NULL REFERENCES orders(id),
  identifier_type   TEXT NOT NULL,
  identifier_value  TEXT NOT NULL,
  status            TEXT NOT NULL,
  expires           INTEGER NOT NULL,
  wildcard          INTEGER NOT NULL
) STRICT;
CREATE INDEX authorizations_order ON authorizations(order_id);

CREATE TABLE challenges (
  id         TEXT PRIMARY KEY,
  authz_id   TEXT NOT NULL REFERENCES authorizations(id),
  position   INTEGER NOT NULL,  -- index in the authorization's list, to return them as inserted
  type       TEXT NOT NULL,
  token      TEXT NOT NULL,
  status     TEXT NOT NULL,
  validated  INTEGER,
  error      TEXT               -- JSON problem
) STRICT;
CREATE INDEX challenges_authz ON challenges(authz_id, position);

CREATE TABLE certificates (
  id                 TEXT PRIMARY KEY,
  serial_hex         TEXT NOT NULL UNIQUE,
  account_id         TEXT NOT NULL REFERENCES accounts(id),
  order_id           TEXT NOT NULL REFERENCES orders(id),
  pem_chain          TEXT NOT NULL,
  not_before         INTEGER NOT NULL,
  not_after          INTEGER NOT NULL,
  revoked            INTEGER NOT NULL DEFAULT 0,
  revocation_reason  INTEGER,
  revoked_at         INTEGER
) STRICT;
)sql";

// Revocation by an account that holds authorizations for every name of a certificate
// (RFC 8555 §7.6) looks authorizations up by account and identifier.
constexpr const char* kAuthzByAccountIdentifier = R"sql(
CREATE INDEX authorizations_account_identifier
  ON authorizations(account_id, identifier_type, identifier_value);
)sql";

// Retention (pruneExpired) finds expired orders that never got a certificate, and expired
// authorizations, without scanning the tables.
constexpr const char* kExpiryIndexes = R"sql(
CREATE INDEX orders_expires_uncertified ON orders(expires) WHERE certificate_id IS NULL;
CREATE INDEX authorizations_expires ON authorizations(expires);
)sql";

// ARI (RFC 9773) and certificate profiles. Orders remember their profile and the certificate
// they replace; certificates their profile, when they were signed and their renewal window.
// A certificate stored before this migration counts as issued at its notBefore, and its window
// stays NULL: it reads back as the default rule's window (acme::renewalWindowFor).
// `replacements` holds one claim per replaced serial (insertReplacementOrder); it has no
// foreign key, like orders.certificate_id: a claim whose order is gone is simply dead.
// `incidents` are looked up by scope and value (findIncidentFor), oldest first.
constexpr const char* kAriAndProfiles = R"sql(
ALTER TABLE orders ADD COLUMN profile TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN replaces TEXT;
ALTER TABLE orders ADD COLUMN replaces_serial TEXT;

ALTER TABLE certificates ADD COLUMN profile TEXT NOT NULL DEFAULT '';
-- SQLite adds a NOT NULL column only with a default; every insert sets it, and existing rows
-- get their notBefore right below.
ALTER TABLE certificates ADD COLUMN issued_at INTEGER NOT NULL DEFAULT 0;
UPDATE certificates SET issued_at = not_before;
ALTER TABLE certificates ADD COLUMN renewal_start INTEGER;
ALTER TABLE certificates ADD COLUMN renewal_end INTEGER;

CREATE TABLE replacements (
  replaced_serial  TEXT PRIMARY KEY,  -- lower-case hex, as certificates.serial_hex
  order_id         TEXT NOT NULL
) STRICT;
-- Retention deletes the claims of the orders it deletes.
CREATE INDEX replacements_order ON replacements(order_id);

CREATE TABLE incidents (
  id               TEXT PRIMARY KEY,
  scope            TEXT NOT NULL,  -- serial | account | profile
  value            TEXT NOT NULL,
  explanation_url  TEXT NOT NULL,
  created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX incidents_match ON incidents(scope, value, created_at);
)sql";

// CRLs: each certificate's shard, fixed at issuance (existing certificates, issued without a
// CRL Distribution Point, join shard 0). The CRL generator lists a shard's revoked,
// not-long-expired certificates: a partial index holds only revoked rows, so it stays small
// and issuance does not pay for it.
constexpr const char* kCrlShards = R"sql(
ALTER TABLE certificates ADD COLUMN crl_shard INTEGER NOT NULL DEFAULT 0;
CREATE INDEX certificates_revoked_by_shard
  ON certificates(crl_shard, not_after) WHERE revoked = 1;
)sql";

// External account binding (RFC 8555 §7.3.4): the operator's credentials, and on each
// account the credential it was created with (listEabBoundAccountIds reads it through the
// partial index). The HMAC key is stored base64url-encoded (STRICT TEXT); max_uses NULL is
// unlimited; allowed_profiles and identifier_patterns are JSON arrays of strings.
constexpr const char* kExternalAccountBinding = R"sql(
CREATE TABLE eab_credentials (
  key_id               TEXT PRIMARY KEY,
  hmac_key             TEXT NOT NULL,
  state                TEXT NOT NULL,
  created_at           INTEGER NOT NULL,
  expires              INTEGER,
  max_uses             INTEGER,
  uses                 INTEGER NOT NULL,
  revoked_at           INTEGER,
  allowed_profiles     TEXT NOT NULL,
  identifier_patterns  TEXT NOT NULL
) STRICT;
ALTER TABLE accounts ADD COLUMN eab_key_id TEXT REFERENCES eab_credentials(key_id);
CREATE INDEX accounts_eab_key_id ON accounts(eab_key_id) WHERE eab_key_id IS NOT NULL;
)sql";

// STAR (RFC 8739). An order's auto-renewal parameters (NULL for other orders), its CSR
// (base64url DER, stored at finalize) and the last period issued; each certificate of a STAR
// order names its period, unique per order, so that no period is ever issued twice. The
// reissue schedule scans the live STAR orders through a partial index.
constexpr const char* kStar = R"sql(
ALTER TABLE orders ADD COLUMN star_start INTEGER;
ALTER TABLE orders ADD COLUMN star_end INTEGER;
ALTER TABLE orders ADD COLUMN star_lifetime INTEGER;
ALTER TABLE orders ADD COLUMN star_lifetime_adjust INTEGER;
ALTER TABLE orders ADD COLUMN star_allow_get INTEGER;
ALTER TABLE orders ADD COLUMN star_csr TEXT;
ALTER TABLE orders ADD COLUMN star_period INTEGER;
ALTER TABLE certificates ADD COLUMN star_period INTEGER;
CREATE UNIQUE INDEX certificates_star_period ON certificates(order_id, star_period)
  WHERE star_period IS NOT NULL;
CREATE INDEX orders_star_live ON orders(id)
  WHERE star_csr IS NOT NULL AND status IN ('processing', 'valid');
)sql";

// Authorization reuse, pre-authorization (RFC 8555 §7.4.1) and subdomain authorizations
// (RFC 9444). An order lists its authorizations through `order_authorizations` (its
// position in the order's list), so that one authorization can serve many orders and a
// change to it finds them all; orders.authz_ids keeps the same list for reading an order in
// one row (both are written once, by insertOrder, and never change). authorizations.order_id
// (the order it was created for) becomes informational: nullable (a pre-authorization has
// none) and without its foreign key (that order may be pruned while a later order that
// reuses the authorization is kept). SQLite cannot change a column in place, so the table is
// rebuilt, as its documentation prescribes (the runner applies migrations before foreign
// keys are switched on). Every existing order
// gets a link for each authorization it lists, in its own order; nothing else changes.
constexpr const char* kAuthzReuse = R"sql(
CREATE TABLE authorizations_v8 (
  id                      TEXT PRIMARY KEY,
  account_id              TEXT NOT NULL REFERENCES accounts(id),
  order_id                TEXT,
  identifier_type         TEXT NOT NULL,
  identifier_value        TEXT NOT NULL,
  status                  TEXT NOT NULL,
  expires                 INTEGER NOT NULL,
  wildcard                INTEGER NOT NULL,
  subdomain_auth_allowed  INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO authorizations_v8(id, account_id, order_id, identifier_type, identifier_value,
                              status, expires, wildcard)
  SELECT id, account_id, order_id, identifier_type, identifier_value, status, expires, wildcard
  FROM authorizations;
DROP TABLE authorizations;
ALTER TABLE authorizations_v8 RENAME TO authorizations;
CREATE INDEX authorizations_account_identifier
  ON authorizations(account_id, identifier_type, identifier_value);
CREATE INDEX authorizations_expires ON authorizations(expires);

CREATE TABLE order_authorizations (
  order_id  TEXT NOT NULL REFERENCES orders(id),
  authz_id  TEXT NOT NULL REFERENCES authorizations(id),
  position  INTEGER NOT NULL,
  PRIMARY KEY (order_id, position)
) STRICT;
CREATE INDEX order_authorizations_authz ON order_authorizations(authz_id, order_id);
INSERT INTO order_authorizations(order_id, authz_id, position)
  SELECT o.id, j.value, j.key FROM orders o, json_each(o.authz_ids) j
  WHERE EXISTS (SELECT 1 FROM authorizations a WHERE a.id = j.value);
)sql";

// Rate limits (ra/rate_limiter): each certificate's normalized identifier-set hash, so that a
// renewal (the same set issued recently) is one indexed lookup; per-account overrides set by
// the operator; pauses after repeated validation failures; pending authorizations counted per
// account through a partial index. (The GCRA buckets of a SQLite deployment live in memory.)
// Version 9, after the order-authorization links of 8.
constexpr const char* kRateLimits = R"sql(
ALTER TABLE certificates ADD COLUMN fqdn_set_hash TEXT;
CREATE INDEX certificates_fqdn_set ON certificates(fqdn_set_hash, issued_at)
  WHERE fqdn_set_hash IS NOT NULL;
CREATE INDEX authorizations_pending_by_account ON authorizations(account_id, expires)
  WHERE status = 'pending';
CREATE TABLE rate_limit_overrides (
  account_id  TEXT NOT NULL,
  limit_name  TEXT NOT NULL,
  burst       INTEGER NOT NULL,
  per_period  INTEGER NOT NULL,
  period_secs INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, limit_name)
);
CREATE TABLE rate_limit_pauses (
  account_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  paused_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, identifier)
);
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial", kInitialSchema},
    {2, "authorizations by account and identifier", kAuthzByAccountIdentifier},
    {3, "expiry indexes for retention", kExpiryIndexes},
    {4, "ARI replacements, incidents and certificate profiles", kAriAndProfiles},
    {5, "crl shards", kCrlShards},
    {6, "external account binding", kExternalAccountBinding},
    {7, "STAR auto-renewal orders and certificate periods", kStar},
    {8, "order-authorization links, pre-authorizations, subdomain authorizations", kAuthzReuse},
    {9, "rate limits: FQDN-set hashes, overrides, pauses", kRateLimits},
};

core::Result<bool> isApplied(Database& db, int version) {
  auto s = db.prepare("SELECT count(*) FROM schema_migrations WHERE version = ?1");
  if (!s) return core::fail(s.error());
  s->bindInt(1, version);
  auto row = s->step();
  if (!row) return core::fail(row.error());
  return *row && s->columnInt(0) != 0;
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

core::Result<int> schemaVersion(Database& db) {
  auto exists = db.prepare(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!exists) return core::fail(exists.error());
  auto row = exists->step();
  if (!row) return core::fail(row.error());
  if (!*row || exists->columnInt(0) == 0) return 0;

  auto max = db.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!max) return core::fail(max.error());
  row = max->step();
  if (!row) return core::fail(row.error());
  return *row ? static_cast<int>(max->columnInt(0)) : 0;
}

core::Status migrate(Database& db) {
  // IMMEDIATE: two processes opening the same fresh file must not both apply migration 1.
  auto tx = Transaction::begin(db, Transaction::Mode::kImmediate);
  if (!tx) return core::fail(tx.error());
  if (auto st = db.exec("CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
                        "applied_at TEXT)");
      !st) {
    return st;
  }
  auto current = schemaVersion(db);
  if (!current) return core::fail(current.error());
  const int latest = latestSchemaVersion();
  if (*current > latest) {
    return core::fail(core::serverInternal("database schema version " + std::to_string(*current) +
                                           " is newer than this akamu supports (" +
                                           std::to_string(latest) + "); upgrade akamu"));
  }
  for (const Migration& m : kMigrations) {
    // Applied when not recorded, rather than when above the highest recorded version: the
    // numbers have gaps (taken by changes developed in parallel), and one merged later with a
    // lower number must still be applied to a database that already has a higher one.
    auto applied = isApplied(db, m.version);
    if (!applied) return core::fail(applied.error());
    if (*applied) continue;
    if (auto st = db.exec(m.sql); !st) {
      auto problem = st.error();
      problem.detail =
          "migration " + std::to_string(m.version) + " (" + m.name + ") failed: " + problem.detail;
      return core::fail(std::move(problem));
    }
    // Not a cached statement: it runs once per migration per process.
    if (auto st = db.exec("INSERT INTO schema_migrations(version, applied_at) VALUES (" +
                          std::to_string(m.version) + ", strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");
        !st) {
      return st;
    }
  }
  return tx->commit();
}

}  // namespace akamu::store::sqlite
