#!/usr/bin/env bash
# Interop: acme-tiny signs a CSR carrying two names via http-01 (challenge
# files in a webroot served by python3's http.server on the validation port)
# and prints the chain, which must verify against akamu's CA.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init acme-tiny "$@"
command -v acme-tiny >/dev/null || fail "acme-tiny not installed"
start_akamu

WEBROOT=$WORK/webroot
serve_webroot "$WEBROOT"

log "generating account key (RSA 2048), domain key and CSR for ${NAMES[*]}"
openssl genrsa -out "$WORK/account.key" 2048 2>/dev/null || fail "genrsa failed"
openssl genrsa -out "$WORK/domain.key" 2048 2>/dev/null || fail "genrsa failed"
san=$(printf 'DNS:%s,' "${NAMES[@]}")
openssl req -new -key "$WORK/domain.key" -subj "/CN=${NAMES[0]}" \
  -addext "subjectAltName=${san%,}" -out "$WORK/domain.csr" 2>/dev/null ||
  fail "cannot create CSR"

log "acme-tiny"
# acme-tiny has no CA option (--ca is the deprecated directory URL); Python's ssl reads
# SSL_CERT_FILE.
if tls_mode; then export SSL_CERT_FILE=$DATA/ca.pem; fi
CLIENT_STDOUT=$WORK/signed_chain.crt run_client acme-tiny acme-tiny \
  --account-key "$WORK/account.key" --csr "$WORK/domain.csr" \
  --acme-dir "$WEBROOT/.well-known/acme-challenge" --disable-check \
  --contact mailto:interop@example.com --directory-url "$DIR_URL" ||
  fail "acme-tiny failed"

verify_chain "$WORK/signed_chain.crt"
assert_keys_match "$WORK/signed_chain.crt" "$WORK/domain.key"

pass
