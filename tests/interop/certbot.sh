#!/usr/bin/env bash
# Interop: certbot (standalone http-01 authenticator) gets a certificate for
# two names from akamu; the saved chain must verify against akamu's CA. Then
# certbot revokes it with a request signed by the certificate key.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init certbot "$@"
command -v certbot >/dev/null || fail "certbot not installed"
start_akamu
# certbot has no CA option: requests reads REQUESTS_CA_BUNDLE.
if tls_mode; then export REQUESTS_CA_BUNDLE=$DATA/ca.pem; fi

CB=(--config-dir "$WORK/certbot/config" --work-dir "$WORK/certbot/work"
    --logs-dir "$WORK/certbot/logs")
domains=()
for n in "${NAMES[@]}"; do domains+=(-d "$n"); done

log "certbot certonly --standalone for ${NAMES[*]}"
run_client certbot certbot certonly --standalone \
  --http-01-port "$HPORT" --http-01-address 127.0.0.1 \
  --server "$DIR_URL" --register-unsafely-without-email --agree-tos \
  --non-interactive --no-random-sleep-on-renew --cert-name interop \
  "${CB[@]}" "${domains[@]}" ||
  { tail -n 60 "$WORK/certbot/logs/letsencrypt.log" >&2 2>/dev/null || true
    fail "certbot certonly failed"; }

live=$WORK/certbot/config/live/interop
[[ -s $live/cert.pem && -s $live/fullchain.pem && -s $live/privkey.pem ]] ||
  fail "certbot did not save cert.pem/fullchain.pem/privkey.pem in $live"
verify_chain "$live/fullchain.pem"
verify_chain "$live/cert.pem"

assert_keys_match "$live/cert.pem" "$live/privkey.pem"

# Revoke it with a request signed by the certificate's own key (RFC 8555
# section 7.6, "jwk" variant: no account involved).
serial=$(cert_serial "$live/cert.pem")
log "certbot revoke (signed with the certificate key, reason keyCompromise)"
run_client certbot-revoke certbot revoke --server "$DIR_URL" --non-interactive \
  --no-delete-after-revoke --reason keycompromise \
  --cert-path "$live/cert.pem" --key-path "$live/privkey.pem" "${CB[@]}" ||
  fail "certbot revoke (certificate key) failed"
assert_audit_revoked "$serial"

pass
