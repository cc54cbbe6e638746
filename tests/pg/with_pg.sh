#!/usr/bin/env bash
# with_pg.sh STATE_DIR CMD...: runs CMD with AKAMU_TEST_PG_URL set to the URL of the server that
# `pg_server.sh start STATE_DIR` started.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: with_pg.sh STATE_DIR CMD..." >&2
  exit 2
fi
url_file=$1/url
shift
if [[ ! -s $url_file ]]; then
  echo "with_pg.sh: no $url_file: run tests/pg/pg_server.sh start on that directory first" >&2
  exit 1
fi
AKAMU_TEST_PG_URL=$(cat "$url_file")
export AKAMU_TEST_PG_URL
exec "$@"
