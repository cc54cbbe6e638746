#!/usr/bin/env bash
# `akamu ratelimit override set|list|remove`, `pauses list` and `unpause` against the configured
# SQLite database with the server running (the CLI and the server share the file), and their
# refusals.
set -euo pipefail
AKAMU=${1:?usage: ratelimit.sh path/to/akamu}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

port=$(free_port)
cfg="$work/akamu.toml"
"$AKAMU" init -o "$cfg" --data-dir "$work/data" --listen "127.0.0.1:$port" >/dev/null
grep -q '^\[rate_limits.NewOrdersPerAccount\]' "$cfg" || fail "akamu init wrote no rate limits"
"$AKAMU" serve -c "$cfg" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/acme/directory" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/acme/directory" >/dev/null || fail "server not up"

# Set (by account URL or id), replace, list.
"$AKAMU" ratelimit override set -c "$cfg" --account "http://127.0.0.1:$port/acme/account/Acc1" \
  --limit NewOrdersPerAccount --count 10 --period 60 || fail "override set"
"$AKAMU" ratelimit override set -c "$cfg" --account Acc1 --limit NewOrdersPerAccount \
  --count 20 --period 60 --burst 40 || fail "override set again"
"$AKAMU" ratelimit override set -c "$cfg" --account Acc2 --limit CertificatesPerDomain \
  --count 5 --period 3600 || fail "override set 2"
list=$("$AKAMU" ratelimit override list -c "$cfg")
[[ $(wc -l <<<"$list") -eq 2 ]] || fail "expected 2 overrides, got: $list"
grep -qP '^Acc1\tNewOrdersPerAccount\tburst=40\tcount=20\tperiod=60\t' <<<"$list" ||
  fail "replaced override not listed: $list"
grep -qP '^Acc2\tCertificatesPerDomain\tburst=5\tcount=5\tperiod=3600\t' <<<"$list" ||
  fail "burst does not default to count: $list"

# Refusals: an unknown limit name (with the known ones listed), a zero count.
if out=$("$AKAMU" ratelimit override set -c "$cfg" --account Acc1 --limit NewOrdersPerAcount \
  --count 1 --period 1 2>&1); then fail "unknown limit accepted"; fi
grep -q 'unknown limit "NewOrdersPerAcount"' <<<"$out" || fail "unclear refusal: $out"
grep -q 'NewOrdersPerAccount' <<<"$out" || fail "known limits not listed: $out"
if "$AKAMU" ratelimit override set -c "$cfg" --account Acc1 --limit NewOrdersPerAccount \
  --count 0 --period 1 2>/dev/null; then fail "count 0 accepted"; fi

# Remove: once, then it is gone.
"$AKAMU" ratelimit override remove -c "$cfg" --account Acc1 --limit NewOrdersPerAccount ||
  fail "override remove"
if "$AKAMU" ratelimit override remove -c "$cfg" --account Acc1 --limit NewOrdersPerAccount \
  2>/dev/null; then fail "second remove succeeded"; fi
[[ $("$AKAMU" ratelimit override list -c "$cfg" | wc -l) -eq 1 ]] || fail "remove did not remove"

# Pauses: none yet; unpausing what is not paused says so.
[[ -z $("$AKAMU" ratelimit pauses list -c "$cfg") ]] || fail "unexpected pauses"
if out=$("$AKAMU" ratelimit unpause -c "$cfg" --account Acc1 --identifier example.com 2>&1); then
  fail "unpause of an unpaused account succeeded"
fi
grep -q 'is not paused for dns:example.com' <<<"$out" || fail "unclear unpause refusal: $out"
echo "cli.ratelimit: OK"
