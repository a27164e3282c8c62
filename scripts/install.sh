#!/bin/sh
# Installs the clawauth binary for this machine:
#
#   curl -fsSL https://github.com/clawauth/clawauth/releases/latest/download/install.sh | sh
#   sh install.sh [--dir DIR] [--version vX.Y.Z]
#
# It picks the release asset clawauth-<target> for this OS and CPU, downloads
# it and SHA256SUMS from $CLAWAUTH_DOWNLOAD_BASE (default: the latest GitHub
# release; with --version, that release), checks the SHA-256, and only then
# moves it into DIR (default ~/.local/bin) as "clawauth". On a checksum
# mismatch, a missing asset or any download error nothing is installed.
# CLAWAUTH_DOWNLOAD_BASE must be https (plain http only to 127.0.0.1,
# localhost or [::1]): SHA256SUMS comes from the same place as the binary, so
# it proves nothing against whoever can change what plain http carries.
# POSIX sh; needs curl or wget, and sha256sum or shasum.
set -eu

REPO_URL="https://github.com/clawauth/clawauth"
dir=""
dir_given=""
version=""

say() { printf '%s\n' "clawauth install: $*" >&2; }
die() { say "$*"; exit 1; }
# A setting that cannot be used: exit 64, as for a bad argument.
refuse() { say "$*"; exit 64; }
# Whether $1 may carry the download: https, or plain http to this machine. An
# authority with anything but a host and a port (user@, ?, #, \) could name
# another host than it seems to.
secure_base() {
  case "$1" in
    https://*) return 0 ;;
    http://*) authority=${1#http://}; authority=${authority%%/*} ;;
    *) return 1 ;;
  esac
  case "$authority" in
    *[!]0-9A-Za-z.:[]*) return 1 ;;
    127.0.0.1 | 127.0.0.1:* | localhost | localhost:* | "[::1]" | "[::1]":*) return 0 ;;
    *) return 1 ;;
  esac
}
usage() {
  cat >&2 <<'EOF'
usage: install.sh [--dir DIR] [--version vX.Y.Z]
  --dir DIR      where to put the clawauth binary (default ~/.local/bin;
                 required when HOME is not set)
  --version TAG  a release tag (default: the latest release)
  CLAWAUTH_DOWNLOAD_BASE overrides where clawauth-<target> and SHA256SUMS come
  from: https, or plain http to 127.0.0.1, localhost or [::1] only.
EOF
  exit 64
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || usage; dir=$2; dir_given=1; shift 2 ;;
    --dir=*) dir=${1#--dir=}; dir_given=1; shift ;;
    --version) [ $# -ge 2 ] || usage; version=$2; shift 2 ;;
    --version=*) version=${1#--version=}; shift ;;
    -h | --help) usage ;;
    *) say "unknown argument: $1"; usage ;;
  esac
done
if [ -z "$dir_given" ]; then
  [ -n "${HOME:-}" ] || refuse "HOME is not set, so there is no ~/.local/bin: pass --dir DIR."
  dir="$HOME/.local/bin"
fi
[ -n "$dir" ] || refuse "no install dir: --dir is empty; pass --dir DIR."

if [ -n "${CLAWAUTH_DOWNLOAD_BASE:-}" ]; then
  base=${CLAWAUTH_DOWNLOAD_BASE%/}
  secure_base "$base" ||
    refuse "CLAWAUTH_DOWNLOAD_BASE must be https (plain http only to 127.0.0.1, localhost or [::1]): over plain http the binary and its SHA256SUMS could both be swapped; nothing downloaded."
elif [ -n "$version" ]; then
  base="$REPO_URL/releases/download/$version"
else
  base="$REPO_URL/releases/latest/download"
fi

os=$(uname -s)
arch=$(uname -m)
case "$arch" in
  x86_64 | amd64) cpu=x86_64 ;;
  aarch64 | arm64) cpu=aarch64 ;;
  *) die "no clawauth binary for CPU $arch (releases: x86_64, aarch64)." ;;
esac
case "$os" in
  Linux) target="$cpu-unknown-linux-gnu" ;;
  Darwin) target="$cpu-apple-darwin" ;;
  *) die "no clawauth binary for $os from this script (on Windows, download clawauth-x86_64-pc-windows-msvc.exe)." ;;
esac
asset="clawauth-$target"

case "$base" in
  https://*) protocols="=https" ;;
  *) protocols="=https,http" ;;
esac
if command -v curl >/dev/null 2>&1; then
  # A redirect is held to the same protocols: https never falls back to http.
  fetch() { curl -fsSL --proto "$protocols" --proto-redir "$protocols" -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "needs curl or wget to download."
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  die "needs sha256sum or shasum to check the download."
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t clawauth)
staged=""
trap 'rm -rf "$tmp"; [ -z "$staged" ] || rm -f "$staged"' EXIT
trap 'exit 130' INT TERM HUP

say "downloading $asset from $base"
fetch "$base/$asset" "$tmp/$asset" || die "could not download $base/$asset; nothing installed."
fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $base/SHA256SUMS; nothing installed."

# sha256sum lines: "<hex>  <name>" (or "<hex> *<name>" in binary mode).
expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1; exit }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || die "SHA256SUMS lists no $asset; nothing installed."
actual=$(sha256 "$tmp/$asset")
expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $asset (expected $expected, got $actual); nothing installed."
fi

mkdir -p "$dir"
# mv would move the file into a directory (or a link to one) of that name.
[ ! -d "$dir/clawauth" ] || die "$dir/clawauth is a directory; nothing installed."
# A fresh temp file in the same directory (mktemp creates it, O_EXCL: never a
# planted link), then a rename, which replaces a link rather than writing
# through it: a running clawauth is never overwritten in place.
staged=$(mktemp "$dir/.clawauth.XXXXXX") || die "cannot create a file in $dir; nothing installed."
cp "$tmp/$asset" "$staged"
chmod 755 "$staged"
mv -f "$staged" "$dir/clawauth"
staged=""
say "installed $dir/clawauth ($("$dir/clawauth" --version 2>/dev/null || echo "$asset"))"
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "$dir is not on PATH; add it: export PATH=\"$dir:\$PATH\"" ;;
esac
