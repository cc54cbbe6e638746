#!/usr/bin/env bash
# The README's commands, run as written (in a fresh directory, with free ports in place of 8080
# and 5002, and the build's binary for build/bin/akamu): the run command on the embedded default,
# and the certbot example, which needs neither root nor sudo.
set -euo pipefail
source "$(dirname "$0")/../interop/lib.sh"
interop_init readme "$@"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
command -v certbot >/dev/null || fail "certbot is not installed (scripts/setup.sh installs it)"

# block HEADING: the first ```sh block after the "## HEADING" line of the README.
block() {
  "$PY" - "$SRC/README.md" "$1" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
start = lines.index("## " + sys.argv[2])
i = lines.index("```sh", start) + 1
out = []
while lines[i] != "```":
    out.append(lines[i])
    i += 1
print("\n".join(out))
PY
}
ports() { sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$PORT/g" -e "s/ 5002 / $HPORT /g" -e "s/-port 5002/-port $HPORT/g" \
  -e "s|build/bin/akamu|$AKAMU|g"; }

# The run command: `akamu init -o akamu.toml && akamu serve -c akamu.toml` on the defaults.
run_cmd=$(grep -m1 '^build/bin/akamu init -o akamu.toml' "$SRC/README.md" || true)
[[ $run_cmd == *"akamu init -o akamu.toml && "*"akamu serve -c akamu.toml"* ]] ||
  fail "README's run command changed: $run_cmd"
mkdir -p "$WORK/run" && cd "$WORK/run"
# Only the port differs from the README: the listen override (the command has no port).
bg run env AKAMU_LISTEN="127.0.0.1:$PORT" bash -c "$(ports <<<"$run_cmd")"
for ((i = 0; i < 80; i++)); do
  curl -sf -o "$WORK/dir.json" "http://127.0.0.1:$PORT/acme/directory" && break
  sleep 0.25
done
grep -q '"newAccount"' "$WORK/dir.json" || fail "README run command: no directory; $(tail -5 "$WORK/run.log")"
[[ -f $WORK/run/akamu-data/ca.key && -f $WORK/run/akamu-data/akamu.db ]] ||
  fail "README run command did not create akamu-data/ca.key and akamu-data/akamu.db (SQLite)"
kill -TERM -- "-$BG_PID"
wait "$BG_PID" || true
log "README run command: server up on SQLite in ./akamu-data"

# The certbot example, line by line as one script.
script=$(block "Get a certificate with certbot" | ports)
grep -q "sudo" <<<"$script" && fail "README's certbot example uses sudo"
mkdir -p "$WORK/demo" && cd "$WORK/demo"
printf '%s\n' "set -e" "$script" 'kill %1' >"$WORK/readme-certbot.sh"
CLIENT_TIMEOUT=180 run_client certbot-example bash "$WORK/readme-certbot.sh" ||
  fail "the README's certbot example failed"
grep -q ": OK" "$WORK/certbot-example.log" || fail "openssl verify did not print OK"
DATA=$WORK/demo/demo-data verify_chain "$WORK/demo/demo-data/certbot/live/localhost/cert.pem"
echo "PASS readme"
