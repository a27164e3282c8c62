/**
 * The command table: names, one-line summaries, and lazy loaders, so only the
 * command that runs is loaded (the `token` hot path stays small).
 *
 * @module
 */

import type { Command } from "../command.ts";
import { type LazyModules, load } from "../lazy.ts";

/** A command's entry in the table. */
export interface CommandEntry {
  /** One line for `clawauth --help`. */
  summary: string;
  /** Loads the command module. */
  load(): Promise<{ command: Command }>;
}

/** A lazily loaded module under `lib/commands/`. */
type CommandModule = Extract<keyof LazyModules, `commands/${string}`>;

/** The entry of the command that `lib/<path>` exports as `command`. */
function lazy(path: CommandModule, summary: string): CommandEntry {
  return { summary, load: () => load(path) };
}

/** Every command by name. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  login: lazy("commands/login.ts", "log in with OAuth (browser, pasted code, or --start/--finish)"),
  "setup-token": lazy(
    "commands/setup_token.ts",
    "store a Claude setup-token (runs claude setup-token when installed)",
  ),
  "paste-token": lazy("commands/paste_token.ts", "store a setup-token or API key read from stdin"),
  status: lazy("commands/status.ts", "every profile with its state; --check for CI"),
  token: lazy("commands/token.ts", "print a usable secret (refreshing OAuth first)"),
  list: lazy("commands/list.ts", "profiles without secrets"),
  remove: lazy("commands/remove.ts", "delete a profile (alias: logout)"),
  order: lazy("commands/order.ts", "get, set or clear a provider's routing order"),
  resolve: lazy("commands/resolve.ts", "which profile a request would use, and why not the others"),
  report: lazy("commands/report.ts", "feed a failure (or --ok) back into rotation"),
  exec: lazy("commands/exec.ts", "run a command with fresh secrets in its environment"),
  channels: lazy(
    "commands/channels.ts",
    "OpenClaw's channels list: profiles per provider, no secrets",
  ),
  import: lazy(
    "commands/import.ts",
    "adopt logins from Claude Code, Codex CLI or OpenClaw's legacy file",
  ),
  agents: lazy("commands/agents.ts", "add, list or remove agents (separate stores)"),
  store: lazy(
    "commands/store.ts",
    "fleet store (PostgreSQL): init, status, copy, keygen, rotate-key",
  ),
  "openclaw-secret": lazy(
    "commands/openclaw_secret.ts",
    "OpenClaw exec SecretRef provider: ids on stdin, secrets as JSON",
  ),
  doctor: lazy(
    "commands/doctor.ts",
    "check permissions, file validity, stale logins, lock and clock; --fix",
  ),
  connect: lazy(
    "commands/connect.ts",
    "make Claude Code, Codex, pi, git or OpenClaw ask clawauth for tokens",
  ),
  disconnect: {
    summary: "remove exactly what connect added to a tool's config",
    load: async () => ({
      command: (await load("commands/connect.ts"))
        .disconnectCommand,
    }),
  },
  proxy: lazy(
    "commands/proxy.ts",
    "local proxy: per-request routing, failover and fresh tokens; tools hold a local key",
  ),
  "git-credential": lazy(
    "commands/git_credential.ts",
    "git credential helper: get|store|erase (key=value on stdin)",
  ),
  "kube-credential": lazy(
    "commands/kube_credential.ts",
    "kubectl exec credential plugin: an ExecCredential with the token",
  ),
};

/** Other spellings, including OpenClaw's `models …`, mapped to a command name. */
export const ALIASES: Readonly<Record<string, string>> = {
  logout: "remove",
  "models status": "status",
  "models list": "list",
  "models auth paste-token": "paste-token",
  "models auth order": "order",
  "models auth login": "login",
  "models auth setup-token": "setup-token",
  "models auth logout": "remove",
};

/**
 * Finds the command an argv names, consuming alias words; returns its name
 * and the remaining arguments, or `undefined` for an unknown command.
 */
export function findCommand(
  argv: readonly string[],
): { name: string; rest: string[] } | undefined {
  for (const words of [3, 2, 1]) {
    const key = argv.slice(0, words).join(" ");
    const name = Object.hasOwn(ALIASES, key) ? ALIASES[key] : words === 1 ? key : undefined;
    if (name !== undefined && Object.hasOwn(COMMANDS, name)) {
      return { name, rest: argv.slice(words) };
    }
  }
  return undefined;
}
