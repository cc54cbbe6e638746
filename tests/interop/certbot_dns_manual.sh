#!/usr/bin/env bash
# Interop: certbot's manual authenticator with dns-01 hooks gets a certificate
# for example.test and *.example.test. The auth hook publishes the TXT record
# in pebble-challtestsrv (akamu's dns_resolver_addr), the cleanup hook removes
# it. The saved chain must verify and carry both names.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init certbot_dns_manual "$@"
command -v certbot >/dev/null || fail "certbot not installed"
NAMES=(example.test '*.example.test')

start_challtestsrv
akamu_configure() {
  akamu_set dns_resolver_addr "\"127.0.0.1:$DNSPORT\""
  akamu_set dns_timeout_secs 5
}
start_akamu

write_txt_tool "$WORK/txt"
# certbot passes the base name (a wildcard's too) in CERTBOT_DOMAIN and the
# TXT value in CERTBOT_VALIDATION.
cat >"$WORK/auth-hook" <<HOOK
#!/usr/bin/env bash
exec "$WORK/txt" set "_acme-challenge.\$CERTBOT_DOMAIN" "\$CERTBOT_VALIDATION"
HOOK
cat >"$WORK/cleanup-hook" <<HOOK
#!/usr/bin/env bash
exec "$WORK/txt" clear "_acme-challenge.\$CERTBOT_DOMAIN"
HOOK
chmod +x "$WORK/auth-hook" "$WORK/cleanup-hook"

CB=(--config-dir "$WORK/certbot/config" --work-dir "$WORK/certbot/work"
    --logs-dir "$WORK/certbot/logs")
domains=()
for n in "${NAMES[@]}"; do domains+=(-d "$n"); done

log "certbot certonly --manual --preferred-challenges dns for ${NAMES[*]}"
run_client certbot certbot certonly --manual --preferred-challenges dns \
  --manual-auth-hook "$WORK/auth-hook" --manual-cleanup-hook "$WORK/cleanup-hook" \
  --server "$DIR_URL" --register-unsafely-without-email --agree-tos \
  --non-interactive --no-random-sleep-on-renew --cert-name interop \
  "${CB[@]}" "${domains[@]}" ||
  { tail -n 60 "$WORK/certbot/logs/letsencrypt.log" >&2 2>/dev/null || true
    fail "certbot certonly failed"; }

live=$WORK/certbot/config/live/interop
[[ -s $live/cert.pem && -s $live/fullchain.pem && -s $live/privkey.pem ]] ||
  fail "certbot did not save cert.pem/fullchain.pem/privkey.pem in $live"
verify_chain "$live/fullchain.pem"
assert_keys_match "$live/cert.pem" "$live/privkey.pem"
# One TXT value per authorization, published before validation, cleaned after.
assert_txt_calls set _acme-challenge.example.test. 2
assert_txt_calls clear _acme-challenge.example.test. 1

pass
