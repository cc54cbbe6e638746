#!/usr/bin/env bash
# Graceful shutdown, against the real binary on PostgreSQL: a request is held inside the server
# (its query waits on a table lock another session holds), SIGTERM arrives, the listener closes,
# and the request still gets its answer once the lock goes; then the process exits 0. A second
# run with shutdown_grace_secs = 1 shows the bound: the server stops although the request waits.
set -euo pipefail
source "$(dirname "$0")/../interop/lib.sh"
interop_init drain "$@"
[[ -n ${AKAMU_TEST_PG_URL_FILE:-} ]] || fail "needs the pg fixture (AKAMU_TEST_PG_URL_FILE)"
pg_url=$(<"$AKAMU_TEST_PG_URL_FILE")
start_akamu
schema=$(grep -oP 'search_path%3D\K[a-z0-9_]+' "$WORK/akamu.toml")
[[ -n $schema ]] || fail "no test schema in the config"

# An unknown certificate of this CA's: its renewal info makes the handler read the certificates
# table. certID = base64url(this CA's key identifier) "." base64url(a serial it never issued).
ski=$(openssl x509 -in "$DATA/ca.pem" -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' :')
[[ $ski =~ ^[0-9A-Fa-f]+$ ]] || fail "cannot read the CA's subject key identifier ($ski)"
aki_b64=$("$PY" -c 'import base64, sys; print(base64.urlsafe_b64encode(bytes.fromhex(sys.argv[1])).decode().rstrip("="))' "$ski")
ari_url="http://127.0.0.1:$PORT/acme/renewal-info/$aki_b64.AQID"
code=$(curl -s -o /dev/null -w '%{http_code}' "$ari_url")
[[ $code == 404 ]] || fail "renewal-info of an unknown certificate answered $code, not 404"

# until_sql QUERY: polls (10 s at most) until the count QUERY returns is at least 1.
until_sql() {
  local i n
  for ((i = 0; i < 200; i++)); do
    n=$(psql -tA "$pg_url" -c "$1")
    [[ $n -ge 1 ]] && return 0
    sleep 0.05
  done
  return 1
}
# hold_lock: a psql session that locks the certificates table until told to commit.
hold_lock() {
  rm -f "$WORK/psql.in"
  mkfifo "$WORK/psql.in"
  setsid psql -q -v ON_ERROR_STOP=1 "$pg_url" <"$WORK/psql.in" >"$WORK/psql.log" 2>&1 &
  PSQL_PID=$!
  _BG_PIDS+=("$PSQL_PID")
  exec 7>"$WORK/psql.in"
  printf 'BEGIN;\nLOCK TABLE %s.certificates IN ACCESS EXCLUSIVE MODE;\nSELECT 1;\n' "$schema" >&7
  until_sql "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' AND relation = '$schema.certificates'::regclass" ||
    fail "psql never got the lock: $(cat "$WORK/psql.log")"
}
release_lock() {
  printf 'COMMIT;\n\\q\n' >&7
  exec 7>&-
  wait "$PSQL_PID" || true
}
# wait_blocked: until a backend of the server waits on that lock.
wait_blocked() {
  until_sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%certificates%'" ||
    fail "the server's query never waited on the lock"
}
wait_log() {
  local i
  for ((i = 0; i < 200; i++)); do
    grep -q "$1" "$WORK/akamu.log" && return 0
    sleep 0.05
  done
  fail "no '$1' in the server log"
}

hold_lock
curl -s -o "$WORK/held.body" -w '%{http_code}' "$ari_url" >"$WORK/held.code" 2>"$WORK/held.err" &
CURL_PID=$!
wait_blocked
kill -TERM "$AKAMU_PID"
wait_log "waiting up to 10 s for 1 requests"
# The listener is closed while the request is held: new connections are refused.
if curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/acme/directory"; then
  fail "a new connection was accepted while draining"
fi
kill -0 "$AKAMU_PID" 2>/dev/null || fail "akamu exited before the held request finished"
release_lock
wait "$CURL_PID" || fail "the held request failed: $(cat "$WORK/held.err")"
[[ $(<"$WORK/held.code") == 404 ]] || fail "the held request got $(<"$WORK/held.code"), not 404"
rc=0
wait "$AKAMU_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "akamu exited with $rc after draining"
grep -q "still running after" "$WORK/akamu.log" && fail "the drain was cut short"
log "SIGTERM drained the held request (404 delivered), exit 0"

# The bound: with a 1 s grace the server stops although the request is still held.
sed -i 's/^shutdown_grace_secs = .*/shutdown_grace_secs = 1/' "$WORK/akamu.toml"
bg akamu2 "$AKAMU" serve -c "$WORK/akamu.toml"
AKAMU_PID=$BG_PID
for ((i = 0; i < 80; i++)); do
  curl -sf -o /dev/null "$DIR_URL" && break
  sleep 0.25
done
curl -sf -o /dev/null "$DIR_URL" || fail "second server did not come up"
hold_lock
curl -s -o /dev/null "$ari_url" >/dev/null 2>&1 &
CURL_PID=$!
_BG_PIDS+=("$CURL_PID")
wait_blocked
kill -TERM "$AKAMU_PID"
rc=0
wait "$AKAMU_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "akamu exited with $rc after a cut-short drain"
grep -q "1 requests still running after 1 s" "$WORK/akamu2.log" ||
  fail "no 'still running' warning: $(tail -5 "$WORK/akamu2.log")"
release_lock
log "a drain is bounded by shutdown_grace_secs"
echo "PASS drain_pg"
