#!/usr/bin/env bash
# Interop: rate limits with a real client. A server whose CertificatesPerFQDNSet allows one
# certificate per 15 s for a set of names: lego gets a certificate, a second lego run for the
# same names is refused with 429 urn:ietf:params:acme:error:rateLimited, and after waiting the
# Retry-After the server gave (read from its audit log's ratelimit.deny line) lego succeeds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init lego_ratelimit "$@"
command -v lego >/dev/null || fail "lego not installed"

# `akamu init` writes every limit; this test narrows one of them.
akamu_configure() {
  local conf=$1
  sed -i '/^\[rate_limits.CertificatesPerFQDNSet\]/,/^\[/ {
    s/^burst = .*/burst = 1/
    s/^count = .*/count = 1/
    s/^period_secs = .*/period_secs = 15/
  }' "$conf"
  grep -A3 '^\[rate_limits.CertificatesPerFQDNSet\]' "$conf" | grep -qx 'period_secs = 15' ||
    fail "could not narrow CertificatesPerFQDNSet in $conf"
}
start_akamu

unset LEGO_CA_CERTIFICATES
LP=$WORK/lego
L=(lego --server "$DIR_URL" --accept-tos --email interop@example.com
   --path "$LP" --http --http.port "127.0.0.1:$HPORT")
for n in "${NAMES[@]}"; do L+=(--domains "$n"); done

log "lego run 1 for ${NAMES[*]}"
run_client lego-run1 "${L[@]}" run || fail "first lego run failed"
verify_chain "$LP/certificates/${NAMES[0]}.crt"

log "lego run 2 (must be rate limited)"
if run_client lego-run2 "${L[@]}" run; then
  fail "second certificate for the same names within 15 s was issued; expected rateLimited"
fi
grep -q 'urn:ietf:params:acme:error:rateLimited' "$WORK/lego-run2.log" ||
  fail "second lego run failed, but not with urn:ietf:params:acme:error:rateLimited"
grep -q '429' "$WORK/lego-run2.log" || fail "lego did not report HTTP 429"

# The server's answer carried Retry-After; its audit line records the same number.
retry=$(grep '"ratelimit.deny"' "$DATA/audit.log" | grep CertificatesPerFQDNSet | tail -1 |
  sed -n 's/.*\[retry-after \([0-9]*\) s\].*/\1/p')
[[ $retry =~ ^[0-9]+$ ]] || fail "no ratelimit.deny audit line with a retry-after: $(tail -3 "$DATA/audit.log")"
log "server said Retry-After $retry s; waiting that long"
sleep "$retry"

log "lego run 3 (after the window)"
run_client lego-run3 "${L[@]}" run || fail "lego run after Retry-After failed"
verify_chain "$LP/certificates/${NAMES[0]}.crt"
pass
