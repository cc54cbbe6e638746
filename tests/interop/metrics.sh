#!/usr/bin/env bash
# Interop: the metrics listener of a real `akamu serve`, scraped after lego got two
# certificates. The exposition must pass `promtool check metrics` (format and Prometheus'
# naming lints), count the certificates, and the readiness probe must say ready on both
# listeners.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init metrics "$@"
command -v lego >/dev/null || fail "lego not installed"
command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus)"

MPORT_METRICS=$(free_port)
while [[ $MPORT_METRICS == "$PORT" || $MPORT_METRICS == "$HPORT" ]]; do MPORT_METRICS=$(free_port); done
akamu_configure() {
  grep -q '^\[server\]$' "$1" || fail "akamu init wrote no [server] section"
  sed -i "/^\[server\]$/a metrics_listen_addr = \"127.0.0.1:$MPORT_METRICS\"" "$1"
  log "config: metrics_listen_addr = 127.0.0.1:$MPORT_METRICS"
}
start_akamu
METRICS=http://127.0.0.1:$MPORT_METRICS

unset LEGO_CA_CERTIFICATES   # plain http: no TLS trust needed
issued=0
# Two runs, each with an account of its own: two certificates.
for run in 0 1; do
  L=(lego --server "$DIR_URL" --accept-tos --email interop@example.com
     --path "$WORK/lego-$run" --http --http.port "127.0.0.1:$HPORT")
  for n in "${NAMES[@]}"; do L+=(--domains "$n"); done
  log "lego run $run for ${NAMES[*]}"
  run_client "lego-run-$run" "${L[@]}" run || fail "lego run $run failed"
  verify_chain "$WORK/lego-$run/certificates/${NAMES[0]}.crt"
  issued=$((issued + 1))
done

curl -sf --max-time 5 -o "$WORK/metrics.txt" -D "$WORK/metrics.headers" "$METRICS/metrics" ||
  fail "GET $METRICS/metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/metrics.headers" ||
  fail "metrics content type: $(grep -i content-type "$WORK/metrics.headers")"
if ! promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.log" 2>&1; then
  cat "$WORK/promtool.log" >&2
  fail "promtool check metrics failed"
fi
[[ ! -s $WORK/promtool.log ]] || { cat "$WORK/promtool.log" >&2; fail "promtool complained"; }
log "promtool check metrics: clean ($(grep -vc '^#' "$WORK/metrics.txt") samples)"

value() { awk -v s="$1" '$1 == s { print $2 }' "$WORK/metrics.txt"; }
certs=$(value new_certificates_total)
[[ -n $certs ]] || fail "no new_certificates_total sample"
awk -v c="$certs" -v n="$issued" 'BEGIN { exit !(c >= n) }' ||
  fail "new_certificates_total is $certs, want >= $issued"
finalized=$(value 'response_time_count{code="200",endpoint="finalize",method="POST"}')
[[ -n $finalized ]] || fail "no finalize series: $(grep '^response_time_count' "$WORK/metrics.txt")"
valid=$(awk '$1 ~ /^validation_latency_count\{challenge_type="http-01",problem_type="",result="valid"\}$/ { print $2 }' "$WORK/metrics.txt")
awk -v v="${valid:-0}" -v n="$issued" 'BEGIN { exit !(v >= n) }' ||
  fail "http-01 validations counted: ${valid:-none}, want >= $issued"
expiry=$(value ca_certificate_expiry_seconds)
awk -v e="${expiry:-0}" 'BEGIN { exit !(e > 86400) }' || fail "ca_certificate_expiry_seconds: $expiry"
log "new_certificates_total=$certs, finalize 200s=$finalized, http-01 valid=$valid"

for base in "$METRICS" "http://127.0.0.1:$PORT"; do
  body=$(curl -s --max-time 5 -w '\n%{http_code}' "$base/health/ready")
  code=${body##*$'\n'}
  [[ $code == 200 ]] || fail "$base/health/ready answered $code: $body"
  echo "$body" | grep -q '"status":"ready"' || fail "$base/health/ready: $body"
  echo "$body" | grep -q '"database":"ok"' || fail "$base/health/ready: $body"
  curl -sf --max-time 5 "$base/health/live" | grep -q '"status":"live"' ||
    fail "$base/health/live is not live"
done
pass
