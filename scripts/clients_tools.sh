#!/usr/bin/env bash
# Installs Node 24 and the real coding-agent clients (pinned; the variables
# below override) from npm into DIR and prints the variables the connect tests
# read (tests/clients_env.ts): Claude Code, Codex CLI and pi. An install
# already in DIR with the same versions is reused without touching the
# network. Nothing is installed globally; DIR gets its own package.json so npm
# never installs into a parent project. .ci/run calls it with
# .ci/.tools/clients; by hand:
#
#   eval "$(scripts/clients_tools.sh .ci/.tools/clients)"
#   deno test --allow-all tests/cli/connect_clients_test.ts
#
# Progress goes to stderr; stdout holds only the export lines. Exit 1 when npm
# fails (the message says so), 64 on a usage error.
set -euo pipefail

CLAUDE_CODE_VERSION=${CLAUDE_CODE_VERSION:-2.1.197}
CODEX_VERSION=${CODEX_VERSION:-0.171.0}
PI_VERSION=${PI_VERSION:-0.73.1}
NODE_MAJOR=24
ME=clients_tools.sh
# An unreachable registry fails within minutes, not npm's default of 5 min per try.
NPM_NET="--fetch-timeout=60000 --fetch-retries=1"
# shellcheck source=scripts/node_tools.sh
. "$(dirname "${BASH_SOURCE[0]}")/node_tools.sh"

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIR   (installs node $NODE_MAJOR, claude-code@$CLAUDE_CODE_VERSION, codex@$CODEX_VERSION, pi@$PI_VERSION into DIR, prints the exports)" >&2
  exit 64
fi
node_tools_init "$1"
ensure_node

wanted=()
[ "$(installed_version @anthropic-ai/claude-code)" = "$CLAUDE_CODE_VERSION" ] ||
  wanted+=("@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION")
[ "$(installed_version @openai/codex)" = "$CODEX_VERSION" ] || wanted+=("@openai/codex@$CODEX_VERSION")
[ "$(installed_version @mariozechner/pi-coding-agent)" = "$PI_VERSION" ] ||
  wanted+=("@mariozechner/pi-coding-agent@$PI_VERSION")
if [ ${#wanted[@]} -gt 0 ]; then
  echo "clients_tools.sh: installing ${wanted[*]} into $dir" >&2
  # One npm run for all three (about 25 s); npm runs under Node 24 for the engines fields.
  npm_install_with_node "${wanted[@]}"
fi

# The entry points as each package.json names them ("bin").
bin_of() {
  "$node" -e '
    const [dir, name, cmd] = process.argv.slice(1);
    const pkg = require(`${dir}/node_modules/${name}/package.json`);
    const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin[cmd];
    console.log(require("node:path").resolve(`${dir}/node_modules/${name}`, bin));
  ' "$dir" "$1" "$2"
}
claude=$(bin_of @anthropic-ai/claude-code claude)
codex=$(bin_of @openai/codex codex)
pi=$(bin_of @mariozechner/pi-coding-agent pi)
for f in "$claude" "$codex" "$pi"; do
  [ -f "$f" ] || { echo "clients_tools.sh: $f is missing after the install." >&2; exit 1; }
done
echo "clients_tools.sh: node $("$node" --version), claude-code $(installed_version @anthropic-ai/claude-code), codex $(installed_version @openai/codex), pi $(installed_version @mariozechner/pi-coding-agent)" >&2

printf 'export CLAWAUTH_CLIENTS_NODE=%q\n' "$node"
printf 'export CLAWAUTH_CLAUDE_BIN=%q\n' "$claude"
printf 'export CLAWAUTH_CODEX_BIN=%q\n' "$codex"
printf 'export CLAWAUTH_PI_BIN=%q\n' "$pi"
