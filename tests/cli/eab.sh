#!/usr/bin/env bash
# `akamu eab create|list|revoke` on a configured SQLite file, before any server ran: the key is
# printed once (create), never by list; bad flags and unknown or revoked key ids are refused
# with exit status 2 (usage) or 1 (refused).
set -euo pipefail
AKAMU=${1:?usage: eab.sh path/to/akamu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
conf=$work/akamu.toml
"$AKAMU" init -o "$conf" --data-dir "$work/data" --listen 127.0.0.1:1 >/dev/null

out=$("$AKAMU" eab create -c "$conf" --uses 2 --expires-in 7d --profiles default,shortlived \
  --identifiers 'Example.COM,*.example.org,192.0.2.1')
kid=$(sed -n 's/^key id: *//p' <<<"$out")
key=$(sed -n 's/^hmac key: *//p' <<<"$out")
[[ $kid =~ ^[A-Za-z0-9_-]{22}$ ]] || fail "key id is not 128-bit base64url: $out"
[[ $key =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "HMAC key is not 256-bit base64url: $out"
grep -q "lego --eab --kid $kid --hmac $key" <<<"$out" || fail "no lego command line: $out"

json=$("$AKAMU" eab create -c "$conf" --uses unlimited --json)
python3 - "$json" <<'PY' || fail "create --json: $json"
import json, sys
o = json.loads(sys.argv[1])
assert o["max_uses"] is None and o["state"] == "unused" and len(o["hmac_key"]) == 43, o
PY
kid2=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["key_id"])' "$json")

list=$("$AKAMU" eab list -c "$conf")
grep -q "^$kid *unused *0/2 .*default,shortlived *example.com,\*.example.org,192.0.2.1 *-$" \
  <<<"$list" || fail "list: $list"
grep -q "^$kid2 *unused *0/unlimited *never" <<<"$list" || fail "list: $list"
grep -qF "$key" <<<"$list" && fail "list shows an HMAC key"
"$AKAMU" eab list -c "$conf" --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert len(rows) == 2 and all("hmac_key" not in r for r in rows), rows' || fail "list --json"

"$AKAMU" eab revoke -c "$conf" "$kid" >/dev/null || fail "revoke failed"
"$AKAMU" eab list -c "$conf" | grep -q "^$kid *revoked" || fail "not revoked in list"
set +e
"$AKAMU" eab revoke -c "$conf" "$kid" 2>"$work/err"; rc=$?
[[ $rc == 1 ]] && grep -q "already revoked" "$work/err" || fail "second revoke: rc=$rc $(cat "$work/err")"
"$AKAMU" eab revoke -c "$conf" no-such-kid 2>"$work/err"; rc=$?
[[ $rc == 1 ]] && grep -q "no key id no-such-kid" "$work/err" || fail "unknown kid: rc=$rc $(cat "$work/err")"
for bad in "--uses 0" "--uses many" "--expires-in 5x" "--expires-in -1" "--profiles a/b" \
  "--identifiers *.com" "--identifiers a..b"; do
  # shellcheck disable=SC2086
  "$AKAMU" eab create -c "$conf" $bad >"$work/out" 2>"$work/err"; rc=$?
  [[ $rc == 2 && ! -s $work/out ]] || fail "create $bad: rc=$rc out=$(cat "$work/out")"
done
"$AKAMU" eab create -c "$work/missing.toml" 2>"$work/err"; rc=$?
[[ $rc == 1 ]] || fail "missing config: rc=$rc"
set -e
[[ $("$AKAMU" eab list -c "$conf" | wc -l) == 3 ]] || fail "a refused create wrote a key"
echo "cli eab: OK"
