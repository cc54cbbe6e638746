#!/usr/bin/env bash
# `akamu serve` with [tls] cert_file/key_file: HTTPS answers with the files' certificate; after
# the files are rewritten, SIGHUP makes new handshakes present the new certificate without a
# restart; a broken file on SIGHUP keeps the current certificate (and says so in the log); a
# key file readable by others is refused at start with one clear line. Waits poll a condition
# with a deadline, never a fixed sleep.
set -euo pipefail
AKAMU=${1:?usage: tls_reload.sh path/to/akamu}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# poll SECONDS CMD...: true once CMD succeeds, false when the deadline passes.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# A test PKI: a root, and leaf certificates for 127.0.0.1 it signs.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=reload test root" \
  -days 2 -keyout "$work/root.key" -out "$work/root.pem" 2>/dev/null
new_leaf() {  # new_leaf NAME: writes NAME.pem / NAME.key (0600)
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$work/ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/root.pem" -CAkey "$work/root.key" \
    -CAcreateserial -days 1 -extfile "$work/ext" -out "$work/$1.pem" 2>/dev/null
  chmod 600 "$work/$1.key"
}
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
# The serial of the certificate the server presents now (verified against the test root).
served_serial() {
  openssl s_client -connect "127.0.0.1:$port" -CAfile "$work/root.pem" -verify_return_error \
    </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}
serves() { [[ $(served_serial) == "$1" ]]; }
logged() { grep -qF "$1" "$work/serve.log"; }

new_leaf one
new_leaf two
mkdir -p "$work/tls"
cp "$work/one.pem" "$work/tls/cert.pem"
install -m 600 "$work/one.key" "$work/tls/key.pem"

port=$(free_port)
"$AKAMU" init -o "$work/akamu.toml" --data-dir "$work/data" --listen "127.0.0.1:$port" \
  --base-url "https://127.0.0.1:$port" >/dev/null
printf '\n[tls]\ncert_file = "%s"\nkey_file = "%s"\n' "$work/tls/cert.pem" "$work/tls/key.pem" \
  >>"$work/akamu.toml"

"$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1 &
pid=$!
poll 30 curl -fs --cacert "$work/root.pem" -o "$work/dir.json" \
  "https://127.0.0.1:$port/acme/directory" || fail "HTTPS directory did not come up"
grep -q "\"newAccount\":\"https://127.0.0.1:$port/acme/new-account\"" "$work/dir.json" ||
  fail "directory: $(cat "$work/dir.json")"
serves "$(serial_of "$work/one.pem")" || fail "not serving the first certificate"

# Rewrite the files, SIGHUP: new handshakes get the new certificate.
cp "$work/two.pem" "$work/tls/cert.pem"
install -m 600 "$work/two.key" "$work/tls/key.pem"
kill -HUP "$pid"
poll 30 logged "SIGHUP: TLS certificate reloaded" || fail "no reload logged after SIGHUP"
serves "$(serial_of "$work/two.pem")" || fail "after SIGHUP the server still presents $(served_serial)"
kill -0 "$pid" || fail "the server exited on SIGHUP"

# A broken certificate file: the reload fails, the current certificate stays.
printf -- '-----BEGIN CERTIFICATE-----\nnot base64\n' >"$work/tls/cert.pem"
kill -HUP "$pid"
poll 30 logged "SIGHUP: TLS reload failed, keeping the current certificate" ||
  fail "a failed reload was not logged"
serves "$(serial_of "$work/two.pem")" || fail "a broken file replaced the certificate"
curl -fsS --cacert "$work/root.pem" -o /dev/null "https://127.0.0.1:$port/acme/directory" ||
  fail "not serving after a failed reload"
kill "$pid"
wait "$pid" || true
pid=""

# A key file the group or others can read: refused at start, one line naming file and mode.
cp "$work/two.pem" "$work/tls/cert.pem"
chmod 644 "$work/tls/key.pem"
if "$AKAMU" serve -c "$work/akamu.toml" >"$work/serve.log" 2>&1; then
  fail "started with a world-readable TLS key"
fi
grep -qF "akamu: tls.key_file $work/tls/key.pem has mode 0644: a private key must not be accessible to group or others (chmod 600 it)" \
  "$work/serve.log" || fail "refusal not explained: $(cat "$work/serve.log")"
echo "tls_reload: OK"
