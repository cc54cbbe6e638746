#include "store/postgres/migrations.hpp"

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include "store/postgres/connection.hpp"

namespace akamu::store::postgres {
namespace {

// The tables and columns of the SQLite schema (sqlite/migrations.cpp), in PostgreSQL types:
// times are unix seconds (BIGINT), JSON columns are TEXT written by json_columns.cpp, flags are
// BOOLEAN. The certificate chain is BYTEA so that it reads back byte for byte, as in SQLite.
constexpr const char* kInitialSchema = R"sql(
CREATE TABLE accounts (
  id          TEXT PRIMARY KEY,
  thumbprint  TEXT NOT NULL UNIQUE,
  jwk_json    TEXT NOT NULL,
  status      TEXT NOT NULL,
  contacts    TEXT NOT NULL,   -- JSON array of strings
  tos_agreed  BOOLEAN NOT NULL,
  created_at  BIGINT NOT NULL
);

CREATE TABLE orders (
  id              TEXT PRIMARY KEY,
  -- Insertion order: the tie-breaker of listOrderIds for orders created in the same second
  -- (SQLite's rowid).
  seq             BIGINT GENERATED ALWAYS AS IDENTITY,
  account_id      TEXT NOT NULL REFERENCES accounts(id),
  status          TEXT NOT NULL,
  expires         BIGINT NOT NULL,
  identifiers     TEXT NOT NULL,  -- JSON array of {"type","value"}
  authz_ids       TEXT NOT NULL,  -- JSON array of strings, in the order's own order
  not_before      BIGINT,
  not_after       BIGINT,
  error           TEXT,           -- JSON problem
  -- No foreign key: certificates.order_id already points back here, and the certificate row
  -- is written in the same statement as the order that names it.
  certificate_id  TEXT,
  created_at      BIGINT NOT NULL
);
CREATE INDEX orders_account_created ON orders(account_id, created_at, seq);

CREATE TABLE authorizations (
  id                TEXT PRIMARY KEY,
  account_id        TEXT NOT NULL REFERENCES accounts(id),
  order_id          TEXT NOT NULL REFERENCES orders(id),
  identifier_type   TEXT NOT NULL,
  identifier_value  TEXT NOT NULL,
  status            TEXT NOT NULL,
  expires           BIGINT NOT NULL,
  wildcard          BOOLEAN NOT NULL
);
CREATE INDEX authorizations_order ON authorizations(order_id);

CREATE TABLE challenges (
  id         TEXT PRIMARY KEY,
  authz_id   TEXT NOT NULL REFERENCES authorizations(id),
  position   INTEGER NOT NULL,  -- index in the authorization's list, to return them as inserted
  type       TEXT NOT NULL,
  token      TEXT NOT NULL,
  status     TEXT NOT NULL,
  validated  BIGINT,
  error      TEXT               -- JSON problem
);
CREATE INDEX challenges_authz ON challenges(authz_id, position);

CREATE TABLE certificates (
  id                 TEXT PRIMARY KEY,
  serial_hex         TEXT NOT NULL UNIQUE,
  account_id         TEXT NOT NULL REFERENCES accounts(id),
  order_id           TEXT NOT NULL REFERENCES orders(id),
  pem_chain          BYTEA NOT NULL,
  not_before         BIGINT NOT NULL,
  not_after          BIGINT NOT NULL,
  revoked            BOOLEAN NOT NULL DEFAULT false,
  revocation_reason  INTEGER,
  revoked_at         BIGINT
);

-- Pipelined writes commit at the pipeline's sync, so a statement that finds no row to update
-- cannot be rolled back by the client after the fact: it calls this to fail the transaction.
CREATE FUNCTION akamu_require_row(affected BIGINT, what TEXT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
BEGIN
  IF affected = 0 THEN
    RAISE EXCEPTION '% does not exist', what USING ERRCODE = 'no_data_found';
  END IF;
  RETURN affected;
END
$$;
)sql";

// Revocation by an account that holds authorizations for every name of a certificate
// (RFC 8555 §7.6) looks authorizations up by account and identifier.
constexpr const char* kAuthzByAccountIdentifier = R"sql(
CREATE INDEX authorizations_account_identifier
  ON authorizations(account_id, identifier_type, identifier_value);
)sql";

// pruneExpired walks expired orders without a certificate oldest first (partial index: the
// orders that are kept forever never clutter it), expired authorizations, and deleting an
// order checks certificates.order_id for references.
constexpr const char* kRetention = R"sql(
CREATE INDEX orders_expires_uncertified ON orders(expires) WHERE certificate_id IS NULL;
CREATE INDEX authorizations_expires ON authorizations(expires);
CREATE INDEX certificates_order ON certificates(order_id);
)sql";

// ARI (RFC 9773) and certificate profiles, as SQLite's migration 4. A certificate stored
// before it counts as issued at its notBefore, and its NULL window reads back as the default
// rule's. `replacements` holds one claim per replaced serial; its primary key is named so that
// insertReplacementOrder can tell a lost claim from any other uniqueness violation. No foreign
// key to orders: a claim whose order is gone is dead, and the claim may be written before its
// order in the same transaction.
constexpr const char* kAriAndProfiles = R"sql(
ALTER TABLE orders ADD COLUMN profile TEXT NOT NULL DEFAULT '',
  ADD COLUMN replaces TEXT,
  ADD COLUMN replaces_serial TEXT;

ALTER TABLE certificates ADD COLUMN profile TEXT NOT NULL DEFAULT '',
  ADD COLUMN issued_at BIGINT,
  ADD COLUMN renewal_start BIGINT,
  ADD COLUMN renewal_end BIGINT;
UPDATE certificates SET issued_at = not_before;
ALTER TABLE certificates ALTER COLUMN issued_at SET NOT NULL;

CREATE TABLE replacements (
  replaced_serial  TEXT NOT NULL,  -- lower-case hex, as certificates.serial_hex
  order_id         TEXT NOT NULL,
  CONSTRAINT akamu_replacement_claim PRIMARY KEY (replaced_serial)
);
-- Retention deletes the claims of the orders it deletes.
CREATE INDEX replacements_order ON replacements(order_id);

CREATE TABLE incidents (
  id               TEXT PRIMARY KEY,
  scope            TEXT NOT NULL,  -- serial | account | profile
  value            TEXT NOT NULL,
  explanation_url  TEXT NOT NULL,
  created_at       BIGINT NOT NULL
);
CREATE INDEX incidents_match ON incidents(scope, value, created_at);
)sql";

// CRLs: each certificate's shard, fixed at issuance (existing certificates, issued without a
// CRL Distribution Point, join shard 0), and a partial index of the revoked rows for the CRL
// generator's per-shard listing.
constexpr const char* kCrlShards = R"sql(
ALTER TABLE certificates ADD COLUMN crl_shard INTEGER NOT NULL DEFAULT 0;
CREATE INDEX certificates_revoked_by_shard ON certificates(crl_shard, not_after) WHERE revoked;
)sql";

// External account binding (RFC 8555 §7.3.4), as in sqlite/migrations.cpp: the credentials
// (HMAC key base64url TEXT; max_uses NULL = unlimited; JSON arrays as TEXT) and the credential
// each account was created with.
constexpr const char* kExternalAccountBinding = R"sql(
CREATE TABLE eab_credentials (
  key_id               TEXT PRIMARY KEY,
  hmac_key             TEXT NOT NULL,
  state                TEXT NOT NULL,
  created_at           BIGINT NOT NULL,
  expires              BIGINT,
  max_uses             BIGINT,
  uses                 BIGINT NOT NULL,
  revoked_at           BIGINT,
  allowed_profiles     TEXT NOT NULL,
  identifier_patterns  TEXT NOT NULL
);
ALTER TABLE accounts ADD COLUMN eab_key_id TEXT REFERENCES eab_credentials(key_id);
CREATE INDEX accounts_eab_key_id ON accounts(eab_key_id) WHERE eab_key_id IS NOT NULL;
)sql";

// STAR (RFC 8739), as SQLite's migration 7: an order's auto-renewal parameters (NULL for
// other orders), its CSR (DER, stored at finalize) and the last period issued; each
// certificate of a STAR order names its period, unique per order, so that no period is ever
// issued twice. The reissue schedule scans the live STAR orders through a partial index.
constexpr const char* kStar = R"sql(
ALTER TABLE orders ADD COLUMN star_start BIGINT,
  ADD COLUMN star_end BIGINT,
  ADD COLUMN star_lifetime BIGINT,
  ADD COLUMN star_lifetime_adjust BIGINT,
  ADD COLUMN star_allow_get BOOLEAN,
  ADD COLUMN star_csr BYTEA,
  ADD COLUMN star_period BIGINT;
ALTER TABLE certificates ADD COLUMN star_period BIGINT;
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
// reuses the authorization is kept). Every existing order gets a link for each
// authorization it lists, in its own order; nothing else changes.
constexpr const char* kAuthzReuse = R"sql(
ALTER TABLE authorizations ALTER COLUMN order_id DROP NOT NULL,
  DROP CONSTRAINT IF EXISTS authorizations_order_id_fkey,
  ADD COLUMN subdomain_auth_allowed BOOLEAN NOT NULL DEFAULT false;
DROP INDEX IF EXISTS authorizations_order;
CREATE TABLE order_authorizations (
  order_id  TEXT NOT NULL REFERENCES orders(id),
  authz_id  TEXT NOT NULL REFERENCES authorizations(id),
  position  INTEGER NOT NULL,
  PRIMARY KEY (order_id, position)
);
CREATE INDEX order_authorizations_authz ON order_authorizations(authz_id, order_id);
INSERT INTO order_authorizations(order_id, authz_id, position)
  SELECT o.id, r.id, (r.ord - 1)::integer
  FROM orders o, json_array_elements_text(o.authz_ids::json) WITH ORDINALITY AS r(id, ord)
  WHERE EXISTS (SELECT 1 FROM authorizations a WHERE a.id = r.id);
)sql";

// Rate limits, as SQLite's migration 9, plus the GCRA buckets shared by every node: one row
// per bucket (limit name + key), its theoretical arrival time in nanoseconds since the epoch.
constexpr const char* kRateLimits = R"sql(
ALTER TABLE certificates ADD COLUMN fqdn_set_hash TEXT;
CREATE INDEX certificates_fqdn_set ON certificates(fqdn_set_hash, issued_at)
  WHERE fqdn_set_hash IS NOT NULL;
CREATE INDEX authorizations_pending_by_account ON authorizations(account_id, expires)
  WHERE status = 'pending';
CREATE TABLE rate_limit_overrides (
  account_id  TEXT NOT NULL,
  limit_name  TEXT NOT NULL,
  burst       BIGINT NOT NULL,
  per_period  BIGINT NOT NULL,
  period_secs BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (account_id, limit_name)
);
CREATE TABLE rate_limit_pauses (
  account_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  paused_at  BIGINT NOT NULL,
  PRIMARY KEY (account_id, identifier)
);
CREATE TABLE rate_limit_buckets (
  bucket_key TEXT PRIMARY KEY,
  tat        BIGINT NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial", kInitialSchema},
    {2, "authorizations by account and identifier", kAuthzByAccountIdentifier},
    {3, "retention indexes", kRetention},
    {4, "ARI replacements, incidents and certificate profiles", kAriAndProfiles},
    {5, "crl shards", kCrlShards},
    {6, "external account binding", kExternalAccountBinding},
    {7, "STAR auto-renewal orders and certificate periods", kStar},
    {8, "order-authorization links, pre-authorizations, subdomain authorizations", kAuthzReuse},
    {9, "rate limits: FQDN-set hashes, overrides, pauses", kRateLimits},
};

std::string errorOf(PGconn* conn, const PGresult* result) {
  if (result == nullptr) {
    std::string s = PQerrorMessage(conn);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return "postgres: " + s;
  }
  return problemFromResult(result).detail;
}

// Runs one command (several statements allowed when there are no parameters).
core::Result<PgResultPtr> exec(PGconn* conn, const std::string& sql,
                               std::initializer_list<std::string> params = {}) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PgResultPtr r(params.size() == 0
                    ? PQexec(conn, sql.c_str())
                    : PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0));
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return core::fail(core::serverInternal(errorOf(conn, r.get())));
  }
  return r;
}

core::Status migrateLocked(PGconn* conn) {
  // Waiting for another process's migrations, or building an index on a big table, may take
  // longer than the per-query timeout that the connection otherwise runs with.
  if (auto r = exec(conn, "SET LOCAL statement_timeout = 0"); !r) return core::fail(r.error());
  if (auto r = exec(conn, "SELECT pg_advisory_xact_lock($1::bigint)",
                    {std::to_string(kMigrationLockKey)});
      !r) {
    return core::fail(r.error());
  }
  if (auto r = exec(conn,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version INTEGER PRIMARY KEY, "
                    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      !r) {
    return core::fail(r.error());
  }
  auto current_result = exec(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!current_result) return core::fail(current_result.error());
  const int current = std::atoi(PQgetvalue(current_result->get(), 0, 0));
  const int latest = latestSchemaVersion();
  if (current > latest) {
    return core::fail(core::serverInternal("database schema version " + std::to_string(current) +
                                           " is newer than this akamu supports (" +
                                           std::to_string(latest) + "); upgrade akamu"));
  }
  for (const Migration& m : kMigrations) {
    // Applied when not recorded (see sqlite/migrations.cpp): numbers have gaps, and one merged
    // later into a gap must still reach a database that has a higher one.
    auto applied = exec(conn, "SELECT 1 FROM schema_migrations WHERE version = $1::integer",
                        {std::to_string(m.version)});
    if (!applied) return core::fail(applied.error());
    if (PQntuples(applied->get()) != 0) continue;
    if (auto r = exec(conn, m.sql); !r) {
      auto problem = r.error();
      problem.detail =
          "migration " + std::to_string(m.version) + " (" + m.name + ") failed: " + problem.detail;
      return core::fail(std::move(problem));
    }
    if (auto r = exec(conn, "INSERT INTO schema_migrations(version) VALUES ($1::integer)",
                      {std::to_string(m.version)});
        !r) {
      return core::fail(r.error());
    }
  }
  return {};
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

core::Status migrate(PGconn* conn) {
  if (auto r = exec(conn, "BEGIN"); !r) return core::fail(r.error());
  auto st = migrateLocked(conn);
  // The lock is transaction-scoped: COMMIT or ROLLBACK releases it.
  auto end = exec(conn, st ? "COMMIT" : "ROLLBACK");
  if (!st) return st;
  if (!end) return core::fail(end.error());
  return {};
}

}  // namespace akamu::store::postgres
