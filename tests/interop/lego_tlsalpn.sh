#!/usr/bin/env bash
# Interop: lego answers tls-alpn-01 with its built-in TLS server on
# 127.0.0.1:TPORT and gets a certificate for two names under localhost (which
# the validator resolves to loopback, RFC 6761); akamu's
# tls_alpn_validation_port points there. The chain must verify and carry both
# names.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init lego_tlsalpn "$@"
command -v lego >/dev/null || fail "lego not installed"

TPORT=$(free_port)
while [[ $TPORT == "$PORT" || $TPORT == "$HPORT" ]]; do TPORT=$(free_port); done
akamu_configure() {
  akamu_set tls_alpn_validation_port "$TPORT"
  akamu_set http_validation_allow_private_ips true
}
start_akamu

unset LEGO_CA_CERTIFICATES   # plain http: no TLS trust needed
LP=$WORK/lego
L=(lego --server "$DIR_URL" --accept-tos --email interop@example.com --path "$LP"
   --tls --tls.port "127.0.0.1:$TPORT")
for n in "${NAMES[@]}"; do L+=(--domains "$n"); done

log "lego run (tls-alpn-01 on 127.0.0.1:$TPORT) for ${NAMES[*]}"
run_client lego-run "${L[@]}" run || fail "lego run failed"
grep -qi 'use tls-alpn-01 solver' "$WORK/lego-run.log" || fail "lego did not use tls-alpn-01"

crt=$LP/certificates/${NAMES[0]}.crt
key=$LP/certificates/${NAMES[0]}.key
[[ -s $crt && -s $key ]] || fail "lego did not save $crt / $key"
verify_chain "$crt"
assert_keys_match "$crt" "$key"

pass
