#!/usr/bin/env bash
# HTTPS/HTTP throughput ratio of `akamu serve` (docs/performance.md, "HTTPS"): two servers from
# the same binary, one plain and one with [tls] auto = true (SQLite in memory), and acme-bench
# --server against each, alternating HTTP and HTTPS runs, PAIRS pairs per client count.
# Prints one line per run and the median ratio per client count.
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

start() {  # start NAME PORT [--tls]
  local name=$1 port=$2
  shift 2
  "$AKAMU" init -o "$work/$name.toml" --data-dir "$work/$name" --listen "127.0.0.1:$port" \
    --http-validation-port "$responder" --allow-private-ips "$@" >/dev/null
  sed -i 's|^url = .*|url = "sqlite::memory:"|' "$work/$name.toml"
  "$AKAMU" serve -c "$work/$name.toml" >"$work/$name.log" 2>&1 &
  pids+=($!)
}
hport=$(free_port)
sport=$(free_port)
start http "$hport"
start https "$sport" --tls
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$hport/acme/directory" &&
    curl -fs --cacert "$work/https/ca.pem" -o /dev/null "https://127.0.0.1:$sport/acme/directory" && break
  sleep 0.2
done

run() {  # run URL CLIENTS [bench options]: prints issuances/s
  local url=$1 clients=$2
  shift 2
  "$BENCH" --server "$url" --responder-port "$responder" --clients "$clients" \
    --requests "$REQUESTS" --warmup 20 --output json "$@" | jq -r .summary.throughput_per_sec
}

for c in "${CLIENTS[@]}"; do
  ratios=()
  for i in $(seq "$PAIRS"); do
    h=$(run "http://127.0.0.1:$hport/acme/directory" "$c")
    s=$(run "https://127.0.0.1:$sport/acme/directory" "$c" --ca-bundle "$work/https/ca.pem")
    r=$(python3 -c "print(f'{$s/$h:.3f}')")
    ratios+=("$r")
    echo "clients=$c pair=$i http=$h/s https=$s/s ratio=$r"
  done
  echo "clients=$c median ratio $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(((PAIRS + 1) / 2))p")"
done
