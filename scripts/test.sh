#!/usr/bin/env bash
# Runs every test: unit, integration (server in-process) and interop (real ACME clients
# against the built akamu binary). Builds first if needed. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f build/build.ninja ]]; then
  ./scripts/setup.sh
fi
cmake --build build -j"$(nproc)"

# The machine exports CA bundle variables for its own proxy; tests set their own.
unset REQUESTS_CA_BUNDLE SSL_CERT_FILE CURL_CA_BUNDLE || true

cd build
ctest --output-on-failure --no-tests=error -j"$(nproc)" "$@"
