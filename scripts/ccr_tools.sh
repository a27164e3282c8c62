#!/usr/bin/env bash
# Installs claude-code-router (pinned; CCR_VERSION overrides) from npm into
# DIR for the proxy section of `deno task bench`, and prints the variables it
# reads: the Node it runs on and its CLI. It runs on Node >= 20: the Node on
# PATH when it is 20 or newer, else Node 20 from npm into DIR. An install
# already in DIR with the same version is reused without touching the
# network. The bench calls it with .ci/.tools/ccr; by hand:
#
#   eval "$(scripts/ccr_tools.sh .ci/.tools/ccr)"
#
# Progress goes to stderr; stdout holds only the export lines. Exit 1 when npm
# fails (the message says so), 64 on a usage error.
set -euo pipefail

CCR_VERSION=${CCR_VERSION:-2.0.0}
NODE_MAJOR=20
ME=ccr_tools.sh
# An unreachable registry fails within minutes, not npm's default of 5 min per try.
NPM_NET="--fetch-timeout=60000 --fetch-retries=1"
# shellcheck source=scripts/node_tools.sh
. "$(dirname "${BASH_SOURCE[0]}")/node_tools.sh"

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIR   (installs claude-code-router@$CCR_VERSION into DIR, prints the exports)" >&2
  exit 64
fi
node_tools_init "$1"
# A Node >= 20 on PATH saves downloading one.
local_node=$(command -v node || true)
if [ -n "$local_node" ] && v=$("$local_node" --version 2>/dev/null) && v=${v#v} &&
  [ "${v%%.*}" -ge "$NODE_MAJOR" ] 2>/dev/null; then
  node=$local_node
else
  ensure_node
fi

package=@musistudio/claude-code-router
if [ "$(installed_version "$package")" != "$CCR_VERSION" ]; then
  echo "ccr_tools.sh: installing $package@$CCR_VERSION into $dir" >&2
  npm_install_with_node "$package@$CCR_VERSION"
fi
cli="$dir/node_modules/$package/dist/cli.js"
[ -f "$cli" ] || { echo "ccr_tools.sh: $cli is missing after the install." >&2; exit 1; }
echo "ccr_tools.sh: node $("$node" --version), claude-code-router $(installed_version "$package")" >&2

printf 'export CLAWAUTH_CCR_NODE=%q\n' "$node"
printf 'export CLAWAUTH_CCR_CLI=%q\n' "$cli"
