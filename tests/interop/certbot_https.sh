#!/usr/bin/env bash
# Interop over HTTPS: certbot.sh against akamu serving HTTPS with [tls] auto = true (the server
# certificate is issued by akamu's own CA at start, for 127.0.0.1); the client must verify it
# against akamu's CA certificate ($DATA/ca.pem): certbot trusts it through REQUESTS_CA_BUNDLE (certbot has no CA flag).
INTEROP_TLS=1 exec bash "$(dirname "${BASH_SOURCE[0]}")/certbot.sh" "$@"
