/**
 * `clawauth proxy --print-unit`: a systemd user unit that keeps the proxy
 * running. `ExecStart` is the command that runs this clawauth (the binary,
 * or `deno run` with the binary's flags and the absolute main.ts, as
 * `connect` writes it), then `proxy` with the state dir (absolute), agent and
 * store, and the proxy flags that were given. The proxy exits 0 on SIGTERM
 * after draining (≤ 10 s), so `Restart=on-failure` restarts it only after a
 * crash, and the stop timeout leaves room for the drain.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { Paths } from "../paths.ts";
import { isCompiled, selfCommand, stateWords } from "../connect/self_command.ts";

/** The unit's name, as `systemctl --user` calls it. */
export const UNIT_NAME = "clawauth-proxy";

/** What the unit runs. */
export interface UnitSpec {
  /** The program and fixed words that run this clawauth (`selfCommand()`). */
  self: readonly string[];
  /** `--state-dir …`, `--agent …`, `--store …` (`stateWords()`). */
  state: readonly string[];
  /** The proxy's own flags as given, e.g. `["--port", "8788"]`. */
  flags: readonly string[];
  /** Variables the proxy needs from this environment (e.g. `CLAWAUTH_CONFIG`). */
  env: Readonly<Record<string, string>>;
}

/** The proxy flags of a parsed command line, as words for the unit. */
export function proxyFlagWords(args: {
  port?: number;
  host?: string;
  strategy?: string;
  headerTimeoutMs?: number;
  json?: boolean;
}): string[] {
  return [
    ...(args.port === undefined ? [] : ["--port", String(args.port)]),
    ...(args.host === undefined ? [] : ["--host", args.host]),
    ...(args.strategy === undefined ? [] : ["--strategy", args.strategy]),
    ...(args.headerTimeoutMs === undefined
      ? []
      : ["--header-timeout", `${args.headerTimeoutMs}ms`]),
    ...(args.json ? ["--json"] : []),
  ];
}

/**
 * One word of a unit's command line: `%` (a specifier) and `$` (a variable)
 * doubled; quoted when it holds a space, a quote or a backslash.
 */
export function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return /^[^\s"'\\;]+$/.test(escaped)
    ? escaped
    : `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The unit file's text, with how to install it in its first lines. */
export function systemdUnit(spec: UnitSpec): string {
  const command = [...spec.self, "proxy", ...spec.state, ...spec.flags];
  return [
    `# clawauth proxy as a systemd user service. Save this as`,
    `# ~/.config/systemd/user/${UNIT_NAME}.service, then start it now and at every login:`,
    `#   systemctl --user daemon-reload && systemctl --user enable --now ${UNIT_NAME}`,
    `# Logs: journalctl --user -u ${UNIT_NAME}`,
    "",
    "[Unit]",
    "Description=clawauth proxy: credentials for coding agents on 127.0.0.1",
    "",
    "[Service]",
    "Type=simple",
    ...Object.entries(spec.env).map(([name, value]) =>
      `Environment=${systemdWord(`${name}=${value}`)}`
    ),
    `ExecStart=${command.map(systemdWord).join(" ")}`,
    "Restart=on-failure",
    "RestartSec=2",
    // SIGTERM lets streams in flight finish for up to 10 s.
    "TimeoutStopSec=15",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

/** The variables of this environment the unit carries: the config, and Deno's cache for a run from source. */
const CARRIED = ["CLAWAUTH_CONFIG", "DENO_DIR"] as const;

/** The unit for this clawauth, state dir and store, with the proxy flags `flags`. */
export function proxyUnit(
  ctx: Context,
  run: { paths: Paths; storeFlag?: string; flags: readonly string[] },
): string {
  const env = Object.fromEntries(
    CARRIED.flatMap((name) => {
      const value = ctx.env(name);
      return value && (name !== "DENO_DIR" || !isCompiled()) ? [[name, value]] : [];
    }),
  );
  return systemdUnit({
    self: selfCommand(),
    state: stateWords(ctx, run.storeFlag, run.paths),
    flags: run.flags,
    env,
  });
}
