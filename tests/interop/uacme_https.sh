#!/usr/bin/env bash
# Interop over HTTPS: uacme.sh against akamu serving HTTPS with [tls] auto = true (the server
# certificate is issued by akamu's own CA at start, for 127.0.0.1); the client must verify it
# against akamu's CA certificate ($DATA/ca.pem): uacme has no CA option: it runs with a system store that also holds the CA, in a private mount namespace.
INTEROP_TLS=1 exec bash "$(dirname "${BASH_SOURCE[0]}")/uacme.sh" "$@"
