/**
 * The command table: names, one-line summaries, and lazy loaders, so only the
 * command that runs is loaded (the `token` hot path stays small).
 *
 * @module
 */

import type { Command } from "../command.ts";
import { load } from "../lazy.ts";

/** A command's entry in the table. */
export interface CommandEntry {
  /** One line for `clawauth --help`. */
  summary: string;
  /** Loads the command module. */
  load(): Promise<{ command: Command }>;
}

/** Every command by name. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  login: {
    summary: "log in with OAuth (browser, pasted code, or --start/--finish)",
    load: () => load("commands/login.ts"),
  },
  "setup-token": {
    summary: "store a Claude setup-token (runs claude setup-token when installed)",
    load: () => load("commands/setup_token.ts"),
  },
  "paste-token": {
    summary: "store a setup-token or API key read from stdin",
    load: () => load("commands/paste_token.ts"),
  },
  status: {
    summary: "every profile with its state; --check for CI",
    load: () => load("commands/status.ts"),
  },
  token: {
    summary: "print a usable secret (refreshing OAuth first)",
    load: () => load("commands/token.ts"),
  },
  list: {
    summary: "profiles without secrets",
    load: () => load("commands/list.ts"),
  },
  remove: {
    summary: "delete a profile (alias: logout)",
    load: () => load("commands/remove.ts"),
  },
  order: {
    summary: "get, set or clear a provider's routing order",
    load: () => load("commands/order.ts"),
  },
  resolve: {
    summary: "which profile a request would use, and why not the others",
    load: () => load("commands/resolve.ts"),
  },
  report: {
    summary: "feed a failure (or --ok) back into rotation",
    load: () => load("commands/report.ts"),
  },
  exec: {
    summary: "run a command with fresh secrets in its environment",
    load: () => load("commands/exec.ts"),
  },
  channels: {
    summary: "OpenClaw's channels list: profiles per provider, no secrets",
    load: () => load("commands/channels.ts"),
  },
  import: {
    summary: "adopt logins from Claude Code, Codex CLI or OpenClaw's legacy file",
    load: () => load("commands/import.ts"),
  },
  agents: {
    summary: "add, list or remove agents (separate stores)",
    load: () => load("commands/agents.ts"),
  },
  store: {
    summary: "fleet store (PostgreSQL): init, status, copy, keygen, rotate-key",
    load: () => load("commands/store.ts"),
  },
  "openclaw-secret": {
    summary: "OpenClaw exec SecretRef provider: ids on stdin, secrets as JSON",
    load: () => load("commands/openclaw_secret.ts"),
  },
  doctor: {
    summary: "check permissions, file validity, stale logins, lock and clock; --fix",
    load: () => load("commands/doctor.ts"),
  },
  connect: {
    summary: "make Claude Code, Codex, pi, git or OpenClaw ask clawauth for tokens",
    load: () => load("commands/connect.ts"),
  },
  disconnect: {
    summary: "remove exactly what connect added to a tool's config",
    load: async () => ({
      command: (await load("commands/connect.ts"))
        .disconnectCommand,
    }),
  },
  "git-credential": {
    summary: "git credential helper: get|store|erase (key=value on stdin)",
    load: () => load("commands/git_credential.ts"),
  },
  "kube-credential": {
    summary: "kubectl exec credential plugin: an ExecCredential with the token",
    load: () => load("commands/kube_credential.ts"),
  },
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
