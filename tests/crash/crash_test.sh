#!/usr/bin/env bash
# The crash test: a certificate reported issued is never lost.
#
#   crash_test.sh AKAMU ACME_BENCH sqlite|postgres [STALE_NONCE_PROBE]
#
# 1. start `akamu serve` (SQLite WAL file in the temp dir, or a fresh schema of the PostgreSQL
#    server named by $AKAMU_TEST_PG_URL: unset is a failure, not a skip);
# 2. run acme-bench against it (4 clients, 400 issuances, --save-certs: every download that
#    succeeded is in index.tsv with the exact bytes served);
# 3. once 30 downloads are recorded, take a nonce, then kill -9 the server under load; acme-bench
#    must end on its own, reporting errors;
# 4. restart on the same database: every recorded certificate URL serves the same bytes;
# 5. the nonce from before the crash is refused with badNonce (400), not a server error;
# 6. the restarted server issues normally (20 issuances, zero errors);
# 7. the kill really happened mid-load (acme-bench did not complete all 400 issuances).
#
# STALE_NONCE_PROBE defaults to stale_nonce_probe next to ACME_BENCH. Needs curl, jq, cmp,
# python3 (free ports) and, for postgres, psql. Everything listens on 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../interop/lib.sh
source "$here/../interop/lib.sh"

[[ $# -ge 3 && $# -le 4 ]] ||
  { echo "usage: crash_test.sh AKAMU ACME_BENCH sqlite|postgres [STALE_NONCE_PROBE]" >&2; exit 2; }
KIND=$3
BENCH=$2
[[ $BENCH == /* ]] || BENCH=$PWD/$BENCH
PROBE=${4:-$(dirname "$BENCH")/stale_nonce_probe}
case $KIND in
  sqlite | postgres) ;;
  *) echo "crash_test.sh: DB_KIND must be sqlite or postgres, got '$KIND'" >&2; exit 2 ;;
esac
# The PostgreSQL variant takes its server from AKAMU_TEST_PG_URL only; lib.sh's own switch to
# PostgreSQL (AKAMU_TEST_PG_URL_FILE) must not turn the SQLite variant into something else.
unset AKAMU_TEST_PG_URL_FILE

interop_init "crash-$KIND" "$1" # WORK, DATA, PORT, HPORT, DIR_URL; cleanup trap
[[ -x $BENCH ]] || fail "acme-bench not executable: $BENCH"
[[ -x $PROBE ]] || fail "stale_nonce_probe not executable: $PROBE"
for tool in jq cmp; do
  command -v "$tool" >/dev/null || fail "missing tool: $tool"
done

CLIENTS=4
REQUESTS=400
MIN_SAVED=30
CERTS=$WORK/certs
AKAMU_PID=""
SCHEMA=""
PG_BASE=""

# Cleanup order: the server goes first (it holds the schema's connections), then the schema,
# then lib.sh's cleanup (background jobs, the temp dir).
crash_cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  if [[ -n $AKAMU_PID ]]; then
    kill -KILL "$AKAMU_PID" 2>/dev/null || true
    wait "$AKAMU_PID" 2>/dev/null || true
  fi
  if [[ -n $SCHEMA ]]; then
    psql -q -X "$PG_BASE" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 ||
      echo "[crash] could not drop schema $SCHEMA" >&2
  fi
  (exit "$rc") # _cleanup takes the script's status from $?
  _cleanup
}
trap crash_cleanup EXIT

# --- the database ------------------------------------------------------------------------------
if [[ $KIND == sqlite ]]; then
  DB_URL="sqlite://$WORK/akamu.db"
else
  [[ -n ${AKAMU_TEST_PG_URL:-} ]] ||
    fail "AKAMU_TEST_PG_URL is not set: the postgres variant needs a PostgreSQL server (run it through tests/pg/with_pg.sh)"
  command -v psql >/dev/null || fail "missing tool: psql"
  PG_BASE=$AKAMU_TEST_PG_URL
  SCHEMA="crash_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  psql -q -X -v ON_ERROR_STOP=1 "$PG_BASE" -c "CREATE SCHEMA $SCHEMA" >/dev/null ||
    { SCHEMA=""; fail "cannot create a schema on $PG_BASE"; }
  sep='?'
  [[ $PG_BASE == *\?* ]] && sep='&'
  DB_URL="$PG_BASE${sep}options=-csearch_path%3D$SCHEMA"
fi
if [[ $KIND == sqlite ]]; then log "database: $DB_URL"; else log "database: PostgreSQL, schema $SCHEMA"; fi

# --- the server --------------------------------------------------------------------------------
"$AKAMU" init -o "$WORK/akamu.toml" --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
  --http-validation-port "$HPORT" --allow-private-ips >"$WORK/akamu-init.log" 2>&1 ||
  { cat "$WORK/akamu-init.log" >&2; fail "akamu init failed"; }
akamu_set url "\"$DB_URL\""
akamu_set http_validation_allow_private_ips true

# start_server LOGNAME: serve the config in the background, wait for the directory (bounded).
start_server() {
  bg "$1" "$AKAMU" serve -c "$WORK/akamu.toml"
  AKAMU_PID=$BG_PID
  # bg runs `setsid` from a non-leader, which execs in place: the pid is akamu's own, so that
  # kill -9 below reaches the server and not a wrapper.
  local i
  for ((i = 0; i < 120; i++)); do
    if curl -sf --max-time 2 -o "$WORK/directory.json" "$DIR_URL"; then
      [[ $(cat "/proc/$AKAMU_PID/comm" 2>/dev/null) == akamu* ]] ||
        fail "pid $AKAMU_PID is not the akamu process"
      return 0
    fi
    kill -0 "$AKAMU_PID" 2>/dev/null ||
      { tail -n 40 "$WORK/$1.log" >&2; fail "akamu exited during startup"; }
    sleep 0.25
  done
  tail -n 40 "$WORK/$1.log" >&2
  fail "directory $DIR_URL not reachable after 30 s"
}

start_server akamu
NEW_NONCE=$(jq -r .newNonce "$WORK/directory.json")
NEW_ACCOUNT=$(jq -r .newAccount "$WORK/directory.json")
[[ $NEW_NONCE == http* && $NEW_ACCOUNT == http* ]] ||
  fail "directory lacks newNonce/newAccount: $(cat "$WORK/directory.json")"
log "akamu up (pid $AKAMU_PID): $DIR_URL"

# --- load, then kill -9 --------------------------------------------------------------------
# bench_start NAME ARGS...: acme-bench against the server, JSON on $WORK/NAME.json, its stderr in
# $WORK/NAME.err, in its own session so that the cleanup trap reaches it. Sets BENCH_PID.
bench_start() {
  local name=$1
  shift
  setsid "$BENCH" --server "$DIR_URL" --responder-port "$HPORT" --warmup 0 --output json \
    --no-raw "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" </dev/null &
  BENCH_PID=$!
  _BG_PIDS+=("$BENCH_PID")
}

# bench_wait SECONDS: wait for $BENCH_PID at most SECONDS; sets BENCH_RC.
bench_wait() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$BENCH_PID" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "acme-bench still running $1 s later (a wait without a timeout?)"
    sleep 0.1
  done
  BENCH_RC=0
  wait "$BENCH_PID" || BENCH_RC=$?
}

index_lines() { if [[ -f $CERTS/index.tsv ]]; then wc -l <"$CERTS/index.tsv"; else echo 0; fi; }

log "acme-bench: $CLIENTS clients, $REQUESTS issuances, --save-certs $CERTS"
bench_start load --clients "$CLIENTS" --requests "$REQUESTS" --save-certs "$CERTS"
deadline=$((SECONDS + 120))
while (($(index_lines) < MIN_SAVED)); do
  kill -0 "$BENCH_PID" 2>/dev/null || {
    cat "$WORK/load.err" >&2
    fail "acme-bench exited with only $(index_lines) certificates saved"
  }
  ((SECONDS < deadline)) || fail "fewer than $MIN_SAVED certificates saved after 120 s"
  sleep 0.02
done

# A nonce the dying server handed out: it must not be accepted after the restart.
OLD_NONCE=$(curl -sI --max-time 5 "$NEW_NONCE" | tr -d '\r' |
  awk -F': *' 'tolower($1) == "replay-nonce" { print $2 }')
[[ -n $OLD_NONCE ]] || fail "no Replay-Nonce from HEAD $NEW_NONCE"

saved_at_kill=$(index_lines)
kill -KILL "$AKAMU_PID"
rc=0
wait "$AKAMU_PID" || rc=$?
AKAMU_PID=""
[[ $rc -eq 137 ]] || fail "akamu exited with $rc, expected 137 (SIGKILL)"
log "killed akamu with SIGKILL after $saved_at_kill saved certificates"

bench_wait 120
load_rc=$BENCH_RC
log "acme-bench exited with $load_rc after the crash"
((load_rc == 0 || load_rc == 1)) || {
  cat "$WORK/load.err" >&2
  fail "acme-bench exited with $load_rc (crash or usage error) when the server died"
}
jq -e .summary "$WORK/load.json" >/dev/null 2>&1 || {
  cat "$WORK/load.err" >&2
  fail "acme-bench printed no JSON summary after the crash"
}
load_ok=$(jq .summary.ok "$WORK/load.json")
load_err=$(jq .summary.err "$WORK/load.json")
log "load run: ok $load_ok, err $load_err; errors: $(jq -c '.errors' "$WORK/load.json" | head -c 600)"

# 7. Not vacuous: the server died while work was left.
if ((load_err == 0 && load_ok >= REQUESTS)); then
  fail "acme-bench completed all $REQUESTS issuances without an error: the kill did not happen mid-load"
fi
((load_rc == 1)) || fail "acme-bench exited 0 although issuances failed"

# --- restart and check every certificate byte for byte -----------------------------------------
start_server akamu-2
log "akamu restarted (pid $AKAMU_PID) on the same database"

saved=$(index_lines)
((saved == load_ok)) ||
  fail "index.tsv has $saved lines but acme-bench reported $load_ok successful downloads"
((saved >= MIN_SAVED)) || fail "only $saved certificates saved"
checked=0
while IFS=$'\t' read -r url file; do
  [[ -n $url && -n $file && $file != */* ]] || fail "malformed index.tsv line: '$url' '$file'"
  [[ -f $CERTS/$file ]] || fail "index.tsv names $file, which does not exist"
  got=$WORK/got.pem
  rm -f "$got"
  curl -sf --max-time 10 -o "$got" "$url" ||
    fail "certificate $url (saved as $file) is gone after the crash"
  cmp -s "$got" "$CERTS/$file" || {
    diff <(cat "$CERTS/$file") "$got" | head -20 >&2 || true
    fail "certificate $url differs from the bytes served before the crash ($file)"
  }
  checked=$((checked + 1))
done <"$CERTS/index.tsv"
((checked == saved)) || fail "checked $checked of $saved certificates"
echo "crash $KIND: $checked certificates reported issued before the kill are served identically after the restart"

# --- the nonce from before the crash -------------------------------------------------------------
probe=$("$PROBE" "$NEW_ACCOUNT" "$OLD_NONCE") || fail "stale_nonce_probe failed"
[[ $probe == "400 urn:ietf:params:acme:error:badNonce" ]] ||
  fail "a nonce from before the crash got '$probe', want '400 urn:ietf:params:acme:error:badNonce'"
log "stale nonce: $probe"
# The probe itself is sound: with a fresh nonce the same request creates an account.
FRESH_NONCE=$(curl -sI --max-time 5 "$NEW_NONCE" | tr -d '\r' |
  awk -F': *' 'tolower($1) == "replay-nonce" { print $2 }')
[[ -n $FRESH_NONCE ]] || fail "no Replay-Nonce from HEAD $NEW_NONCE after the restart"
probe=$("$PROBE" "$NEW_ACCOUNT" "$FRESH_NONCE") || fail "stale_nonce_probe failed"
[[ $probe == 201* ]] || fail "newAccount with a fresh nonce got '$probe', want 201"

# --- the restarted server issues normally --------------------------------------------------------
bench_start after --clients 2 --requests 20
bench_wait 120
after_ok=$(jq .summary.ok "$WORK/after.json" 2>/dev/null || echo "?")
after_err=$(jq .summary.err "$WORK/after.json" 2>/dev/null || echo "?")
if [[ $BENCH_RC -ne 0 || $after_err != 0 || $after_ok != 20 ]]; then
  cat "$WORK/after.err" >&2
  jq -c .errors "$WORK/after.json" >&2 2>/dev/null || true
  fail "after the restart: acme-bench exited $BENCH_RC, ok $after_ok, err $after_err (want 20, 0)"
fi
log "after the restart: 20 issuances, 0 errors"

echo "crash $KIND: OK"
