#!/usr/bin/env bash
# Interop: lego gets a certificate for example.test and *.example.test over
# dns-01. Its `exec` DNS provider calls a hook that publishes the TXT records
# in pebble-challtestsrv, which is also the resolver akamu validates against
# (dns_resolver_addr). The chain must verify and carry both names.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init lego_dns01 "$@"
command -v lego >/dev/null || fail "lego not installed"
NAMES=(example.test '*.example.test')

start_challtestsrv
akamu_configure() {
  akamu_set dns_resolver_addr "\"127.0.0.1:$DNSPORT\""
  akamu_set dns_timeout_secs 5
}
start_akamu

write_txt_tool "$WORK/txt"
# lego's exec provider runs `hook present|cleanup <fqdn> <value>`.
cat >"$WORK/lego-hook" <<HOOK
#!/usr/bin/env bash
set -euo pipefail
case \$1 in
  present) exec "$WORK/txt" set "\$2" "\$3" ;;
  cleanup) exec "$WORK/txt" clear "\$2" ;;
  *) exit 0 ;;
esac
HOOK
chmod +x "$WORK/lego-hook"

unset LEGO_CA_CERTIFICATES   # plain http: no TLS trust needed
export EXEC_PATH=$WORK/lego-hook
# The exec provider solves one authorization at a time and waits
# EXEC_SEQUENCE_INTERVAL between them (60 s by default).
export EXEC_SEQUENCE_INTERVAL=1 EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30
LP=$WORK/lego
L=(lego --server "$DIR_URL" --accept-tos --email interop@example.com --path "$LP"
   --dns exec --dns.resolvers "127.0.0.1:$DNSPORT" --dns.disable-cp)
for n in "${NAMES[@]}"; do L+=(--domains "$n"); done

log "lego run (dns-01) for ${NAMES[*]}"
run_client lego-run "${L[@]}" run || fail "lego run failed"
grep -qi 'dns-01' "$WORK/lego-run.log" || fail "lego did not use dns-01"

crt=$LP/certificates/example.test.crt
key=$LP/certificates/example.test.key
[[ -s $crt && -s $key ]] || fail "lego did not save $crt / $key"
verify_chain "$crt"
assert_keys_match "$crt" "$key"
# Both authorizations (the name and the wildcard) were answered through DNS.
assert_txt_calls set _acme-challenge.example.test. 2
assert_txt_calls clear _acme-challenge.example.test. 1

pass
