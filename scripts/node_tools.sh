# shellcheck shell=bash
# Sourced (not run) by clients_tools.sh and openclaw_tools.sh: Node from npm
# (the node-linux-ARCH package) in a private DIR, and npm installs into that
# DIR under that Node, so both scripts detect the machine, reuse an install
# and fail in the same words.
#
# The caller sets ME (its name, for messages), NODE_MAJOR, optionally
# NODE_MIN_MINOR (the lowest minor of that major it accepts; default 0) and
# NPM_NET (extra npm flags, e.g. network timeouts), then calls
# node_tools_init DIR, which sets arch, dir and node.

# Resolves the arch and DIR and gives DIR its own package.json.
node_tools_init() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) arch=x64 ;;
    Linux-aarch64 | Linux-arm64) arch=arm64 ;;
    *) echo "$ME: only Linux x64/arm64 are supported." >&2; exit 1 ;;
  esac
  mkdir -p "$1"
  dir=$(cd "$1" && pwd -P)
  node="$dir/node_modules/node-linux-$arch/bin/node"
  # Its own package.json keeps npm from installing into a parent project.
  [ -f "$dir/package.json" ] || printf '{ "private": true }\n' >"$dir/package.json"
}

# The version of an installed package, or nothing (the first "version" key, whatever the indent).
installed_version() {
  sed -nE 's/^[[:space:]]+"version": "([^"]+)".*/\1/p' "$dir/node_modules/$1/package.json" 2>/dev/null |
    head -n 1
}

# Whether $node runs and is NODE_MAJOR.x with x >= NODE_MIN_MINOR.
node_ok() {
  [ -x "$node" ] || return 1
  local v
  v=$("$node" --version 2>/dev/null) || return 1
  v=${v#v}
  [ "${v%%.*}" = "$NODE_MAJOR" ] || return 1
  v=${v#*.}
  [ "${v%%.*}" -ge "${NODE_MIN_MINOR:-0}" ]
}

npm_failed() {
  echo "$ME: npm could not install $1 into $dir (no registry access?)." >&2
  exit 1
}

# Installs Node NODE_MAJOR into DIR unless a good one is there already.
ensure_node() {
  node_ok && return 0
  echo "$ME: installing node-linux-$arch@$NODE_MAJOR into $dir" >&2
  # shellcheck disable=SC2086
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact ${NPM_NET:-} \
    "node-linux-$arch@$NODE_MAJOR" >&2 || npm_failed "node-linux-$arch@$NODE_MAJOR"
  local want=$NODE_MAJOR
  [ -z "${NODE_MIN_MINOR:-}" ] || want=">= $NODE_MAJOR.$NODE_MIN_MINOR"
  node_ok || { echo "$ME: $node is not node $want." >&2; exit 1; }
}

# npm install PACKAGE… into DIR, with npm running under DIR's Node (for the
# packages' engines fields).
npm_install_with_node() {
  # shellcheck disable=SC2086
  PATH="$(dirname "$node"):$PATH" npm install --prefix "$dir" --no-audit --no-fund \
    --loglevel=error --save-exact ${NPM_NET:-} "$@" >&2 || npm_failed "$*"
}
