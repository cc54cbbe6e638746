#!/usr/bin/env bash
# Interop: uacme registers an account and gets a certificate for two names;
# http-01 is answered by a hook that writes key authorizations into a webroot
# served by python3's http.server on the validation port. Then uacme revokes
# the certificate.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init uacme "$@"
command -v uacme >/dev/null || fail "uacme not installed"
# uacme refuses identifiers without a dot ("identifier 'localhost' has no
# dots"), so use two subdomains of localhost (RFC 6761: still loopback).
NAMES=(a.localhost b.localhost)
start_akamu

# uacme has no CA option (man uacme: -c is its config dir); libcurl-gnutls reads the system
# store, so the HTTPS run gives it one that also trusts akamu's CA, in its own mount namespace.
U=(uacme)
if tls_mode; then
  system_trust_of "$DATA/ca.pem"
  U=("${TRUST_PREFIX[@]}" uacme)
fi

WEBROOT=$WORK/webroot
serve_webroot "$WEBROOT"
CHDIR=$WEBROOT/.well-known/acme-challenge
CONF=$WORK/uacme

# Hook: accept only http-01 (uacme then skips other challenge types).
cat >"$WORK/hook.sh" <<HOOK
#!/bin/sh
# args: method type ident token auth
echo "hook: \$1 \$2 \$3 \$4" >>"$WORK/hook.log"
[ "\$2" = http-01 ] || exit 1
case "\$1" in
  begin) printf '%s' "\$5" >"$CHDIR/\$4" ;;
  done|failed) rm -f "$CHDIR/\$4" ;;
  *) exit 1 ;;
esac
HOOK
chmod +x "$WORK/hook.sh"

log "uacme new (register account)"
run_client uacme-new "${U[@]}" -v -a "$DIR_URL" -c "$CONF" -y new ||
  fail "uacme new failed"
[[ -s $CONF/private/key.pem ]] || fail "uacme did not create an account key"

log "uacme issue ${NAMES[*]}"
run_client uacme-issue "${U[@]}" -v -a "$DIR_URL" -c "$CONF" -h "$WORK/hook.sh" \
  issue "${NAMES[@]}" || fail "uacme issue failed"
grep -q "^hook: begin http-01 ${NAMES[0]} " "$WORK/hook.log" ||
  fail "the hook was never asked to serve http-01 for ${NAMES[0]}"

crt=$CONF/${NAMES[0]}/cert.pem
key=$CONF/private/${NAMES[0]}/key.pem
[[ -s $crt && -s $key ]] || fail "uacme did not save $crt / $key"
verify_chain "$crt"
assert_keys_match "$crt" "$key"

# Revoke it (request signed by the account key) and check the audit log.
serial=$(cert_serial "$crt")
log "uacme revoke (signed with the account key, reason 5)"
run_client uacme-revoke "${U[@]}" -v -a "$DIR_URL" -c "$CONF" -r 5 revoke "$crt" ||
  fail "uacme revoke failed"
grep -q 'uacme: revoked ' "$WORK/uacme-revoke.log" ||
  fail "uacme revoke did not report success"
assert_audit_revoked "$serial"

pass
