#!/usr/bin/env bash
# Installs Node 24 and OpenClaw (latest, or $OPENCLAW_VERSION) from npm into DIR,
# outside this repository, for the opt-in tests/openclaw_compat_test.ts, and
# prints the two variables the test reads. Nothing is installed globally.
# For developers only: CI never runs it (and it refuses when $CI is set).
#
#   eval "$(scripts/openclaw_compat.sh /tmp/openclaw-compat)"
#   deno test --allow-all tests/openclaw_compat_test.ts
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIR   (installs node 24 + openclaw into DIR, prints the exports)" >&2
  exit 64
fi
if [ -n "${CI:-}" ]; then
  echo "openclaw_compat.sh: not run in CI (it downloads OpenClaw and Node 24)." >&2
  exit 1
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) arch=x64 ;;
  Linux-aarch64 | Linux-arm64) arch=arm64 ;;
  *) echo "openclaw_compat.sh: only Linux x64/arm64 are supported." >&2; exit 1 ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd -P)
dir=$(realpath -m "$1")
case "$dir/" in
  "$repo/"*) echo "openclaw_compat.sh: choose a directory outside $repo." >&2; exit 64 ;;
esac
mkdir -p "$dir"
# Its own package.json keeps npm from installing into a parent project.
[ -f "$dir/package.json" ] || printf '{ "private": true }\n' >"$dir/package.json"

npm install --prefix "$dir" --no-audit --no-fund "node-linux-$arch@24" >&2
node="$dir/node_modules/node-linux-$arch/bin/node"
# OpenClaw's engines field wants Node >= 24.16, so install it with that node first on PATH.
PATH="$(dirname "$node"):$PATH" npm install --prefix "$dir" --no-audit --no-fund \
  "openclaw@${OPENCLAW_VERSION:-latest}" >&2
entry="$dir/node_modules/openclaw/openclaw.mjs"
echo "node $("$node" --version), $("$node" "$entry" --version)" >&2

printf 'export CLAWAUTH_NODE24_BIN=%q\n' "$node"
printf 'export CLAWAUTH_OPENCLAW_BIN=%q\n' "$entry"
