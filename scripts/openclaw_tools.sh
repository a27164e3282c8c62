#!/usr/bin/env bash
# Installs Node 24 and OpenClaw (pinned, $OPENCLAW_VERSION overrides) from npm
# into DIR and prints the two variables the OpenClaw tests read
# (tests/openclaw_env.ts). An install already in DIR with the same versions is
# reused without touching the network. Nothing is installed globally; DIR gets
# its own package.json so npm never installs into a parent project.
# .ci/run calls it with .ci/.tools/openclaw; by hand:
#
#   eval "$(scripts/openclaw_tools.sh .ci/.tools/openclaw)"
#   deno test --allow-all tests/openclaw_db_test.ts
#
# Progress goes to stderr; stdout holds only the export lines. Exit 1 when npm
# fails (the message says so), 64 on a usage error.
set -euo pipefail

OPENCLAW_VERSION=${OPENCLAW_VERSION:-2026.9.6}
NODE_MAJOR=24
# OpenClaw 2026.9's engines field: node >= 24.16.
NODE_MIN_MINOR=16

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIR   (installs node $NODE_MAJOR + openclaw@$OPENCLAW_VERSION into DIR, prints the exports)" >&2
  exit 64
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) arch=x64 ;;
  Linux-aarch64 | Linux-arm64) arch=arm64 ;;
  *) echo "openclaw_tools.sh: only Linux x64/arm64 are supported." >&2; exit 1 ;;
esac

mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
node="$dir/node_modules/node-linux-$arch/bin/node"
entry="$dir/node_modules/openclaw/openclaw.mjs"

# The version of an installed package, or nothing.
installed_version() {
  sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$dir/node_modules/$1/package.json" 2>/dev/null | head -n 1
}
node_ok() {
  [ -x "$node" ] || return 1
  local v
  v=$("$node" --version 2>/dev/null) || return 1
  v=${v#v}
  [ "${v%%.*}" = "$NODE_MAJOR" ] || return 1
  v=${v#*.}
  [ "${v%%.*}" -ge "$NODE_MIN_MINOR" ]
}
npm_failed() {
  echo "openclaw_tools.sh: npm could not install $1 into $dir (no registry access?)." >&2
  exit 1
}

# Its own package.json keeps npm from installing into a parent project.
[ -f "$dir/package.json" ] || printf '{ "private": true }\n' >"$dir/package.json"

if ! node_ok; then
  echo "openclaw_tools.sh: installing node-linux-$arch@$NODE_MAJOR into $dir" >&2
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact \
    "node-linux-$arch@$NODE_MAJOR" >&2 || npm_failed "node-linux-$arch@$NODE_MAJOR"
  node_ok || { echo "openclaw_tools.sh: $node is not node >= $NODE_MAJOR.$NODE_MIN_MINOR." >&2; exit 1; }
fi

if [ "$(installed_version openclaw)" != "$OPENCLAW_VERSION" ] || [ ! -f "$entry" ]; then
  echo "openclaw_tools.sh: installing openclaw@$OPENCLAW_VERSION into $dir" >&2
  # OpenClaw's engines field wants Node >= 24.16, so npm runs under that node.
  PATH="$(dirname "$node"):$PATH" npm install --prefix "$dir" --no-audit --no-fund \
    --loglevel=error --save-exact "openclaw@$OPENCLAW_VERSION" >&2 ||
    npm_failed "openclaw@$OPENCLAW_VERSION"
  [ -f "$entry" ] || { echo "openclaw_tools.sh: $entry is missing after the install." >&2; exit 1; }
fi
echo "openclaw_tools.sh: node $("$node" --version), openclaw $(installed_version openclaw)" >&2

printf 'export CLAWAUTH_NODE24_BIN=%q\n' "$node"
printf 'export CLAWAUTH_OPENCLAW_BIN=%q\n' "$entry"
