#!/usr/bin/env bash
# `akamu incident add|list|remove` against the configured SQLite database, with the server
# running (the CLI and the server share the file), and its refusals.
set -euo pipefail
AKAMU=${1:?usage: incident.sh path/to/akamu}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port=$(free_port)
cfg="$work/akamu.toml"
"$AKAMU" init -o "$cfg" --data-dir "$work/data" --listen "127.0.0.1:$port" >/dev/null
"$AKAMU" serve -c "$cfg" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/acme/directory" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/acme/directory" | grep -q '"renewalInfo"' || fail "no renewalInfo"

# Add one of each scope; the serial is normalised (colons, case, leading zeros).
id1=$("$AKAMU" incident add -c "$cfg" --serial 00:0A:bC:12 --url https://status.example/1)
id2=$("$AKAMU" incident add -c "$cfg" --account "http://127.0.0.1:$port/acme/account/Acc1" \
  --url https://status.example/2)
id3=$("$AKAMU" incident add -c "$cfg" --profile shortlived --url https://status.example/3)
[[ -n "$id1" && -n "$id2" && -n "$id3" ]] || fail "add printed no id"
list=$("$AKAMU" incident list -c "$cfg")
echo "$list" | grep -qP "^$id1\t\S+\tserial\tabc12\thttps://status.example/1$" || fail "list: $list"
echo "$list" | grep -qP "^$id2\t\S+\taccount\tAcc1\thttps://status.example/2$" || fail "list: $list"
echo "$list" | grep -qP "^$id3\t\S+\tprofile\tshortlived\thttps://status.example/3$" || fail "list: $list"

"$AKAMU" incident remove -c "$cfg" "$id2"
"$AKAMU" incident list -c "$cfg" | grep -q "$id2" && fail "removed incident still listed"
if "$AKAMU" incident remove -c "$cfg" "$id2" 2>"$work/err"; then fail "removing twice succeeded"; fi
grep -q "no incident $id2" "$work/err" || fail "remove twice: $(cat "$work/err")"

# Refusals: exit status 2 for usage errors, nothing written.
expect_usage() {
  local rc=0
  "$AKAMU" incident add -c "$cfg" "$@" >"$work/out" 2>"$work/err" || rc=$?
  [[ $rc -ne 0 ]] || fail "accepted: $*"
  [[ ! -s "$work/out" ]] || fail "printed an id for: $*"
}
expect_usage --serial xyz --url https://x.example/
expect_usage --serial 00 --url https://x.example/
expect_usage --serial ab --profile p --url https://x.example/
expect_usage --url https://x.example/
expect_usage --serial ab
expect_usage --serial ab --url ftp://x.example/
[[ $("$AKAMU" incident list -c "$cfg" | wc -l) -eq 2 ]] || fail "a refused add wrote something"
if "$AKAMU" incident list -c "$work/missing.toml" 2>"$work/err"; then fail "missing config accepted"; fi
grep -q "missing.toml" "$work/err" || fail "missing config: $(cat "$work/err")"
echo "incident CLI: ok"
