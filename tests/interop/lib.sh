# Shared helpers for the interop tests (sourced, not run).
#
# Each test script is invoked as `bash tests/interop/<client>.sh /path/to/akamu`
# and does, roughly:
#
#   source "$(dirname "$0")/lib.sh"
#   interop_init certbot "$@"   # temp dir, ports, cleanup trap
#   start_akamu                 # init + serve, waits for the directory
#   run_client certbot ...      # bounded (timeout 120), killable on exit
#   verify_chain cert.pem       # openssl verify + SAN check
#   pass
#
# Variables set for the scripts:
#   CLIENT    client name (for messages)
#   AKAMU     the akamu binary
#   WORK      temp dir, removed on exit
#   DATA      akamu data dir ($DATA/ca.pem is the CA certificate)
#   PORT      ACME listener port;  HPORT: port http-01 validation connects to
#   DIR_URL   ACME directory URL
#   NAMES     the two names requested in every certificate
#   PY        a python3 interpreter
#   TLS       non-empty for the HTTPS runs (INTEROP_TLS=1, set by the *_https.sh wrappers):
#             akamu serves HTTPS with [tls] auto = true and DIR_URL is https://; each client
#             script then points its own CA-bundle option at $DATA/ca.pem (see tls_mode)
#   DNSPORT, MPORT  pebble-challtestsrv's DNS and management ports (after
#             start_challtestsrv; set TXT records with write_txt_tool)

# The machine exports these for its own proxy; they would make clients trust
# the wrong bundle (the HTTPS runs set each client's own option to akamu's CA).
unset REQUESTS_CA_BUNDLE SSL_CERT_FILE CURL_CA_BUNDLE
# Only loopback is reachable; never route requests through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'

NAMES=(localhost www.localhost)
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

_BG_PIDS=()

log() { printf '[interop %s] %s\n' "${CLIENT:-?}" "$*" >&2; }

fail() {
  printf '\n[interop %s] FAIL: %s\n' "${CLIENT:-?}" "$*" >&2
  if [[ -n ${WORK:-} && -f $WORK/akamu.log ]]; then
    printf -- '--- akamu server log (tail) ---\n' >&2
    tail -n 40 "$WORK/akamu.log" >&2 || true
  fi
  if [[ -n ${DATA:-} && -f $DATA/audit.log ]]; then
    printf -- '--- audit.log (tail) ---\n' >&2
    tail -n 15 "$DATA/audit.log" >&2 || true
  fi
  exit 1
}

_cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM HUP
  for pid in "${_BG_PIDS[@]}"; do
    # Each background job runs in its own process group (setsid), so this
    # also reaches the children of timeout/hooks.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${_BG_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n ${WORK:-} && -d $WORK ]]; then
    if [[ $rc -ne 0 && -n ${INTEROP_KEEP:-} ]]; then
      printf '[interop %s] keeping %s\n' "${CLIENT:-?}" "$WORK" >&2
    else
      rm -rf -- "$WORK"
    fi
  fi
  exit "$rc"
}

# free_port: print a currently unused loopback TCP port.
free_port() {
  "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# interop_init NAME AKAMU_BINARY
interop_init() {
  TLS=${INTEROP_TLS:-}
  CLIENT=$1${TLS:+_https}
  AKAMU=${2:-}
  [[ -n $AKAMU ]] || fail "usage: $0 /path/to/akamu"
  [[ $AKAMU == /* ]] || AKAMU=$PWD/$AKAMU
  [[ -x $AKAMU ]] || fail "akamu binary not executable: $AKAMU"
  for tool in openssl curl timeout setsid awk; do
    command -v "$tool" >/dev/null || fail "missing tool: $tool"
  done
  [[ -x $PY ]] || fail "missing python3"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/akamu-interop-$CLIENT.XXXXXX")
  trap _cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  DATA=$WORK/data
  PORT=$(free_port)
  HPORT=$(free_port)
  while [[ $HPORT == "$PORT" ]]; do HPORT=$(free_port); done
  DIR_URL=http${TLS:+s}://127.0.0.1:$PORT/acme/directory
  log "work dir $WORK, ACME port $PORT, http-01 port $HPORT"
}

# bg NAME CMD...: start CMD in the background in its own session/process
# group, output to $WORK/NAME.log; it is killed on exit.  Sets BG_PID.
bg() {
  local name=$1
  shift
  setsid "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  BG_PID=$!
  _BG_PIDS+=("$BG_PID")
}

# run_client LOGNAME CMD...: run a client bounded by `timeout 120`, output
# saved to $WORK/LOGNAME.log and echoed to stderr (with CLIENT_STDOUT=FILE
# set, only stderr goes there and stdout goes to FILE). Returns the client's status. The
# client runs in the background (own process group) so the cleanup trap can
# kill it if the script is interrupted.
run_client() {
  local name=$1 rc=0 pid
  shift
  log "running: $*"
  if [[ -n ${CLIENT_STDOUT:-} ]]; then
    setsid timeout -k 5 "${CLIENT_TIMEOUT:-120}" "$@" >"$CLIENT_STDOUT" 2>"$WORK/$name.log" </dev/null &
  else
    setsid timeout -k 5 "${CLIENT_TIMEOUT:-120}" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  fi
  pid=$!
  _BG_PIDS+=("$pid")
  wait "$pid" || rc=$?
  sed 's/^/    | /' "$WORK/$name.log" >&2
  if [[ $rc -eq 124 ]]; then
    log "$name timed out after ${CLIENT_TIMEOUT:-120}s"
  fi
  return "$rc"
}

# start_akamu: write a config, start the server, wait for the directory.
start_akamu() {
  log "akamu init"
  "$AKAMU" init -o "$WORK/akamu.toml" --data-dir "$DATA" \
    --listen "127.0.0.1:$PORT" --http-validation-port "$HPORT" \
    --allow-private-ips ${TLS:+--tls} >"$WORK/akamu-init.log" 2>&1 ||
    { cat "$WORK/akamu-init.log" >&2; fail "akamu init failed"; }
  # A script that needs more settings defines akamu_configure (see akamu_set).
  if declare -F akamu_configure >/dev/null; then akamu_configure "$WORK/akamu.toml"; fi
  use_test_postgres

  log "akamu serve"
  bg akamu "$AKAMU" serve -c "$WORK/akamu.toml"
  AKAMU_PID=$BG_PID
  local i
  local trust=()
  for ((i = 0; i < 80; i++)); do
    # HTTPS: the server's certificate (auto mode) must verify against the CA file it wrote, for
    # the IP address of base_url; curl checks both.
    if [[ -n $TLS ]]; then
      [[ -s $DATA/ca.pem ]] && trust=(--cacert "$DATA/ca.pem") || trust=(--cacert /dev/null)
    fi
    if curl -sf --max-time 2 "${trust[@]}" -o "$WORK/directory.json" "$DIR_URL"; then
      grep -q '"newNonce"' "$WORK/directory.json" ||
        fail "directory has no newNonce: $(cat "$WORK/directory.json")"
      [[ -s $DATA/ca.pem ]] || fail "server up but $DATA/ca.pem missing"
      # Without akamu's CA the server is not trusted: a client that succeeds below used its
      # CA option.
      if [[ -n $TLS ]] && curl -sf --max-time 2 -o /dev/null "$DIR_URL"; then
        fail "the HTTPS directory verified without akamu's CA: the runs would prove nothing"
      fi
      log "directory up: $DIR_URL"
      return 0
    fi
    kill -0 "$AKAMU_PID" 2>/dev/null || fail "akamu exited during startup"
    sleep 0.25
  done
  fail "directory $DIR_URL not reachable after ~20s"
}

# tls_mode: true in the HTTPS runs.
tls_mode() { [[ -n $TLS ]]; }

# system_trust_of CA_FILE: set TRUST_PREFIX to a command prefix that runs its command in a
# private mount namespace in which /etc/ssl/certs also trusts CA_FILE (for clients that have no
# CA option of their own and only read the system store). Needs root (CAP_SYS_ADMIN); the
# host's store is untouched. A prefix, not a function, so run_client's timeout can run it.
system_trust_of() {
  local ca=$1 store=$WORK/ssl-certs
  mkdir -p "$store"
  cp -a /etc/ssl/certs/. "$store/" 2>/dev/null || true
  cp "$ca" "$store/akamu-interop-ca.pem"
  cat "$ca" >>"$store/ca-certificates.crt"
  ln -sf akamu-interop-ca.pem "$store/$(openssl x509 -in "$ca" -noout -hash).0"
  command -v unshare >/dev/null || fail "missing tool: unshare (util-linux)"
  # shellcheck disable=SC2016
  TRUST_PREFIX=(unshare --mount sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' "$store")
}

# serve_webroot DIR: serve DIR over plain http on 127.0.0.1:$HPORT (for
# clients that only write challenge files) and wait until it answers.
serve_webroot() {
  local root=$1 i
  mkdir -p "$root/.well-known/acme-challenge"
  printf 'ok' >"$root/.well-known/acme-challenge/probe"
  bg webroot "$PY" -m http.server --bind 127.0.0.1 --directory "$root" "$HPORT"
  for ((i = 0; i < 80; i++)); do
    if curl -sf --max-time 2 -o /dev/null \
      "http://127.0.0.1:$HPORT/.well-known/acme-challenge/probe"; then
      rm -f "$root/.well-known/acme-challenge/probe"
      log "webroot $root served on 127.0.0.1:$HPORT"
      return 0
    fi
    kill -0 "$BG_PID" 2>/dev/null ||
      { cat "$WORK/webroot.log" >&2; fail "http.server exited"; }
    sleep 0.25
  done
  fail "http.server on port $HPORT not answering"
}

# verify_chain CERT_FILE: the first certificate in CERT_FILE (a leaf or a
# full chain) must verify against $DATA/ca.pem (other certificates in the file
# are offered as untrusted intermediates) and carry exactly the DNS names in
# $NAMES in its subjectAltName.
verify_chain() {
  local file=$1 n
  [[ -s $file ]] || fail "certificate file missing or empty: $file"
  rm -f "$WORK"/vc-*.pem
  awk -v dir="$WORK" '
    /-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s/vc-%03d.pem", dir, n) }
    n && f { print > f }
    /-----END CERTIFICATE-----/ { close(f); f = "" }' "$file"
  n=$(find "$WORK" -maxdepth 1 -name 'vc-*.pem' | wc -l)
  [[ $n -ge 1 ]] || fail "no PEM certificate in $file"
  local leaf=$WORK/vc-001.pem untrusted=()
  if [[ $n -gt 1 ]]; then
    find "$WORK" -maxdepth 1 -name 'vc-*.pem' | sort | tail -n +2 |
      while read -r f; do cat "$f"; done >"$WORK/vc-rest"
    untrusted=(-untrusted "$WORK/vc-rest")
  fi
  log "verifying $file ($n certificate(s)) against $DATA/ca.pem"
  local out
  out=$(openssl verify -CAfile "$DATA/ca.pem" "${untrusted[@]}" "$leaf" 2>&1) ||
    fail "openssl verify rejected $file: $out"
  [[ $out == *": OK" ]] || fail "openssl verify output unexpected: $out"
  local san
  san=$(openssl x509 -in "$leaf" -noout -ext subjectAltName 2>&1) ||
    fail "cannot read subjectAltName of $file: $san"
  # Collect the DNS: entries, sorted, and compare with the requested names.
  local got want
  got=$(tr ',' '\n' <<<"$san" | sed -n 's/^[[:space:]]*DNS://p' | sort | tr '\n' ' ')
  want=$(printf '%s\n' "${NAMES[@]}" | sort | tr '\n' ' ')
  [[ $got == "$want" ]] ||
    fail "subjectAltName mismatch: want DNS names [$want], got [$got] ($san)"
  log "chain OK, SAN: $(tail -n +2 <<<"$san" | sed "s/^ *//" | tr -d "\n")"
}

# cert_serial CERT_FILE: print the serial of the first certificate (hex).
cert_serial() {
  openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

# assert_keys_match CERT_FILE KEY_FILE: the certificate must be for the key.
assert_keys_match() {
  local cert_pub key_pub
  cert_pub=$(openssl x509 -in "$1" -noout -pubkey 2>&1) || fail "cannot read $1"
  key_pub=$(openssl pkey -in "$2" -pubout 2>&1) || fail "cannot read $2"
  [[ $cert_pub == "$key_pub" ]] ||
    fail "public key of $1 does not match the private key $2"
}

# assert_audit_revoked SERIAL: $DATA/audit.log (JSON lines) must have a
# cert.revoke event with outcome "success" naming SERIAL.
assert_audit_revoked() {
  local serial=$1
  [[ -s $DATA/audit.log ]] || fail "no audit log at $DATA/audit.log"
  "$PY" - "$DATA/audit.log" "$serial" <<'PYEOF' ||
import json, sys
serial = sys.argv[2].lower().lstrip("0")
ok = False
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    ev = json.loads(line)
    if (ev.get("event_type") == "cert.revoke" and ev.get("outcome") == "success"
            and serial in str(ev.get("detail", "")).lower()):
        ok = True
sys.exit(0 if ok else 1)
PYEOF
    fail "audit.log has no successful cert.revoke event for serial $serial"
  log "audit.log records the revocation of serial $serial"
}

# akamu_set KEY VALUE: replace the `KEY = ...` line of $WORK/akamu.toml (as
# written by `akamu init`, which lists every key) with `KEY = VALUE`; VALUE is
# TOML (quote strings yourself). Call it from akamu_configure.
# use_test_postgres: when CTest runs the suite on PostgreSQL (AKAMU_TEST_PG_URL_FILE names the
# file tests/pg/pg_server.sh wrote), point akamu at a fresh schema of the test server.
use_test_postgres() {
  [[ -n ${AKAMU_TEST_PG_URL_FILE:-} ]] || return 0
  [[ -s $AKAMU_TEST_PG_URL_FILE ]] ||
    fail "AKAMU_TEST_PG_URL_FILE=$AKAMU_TEST_PG_URL_FILE is empty: is the pg fixture running?"
  local url schema sep
  url=$(<"$AKAMU_TEST_PG_URL_FILE")
  schema="interop_${CLIENT//[^a-z0-9]/_}_$$"
  psql -q -v ON_ERROR_STOP=1 "$url" -c "CREATE SCHEMA $schema" >/dev/null ||
    fail "cannot create schema $schema on the test PostgreSQL"
  sep='?'
  [[ $url == *\?* ]] && sep='&'
  akamu_set url "\"$url${sep}options=-csearch_path%3D$schema\""
}

akamu_set() {
  local key=$1 value=$2 conf=$WORK/akamu.toml
  grep -q "^$key = " "$conf" || fail "akamu init wrote no '$key = ' line in $conf"
  local escaped=${value//\\/\\\\}
  escaped=${escaped//&/\\&}
  escaped=${escaped//|/\\|}
  sed -i "s|^$key = .*|$key = $escaped|" "$conf"
  grep -qxF "$key = $value" "$conf" || fail "could not set $key in $conf"
  log "config: $key = $value"
}

# start_challtestsrv: run pebble-challtestsrv as a loopback DNS server (every
# name's A record is 127.0.0.1, TXT records set through its management API)
# and wait for its management API. Sets DNSPORT (UDP and TCP) and MPORT.
start_challtestsrv() {
  command -v pebble-challtestsrv >/dev/null ||
    fail "pebble-challtestsrv not installed (Debian package pebble)"
  DNSPORT=$(free_port)
  MPORT=$(free_port)
  while [[ $MPORT == "$DNSPORT" || $DNSPORT == "$PORT" || $MPORT == "$PORT" ||
    $DNSPORT == "$HPORT" || $MPORT == "$HPORT" ]]; do
    DNSPORT=$(free_port)
    MPORT=$(free_port)
  done
  bg challtestsrv pebble-challtestsrv -dns01 "127.0.0.1:$DNSPORT" -http01 "" -https01 "" \
    -tlsalpn01 "" -management "127.0.0.1:$MPORT" -defaultIPv4 127.0.0.1 -defaultIPv6 ""
  local pid=$BG_PID i
  for ((i = 0; i < 80; i++)); do
    # Any HTTP answer (404 for /) means the management API is up.
    if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$MPORT/"; then
      log "pebble-challtestsrv: DNS 127.0.0.1:$DNSPORT, management 127.0.0.1:$MPORT"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null ||
      { cat "$WORK/challtestsrv.log" >&2; fail "pebble-challtestsrv exited"; }
    sleep 0.25
  done
  fail "pebble-challtestsrv management API on port $MPORT not answering"
}

# write_txt_tool FILE: write FILE, an executable `FILE set|clear FQDN [VALUE]`
# that adds a TXT record to FQDN (set) or removes FQDN's TXT records (clear)
# in pebble-challtestsrv, logging each call to $WORK/txt-calls.log. The DNS
# hooks of the clients call it.
write_txt_tool() {
  local file=$1
  {
    printf '#!/usr/bin/env bash\nset -euo pipefail\n'
    printf 'MPORT=%q\nCALLS=%q\n' "$MPORT" "$WORK/txt-calls.log"
    cat <<'TOOL'
op=$1 host=$2 value=${3:-}
[[ $host == *. ]] || host=$host.
printf '%s %s %s\n' "$op" "$host" "$value" >>"$CALLS"
case $op in
  set) path=set-txt body=$(printf '{"host":"%s","value":"%s"}' "$host" "$value") ;;
  clear) path=clear-txt body=$(printf '{"host":"%s"}' "$host") ;;
  *) echo "usage: $0 set|clear FQDN [VALUE]" >&2; exit 2 ;;
esac
curl -sf --max-time 5 -X POST -d "$body" "http://127.0.0.1:$MPORT/$path" >/dev/null
TOOL
  } >"$file"
  chmod +x "$file"
}

# assert_txt_calls OP FQDN COUNT: the TXT tool was called at least COUNT
# times with OP (set|clear) for FQDN (with its trailing dot).
assert_txt_calls() {
  local op=$1 host=$2 want=$3 got
  got=$(awk -v op="$op" -v h="$host" '$1 == op && $2 == h' "$WORK/txt-calls.log" 2>/dev/null |
    wc -l)
  [[ $got -ge $want ]] ||
    fail "expected >= $want '$op' TXT calls for $host, got $got: $(cat "$WORK/txt-calls.log" 2>/dev/null)"
}

pass() {
  echo "interop $CLIENT: OK"
}
