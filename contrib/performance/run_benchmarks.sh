#!/usr/bin/env bash
# Runs the acme-bench suite of the performance chapter and writes newline-delimited JSON: one
# `acme-bench --output json` object per run, with an added "label" (the chapter's labels) and
# "round" (1..REPEAT).
#
#   contrib/performance/run_benchmarks.sh [OUTPUT_FILE]                       # inprocess mode
#   SPAWN_MODE="--spawn process" contrib/performance/run_benchmarks.sh [OUTPUT_FILE]
#   REQUESTS=50 WARMUP=5 SECTIONS="concurrency pebble" contrib/performance/run_benchmarks.sh q.ndjson
#
# Sections (SECTIONS, in this order): concurrency keytype ca_keytype pq_chain challenge backend
# pool ro rsa4096_sat pebble. A section whose feature is not built is SKIPPED with the reason
# printed (and listed again at the end); nothing is ever made up. Every run is bounded by
# `timeout`; the script stops what it started (pebble, by pid) on exit.
#
# Knobs (environment), defaults scaled to a 2-core machine:
#   ACME_BENCH        acme-bench binary        (build/bin/acme-bench of this checkout)
#   AKAMU_BIN         akamu for process mode   (acme-bench's default: the akamu next to it)
#   SPAWN_MODE        "" (inprocess, the default) or "--spawn process"
#   REQUESTS=300 WARMUP=20                     measured and warmup issuances per run
#   REPEAT=1                                   rounds of the whole suite (runs of one label
#                                              alternate across rounds; the report takes medians)
#   CONCURRENCY_CLIENTS="1 5 10 25 50"         concurrency sweep (runs with --floor)
#   SECTION_CLIENTS=10                         clients of the key type / CA / PQ runs
#   CHALLENGES="http-01 dns-persist-01"        challenge section: labels challenge_<type>; runs
#   CHALLENGE_CLIENTS=$SECTION_CLIENTS         of one round alternate the types (dns-persist-01:
#                                              acme-bench serves the records from a loopback DNS
#                                              server and points the spawned server at it)
#   KEY_TYPES, CA_KEY_TYPES, PQ_CHAINS         key type lists (see defaults below)
#   BACKEND_CLIENTS="1 5 10 25 50"             :memory: vs tmpfs WAL file sweep
#   TMPFS_DIR=/dev/shm                         where the tmpfs database files go
#   PG_URL                                     PostgreSQL URL for backend_postgres_N and pgpool_*
#   PG_BACKEND_POOL=4                          pool_connections of the backend_postgres_N runs
#   POOL_SIZES="1 2 4 8" POOL_CLIENTS="1 5 10 25 50"
#   PG_POOL_SIZES="4 10 25" PG_POOL_CLIENTS="10 25"   PostgreSQL pool runs (when PG_URL is set)
#   RUN_POOL=auto|1|0                          auto: run only if the server uses pool_connections
#   RO_CLIENTS="1 5 10 25 50" RO_SWEEP="1 2 4 8 16" RO_SWEEP_CLIENTS=10
#   RSA4096_CLIENTS="1 10 25 50" RSA_REQUESTS=30 RSA_WARMUP=0
#                                              rsa:4096 runs (client key generation is slow:
#                                              at least `clients` requests are measured)
#   PEBBLE_BIN=/usr/bin/pebble PEBBLE_CLIENTS="1 3 5" PEBBLE_ROUNDS=1 PEBBLE_TIMEOUT=90
#   RUN_TIMEOUT=900                            seconds per acme-bench run
#   RAW=0                                      1 keeps the per-issuance "raw" arrays
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

OUT=${1:-results.ndjson}
ACME_BENCH=${ACME_BENCH:-$repo/build/bin/acme-bench}
AKAMU_BIN=${AKAMU_BIN:-}
SPAWN_MODE=${SPAWN_MODE:-}
REQUESTS=${REQUESTS:-300}
WARMUP=${WARMUP:-20}
REPEAT=${REPEAT:-1}
SECTIONS=${SECTIONS:-"concurrency keytype ca_keytype pq_chain challenge backend pool ro rsa4096_sat pebble"}
CONCURRENCY_CLIENTS=${CONCURRENCY_CLIENTS:-"1 5 10 25 50"}
SECTION_CLIENTS=${SECTION_CLIENTS:-10}
KEY_TYPES=${KEY_TYPES:-"ed25519 ec:P-256 ml-dsa-44 ml-dsa-65 ml-dsa-87 ec:P-384 rsa:2048 rsa:4096"}
CA_KEY_TYPES=${CA_KEY_TYPES:-"ec:P-256 rsa:2048 ec:P-384 rsa:3072 rsa:4096"}
PQ_CHAINS=${PQ_CHAINS:-"ec:P-256 ml-dsa-44 ml-dsa-65 ml-dsa-87"}
CHALLENGES=${CHALLENGES:-"http-01 dns-persist-01"}
CHALLENGE_CLIENTS=${CHALLENGE_CLIENTS:-$SECTION_CLIENTS}
BACKEND_CLIENTS=${BACKEND_CLIENTS:-"1 5 10 25 50"}
TMPFS_DIR=${TMPFS_DIR:-/dev/shm}
PG_URL=${PG_URL:-}
POOL_SIZES=${POOL_SIZES:-"1 2 4 8"}
POOL_CLIENTS=${POOL_CLIENTS:-"1 5 10 25 50"}
PG_POOL_SIZES=${PG_POOL_SIZES:-"4 10 25"}
PG_BACKEND_POOL=${PG_BACKEND_POOL:-4}
PG_POOL_CLIENTS=${PG_POOL_CLIENTS:-"10 25"}
RUN_POOL=${RUN_POOL:-auto}
RO_CLIENTS=${RO_CLIENTS:-"1 5 10 25 50"}
RO_SWEEP=${RO_SWEEP:-"1 2 4 8 16"}
RO_SWEEP_CLIENTS=${RO_SWEEP_CLIENTS:-10}
RSA4096_CLIENTS=${RSA4096_CLIENTS:-"1 10 25 50"}
RSA_REQUESTS=${RSA_REQUESTS:-30}
RSA_WARMUP=${RSA_WARMUP:-0}
PEBBLE_BIN=${PEBBLE_BIN:-/usr/bin/pebble}
PEBBLE_CLIENTS=${PEBBLE_CLIENTS:-"1 3 5"}
PEBBLE_ROUNDS=${PEBBLE_ROUNDS:-1}
PEBBLE_TIMEOUT=${PEBBLE_TIMEOUT:-90}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
RAW=${RAW:-0}

die() { echo "run_benchmarks: $*" >&2; exit 2; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

[[ -f "$ACME_BENCH" && -x "$ACME_BENCH" ]] || die "cannot execute $ACME_BENCH (build acme-bench, or set ACME_BENCH)"
command -v jq >/dev/null || die "jq is required"
command -v timeout >/dev/null || die "timeout (coreutils) is required"
read -ra spawn_args <<<"$SPAWN_MODE"
case "$SPAWN_MODE" in
  "" | "--spawn inprocess") mode=inprocess ;;
  "--spawn process") mode=process ;;
  *) die "SPAWN_MODE must be empty, \"--spawn inprocess\" or \"--spawn process\"" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/akamu-perf-XXXXXX")
shm=""
if [[ -d "$TMPFS_DIR" && -w "$TMPFS_DIR" ]]; then shm=$(mktemp -d "$TMPFS_DIR/akamu-perf-XXXXXX"); fi
pebble_pid=""
skipped=()
failed=()
runs=0

stop_pebble() {
  if [[ -n "$pebble_pid" ]]; then
    kill "$pebble_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pebble_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pebble_pid" 2>/dev/null
    wait "$pebble_pid" 2>/dev/null
    pebble_pid=""
  fi
}
cleanup() {
  stop_pebble
  rm -rf "$work"
  [[ -n "$shm" ]] && rm -rf "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$(dirname "$OUT")"
: >"$OUT" || die "cannot write $OUT"

skip() {  # section, reason
  log "SKIP $1: $2"
  skipped+=("$1: $2")
}

# bench LABEL ROUND TIMEOUT ARGS... : one acme-bench run; appends its JSON with label and round.
# Returns 0 when a record was written, 2 when the tool refused the options ("not supported
# yet", printed as a skip by the caller), 1 otherwise.
last_reason=""
bench() {
  local label=$1 round=$2 limit=$3
  shift 3
  local args=("$@" --output json --audit-log "$work/audit.jsonl")
  ((RAW)) || args+=(--no-raw)
  [[ -n "$AKAMU_BIN" ]] && args+=(--akamu-bin "$AKAMU_BIN")
  log "run $label (round $round): acme-bench ${args[*]}"
  local rc=0
  timeout -k 10 "$limit" "$ACME_BENCH" "${args[@]}" >"$work/out.json" 2>"$work/err.txt" || rc=$?
  rm -f "$work/audit.jsonl"
  last_reason=$(grep -m1 "not supported yet" "$work/err.txt" | sed 's/^acme-bench: //')
  if [[ $rc -eq 2 && -n "$last_reason" ]]; then
    return 2
  fi
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    log "TIMEOUT $label after ${limit}s; no record written"
    failed+=("$label (round $round): timeout after ${limit}s")
    return 1
  fi
  if [[ ! -s "$work/out.json" ]] || ! jq -e '.summary' "$work/out.json" >/dev/null 2>&1; then
    log "FAILED $label (exit $rc), no JSON; stderr: $(tail -c 600 "$work/err.txt")"
    failed+=("$label (round $round): exit $rc, no result")
    return 1
  fi
  if ! jq -c --arg lb "$label" --argjson rd "$round" '. + {"label": $lb, "round": $rd}' \
    "$work/out.json" >>"$OUT"; then
    failed+=("$label (round $round): cannot append to $OUT")
    return 1
  fi
  runs=$((runs + 1))
  local line
  line=$(jq -r '"\(.summary.ok) ok, \(.summary.err) err, \(.summary.throughput_per_sec) iss/s, mean \(.summary.total_latency_ms.mean) ms"' "$work/out.json")
  if [[ $rc -ne 0 ]]; then
    log "  $line  (exit $rc: failed issuances are in the record)"
    failed+=("$label (round $round): $(jq -r '.summary.err' "$work/out.json") failed issuances")
  else
    log "  $line"
  fi
  return 0
}

# A run in the suite's mode, with the common sizes.
suite_run() {  # label round args...
  local label=$1 round=$2
  shift 2
  bench "$label" "$round" "$RUN_TIMEOUT" "${spawn_args[@]}" --requests "$REQUESTS" --warmup "$WARMUP" "$@"
}

fresh_db() {  # name -> prints an sqlite:// URL of a new file database on tmpfs
  local f="$shm/$1.db"
  rm -f "$f" "$f-wal" "$f-shm"
  echo "sqlite://$f"
}

# --- sections -------------------------------------------------------------------------------

section_concurrency() {
  local r=$1 c
  for c in $CONCURRENCY_CLIENTS; do
    suite_run "concurrency_$c" "$r" --clients "$c" --floor
  done
}

section_keytype() {
  local r=$1 kt n c=$SECTION_CLIENTS
  for kt in $KEY_TYPES; do
    if [[ $kt == rsa:4096 ]]; then
      n=$((RSA_REQUESTS > c ? RSA_REQUESTS : c))
      bench "keytype_$kt" "$r" "$RUN_TIMEOUT" "${spawn_args[@]}" --clients "$c" --key-type "$kt" \
        --requests "$n" --warmup "$RSA_WARMUP"
    else
      suite_run "keytype_$kt" "$r" --clients "$c" --key-type "$kt"
    fi
  done
}

section_ca_keytype() {
  local r=$1 kt
  for kt in $CA_KEY_TYPES; do
    suite_run "ca_keytype_$kt" "$r" --clients "$SECTION_CLIENTS" --ca-key-type "$kt"
  done
}

section_pq_chain() {
  local r=$1 kt
  for kt in $PQ_CHAINS; do
    suite_run "pq_chain_$kt" "$r" --clients "$SECTION_CLIENTS" --ca-key-type "$kt" --key-type "$kt" \
      --verify-cert
  done
}

# challenge_http-01 and challenge_dns-persist-01. An acme-bench built before dns-persist-01
# refuses it with "not supported yet"; that run is then reported as skipped.
section_challenge() {
  local r=$1 ch rc
  for ch in $CHALLENGES; do
    rc=0
    suite_run "challenge_$ch" "$r" --clients "$CHALLENGE_CLIENTS" --challenge "$ch" || rc=$?
    [[ $rc -eq 2 ]] && ((r == 1)) && skip "challenge_$ch" "$last_reason"
  done
}

section_backend() {
  local r=$1 c rc
  for c in $BACKEND_CLIENTS; do
    suite_run "backend_memory_$c" "$r" --clients "$c" --db "sqlite::memory:"
    if [[ -n "$shm" ]]; then
      suite_run "backend_tmpfs_$c" "$r" --clients "$c" --db "$(fresh_db "backend-$c")"
    elif ((r == 1 && c == ${BACKEND_CLIENTS%% *})); then
      skip "backend_tmpfs" "$TMPFS_DIR is not a writable directory"
    fi
  done
  # PostgreSQL: run when PG_URL is given; otherwise ask acme-bench whether it supports a
  # PostgreSQL --db at all (it refuses one before connecting while the store is not built).
  if [[ -n "$PG_URL" ]]; then
    for c in $BACKEND_CLIENTS; do
      rc=0
      suite_run "backend_postgres_$c" "$r" --clients "$c" --db "$PG_URL" \
        --pool-connections "$PG_BACKEND_POOL" || rc=$?
      if [[ $rc -eq 2 ]]; then
        ((r == 1)) && skip "backend_postgres" "$last_reason"
        break
      fi
    done
  elif ((r == 1)); then
    rc=0
    timeout -k 5 30 "$ACME_BENCH" --requests 1 --warmup 0 --clients 1 --output json --no-raw \
      --db "postgres://akamu@127.0.0.1/akamu_bench" >/dev/null 2>"$work/err.txt" || rc=$?
    last_reason=$(grep -m1 "not supported yet" "$work/err.txt" | sed 's/^acme-bench: //')
    if [[ $rc -eq 2 && -n "$last_reason" ]]; then
      skip "backend_postgres" "$last_reason"
    else
      skip "backend_postgres" "PG_URL is not set (set it to a PostgreSQL database to include it)"
    fi
  fi
}

pool_has_effect() {
  case "$RUN_POOL" in
    1) return 0 ;;
    0) return 1 ;;
  esac
  # The server passes pool_connections to the store once a write pool exists.
  grep -rqs --include='*.cpp' "pool_connections" "$repo/src/server" "$repo/src/store"
}

section_pool() {
  local r=$1 p c
  if ! pool_has_effect; then
    ((r == 1)) && skip "pool" "RUN_POOL=0"
    return 0
  fi
  [[ -n "$shm" ]] || { ((r == 1)) && skip "pool" "$TMPFS_DIR is not writable"; return 0; }
  for p in $POOL_SIZES; do
    for c in $POOL_CLIENTS; do
      suite_run "pool_${p}_clients_$c" "$r" --clients "$c" --pool-connections "$p" \
        --db "$(fresh_db "pool-$p-$c")"
    done
  done
  # PostgreSQL: the pool is every connection the server has, so it matters more there.
  if [[ -n "$PG_URL" ]]; then
    for p in $PG_POOL_SIZES; do
      for c in $PG_POOL_CLIENTS; do
        suite_run "pgpool_${p}_clients_$c" "$r" --clients "$c" --pool-connections "$p" \
          --db "$PG_URL"
      done
    done
  fi
}

section_ro() {
  local r=$1 c n
  [[ -n "$shm" ]] || { ((r == 1)) && skip "ro" "$TMPFS_DIR is not writable"; return 0; }
  # No split: every lookup uses the pool (pool_connections). Split: read-only handlers use 4
  # read-only connections of their own.
  for c in $RO_CLIENTS; do
    suite_run "ro_nosplit_$c" "$r" --clients "$c" --ro-connections 0 --db "$(fresh_db "ro0-$c")"
    suite_run "ro_split4_$c" "$r" --clients "$c" --ro-connections 4 --db "$(fresh_db "ro4-$c")"
  done
  for n in $RO_SWEEP; do
    suite_run "ro_sweep_ro$n" "$r" --clients "$RO_SWEEP_CLIENTS" --ro-connections "$n" \
      --db "$(fresh_db "rosweep-$n")"
  done
}

section_rsa4096_sat() {
  local r=$1 c n
  for c in $RSA4096_CLIENTS; do
    n=$((RSA_REQUESTS > c ? RSA_REQUESTS : c))
    bench "rsa4096_sat_$c" "$r" "$RUN_TIMEOUT" "${spawn_args[@]}" --clients "$c" --key-type rsa:4096 \
      --requests "$n" --warmup "$RSA_WARMUP"
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_pebble() {  # writes $work/pebble-url; returns 1 if pebble does not come up
  local pdir="$work/pebble" port mport
  mkdir -p "$pdir"
  if [[ ! -f "$pdir/cert.pem" ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -keyout "$pdir/key.pem" -out "$pdir/cert.pem" -subj "/CN=localhost" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1 || return 1
  fi
  port=$(free_port)
  mport=$(free_port)
  cat >"$pdir/config.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$port", "managementListenAddress": "127.0.0.1:$mport",
  "certificate": "$pdir/cert.pem", "privateKey": "$pdir/key.pem",
  "httpPort": $(free_port), "tlsPort": $(free_port), "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
  PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    "$PEBBLE_BIN" -config "$pdir/config.json" >"$pdir/pebble.log" 2>&1 &
  pebble_pid=$!
  local url="https://127.0.0.1:$port/dir"
  for _ in $(seq 1 100); do
    if curl -fsS --max-time 2 --cacert "$pdir/cert.pem" "$url" >/dev/null 2>&1; then
      echo "$url" >"$work/pebble-url"
      return 0
    fi
    kill -0 "$pebble_pid" 2>/dev/null || break
    sleep 0.1
  done
  log "pebble did not serve $url: $(tail -c 400 "$pdir/pebble.log")"
  stop_pebble
  return 1
}

# Pebble (Let's Encrypt's test server) and our server in process mode, alternating at each
# client count so the ratio comes from one session. Pebble is restarted for every run (its
# state lives in memory) and bounded by PEBBLE_TIMEOUT: it can deadlock at >= 5 clients.
section_pebble() {
  local r=$1 c rc
  if [[ ! -x "$PEBBLE_BIN" ]]; then
    ((r == 1)) && skip "peer_pebble" "$PEBBLE_BIN not found (apt-get install pebble)"
    return 0
  fi
  command -v curl >/dev/null && command -v openssl >/dev/null || {
    ((r == 1)) && skip "peer_pebble" "curl and openssl are needed"
    return 0
  }
  for c in $PEBBLE_CLIENTS; do
    for _ in $(seq 1 "$PEBBLE_ROUNDS"); do
      if start_pebble; then
        rc=0
        bench "peer_pebble_$c" "$r" "$PEBBLE_TIMEOUT" --server "$(cat "$work/pebble-url")" \
          --ca-bundle "$work/pebble/cert.pem" --clients "$c" --requests "$REQUESTS" \
          --warmup "$WARMUP" || rc=$?
        [[ $rc -ne 0 ]] && log "pebble at $c clients did not complete (deadlock or failure)"
        stop_pebble
      else
        failed+=("peer_pebble_$c (round $r): pebble did not start")
      fi
      bench "akamu_vs_pebble_$c" "$r" "$RUN_TIMEOUT" --spawn process --clients "$c" \
        --requests "$REQUESTS" --warmup "$WARMUP"
    done
  done
}

# --- main -----------------------------------------------------------------------------------

log "suite: mode=$mode requests=$REQUESTS warmup=$WARMUP repeat=$REPEAT sections=[$SECTIONS] -> $OUT"
log "acme-bench: $ACME_BENCH; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
started=$(date +%s)
for r in $(seq 1 "$REPEAT"); do
  for s in $SECTIONS; do
    fn="section_$s"
    declare -F "$fn" >/dev/null || die "unknown section '$s'"
    "$fn" "$r"
  done
done

log "done: $runs records in $OUT in $(($(date +%s) - started)) s"
if ((${#skipped[@]})); then
  log "skipped sections:"
  for s in "${skipped[@]}"; do echo "  - $s" >&2; done
fi
if ((${#failed[@]})); then
  log "runs with failures (recorded as measured, or not recorded when nothing was measured):"
  for s in "${failed[@]}"; do echo "  - $s" >&2; done
  exit 1
fi
exit 0
