/**
 * Runs the clawauth CLI the way the compiled binary would run: `deno run`
 * with exactly the binary's permissions. Shared by the demo, the benchmark
 * and the tests.
 *
 * @module
 */

import { CLI_PERMISSIONS } from "./permissions.ts";

/** The repository root. */
export const ROOT: string = new URL("..", import.meta.url).pathname.replace(
  /\/$/,
  "",
);

/** Deno's cache dir of this process, handed on so nothing is fetched twice. */
export const DENO_DIR: string = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;

/** The command line that runs the CLI as the binary would. */
export const CLI_COMMAND: readonly string[] = [
  Deno.execPath(),
  "run",
  "--quiet",
  ...CLI_PERMISSIONS,
  `${ROOT}/main.ts`,
];

/** What a CLI run printed and how it exited. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The minimal environment of a CLI run: PATH, DENO_DIR, NO_COLOR, plus `env`. */
export function cliEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR,
    NO_COLOR: "1",
    ...env,
  };
}

/** Runs the CLI once with a clean environment, feeding `stdin` (then closing it). */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
  stdin?: string | Uint8Array,
): Promise<RunResult> {
  const child = new Deno.Command(CLI_COMMAND[0], {
    args: [...CLI_COMMAND.slice(1), ...args],
    cwd: ROOT,
    clearEnv: true,
    env: cliEnv(env),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (stdin !== undefined) {
    const bytes = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
    await writer.write(bytes).catch(() => {});
  }
  await writer.close().catch(() => {});
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}
