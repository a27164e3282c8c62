#!/usr/bin/env bash
# Installs Node 24 and OpenClaw (pinned, $OPENCLAW_VERSION overrides) from npm
# into DIR and prints the two variables the OpenClaw tests read
# (tests/openclaw_env.ts). An install already in DIR with the same versions is
# reused without touching the network. Nothing is installed globally; DIR gets
# its own package.json so npm never installs into a parent project.
# .ci/run calls it with .ci/.tools/openclaw; by hand:
#
#   eval "$(scripts/openclaw_tools.sh .ci/.tools/openclaw)"
#   deno test --allow-all tests/cli/openclaw_db_documents_test.ts
#
# Progress goes to stderr; stdout holds only the export lines. Exit 1 when npm
# fails (the message says so), 64 on a usage error.
set -euo pipefail

OPENCLAW_VERSION=${OPENCLAW_VERSION:-2026.9.6}
NODE_MAJOR=24
# OpenClaw 2026.9's engines field: node >= 24.16.
NODE_MIN_MINOR=16
ME=openclaw_tools.sh
# shellcheck source=scripts/node_tools.sh
. "$(dirname "${BASH_SOURCE[0]}")/node_tools.sh"

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIR   (installs node $NODE_MAJOR + openclaw@$OPENCLAW_VERSION into DIR, prints the exports)" >&2
  exit 64
fi
node_tools_init "$1"
entry="$dir/node_modules/openclaw/openclaw.mjs"
ensure_node

if [ "$(installed_version openclaw)" != "$OPENCLAW_VERSION" ] || [ ! -f "$entry" ]; then
  echo "openclaw_tools.sh: installing openclaw@$OPENCLAW_VERSION into $dir" >&2
  # OpenClaw's engines field wants Node >= 24.16, so npm runs under that node.
  npm_install_with_node "openclaw@$OPENCLAW_VERSION"
  [ -f "$entry" ] || { echo "openclaw_tools.sh: $entry is missing after the install." >&2; exit 1; }
fi
echo "openclaw_tools.sh: node $("$node" --version), openclaw $(installed_version openclaw)" >&2

printf 'export CLAWAUTH_NODE24_BIN=%q\n' "$node"
printf 'export CLAWAUTH_OPENCLAW_BIN=%q\n' "$entry"
