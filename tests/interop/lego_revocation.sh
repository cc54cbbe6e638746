#!/usr/bin/env bash
# Interop: revocation information as relying parties see it. lego gets a certificate; the CRL
# named in its CRL Distribution Points verifies against the CA and does not list it, and
# `openssl ocsp` says good; `lego revoke` revokes it; within seconds the CRL lists it
# (`openssl verify -crl_check` says "certificate revoked") and OCSP says revoked.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init lego_revocation "$@"
command -v lego >/dev/null || fail "lego not installed"
akamu_configure() {
  # ocsp_url is written commented out by `akamu init` (OCSP is opt-in).
  sed -i "s|^# ocsp_url = .*|ocsp_url = \"http://127.0.0.1:$PORT/ocsp\"|" "$1"
  grep -q '^ocsp_url = ' "$1" || fail "could not enable ocsp_url"
}
start_akamu

unset LEGO_CA_CERTIFICATES
LP=$WORK/lego
L=(lego --server "$DIR_URL" --accept-tos --email interop@example.com
   --path "$LP" --http --http.port "127.0.0.1:$HPORT")
for n in "${NAMES[@]}"; do L+=(--domains "$n"); done
run_client lego-run "${L[@]}" run || fail "lego run failed"
crt=$LP/certificates/${NAMES[0]}.crt
verify_chain "$crt"
openssl x509 -in "$crt" -out "$WORK/leaf.pem"
serial=$(cert_serial "$WORK/leaf.pem")

crl_url=$(openssl x509 -in "$WORK/leaf.pem" -noout -ext crlDistributionPoints |
  sed -n 's/^ *URI://p' | head -n1)
[[ $crl_url == "http://127.0.0.1:$PORT/crl/0" ]] || fail "unexpected CRL URL '$crl_url'"
ocsp_url=$(openssl x509 -in "$WORK/leaf.pem" -noout -ocsp_uri)
[[ $ocsp_url == "http://127.0.0.1:$PORT/ocsp" ]] || fail "unexpected OCSP URL '$ocsp_url'"

# fetch_crl: the current CRL as $WORK/crl.pem, its signature checked by openssl.
fetch_crl() {
  curl -sf --max-time 5 -o "$WORK/crl.der" "$crl_url" || fail "GET $crl_url failed"
  local out
  out=$(openssl crl -inform DER -in "$WORK/crl.der" -CAfile "$DATA/ca.pem" -noout 2>&1) ||
    fail "openssl crl rejected the CRL: $out"
  [[ $out == *"verify OK"* ]] || fail "openssl crl did not verify the CRL: $out"
  openssl crl -inform DER -in "$WORK/crl.der" -out "$WORK/crl.pem"
}
crl_check() {
  openssl verify -crl_check -CRLfile "$WORK/crl.pem" -CAfile "$DATA/ca.pem" "$WORK/leaf.pem" 2>&1
}
ocsp_check() {
  openssl ocsp -issuer "$DATA/ca.pem" -cert "$WORK/leaf.pem" -url "$ocsp_url" \
    -CAfile "$DATA/ca.pem" 2>&1
}

fetch_crl
out=$(crl_check) || fail "openssl verify -crl_check failed before revocation: $out"
[[ $out == *": OK" ]] || fail "unexpected verify output: $out"
out=$(ocsp_check) || fail "openssl ocsp failed: $out"
[[ $out == *": good"* && $out == *"Response verify OK"* ]] || fail "OCSP not good: $out"
log "before revocation: CRL does not list $serial, OCSP good"

run_client lego-revoke "${L[@]}" revoke --keep --reason 1 || fail "lego revoke failed"

# Bounded poll on the condition: the CRL is regenerated within seconds of a revocation.
listed=""
for ((i = 0; i < 100; i++)); do
  fetch_crl
  if out=$(crl_check); then :; fi
  if [[ $out == *"certificate revoked"* ]]; then
    listed=yes
    break
  fi
  sleep 0.1
done
[[ -n $listed ]] || fail "the CRL does not list $serial 10 s after the revocation: $out"
openssl crl -in "$WORK/crl.pem" -noout -text | grep -q "Key Compromise" ||
  fail "the CRL entry has no keyCompromise reason"
out=$(ocsp_check) || fail "openssl ocsp failed after revocation: $out"
[[ $out == *": revoked"* && $out == *"keyCompromise"* ]] || fail "OCSP not revoked: $out"
log "after revocation: CRL lists $serial (keyCompromise), OCSP revoked"
pass
