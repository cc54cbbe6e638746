#!/usr/bin/env bash
# Server CPU per issuance with the metrics listener off and on (same binary, alternating runs):
# starts `akamu serve`, drives it with `acme-bench --server`, reads the server's utime+stime
# from /proc/PID/stat before and after, divides by the issuances.
#   contrib/performance/metrics_cost.sh build/bin/akamu build/bin/acme-bench [rounds] [requests] [clients]
set -euo pipefail
AKAMU=${1:?akamu binary}
BENCH=${2:?acme-bench binary}
ROUNDS=${3:-3}
REQUESTS=${4:-200}
CLIENTS=${5:-4}
work=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)

run() {  # $1 = off|on
  local mode=$1 port hport mport dir=$work/$1-$RANDOM
  port=$(free_port); hport=$(free_port); mport=$(free_port)
  mkdir -p "$dir"
  "$AKAMU" init -o "$dir/akamu.toml" --data-dir "$dir/data" --listen "127.0.0.1:$port" \
    --http-validation-port "$hport" --allow-private-ips >/dev/null
  sed -i 's/^level = .*/level = "warn"/' "$dir/akamu.toml"
  [[ $mode == on ]] && sed -i "/^\[server\]$/a metrics_listen_addr = \"127.0.0.1:$mport\"" "$dir/akamu.toml"
  "$AKAMU" serve -c "$dir/akamu.toml" >"$dir/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/acme/directory" >/dev/null 2>&1 && break; sleep 0.1; done
  # Warm-up (accounts, first connections) outside the measurement.
  "$BENCH" --server "http://127.0.0.1:$port/acme/directory" --responder-port "$hport" \
    --clients "$CLIENTS" --requests 20 --warmup 0 >/dev/null
  local before after
  before=$(cpu_ticks "$pid")
  "$BENCH" --server "http://127.0.0.1:$port/acme/directory" --responder-port "$hport" \
    --clients "$CLIENTS" --requests "$REQUESTS" --warmup 0 --output json >"$dir/bench.json"
  after=$(cpu_ticks "$pid")
  [[ $mode == on ]] && curl -fsS "http://127.0.0.1:$mport/metrics" >"$dir/metrics.txt"
  kill "$pid"; wait "$pid" || true; pid=""
  local ok
  ok=$(jq '.summary.ok' "$dir/bench.json")
  [[ -n $ok ]] || ok=$REQUESTS
  awk -v b="$before" -v a="$after" -v n="$ok" -v t="$tck" -v m="$mode" \
    'BEGIN { printf "%s %d issuances %.3f ms CPU/issuance\n", m, n, (a - b) / t * 1000 / n }'
}

for ((i = 0; i < ROUNDS; i++)); do run off; run on; done
