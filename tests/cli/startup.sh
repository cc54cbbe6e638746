#!/usr/bin/env bash
# The operator's first minutes with the akamu binary: init, first start (CA created, key 0600),
# restart (CA reused), refusals (newer database schema, half a CA, unknown config key, bad listen
# override), version.
set -euo pipefail
AKAMU=${1:?usage: startup.sh path/to/akamu}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
wait_dir() {
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/acme/directory" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
start() {
  "$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1 &
  pid=$!
}
stop() { kill "$pid"; wait "$pid" || true; pid=""; }

"$AKAMU" version | grep -q '^akamu ' || fail "version does not print the version"
"$AKAMU" version | grep -q 'OpenSSL' || fail "version does not print the OpenSSL version"

port=$(free_port)
"$AKAMU" init -o "$work/akamu.toml" --data-dir "$work/data" --listen "127.0.0.1:$port" >/dev/null
"$AKAMU" init -o "$work/akamu.toml" >/dev/null 2>&1 && fail "init overwrote an existing file without --force"

# First start creates the CA; the key is private.
start
wait_dir "$port" || fail "server did not come up"
[[ -f "$work/data/ca.key" && -f "$work/data/ca.pem" ]] || fail "CA key/cert not created"
[[ $(stat -c %a "$work/data/ca.key") == 600 ]] || fail "ca.key mode is $(stat -c %a "$work/data/ca.key")"
[[ $(stat -c %a "$work/data/audit.log") == 600 ]] || fail "audit.log is not 0600"
grep -q '"event_type":"ca.start"' "$work/data/audit.log" || fail "no ca.start audit event"
openssl x509 -in "$work/data/ca.pem" -noout -text | grep -q 'CA:TRUE' || fail "CA cert lacks CA:TRUE"
dir=$(curl -fsS "http://127.0.0.1:$port/acme/directory")
echo "$dir" | grep -q "\"newAccount\":\"http://127.0.0.1:$port/acme/new-account\"" || fail "directory: $dir"
stop
grep -q '"event_type":"ca.stop"' "$work/data/audit.log" || fail "no ca.stop audit event"

# Restart reuses the same CA.
before=$(sha256sum "$work/data/ca.pem")
start
wait_dir "$port" || fail "server did not restart"
stop
[[ "$(sha256sum "$work/data/ca.pem")" == "$before" ]] || fail "restart replaced the CA certificate"

# A database written by a newer akamu: refuse to start, naming both schema versions, and leave
# the database as it was.
db="$work/data/akamu.db"
[[ -f $db ]] || fail "init/serve did not create $db"
python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (999, '2030-01-01T00:00:00Z')")
c.commit()
PY
if "$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1; then fail "started on a newer schema"; fi
grep -q 'database schema version 999 is newer than this akamu supports' "$work/serve.log" ||
  fail "newer schema not explained: $(cat "$work/serve.log")"
python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("SELECT count(*) FROM schema_migrations WHERE version = 999").fetchone()[0] == 1
c.execute("DELETE FROM schema_migrations WHERE version = 999")
c.commit()
PY
start
wait_dir "$port" || fail "server did not start again once the schema was back"
stop

# Half a CA: refuse, naming the files, and do not create a new key.
mv "$work/data/ca.pem" "$work/ca.pem.bak"
if "$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1; then fail "started with only ca.key"; fi
grep -q 'ca.pem' "$work/serve.log" || fail "refusal does not name the missing file: $(cat "$work/serve.log")"
mv "$work/ca.pem.bak" "$work/data/ca.pem"

# Unknown key: an error naming the key and its line.
cp "$work/akamu.toml" "$work/good.toml"
sed -i 's/^\[server\]$/[server]\nno_such_key = 1/' "$work/akamu.toml"
line=$(grep -n '^no_such_key' "$work/akamu.toml" | cut -d: -f1)
if "$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1; then fail "started with an unknown key"; fi
grep -q "no_such_key" "$work/serve.log" || fail "error does not name the key: $(cat "$work/serve.log")"
grep -q ":$line:" "$work/serve.log" || fail "error does not name line $line: $(cat "$work/serve.log")"
cp "$work/good.toml" "$work/akamu.toml"

# AKAMU_LISTEN overrides listen_addr; a malformed one is refused.
port2=$(free_port)
AKAMU_LISTEN="127.0.0.1:$port2" "$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1 &
pid=$!
wait_dir "$port2" || fail "AKAMU_LISTEN was not honoured"
stop
if AKAMU_LISTEN="not-an-address" "$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1; then
  fail "started with a malformed AKAMU_LISTEN"
fi
grep -qi "AKAMU_LISTEN\|listen" "$work/serve.log" || fail "bad override not explained: $(cat "$work/serve.log")"
echo "cli startup: OK"
