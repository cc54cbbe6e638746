#!/usr/bin/env bash
# akamuctl against a real `akamu serve` with an [admin] socket: two certificates issued by lego
# (two accounts), found by name and account, shown and downloaded (serial and PEM compared with
# openssl), one revoked with keyCompromise (the CRL lists it, the audit log has the
# admin.cert.revoke line as operator:<user>), one account deactivated (its next ACME request is
# refused with unauthorized), stats and --json, and a uid the 0600 socket refuses.
set -euo pipefail
AKAMUCTL=${2:?usage: akamuctl.sh path/to/akamu path/to/akamuctl}
[[ $AKAMUCTL == /* ]] || AKAMUCTL=$PWD/$AKAMUCTL
source "$(dirname "${BASH_SOURCE[0]}")/../interop/lib.sh"
interop_init akamuctl "$1"
for tool in lego jq; do command -v "$tool" >/dev/null || fail "$tool not installed"; done

# The socket in a directory others may traverse, so that only the socket's own mode stops them.
SOCKDIR=$WORK/run
mkdir -m 0755 "$SOCKDIR"
chmod 0711 "$WORK"
SOCK=$SOCKDIR/admin.sock
akamu_configure() { printf '\n[admin]\nsocket = "%s"\n' "$SOCK" >>"$1"; }
start_akamu
[[ -S $SOCK ]] || fail "no admin socket at $SOCK"
[[ $(stat -c %a "$SOCK") == 600 ]] || fail "admin socket mode is $(stat -c %a "$SOCK"), not 600"
ctl() { "$AKAMUCTL" --socket "$SOCK" "$@"; }
me=$(id -un)

lego_for() {  # lego_for DIR NAME...: one account per DIR
  local dir=$1 n
  shift
  L=(lego --server "$DIR_URL" --accept-tos --email "ops@example.com" --path "$WORK/$dir"
     --http --http.port "127.0.0.1:$HPORT")
  for n in "$@"; do L+=(--domains "$n"); done
}
unset LEGO_CA_CERTIFICATES
lego_for lego1 localhost www.localhost
run_client lego1 "${L[@]}" run || fail "lego run 1 failed"
lego_for lego2 www.localhost
run_client lego2 "${L[@]}" run || fail "lego run 2 failed"
crt1=$WORK/lego1/certificates/localhost.crt
crt2=$WORK/lego2/certificates/www.localhost.crt
[[ -s $crt1 && -s $crt2 ]] || fail "lego saved no certificates"
norm() { tr 'A-F' 'a-f' | sed 's/^0*//'; }
serial1=$(cert_serial "$crt1" | norm)
serial2=$(cert_serial "$crt2" | norm)

# ---- list and search
all=$(ctl --json cert list)
[[ $(jq '.certificates | length' <<<"$all") == 2 ]] || fail "cert list: $all"
# (Newest first by issue time in seconds: both may share one; the store contract tests the order.)
[[ $(jq -r '[.certificates[].serial] | sort | join(",")' <<<"$all") == \
   $(printf '%s\n' "$serial1" "$serial2" | sort | paste -sd,) ]] || fail "cert list serials: $all"
acct1=$(jq -r --arg s "$serial1" '.certificates[] | select(.serial == $s) | .account' <<<"$all")
acct2=$(jq -r --arg s "$serial2" '.certificates[] | select(.serial == $s) | .account' <<<"$all")
[[ -n $acct1 && -n $acct2 && $acct1 != "$acct2" ]] || fail "accounts: $acct1 / $acct2"
by_name=$(ctl --json cert list --name localhost | jq -r '[.certificates[].serial] | join(",")')
[[ $by_name == "$serial1" ]] || fail "--name localhost found '$by_name', want $serial1"
by_name=$(ctl --json cert list --name www.localhost | jq -r '.certificates | length')
[[ $by_name == 2 ]] || fail "--name www.localhost found $by_name, want 2"
by_suffix=$(ctl --json cert list --name '*.localhost' | jq -r '.certificates | length')
[[ $by_suffix == 2 ]] || fail "--name *.localhost found $by_suffix, want 2"
by_acct=$(ctl --json cert list --account "$acct2" | jq -r '[.certificates[].serial] | join(",")')
[[ $by_acct == "$serial2" ]] || fail "--account found '$by_acct', want $serial2"
soon=$(ctl --json cert list --expires-within 3650d | jq -r '.certificates | length')
[[ $soon == 2 ]] || fail "--expires-within 3650d found $soon"
table=$(ctl cert list --name localhost)
grep -q "^SERIAL  *STATUS  *NOT AFTER  *ACCOUNT  *NAMES$" <<<"$table" || fail "table: $table"
grep -q "^$serial1  *valid  *20[0-9-]* [0-9:]*  *$acct1  *localhost, www" <<<"$table" ||
  fail "table row: $table"
awk 'length > 100 { exit 1 }' <<<"$table" || fail "table wider than 100 columns: $table"

# ---- show and download (by serial with leading zeros and upper case, and by id)
shown=$(ctl --json cert show "00$(tr 'a-f' 'A-F' <<<"$serial1")")
[[ $(jq -r .serial <<<"$shown") == "$serial1" && $(jq -r .status <<<"$shown") == valid ]] ||
  fail "cert show: $shown"
id1=$(jq -r .id <<<"$shown")
ctl cert show "$id1" | grep -q "^serial: *$serial1$" || fail "cert show by id: $(ctl cert show "$id1")"
ctl cert download "$id1" -o "$WORK/down.pem" || fail "cert download failed"
[[ $(openssl x509 -in "$WORK/down.pem" -noout -fingerprint -sha256) == \
   $(openssl x509 -in "$crt1" -noout -fingerprint -sha256) ]] || fail "downloaded leaf differs"
[[ $(grep -c 'BEGIN CERTIFICATE' "$WORK/down.pem") -ge 2 ]] || fail "download is not the chain"

# ---- revoke through the admin API
ctl cert revoke "$serial1" --reason keyCompromise >"$WORK/revoke.out" || fail "revoke failed"
grep -q "^status: *revoked$" "$WORK/revoke.out" || fail "revoke output: $(cat "$WORK/revoke.out")"
grep -q "^reason: *keyCompromise (1)$" "$WORK/revoke.out" || fail "reason: $(cat "$WORK/revoke.out")"
[[ $(ctl --json cert show "$serial1" | jq -r .status) == revoked ]] || fail "not revoked in show"
set +e
ctl cert revoke "$serial1" --reason keyCompromise 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "already revoked" "$WORK/err" || fail "second revoke: rc=$rc $(cat "$WORK/err")"
ctl cert revoke "$serial2" --reason certificateHold 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "HTTP 400" "$WORK/err" || fail "certificateHold: rc=$rc $(cat "$WORK/err")"
set -e
# The ACME side: the certificate's CRL (its distribution point) lists it, with the reason.
cdp=$(openssl x509 -in "$crt1" -noout -ext crlDistributionPoints | grep -o 'URI:[^ ]*' | head -1)
cdp=${cdp#URI:}
[[ -n $cdp ]] || fail "certificate has no CRL distribution point"
listed=
for ((i = 0; i < 80; i++)); do
  if curl -sf --max-time 2 -o "$WORK/crl.der" "$cdp" &&
     openssl crl -inform DER -in "$WORK/crl.der" -noout -text >"$WORK/crl.txt" 2>/dev/null &&
     grep -qi "Serial Number: 0*$serial1$" "$WORK/crl.txt"; then
    listed=1
    break
  fi
  sleep 0.25
done
[[ -n $listed ]] || fail "the CRL at $cdp does not list $serial1: $(cat "$WORK/crl.txt" 2>/dev/null)"
grep -q "Key Compromise" "$WORK/crl.txt" || fail "CRL entry has no keyCompromise reason"
line=$(grep '"admin.cert.revoke"' "$DATA/audit.log") || fail "no admin.cert.revoke audit line"
jq -e --arg p "operator:$me" --arg s "$serial1" \
  'select(.principal == $p and .outcome == "success" and (.detail | contains($s)))' \
  <<<"$line" >/dev/null || fail "audit line: $line"
tail_out=$(ctl audit tail --event admin.cert.revoke)
grep -q "admin.cert.revoke  *success  *operator:$me  *serial ${serial1:0:16}" <<<"$tail_out" ||
  fail "audit tail: $tail_out"
[[ $(ctl --json audit tail --event admin.cert.revoke -n 5 | jq '.events | length') == 1 ]] ||
  fail "audit tail --json"

# ---- accounts and orders
ctl account show "$acct2" | grep -q "^status: *valid$" || fail "account show"
orders=$(ctl --json account orders "$acct2")
[[ $(jq '.orders | length' <<<"$orders") == 1 && $(jq -r '.orders[0].status' <<<"$orders") == valid ]] ||
  fail "account orders: $orders"
order2=$(jq -r '.orders[0].id' <<<"$orders")
ctl order show "$order2" | grep -q "^names: *www.localhost$" || fail "order show: $(ctl order show "$order2")"
ctl account deactivate "$acct2" | grep -q "^status: *deactivated$" || fail "deactivate"
grep -q "\"admin.account.deactivate\".*\"principal\":\"operator:$me\"" "$DATA/audit.log" ||
  fail "no admin.account.deactivate audit line"
set +e
ctl account deactivate "$acct2" 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "HTTP 409" "$WORK/err" || fail "second deactivate: rc=$rc $(cat "$WORK/err")"
set -e
# The account's next ACME request is refused.
lego_for lego2 www.localhost
if run_client lego2-again "${L[@]}" run; then fail "a deactivated account got a certificate"; fi
grep -qi "unauthorized" "$WORK/lego2-again.log" || fail "lego was refused, but not with unauthorized"

# ---- stats
stats=$(ctl --json stats)
jq -e '.accounts.valid == 1 and .accounts.deactivated == 1 and .certificates.valid == 1 and
       .certificates.revoked == 1 and .certificates.expired == 0 and
       .certificates.issued_last_24h == 2 and .orders.valid == 2' <<<"$stats" >/dev/null ||
  fail "stats: $stats"
ctl stats | grep -q "^certificates  *revoked  *1$" || fail "stats table: $(ctl stats)"

# ---- errors: unknown id (1), usage (2), another uid (1, permission denied)
set +e
ctl cert show no-such-cert 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "no certificate has the id or serial no-such-cert" "$WORK/err" ||
  fail "unknown id: rc=$rc $(cat "$WORK/err")"
ctl account show no-such-account 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "HTTP 404" "$WORK/err" || fail "unknown account: rc=$rc"
ctl cert list --limit 5000 2>/dev/null; rc=$?
[[ $rc == 2 ]] || fail "usage error: rc=$rc"
ctl frobnicate 2>/dev/null; rc=$?
[[ $rc == 2 ]] || fail "unknown command: rc=$rc"
if [[ $(id -u) == 0 ]]; then
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$AKAMUCTL" --socket "$SOCK" stats \
    >"$WORK/out" 2>"$WORK/err"; rc=$?
  [[ $rc == 1 ]] && grep -q "Permission denied" "$WORK/err" && [[ ! -s $WORK/out ]] ||
    fail "uid nobody: rc=$rc $(cat "$WORK/err" "$WORK/out")"
  log "uid nobody refused: $(cat "$WORK/err")"
else
  log "not root: the other-uid check needs setpriv as root (skipped)"
fi
set -e
pass
