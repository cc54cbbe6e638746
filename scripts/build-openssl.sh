#!/usr/bin/env bash
# Builds OpenSSL 3.5 (ML-DSA) from Debian's own source package for the newer Debian release,
# into a per-machine cache outside the clone, and prints the install prefix on stdout.
#
# Why: Debian 12 ships OpenSSL 3.0, which has no ML-DSA. We take the source package that
# Debian itself ships in trixie, from the mirror this machine is already configured with, and
# configure it the way debian/rules does. The result is cached under
# ${AKAMU_CACHE_DIR:-~/.cache/akamu}/openssl-<version>, so re-running is instant.
#
# Nothing here writes to the system's apt configuration: the temporary source list, the
# package lists and the download all live in a temporary directory.
set -euo pipefail

cache_root="${AKAMU_CACHE_DIR:-${HOME}/.cache/akamu}"
mkdir -p "$cache_root"

log() { echo "build-openssl: $*" >&2; }

# Reuse any complete cached 3.5.x build (newest first).
find_cached() {
  local d
  for d in $(ls -d "$cache_root"/openssl-3.5.* 2>/dev/null | sort -rV); do
    if [[ -f "$d/.complete" && -x "$d/bin/openssl" ]]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

if cached=$(find_cached); then
  log "using cached $cached"
  echo "$cached"
  exit 0
fi

# The mirror already configured for Debian's main archive (deb822 or one-line format).
mirror_uri() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri=$(awk '/^URIs:/ {print $2}' "$f" | grep -v -- '-security' | head -n1 || true)
    if [[ -n "$uri" ]]; then echo "$uri"; return 0; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' "$f")
    if [[ -n "$uri" ]]; then echo "$uri"; return 0; fi
  done
  return 1
}

uri=$(mirror_uri) || { log "no Debian mirror found in the apt sources"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/src"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$work/sources.list" <<EOF
deb-src [signed-by=$keyring] $uri trixie main
deb-src [signed-by=$keyring] $uri trixie-updates main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
  -o "APT::Get::List-Cleanup=0")

log "fetching the trixie source index from the configured mirror"
apt-get "${apt_opts[@]}" update -qq >&2

versions=$(apt-cache "${apt_opts[@]}" showsrc openssl 2>/dev/null |
  awk '/^Package: openssl$/ {p = 1; next} /^Package:/ {p = 0} p && /^Version:/ {print $2}' |
  grep -E '^3\.5\.' | sort -urV || true)
[[ -n "$versions" ]] || { log "no openssl 3.5.x source package listed"; exit 1; }

got=""
for v in $versions; do
  log "trying openssl source $v"
  rm -rf "$work/src" && mkdir -p "$work/src"
  if (cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only --tar-only "openssl=$v" >&2); then
    got="$v"
    break
  fi
  log "openssl $v could not be downloaded; trying the next version"
done
[[ -n "$got" ]] || { log "no openssl 3.5.x source could be downloaded"; exit 1; }

upstream="${got%%-*}"
prefix="$cache_root/openssl-$upstream"
rm -rf "$prefix"
cd "$work/src"
orig=$(ls openssl_*.orig.tar.* | head -n1)
tar xf "$orig"
srcdir=$(ls -d openssl-*/ | head -n1)
cd "$srcdir"

# Debian's patches (debian/patches/series), applied the way dpkg-source would.
deb_tar=$(ls ../openssl_*.debian.tar.* 2>/dev/null | head -n1 || true)
if [[ -n "$deb_tar" ]]; then
  tar xf "$deb_tar"
  if [[ -f debian/patches/series ]]; then
    while read -r p; do
      [[ -z "$p" || "$p" == \#* ]] && continue
      patch -p1 -s --forward <"debian/patches/$p" >&2 || log "patch $p did not apply; continuing"
    done <debian/patches/series
  fi
fi

# The options debian/rules passes on amd64 (CONFARGS), with our prefix instead of /usr so
# that the system OpenSSL is untouched; the configuration and trust store stay Debian's.
log "configuring OpenSSL $upstream into $prefix"
./Configure linux-x86_64 shared \
  --prefix="$prefix" --openssldir=/usr/lib/ssl --libdir=lib \
  no-idea no-mdc2 no-rc5 no-zlib no-ssl3 enable-unit-test no-ssl3-method \
  enable-rfc3779 enable-cms no-capieng no-rc4 enable-ec_nistp_64_gcc_128 \
  "-Wl,-rpath,$prefix/lib" >&2
log "building (this takes a few minutes once per machine)"
make -s -j"$(nproc)" build_sw >&2
make -s install_sw >&2
touch "$prefix/.complete"
log "installed $("$prefix/bin/openssl" version)"
echo "$prefix"
