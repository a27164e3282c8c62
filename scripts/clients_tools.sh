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
#   deno test --allow-all tests/connect_clients_test.ts
#
# Progress goes to stderr; stdout holds only the export lines. Exit 1 when npm
# fails (the message says so), 64 on a usage error.
set -euo pipefail

CLAUDE_CODE_VERSION=${CLAUDE_CODE_VERSION:-2.1.197}
CODEX_VERSION=${CODEX_VERSION:-0.171.0}
PI_VERSION=${PI_VERSION:-0.73.1}
NODE_MAJOR=24

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIR   (installs node $NODE_MAJOR, claude-code@$CLAUDE_CODE_VERSION, codex@$CODEX_VERSION, pi@$PI_VERSION into DIR, prints the exports)" >&2
  exit 64
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) arch=x64 ;;
  Linux-aarch64 | Linux-arm64) arch=arm64 ;;
  *) echo "clients_tools.sh: only Linux x64/arm64 are supported." >&2; exit 1 ;;
esac

mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
node="$dir/node_modules/node-linux-$arch/bin/node"

# The version of an installed package, or nothing (the first "version" key, whatever the indent).
installed_version() {
  sed -nE 's/^[[:space:]]+"version": "([^"]+)".*/\1/p' "$dir/node_modules/$1/package.json" 2>/dev/null |
    head -n 1
}
node_ok() {
  [ -x "$node" ] || return 1
  local v
  v=$("$node" --version 2>/dev/null) || return 1
  v=${v#v}
  [ "${v%%.*}" = "$NODE_MAJOR" ]
}
# An unreachable registry fails within minutes, not npm's default of 5 min per try.
NPM_NET="--fetch-timeout=60000 --fetch-retries=1"
npm_failed() {
  echo "clients_tools.sh: npm could not install $1 into $dir (no registry access?)." >&2
  exit 1
}

# Its own package.json keeps npm from installing into a parent project.
[ -f "$dir/package.json" ] || printf '{ "private": true }\n' >"$dir/package.json"

if ! node_ok; then
  echo "clients_tools.sh: installing node-linux-$arch@$NODE_MAJOR into $dir" >&2
  # shellcheck disable=SC2086
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact $NPM_NET \
    "node-linux-$arch@$NODE_MAJOR" >&2 || npm_failed "node-linux-$arch@$NODE_MAJOR"
  node_ok || { echo "clients_tools.sh: $node is not node $NODE_MAJOR." >&2; exit 1; }
fi

wanted=()
[ "$(installed_version @anthropic-ai/claude-code)" = "$CLAUDE_CODE_VERSION" ] ||
  wanted+=("@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION")
[ "$(installed_version @openai/codex)" = "$CODEX_VERSION" ] || wanted+=("@openai/codex@$CODEX_VERSION")
[ "$(installed_version @mariozechner/pi-coding-agent)" = "$PI_VERSION" ] ||
  wanted+=("@mariozechner/pi-coding-agent@$PI_VERSION")
if [ ${#wanted[@]} -gt 0 ]; then
  echo "clients_tools.sh: installing ${wanted[*]} into $dir" >&2
  # One npm run for all three (about 25 s); npm runs under Node 24 for the engines fields.
  # shellcheck disable=SC2086
  PATH="$(dirname "$node"):$PATH" npm install --prefix "$dir" --no-audit --no-fund \
    --loglevel=error --save-exact $NPM_NET "${wanted[@]}" >&2 || npm_failed "${wanted[*]}"
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
