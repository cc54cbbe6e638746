#!/usr/bin/env bash
# Interop: lego (built-in http-01 server) gets a certificate for two names,
# then revokes it; a second revocation of the same certificate must fail
# (RFC 8555 section 7.6: "alreadyRevoked") and the audit log must record the
# successful revocation.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init lego "$@"
command -v lego >/dev/null || fail "lego not installed"
start_akamu

if tls_mode; then
  export LEGO_CA_CERTIFICATES=$DATA/ca.pem   # lego's own CA option
else
  unset LEGO_CA_CERTIFICATES   # plain http: no TLS trust needed
fi
LP=$WORK/lego
L=(lego --server "$DIR_URL" --accept-tos --email interop@example.com
   --path "$LP" --http --http.port "127.0.0.1:$HPORT")
for n in "${NAMES[@]}"; do L+=(--domains "$n"); done

log "lego run for ${NAMES[*]}"
run_client lego-run "${L[@]}" run || fail "lego run failed"

crt=$LP/certificates/${NAMES[0]}.crt
key=$LP/certificates/${NAMES[0]}.key
[[ -s $crt && -s $key ]] || fail "lego did not save $crt / $key"
verify_chain "$crt"
assert_keys_match "$crt" "$key"
serial=$(cert_serial "$crt")
cp "$crt" "$WORK/issued.crt"

log "lego revoke (reason 4, superseded)"
run_client lego-revoke "${L[@]}" revoke --keep --reason 4 ||
  fail "lego revoke failed"
grep -qE 'Certificate was revoked|successfully revoked' "$WORK/lego-revoke.log" ||
  fail "lego revoke did not report success"

# The audit log must carry a successful cert.revoke event for it.
assert_audit_revoked "$serial"

# Revoking the same certificate again must be refused.
[[ -s $crt ]] || cp "$WORK/issued.crt" "$crt"
log "lego revoke again (must fail: already revoked)"
if run_client lego-revoke2 "${L[@]}" revoke --keep; then
  fail "second revocation of serial $serial succeeded; RFC 8555 7.6 requires an error (alreadyRevoked)"
fi
grep -qi 'alreadyRevoked' "$WORK/lego-revoke2.log" ||
  fail "second revocation failed, but not with urn:ietf:params:acme:error:alreadyRevoked"

pass
