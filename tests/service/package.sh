#!/usr/bin/env bash
# The Debian package, for real: scripts/package.sh builds it from this build, apt installs it on
# this machine (root), and the installed akamu runs as its service user from the generated
# config; then the package is purged and the machine left as it was. The CA data directory
# survives the purge by design (a CA key is never deleted by a package).
set -euo pipefail
BUILD=${1:?usage: package.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC/tests/interop/lib.sh"
interop_init package "$BUILD/bin/akamu"

if [[ $(id -u) -ne 0 ]]; then
  fail "installs a package: run as root (CI does)"
fi
dpkg-query -W -f='${Status}' akamu 2>/dev/null | grep -q "install ok installed" &&
  fail "an akamu package is already installed on this machine; not touching it"
had_user=0
getent passwd akamu >/dev/null && had_user=1
had_state=0
[[ -e /var/lib/akamu ]] && had_state=1
server_pid=""
restore() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if dpkg-query -W -f='${Status}' akamu 2>/dev/null | grep -q "installed"; then
    apt-get purge -y -q akamu >/dev/null 2>&1 || dpkg --purge akamu >/dev/null 2>&1 || true
  fi
  [[ $had_state -eq 0 ]] && rm -rf /var/lib/akamu
  [[ $had_user -eq 0 ]] && getent passwd akamu >/dev/null && deluser --system akamu >/dev/null 2>&1
  true
}
trap 'rc=$?; restore; (exit $rc); _cleanup' EXIT

deb=$("$SRC/scripts/package.sh" "$BUILD" "$WORK/dist") || fail "scripts/package.sh failed"
[[ -f $deb ]] || fail "package.sh printed no package path ($deb)"
log "built $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb -f "$deb" Depends | grep -q "libsqlite3" || fail "Depends lacks libsqlite3: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -c "$deb" >"$WORK/contents.txt" || fail "cannot list $deb"
grep -q './lib/systemd/system/akamu.service' "$WORK/contents.txt" || fail "no unit in the package"
grep -q './etc/logrotate.d/akamu' "$WORK/contents.txt" || fail "no logrotate snippet"

DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" \
  >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; fail "apt install of the package failed"; }
log "installed with apt"

/usr/bin/akamu version >"$WORK/version.txt" || fail "installed akamu version failed"
grep -q "^akamu " "$WORK/version.txt" || fail "akamu version: $(cat "$WORK/version.txt")"
# The build's OpenSSL comes along when it is not the system's.
if grep -q '^OPENSSL_ROOT_DIR:' "$BUILD/CMakeCache.txt"; then
  ldd /usr/bin/akamu >"$WORK/ldd.txt"
  grep -q '/usr/lib/akamu/libcrypto.so.3' "$WORK/ldd.txt" || fail "akamu does not use /usr/lib/akamu/libcrypto.so.3"
  grep -q "ML-DSA available" "$WORK/version.txt" || fail "installed akamu lacks ML-DSA: $(cat "$WORK/version.txt")"
fi
ldd /usr/bin/akamu | { grep "not found" || true; } | grep -q . && fail "unresolved libraries: $(ldd /usr/bin/akamu | grep 'not found')"
getent passwd akamu >/dev/null || fail "no akamu user"
[[ $(stat -c '%a %U:%G' /etc/akamu/akamu.toml) == "640 root:akamu" ]] ||
  fail "/etc/akamu/akamu.toml is $(stat -c '%a %U:%G' /etc/akamu/akamu.toml)"
[[ $(stat -c '%a %U' /var/lib/akamu) == "700 akamu" ]] || fail "/var/lib/akamu is $(stat -c '%a %U' /var/lib/akamu)"
/usr/bin/akamu config check -c /etc/akamu/akamu.toml >/dev/null 2>"$WORK/check.err" ||
  fail "the generated config does not check: $(cat "$WORK/check.err")"
systemd-analyze verify /lib/systemd/system/akamu.service >"$WORK/verify.log" 2>&1 ||
  { cat "$WORK/verify.log" >&2; fail "systemd-analyze verify of the installed unit failed"; }
grep -i "akamu.service" "$WORK/verify.log" >&2 && fail "systemd-analyze complained about the unit"

# The installed server, as its user, on the generated config (on a free port). /run/akamu is
# what the unit's RuntimeDirectory= creates: the admin socket lives there.
install -d -m 0750 -o akamu -g akamu /run/akamu
AKAMU_LISTEN="127.0.0.1:$PORT" setpriv --reuid=akamu --regid=akamu --init-groups /usr/bin/akamu serve -c /etc/akamu/akamu.toml \
  >"$WORK/akamu.log" 2>&1 &
server_pid=$!
for ((i = 0; i < 80; i++)); do
  curl -sf -o "$WORK/dir.json" "http://127.0.0.1:$PORT/acme/directory" && break
  kill -0 "$server_pid" 2>/dev/null || fail "installed akamu exited: $(tail -5 "$WORK/akamu.log")"
  sleep 0.25
done
grep -q '"newOrder"' "$WORK/dir.json" || fail "installed server gave no directory"
[[ $(stat -c '%a %U' /var/lib/akamu/ca.key) == "600 akamu" ]] || fail "ca.key is $(stat -c '%a %U' /var/lib/akamu/ca.key)"
# The operator CLI, installed beside it, reaches the admin socket the generated config enables.
[[ $(stat -c '%a %U:%G' /run/akamu/admin.sock) == "660 akamu:akamu" ]] ||
  fail "admin.sock is $(stat -c '%a %U:%G' /run/akamu/admin.sock 2>&1)"
/usr/bin/akamuctl stats --json >"$WORK/stats.json" 2>"$WORK/stats.err" ||
  fail "installed akamuctl stats failed: $(cat "$WORK/stats.err")"
jq -e '.accounts' "$WORK/stats.json" >/dev/null || fail "akamuctl stats: $(cat "$WORK/stats.json")"
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
[[ $rc -eq 0 ]] || fail "installed akamu exited $rc on SIGTERM"
rm -rf /run/akamu
log "installed akamu served the directory as user akamu; akamuctl stats answered"

apt-get purge -y -q akamu >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; fail "purge failed"; }
[[ ! -e /usr/bin/akamu ]] || fail "/usr/bin/akamu left after purge"
[[ ! -e /etc/akamu/akamu.toml ]] || fail "/etc/akamu/akamu.toml left after purge"
[[ -f /var/lib/akamu/ca.key ]] || fail "purge deleted the CA key"
log "purged; the CA key in /var/lib/akamu was kept"
echo "PASS package"
