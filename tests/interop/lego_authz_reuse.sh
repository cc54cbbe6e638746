#!/usr/bin/env bash
# Interop: authorization reuse with a real client. lego gets a certificate for two names, then
# runs again with the same account: the second order reuses both valid authorizations, so it is
# ready at once and lego validates nothing (its http-01 server is never asked), and the audit
# log's order.create event says "2 authorizations reused".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init lego-reuse "$@"
command -v lego >/dev/null || fail "lego not installed"
start_akamu

unset LEGO_CA_CERTIFICATES   # plain http: no TLS trust needed
LP=$WORK/lego
L=(lego --server "$DIR_URL" --accept-tos --email interop@example.com
   --path "$LP" --http --http.port "127.0.0.1:$HPORT")
for n in "${NAMES[@]}"; do L+=(--domains "$n"); done

run_client lego-run1 "${L[@]}" run || fail "first lego run failed"
verify_chain "$LP/certificates/${NAMES[0]}.crt"
run_client lego-run2 "${L[@]}" run || fail "second lego run failed"
verify_chain "$LP/certificates/${NAMES[0]}.crt"

# lego says so when an authorization it got is already valid.
grep -qi 'already valid' "$WORK/lego-run2.log" ||
  fail "second lego run did not find its authorizations already valid"
"$PY" - "$DATA/audit.log" "${#NAMES[@]}" <<'PYEOF' ||
import json, sys
want = "%s authorizations reused" % sys.argv[2]
creates = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
creates = [e for e in creates if e.get("event_type") == "order.create"]
sys.exit(0 if len(creates) == 2 and want in str(creates[1].get("detail", ""))
         and "0 authorizations reused" in str(creates[0].get("detail", "")) else 1)
PYEOF
  fail "audit.log does not show the second order reusing ${#NAMES[@]} authorizations"
pass
