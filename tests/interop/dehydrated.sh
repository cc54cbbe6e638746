#!/usr/bin/env bash
# Interop: dehydrated (bash + curl + openssl) registers an account and gets
# one certificate for two names via http-01; the challenge files land in a
# webroot served by python3's http.server on the validation port.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init dehydrated "$@"
command -v dehydrated >/dev/null || fail "dehydrated not installed"
start_akamu

WEBROOT=$WORK/webroot
serve_webroot "$WEBROOT"
BASE=$WORK/dehydrated
mkdir -p "$BASE"
cat >"$BASE/config" <<CONF
CA="$DIR_URL"
BASEDIR="$BASE"
WELLKNOWN="$WEBROOT/.well-known/acme-challenge"
CHALLENGETYPE="http-01"
CONTACT_EMAIL="interop@example.com"
RENEW_DAYS="30"
CONF
# dehydrated passes CURL_OPTS to every curl call.
if tls_mode; then printf 'CURL_OPTS="--cacert %s"\n' "$DATA/ca.pem" >>"$BASE/config"; fi
D=(dehydrated --config "$BASE/config")

log "dehydrated --register --accept-terms"
run_client dehydrated-register "${D[@]}" --register --accept-terms ||
  fail "dehydrated --register failed"

doms=()
for n in "${NAMES[@]}"; do doms+=(--domain "$n"); done
log "dehydrated --cron for ${NAMES[*]} (one certificate)"
run_client dehydrated-cron "${D[@]}" --cron "${doms[@]}" ||
  fail "dehydrated --cron failed"

dir=$BASE/certs/${NAMES[0]}
[[ -s $dir/cert.pem && -s $dir/fullchain.pem && -s $dir/privkey.pem ]] ||
  fail "dehydrated did not save cert.pem/fullchain.pem/privkey.pem in $dir"
verify_chain "$dir/fullchain.pem"
verify_chain "$dir/cert.pem"
assert_keys_match "$dir/cert.pem" "$dir/privkey.pem"

pass
