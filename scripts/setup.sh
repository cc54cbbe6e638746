#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages, builds OpenSSL 3.5 from
# Debian's source package when the system OpenSSL is older (cached per machine), and builds
# Akāmu in Release mode into build/. Safe to re-run: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# Build toolchain and libraries. Boost 1.81 is installed by name: the default boost
# metapackages are 1.74 and conflict with it.
build_pkgs=(
  build-essential cmake ninja-build pkg-config perl patch xz-utils
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libexpected-dev libunbound-dev libpq-dev prometheus-cpp-dev libidn2-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev clang-format patchelf
  publicsuffix
  clang-14 libclang-rt-14-dev
)
# What the tests drive: real ACME clients, pebble as a peer, PostgreSQL, tools.
test_pkgs=(
  certbot lego uacme dehydrated acme-tiny pebble
  postgresql-15 curl openssl util-linux procps python3 jq gnuplot-nox logrotate prometheus
)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# OpenSSL >= 3.5 gives ML-DSA. Use the system one when it is new enough.
cmake_args=()
sys_ver=$(openssl version | awk '{print $2}')
if [[ "$(printf '%s\n3.5.0\n' "$sys_ver" | sort -V | head -n1)" != "3.5.0" ]]; then
  prefix=$(./scripts/build-openssl.sh)
  cmake_args+=("-DOPENSSL_ROOT_DIR=$prefix")
  echo "setup: using OpenSSL from $prefix"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DAKAMU_WERROR=ON "${cmake_args[@]}"

# An independent ML-DSA implementation for the post-quantum cross-check (npm registry).
if [[ -f build/pq/package.json && ! -d build/pq/node_modules/@noble/post-quantum ]]; then
  command -v npm >/dev/null || $SUDO apt-get install -y -q --no-install-recommends nodejs npm
  (cd build/pq && npm install --no-audit --no-fund --loglevel=error)
fi
cmake --build build -j"$(nproc)"
echo "setup: done. Binaries are in build/bin/."
