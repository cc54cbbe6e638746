#!/usr/bin/env bash
# Running akamu as a service, against the real binary: `akamu config check` (effective
# configuration, secrets masked, refusals), the systemd unit (systemd-analyze verify), JSON log
# lines, logrotate with the shipped snippet (rename, SIGHUP, new file), and a clean SIGTERM.
set -euo pipefail
source "$(dirname "$0")/../interop/lib.sh"
interop_init service "$@"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# --- akamu config check -------------------------------------------------------------------
"$AKAMU" init -o "$WORK/check.toml" --data-dir "$WORK/check-data" --listen 127.0.0.1:8443 \
  >/dev/null || fail "akamu init failed"
"$AKAMU" config check -c "$WORK/check.toml" >"$WORK/effective.toml" 2>"$WORK/check.err" ||
  fail "config check refused the init config: $(cat "$WORK/check.err")"
grep -q "configuration OK" "$WORK/check.err" || fail "config check did not say OK"
"$PY" - "$WORK/effective.toml" <<'PY' || fail "effective config is not the expected TOML"
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
assert c["listen_addr"] == "127.0.0.1:8443", c["listen_addr"]
assert c["server"]["shutdown_grace_secs"] == 10
assert c["log"]["format"] == "text"
assert "default" in c["profiles"] and "shortlived" in c["profiles"]
assert c["ca"]["crl_url"] == "http://127.0.0.1:8443/crl", c["ca"]["crl_url"]
PY
# The effective configuration is itself a configuration the server accepts.
cp "$WORK/effective.toml" "$WORK/effective-again.toml"
"$AKAMU" config check -c "$WORK/effective-again.toml" >"$WORK/effective2.toml" 2>/dev/null ||
  fail "config check refused its own output"
cmp -s "$WORK/effective.toml" "$WORK/effective2.toml" || fail "effective config is not stable"
# A database password never reaches the output.
sed -i 's|^url = .*|url = "postgresql://akamu:Sup3rSecret@db.example.net/akamu"|' "$WORK/check.toml"
"$AKAMU" config check -c "$WORK/check.toml" >"$WORK/masked.toml" 2>/dev/null ||
  fail "config check refused a PostgreSQL URL"
grep -q Sup3rSecret "$WORK/masked.toml" && fail "config check printed the database password"
grep -q 'postgresql://akamu:\*\*\*\*@db.example.net/akamu' "$WORK/masked.toml" ||
  fail "masked URL missing: $(grep url "$WORK/masked.toml")"
# Refusals: exit status 1 and the reason with file and key.
echo 'bogus_key = 1' >>"$WORK/check.toml"
if "$AKAMU" config check -c "$WORK/check.toml" >/dev/null 2>"$WORK/bad.err"; then
  fail "config check accepted an unknown key"
fi
grep -q "unknown key 'log.bogus_key'" "$WORK/bad.err" || fail "refusal unclear: $(cat "$WORK/bad.err")"
log "config check: effective config, masking and refusal OK"

# --- systemd unit ---------------------------------------------------------------------------
# The shipped unit, with ExecStart pointing at this build (verify checks that it exists).
unit_dir=$WORK/units
mkdir -p "$unit_dir"
sed "s|^ExecStart=/usr/bin/akamu |ExecStart=$AKAMU |" "$SRC/contrib/systemd/akamu.service" \
  >"$unit_dir/akamu.service"
grep -q "^ExecStart=$AKAMU " "$unit_dir/akamu.service" || fail "could not rewrite ExecStart"
if ! SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit_dir/akamu.service" >"$WORK/verify.log" 2>&1; then
  cat "$WORK/verify.log" >&2
  fail "systemd-analyze verify refused contrib/systemd/akamu.service"
fi
# Any complaint about the unit itself (unknown directive, bad value) counts as a failure.
if grep -i "akamu.service" "$WORK/verify.log" >&2; then
  fail "systemd-analyze verify complained about the unit"
fi
log "systemd-analyze verify: unit OK"

# --- JSON logs, logrotate + SIGHUP, SIGTERM -------------------------------------------------
akamu_configure() { akamu_set format '"json"'; }
start_akamu
audit=$DATA/audit.log
grep -q '"event_type":"ca.start"' "$audit" || fail "no ca.start in the audit log"

# The shipped logrotate snippet, pointed at this server's audit log and process.
me_user=$(id -un)
me_group=$(id -gn)
"$PY" - "$SRC/contrib/logrotate/akamu" "$WORK/logrotate.conf" "$audit" "$AKAMU_PID" \
  "$me_user" "$me_group" <<'PY' || fail "cannot adapt the logrotate snippet"
import re, sys
src, dst, audit, pid, user, group = sys.argv[1:]
text = open(src).read()
assert "/var/lib/akamu/audit.log {" in text
text = text.replace("/var/lib/akamu/audit.log {", audit + " {")
text, n = re.subn(r"create 0600 akamu akamu", f"create 0600 {user} {group}", text)
assert n == 1
# Only this test's server gets the signal (the snippet signals the akamu service).
text, n = re.subn(r"postrotate\n.*?endscript", f"postrotate\n        kill -HUP {pid}\n    endscript",
                  text, flags=re.S)
assert n == 1
open(dst, "w").write(text)
PY
chmod 0644 "$WORK/logrotate.conf"
logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf" >"$WORK/logrotate.log" 2>&1 ||
  { cat "$WORK/logrotate.log" >&2; fail "logrotate failed"; }
[[ -s $audit.1 ]] || fail "logrotate did not rotate $audit to $audit.1"
for ((i = 0; i < 100; i++)); do
  grep -q 'reopened the audit log' "$WORK/akamu.log" && break
  kill -0 "$AKAMU_PID" 2>/dev/null || fail "akamu exited on SIGHUP"
  sleep 0.1
done
grep -q 'reopened the audit log' "$WORK/akamu.log" || fail "no 'reopened the audit log' after SIGHUP"
[[ $(stat -c %a "$audit") == 600 ]] || fail "new audit log mode is $(stat -c %a "$audit")"
curl -sf -o /dev/null "$DIR_URL" || fail "server stopped answering after SIGHUP"

# SIGTERM: a clean stop, exit status 0, ca.stop in the new file only.
kill -TERM "$AKAMU_PID"
rc=0
wait "$AKAMU_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "akamu exited with $rc on SIGTERM"
grep -q '"event_type":"ca.stop"' "$audit" || fail "ca.stop not written to the new audit log"
grep -q '"event_type":"ca.start"' "$audit" && fail "new audit log has the old file's lines"
grep -q '"event_type":"ca.stop"' "$audit.1" && fail "ca.stop went to the rotated file"
grep -q '"event_type":"ca.start"' "$audit.1" || fail "rotated file lost ca.start"

# Every log line the server wrote is one JSON object with time, level and msg.
"$PY" - "$WORK/akamu.log" <<'PY' || fail "server log is not JSON lines"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
msgs = []
for l in lines:
    o = json.loads(l)
    assert {"time", "level", "msg"} <= o.keys(), o
    msgs.append(o["msg"])
assert any(m.startswith("akamu ") and "listening on" in m for m in msgs), msgs
assert any(m == "stopped" for m in msgs), msgs
PY
log "logrotate + SIGHUP, JSON logs and SIGTERM OK"
echo "PASS service"
