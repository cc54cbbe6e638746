#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests, on 127.0.0.1 and a free port.
#
#   pg_server.sh start STATE_DIR   initdb a fresh cluster under STATE_DIR, start it, create the
#                                  role "akamu" and database "akamu_test", write the URL to
#                                  STATE_DIR/url (postgres://akamu@127.0.0.1:PORT/akamu_test)
#   pg_server.sh stop STATE_DIR    stop it (fast shutdown) and remove the cluster
#
# Both are idempotent: starting a running server prints its URL, stopping a stopped one does
# nothing. Any failure exits non-zero with the server log's tail.
#
# initdb refuses to run as root, so as root everything runs as the "postgres" system user, which
# must be able to reach STATE_DIR. Authentication is "trust", for 127.0.0.1 and the socket in
# STATE_DIR only: the server never listens anywhere else.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
die() { echo "pg_server.sh: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: pg_server.sh start|stop STATE_DIR"
action=$1
[[ $action == start || $action == stop ]] || die "unknown action '$action' (start or stop)"
mkdir -p "$2"
state=$(cd "$2" && pwd)
data=$state/data
log=$state/postgres.log
url_file=$state/url

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { [[ -f $data/postmaster.pid ]] && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

show_log() {
  if [[ -f $log ]]; then
    echo "---- last lines of $log ----" >&2
    tail -n 40 "$log" >&2
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The unix socket path must fit in sun_path (107 bytes): a long STATE_DIR gets a short socket
# directory in /tmp instead, recorded so that stop can remove it.
socket_dir() {
  if [[ -f $state/socket_dir ]]; then
    cat "$state/socket_dir"
  elif (( ${#state} + 24 < 100 )); then
    echo "$state/sock"
  else
    mktemp -d /tmp/akamu-pg-sock.XXXXXX
  fi
}

start() {
  if running && [[ -s $url_file ]]; then
    cat "$url_file"
    return 0
  fi
  [[ -x $PG_BIN/initdb ]] || die "no PostgreSQL server binaries in $PG_BIN (install postgresql-15)"
  # A cluster left by a crashed run is not reused: tests start from a fresh one.
  if [[ -f $data/postmaster.pid ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" stop -m immediate -w >/dev/null 2>&1 || true
  fi
  rm -rf "$data" "$url_file" "$log"
  local sock
  sock=$(socket_dir)
  echo "$sock" >"$state/socket_dir"
  mkdir -p "$data" "$sock"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$state" "$data" "$sock"
    as_pg test -w "$data" || die "user postgres cannot write $data (is every parent directory searchable?)"
  fi
  chmod 700 "$data"

  as_pg "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C --auth=trust >"$state/initdb.log" 2>&1 ||
    { cat "$state/initdb.log" >&2; die "initdb failed"; }

  # Only what the tests need is reachable: TCP on 127.0.0.1 and the private socket directory.
  cat >"$data/pg_hba.conf" <<HBA
local all all               trust
host  all all 127.0.0.1/32  trust
HBA

  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
fsync = on
synchronous_commit = on
max_connections = 300
log_min_messages = warning
CONF
    if as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null; then
      break
    fi
    # Another process may have taken the port between the probe and the bind: try another.
    if (( attempt == 5 )); then
      show_log
      die "the server did not start"
    fi
  done

  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres)
  if ! as_pg "${psql[@]}" -c "CREATE ROLE akamu LOGIN" \
      -c "CREATE DATABASE akamu_test OWNER akamu ENCODING 'UTF8' TEMPLATE template0"; then
    show_log
    die "could not create the role and database"
  fi
  echo "postgres://akamu@127.0.0.1:$port/akamu_test" >"$url_file"
  cat "$url_file"
}

stop() {
  if [[ -f $data/postmaster.pid ]]; then
    if ! as_pg "$PG_BIN/pg_ctl" -D "$data" stop -m fast -w -t 60 >/dev/null; then
      running && { show_log; die "the server did not stop"; }
    fi
  fi
  if [[ -f $state/socket_dir ]]; then
    rm -rf "$(cat "$state/socket_dir")"
    rm -f "$state/socket_dir"
  fi
  rm -rf "$data" "$url_file"
}

case $action in
  start) start ;;
  stop) stop ;;
  *) die "unknown action '$action' (start or stop)" ;;
esac
