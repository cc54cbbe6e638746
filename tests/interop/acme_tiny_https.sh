#!/usr/bin/env bash
# Interop over HTTPS: acme_tiny.sh against akamu serving HTTPS with [tls] auto = true (the server
# certificate is issued by akamu's own CA at start, for 127.0.0.1); the client must verify it
# against akamu's CA certificate ($DATA/ca.pem): acme-tiny trusts it through SSL_CERT_FILE (its --ca is the deprecated directory URL).
INTEROP_TLS=1 exec bash "$(dirname "${BASH_SOURCE[0]}")/acme_tiny.sh" "$@"
