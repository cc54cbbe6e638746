#!/usr/bin/env bash
# Interop over HTTPS: dehydrated.sh against akamu serving HTTPS with [tls] auto = true (the server
# certificate is issued by akamu's own CA at start, for 127.0.0.1); the client must verify it
# against akamu's CA certificate ($DATA/ca.pem): dehydrated trusts it through CURL_OPTS="--cacert FILE".
INTEROP_TLS=1 exec bash "$(dirname "${BASH_SOURCE[0]}")/dehydrated.sh" "$@"
