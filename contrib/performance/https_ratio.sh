#!/usr/bin/env bash
# HTTPS/HTTP throughput ratio of `akamu serve` (docs/performance.md, "HTTPS"): two servers from
# the same binary, one plain and one with [tls] auto = true (SQLite in memory), and acme-bench
# --server against each, alternating HTTP and HTTPS runs, PAIRS pairs per client count.
# Prints one line per run and the median ratio per client count.
# With BASE_AKAMU=/path/to/older/akamu it measures instead the plain-HTTP path before/after: the
# "http" server runs BASE_AKAMU, the other runs AKAMU, also over plain HTTP (ratio new/base).
#   contrib/performance/https_ratio.sh build/bin/akamu build/bin/acme-bench [PAIRS] [REQUESTS] [CLIENTS...]
set -euo pipefail
AKAMU=$(realpath "${1:?akamu binary}")
BENCH=$(realpath "${2:?acme-bench binary}")
PAIRS=${3:-3}
REQUESTS=${4:-300}
shift $(($# < 4 ? $# : 4))
CLIENTS=("$@")
[[ ${#CLIENTS[@]} -gt 0 ]] || CLIENTS=(1 10)
unset REQUESTS_CA_BUNDLE SSL_CERT_FILE CURL_CA_BUNDLE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
responder=$(free_port)

start() {  # start NAME PORT BINARY [--tls]
  local name=$1 port=$2 bin=$3
  shift 3
  "$bin" init -o "$work/$name.toml" --data-dir "$work/$name" --listen "127.0.0.1:$port" \
    --http-validation-port "$responder" --allow-private-ips "$@" >/dev/null
  sed -i 's|^url = .*|url = "sqlite::memory:"|' "$work/$name.toml"
  "$bin" serve -c "$work/$name.toml" >"$work/$name.log" 2>&1 &
  pids+=($!)
}
hport=$(free_port)
sport=$(free_port)
if [[ -n ${BASE_AKAMU:-} ]]; then
  start http "$hport" "$(realpath "$BASE_AKAMU")"
  start https "$sport" "$AKAMU"
  scheme=http trust=()
else
  start http "$hport" "$AKAMU"
  start https "$sport" "$AKAMU" --tls
  scheme=https trust=(--ca-bundle "$work/https/ca.pem")
fi
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$hport/acme/directory" &&
    curl -fs --cacert "$work/https/ca.pem" -o /dev/null "$scheme://127.0.0.1:$sport/acme/directory" && break
  sleep 0.2
done

# CPU time (user + system, clock ticks) the server process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick_ms=$((1000 / $(getconf CLK_TCK)))

run() {  # run PID URL CLIENTS [bench options]: prints "issuances/s server-CPU-ms/issuance"
  local pid=$1 url=$2 clients=$3 before after tput
  shift 3
  before=$(cpu_ticks "$pid")
  tput=$("$BENCH" --server "$url" --responder-port "$responder" --clients "$clients" \
    --requests "$REQUESTS" --warmup 20 --output json "$@" | jq -r .summary.throughput_per_sec)
  after=$(cpu_ticks "$pid")
  echo "$tput $(python3 -c "print(f'{($after - $before) * $tick_ms / ($REQUESTS + 20):.3f}')")"
}

a_name=http b_name=https
[[ -n ${BASE_AKAMU:-} ]] && a_name=base-http b_name=new-http
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
for c in "${CLIENTS[@]}"; do
  ratios=() cpu_ratios=()
  for i in $(seq "$PAIRS"); do
    read -r h hcpu < <(run "${pids[0]}" "http://127.0.0.1:$hport/acme/directory" "$c")
    read -r s scpu < <(run "${pids[1]}" "$scheme://127.0.0.1:$sport/acme/directory" "$c" "${trust[@]}")
    r=$(python3 -c "print(f'{$s/$h:.3f}')")
    cr=$(python3 -c "print(f'{$scpu/$hcpu:.3f}')")
    ratios+=("$r")
    cpu_ratios+=("$cr")
    echo "clients=$c pair=$i $a_name=$h/s (${hcpu} ms CPU/issuance) $b_name=$s/s (${scpu} ms CPU/issuance) throughput ratio=$r CPU ratio=$cr"
  done
  echo "clients=$c median throughput ratio $b_name/$a_name $(median "${ratios[@]}"), median server CPU per issuance ratio $(median "${cpu_ratios[@]}")"
done
