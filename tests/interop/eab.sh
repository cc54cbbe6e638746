#!/usr/bin/env bash
# Interop: external account binding (RFC 8555 section 7.3.4) with
# external_account_required = true. Without a binding lego is refused
# (externalAccountRequired); with a credential from `akamu eab create` (made
# while the server runs, on its database) lego --eab and certbot --eab-kid get
# certificates; a used single-use key is refused; `akamu eab list` shows the
# bound accounts and no HMAC key; a revoked key binds nothing more.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init eab "$@"
command -v lego >/dev/null || fail "lego not installed"
command -v certbot >/dev/null || fail "certbot not installed"
akamu_configure() { akamu_set external_account_required true; }
start_akamu
unset LEGO_CA_CERTIFICATES

eab_create() { "$AKAMU" eab create -c "$WORK/akamu.toml" --json "$@"; }
field() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

lego_run() { # PATH_DIR [extra args...]
  local dir=$1
  shift
  local args=(lego --server "$DIR_URL" --accept-tos --email eab@example.com --path "$dir"
    --http --http.port "127.0.0.1:$HPORT" "$@")
  for n in "${NAMES[@]}"; do args+=(--domains "$n"); done
  run_client "lego-$(basename "$dir")" "${args[@]}" run
}

log "lego without EAB (must be refused)"
if lego_run "$WORK/lego-none"; then fail "lego created an account without EAB"; fi
# lego reads meta.externalAccountRequired from the directory and stops before asking; the
# server's own refusal (403 externalAccountRequired) is in tests/integration/eab_test.cpp.
grep -qE 'externalAccountRequired|requires External Account Binding' "$WORK/lego-lego-none.log" ||
  fail "refusal without EAB is not about external account binding"

cred=$(eab_create) || fail "akamu eab create failed"
kid=$(field key_id <<<"$cred")
hmac=$(field hmac_key <<<"$cred")
log "lego --eab with key id $kid"
lego_run "$WORK/lego-eab" --eab --kid "$kid" --hmac "$hmac" || fail "lego --eab failed"
verify_chain "$WORK/lego-eab/certificates/${NAMES[0]}.crt"

log "lego --eab again with the used single-use key (must be refused)"
if lego_run "$WORK/lego-reuse" --eab --kid "$kid" --hmac "$hmac"; then
  fail "a used single-use EAB key created a second account"
fi
grep -q 'already been used' "$WORK/lego-lego-reuse.log" || fail "reuse refusal not explained"

cred2=$(eab_create --uses 2 --expires-in 1d) || fail "akamu eab create (2 uses) failed"
kid2=$(field key_id <<<"$cred2")
hmac2=$(field hmac_key <<<"$cred2")
CB=(--config-dir "$WORK/certbot/config" --work-dir "$WORK/certbot/work"
  --logs-dir "$WORK/certbot/logs")
domains=()
for n in "${NAMES[@]}"; do domains+=(-d "$n"); done
log "certbot --eab-kid $kid2"
run_client certbot certbot certonly --standalone \
  --http-01-port "$HPORT" --http-01-address 127.0.0.1 \
  --server "$DIR_URL" --register-unsafely-without-email --agree-tos \
  --non-interactive --no-random-sleep-on-renew --cert-name interop \
  --eab-kid "$kid2" --eab-hmac-key "$hmac2" "${CB[@]}" "${domains[@]}" ||
  { tail -n 60 "$WORK/certbot/logs/letsencrypt.log" >&2 2>/dev/null || true
    fail "certbot with EAB failed"; }
verify_chain "$WORK/certbot/config/live/interop/fullchain.pem"

list=$("$AKAMU" eab list -c "$WORK/akamu.toml") || fail "akamu eab list failed"
log "eab list:"$'\n'"$list"
grep -q "^$kid *bound *1/1 " <<<"$list" || fail "eab list does not show $kid bound 1/1"
grep -q "^$kid2 *bound *1/2 " <<<"$list" || fail "eab list does not show $kid2 bound 1/2"
if grep -qF -e "$hmac" -e "$hmac2" <<<"$list"; then fail "eab list shows an HMAC key"; fi
if grep -qF -e "$hmac" -e "$hmac2" "$WORK/akamu.log" "$DATA/audit.log"; then
  fail "an HMAC key reached the server log or the audit log"
fi

"$AKAMU" eab revoke -c "$WORK/akamu.toml" "$kid2" || fail "akamu eab revoke failed"
log "lego --eab with the revoked key (must be refused)"
if lego_run "$WORK/lego-revoked" --eab --kid "$kid2" --hmac "$hmac2"; then
  fail "a revoked EAB key created an account"
fi
grep -q 'revoked' "$WORK/lego-lego-revoked.log" || fail "revoked refusal not explained"
pass
