/**
 * The command table: names, one-line summaries, and lazy loaders, so only the
 * command that runs is loaded (the `token` hot path stays small).
 *
 * @module
 */

import type { Command } from "../command.ts";
import { lazyImport } from "../lazy.ts";

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
    load: () => lazyImport("./login.ts", import.meta.url),
  },
  "setup-token": {
    summary: "store a Claude setup-token (runs claude setup-token when installed)",
    load: () => lazyImport("./setup_token.ts", import.meta.url),
  },
  "paste-token": {
    summary: "store a setup-token or API key read from stdin",
    load: () => lazyImport("./paste_token.ts", import.meta.url),
  },
  status: {
    summary: "every profile with its state; --check for CI",
    load: () => lazyImport("./status.ts", import.meta.url),
  },
  token: {
    summary: "print a usable secret (refreshing OAuth first)",
    load: () => lazyImport("./token.ts", import.meta.url),
  },
  list: {
    summary: "profiles without secrets",
    load: () => lazyImport("./list.ts", import.meta.url),
  },
  remove: {
    summary: "delete a profile (alias: logout)",
    load: () => lazyImport("./remove.ts", import.meta.url),
  },
  order: {
    summary: "get, set or clear a provider's routing order",
    load: () => lazyImport("./order.ts", import.meta.url),
  },
  resolve: {
    summary: "which profile a request would use, and why not the others",
    load: () => lazyImport("./resolve.ts", import.meta.url),
  },
  report: {
    summary: "feed a failure (or --ok) back into rotation",
    load: () => lazyImport("./report.ts", import.meta.url),
  },
  exec: {
    summary: "run a command with fresh secrets in its environment",
    load: () => lazyImport("./exec.ts", import.meta.url),
  },
  channels: {
    summary: "OpenClaw's channels list: profiles per provider, no secrets",
    load: () => lazyImport("./channels.ts", import.meta.url),
  },
  import: {
    summary: "adopt logins from Claude Code, Codex CLI or OpenClaw's legacy file",
    load: () => lazyImport("./import.ts", import.meta.url),
  },
  agents: {
    summary: "add, list or remove agents (separate stores)",
    load: () => lazyImport("./agents.ts", import.meta.url),
  },
  store: {
    summary: "fleet store (PostgreSQL): init, status, copy, keygen, rotate-key",
    load: () => lazyImport("./store.ts", import.meta.url),
  },
  "openclaw-secret": {
    summary: "OpenClaw exec SecretRef provider: ids on stdin, secrets as JSON",
    load: () => lazyImport("./openclaw_secret.ts", import.meta.url),
  },
  doctor: {
    summary: "check permissions, file validity, stale logins, lock and clock; --fix",
    load: () => lazyImport("./doctor.ts", import.meta.url),
  },
  connect: {
    summary: "make Claude Code, Codex, pi, git or OpenClaw ask clawauth for tokens",
    load: () => lazyImport("./connect.ts", import.meta.url),
  },
  disconnect: {
    summary: "remove exactly what connect added to a tool's config",
    load: async () => ({
      command: (await lazyImport<typeof import("./connect.ts")>("./connect.ts", import.meta.url))
        .disconnectCommand,
    }),
  },
  "git-credential": {
    summary: "git credential helper: get|store|erase (key=value on stdin)",
    load: () => lazyImport("./git_credential.ts", import.meta.url),
  },
  "kube-credential": {
    summary: "kubectl exec credential plugin: an ExecCredential with the token",
    load: () => lazyImport("./kube_credential.ts", import.meta.url),
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
