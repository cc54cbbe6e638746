#!/usr/bin/env bash
# Smoke test of acme-bench: a few dozen issuances in both spawn modes with --output json, over
# http-01 and dns-persist-01 (plain and --wildcard names); asserts
# that every issuance succeeded, that ok equals the number requested, and that every top-level
# key of the report exists. Usage: smoke_test.sh [path/to/acme-bench] (default: next to the
# akamu build in build/bin). Needs jq.
set -euo pipefail

BENCH=${1:-$(dirname "$0")/../../build/bin/acme-bench}
REQUESTS=${SMOKE_REQUESTS:-30}
CLIENTS=${SMOKE_CLIENTS:-3}

command -v jq >/dev/null || { echo "smoke_test: jq is required" >&2; exit 1; }
[[ -x "$BENCH" ]] || { echo "smoke_test: $BENCH is not executable" >&2; exit 1; }

fail=0
check() {  # check <label> <json> <expected ok>
  local label=$1 out=$2 want=$3
  local problems
  problems=$(jq -r --argjson want "$want" '
    [ (["config","summary","phases","memory","nodes","raw","errors"][] as $k
        | select(has($k) | not) | "missing top-level key \($k)"),
      (if .summary.err != 0 then "err = \(.summary.err): \(.errors)" else empty end),
      (if .summary.ok != $want then "ok = \(.summary.ok), want \($want)" else empty end),
      (if .summary.total != $want then "total = \(.summary.total), want \($want)" else empty end),
      (if (.raw | length) != $want then "raw has \(.raw | length) entries" else empty end),
      (if .summary.throughput_per_sec <= 0 then "throughput is not positive" else empty end),
      ((["new_order_ms","authz_ms","challenge_ms","finalize_ms","download_ms"][] as $p
        | select(.phases | has($p) | not) | "missing phases.\($p)")),
      ((["start_live_bytes","server_ready_live_bytes","after_bench_live_bytes","peak_live_bytes",
         "server_overhead_bytes","issuance_growth_bytes","per_issuance_growth_bytes",
         "issuance_alloc_bytes","per_issuance_alloc_bytes","total_alloc_count"][] as $m
        | select(.memory | has($m) | not) | "missing memory.\($m)")),
      (if .memory.per_issuance_alloc_bytes <= 0 then "allocator counted nothing" else empty end),
      ((["mean","p50","p95","p99","max","min"][] as $l
        | select(.summary.total_latency_ms | has($l) | not) | "missing total_latency_ms.\($l)"))
    ] | .[]' <<<"$out")
  if [[ -n "$problems" ]]; then
    echo "FAIL $label:"; sed 's/^/  /' <<<"$problems"; fail=1
  else
    echo "ok   $label: $(jq -c '[.summary.ok, .summary.throughput_per_sec]' <<<"$out")"
  fi
}

run() {  # run <label> <args...>
  local label=$1; shift
  local out rc=0
  out=$("$BENCH" --clients "$CLIENTS" --requests "$REQUESTS" --warmup 3 --output json "$@") || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "FAIL $label: exit code $rc"; fail=1
    [[ -n "$out" ]] && jq -c '.summary, .errors' <<<"$out" || true
    return
  fi
  check "$label" "$out" "$REQUESTS"
}

run "inprocess" --spawn inprocess
run "process" --spawn process
run "inprocess --verify-cert" --spawn inprocess --verify-cert --key-type ed25519
run "process --verify-cert" --spawn process --verify-cert --ca-key-type rsa:2048
run "inprocess dns-persist-01" --spawn inprocess --challenge dns-persist-01
run "process dns-persist-01" --spawn process --challenge dns-persist-01
run "inprocess dns-persist-01 --wildcard --verify-cert" --spawn inprocess \
  --challenge dns-persist-01 --wildcard --verify-cert
run "process dns-persist-01 --wildcard" --spawn process --challenge dns-persist-01 --wildcard
run "inprocess --ari --ocsp" --spawn inprocess --ari --ocsp
run "process --ari --ocsp" --spawn process --ari --ocsp
run "process --profile shortlived --ari" --spawn process --profile shortlived --ari

# Features that are not built, and combinations that cannot work (wildcards need DNS validation;
# an external server cannot use the bench's DNS server), must be refused with exit code 2, never
# silently replaced.
for args in "--wildcard" "--challenge dns-01" \
            "--challenge dns-persist-01 --server http://127.0.0.1:9/dir" "--nodes 2" \
            "--topology proxy" "--no-gossip" "--clients 0"; do
  rc=0
  # shellcheck disable=SC2086
  "$BENCH" $args --requests 1 >/dev/null 2>&1 || rc=$?
  if [[ $rc -ne 2 ]]; then echo "FAIL '$args' exited $rc, want 2"; fail=1; fi
done
[[ $fail -eq 0 ]] && echo "acme-bench smoke test passed"
exit $fail
