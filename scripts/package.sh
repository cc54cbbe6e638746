#!/usr/bin/env bash
# Builds a Debian package of Akāmu from an existing build (./scripts/setup.sh first):
#   ./scripts/package.sh [BUILD_DIR] [OUTPUT_DIR]      (defaults: build, dist)
# Result: OUTPUT_DIR/akamu_<version>_<arch>.deb, installable with
#   apt install ./dist/akamu_<version>_<arch>.deb
# It holds /usr/bin/akamu, akamuctl and acme-bench, the systemd unit, a logrotate snippet and the
# docs; installing creates the `akamu` system user and, when missing, /etc/akamu/akamu.toml
# (from `akamu init`, data in /var/lib/akamu). When the build uses an OpenSSL that is not the
# system's (the 3.5 that setup.sh builds for ML-DSA), its two libraries go into /usr/lib/akamu
# and the binaries look there first; the dependencies on Debian's libraries are computed by
# dpkg-shlibdeps.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-dist}
for tool in dpkg-deb dpkg-shlibdeps patchelf; do
  command -v "$tool" >/dev/null || { echo "package: $tool is missing (run ./scripts/setup.sh)" >&2; exit 1; }
done
[[ -x $build/bin/akamu ]] || { echo "package: $build/bin/akamu not built (run ./scripts/setup.sh)" >&2; exit 1; }

version=$(grep -oP 'project\(akamu VERSION \K[0-9.]+' CMakeLists.txt)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/logrotate.d" \
  "$root/usr/share/doc/akamu"

binaries=(akamu akamuctl acme-bench)
for b in "${binaries[@]}"; do
  install -m 0755 "$build/bin/$b" "$root/usr/bin/$b"
done

# A private OpenSSL: ship it and point the binaries' RUNPATH at it; a system one: no RUNPATH.
ossl_dir=$(grep -oP '^OPENSSL_ROOT_DIR:[A-Z]*=\K.*' "$build/CMakeCache.txt" || true)
private_libs=()
if [[ -n $ossl_dir ]]; then
  mkdir -p "$root/usr/lib/akamu"
  for lib in libssl.so.3 libcrypto.so.3; do
    install -m 0644 "$ossl_dir/lib/$lib" "$root/usr/lib/akamu/$lib"
    private_libs+=("$root/usr/lib/akamu/$lib")
  done
  for b in "${binaries[@]}"; do patchelf --set-rpath /usr/lib/akamu "$root/usr/bin/$b"; done
  for lib in "${private_libs[@]}"; do patchelf --set-rpath /usr/lib/akamu "$lib"; done
else
  for b in "${binaries[@]}"; do patchelf --remove-rpath "$root/usr/bin/$b"; done
fi
strip --strip-unneeded "$root/usr/bin/"* "${private_libs[@]}" 2>/dev/null || true

install -m 0644 contrib/systemd/akamu.service "$root/lib/systemd/system/akamu.service"
install -m 0644 contrib/logrotate/akamu "$root/etc/logrotate.d/akamu"
for doc in README.md docs/operations.md docs/configuration.md docs/lifecycle.md docs/protocol.md; do
  [[ -f $doc ]] && install -m 0644 "$doc" "$root/usr/share/doc/akamu/$(basename "$doc")"
done
cat >"$root/usr/share/doc/akamu/copyright" <<'TXT'
Akāmu, a self-hosted ACME certificate authority.
When /usr/lib/akamu holds libssl.so.3 and libcrypto.so.3, they are OpenSSL 3.5 built from
Debian's source package, under the Apache License 2.0.
TXT

# Dependencies: what the binaries and the private libraries link against, minus those libraries.
mkdir -p "$stage/debian"
printf 'Source: akamu\n\nPackage: akamu\nArchitecture: any\n' >"$stage/debian/control"
shlib_args=()
[[ ${#private_libs[@]} -gt 0 ]] && shlib_args+=("-l$root/usr/lib/akamu")
depends=$(cd "$stage" && dpkg-shlibdeps -O "${shlib_args[@]}" --ignore-missing-info \
  "${binaries[@]/#/root/usr/bin/}" "${private_libs[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

installed_kb=$(du -sk "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<TXT
Package: akamu
Version: $version
Architecture: $arch
Maintainer: Akamu developers <akamu@localhost>
Installed-Size: $installed_kb
Depends: $depends, adduser
Section: net
Priority: optional
Homepage: https://akamu.invalid/
Description: self-hosted ACME (RFC 8555) certificate authority
 Akamu issues short-lived TLS certificates to the ACME clients machines already
 use (certbot, lego, Caddy, acme.sh, cert-manager, ...) inside a private network.
 This package holds the akamu server, acme-bench, a hardened systemd unit and a
 logrotate snippet. The service is not started on installation: review
 /etc/akamu/akamu.toml, then run "systemctl enable --now akamu".
TXT
echo "/etc/logrotate.d/akamu" >"$root/DEBIAN/conffiles"

cat >"$root/DEBIAN/postinst" <<'TXT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  if ! getent passwd akamu >/dev/null; then
    adduser --system --group --home /var/lib/akamu --no-create-home \
      --gecos "Akamu ACME CA" akamu >/dev/null
  fi
  install -d -m 0700 -o akamu -g akamu /var/lib/akamu
  install -d -m 0750 -o root -g akamu /etc/akamu
  if [ ! -e /etc/akamu/akamu.toml ]; then
    /usr/bin/akamu init -o /etc/akamu/akamu.toml --data-dir /var/lib/akamu \
      --admin-socket /run/akamu/admin.sock >/dev/null
    chown root:akamu /etc/akamu/akamu.toml
    chmod 0640 /etc/akamu/akamu.toml
    echo "akamu: wrote /etc/akamu/akamu.toml; review it, then: systemctl enable --now akamu"
  fi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
fi
exit 0
TXT
cat >"$root/DEBIAN/prerm" <<'TXT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop akamu.service >/dev/null 2>&1 || true
fi
exit 0
TXT
cat >"$root/DEBIAN/postrm" <<'TXT'
#!/bin/sh
set -e
# The CA key, the database and the audit log in /var/lib/akamu are never deleted by the package,
# not even on purge: losing a CA key or the record of what it issued cannot be undone.
if [ "$1" = purge ]; then
  rm -f /etc/akamu/akamu.toml
  rmdir /etc/akamu 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
exit 0
TXT
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/akamu_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
