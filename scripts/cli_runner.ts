/**
 * Runs the clawauth CLI the way the compiled binary would run: `deno run`
 * with exactly the binary's flags. Shared by the demo, the benchmark
 * and the tests.
 *
 * @module
 */

import { CLI_FLAGS } from "./permissions.ts";

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
  ...CLI_FLAGS,
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

/** How {@linkcode spawnCli} connects the child. */
export interface SpawnOptions {
  stdin?: "piped" | "null" | "inherit";
  stdout?: "piped" | "null" | "inherit";
  stderr?: "piped" | "null" | "inherit";
  /** A command the CLI is started through, which must `exec "$@"` (e.g. to set a umask). */
  wrap?: readonly string[];
}

/** Starts the CLI with a clean environment (see {@linkcode cliEnv}); all pipes by default. */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string>,
  opts: SpawnOptions = {},
): Deno.ChildProcess {
  const [program, ...rest] = [...opts.wrap ?? [], ...CLI_COMMAND, ...args];
  return new Deno.Command(program, {
    args: rest,
    cwd: ROOT,
    clearEnv: true,
    env: cliEnv(env),
    stdin: opts.stdin ?? "piped",
    stdout: opts.stdout ?? "piped",
    stderr: opts.stderr ?? "piped",
  }).spawn();
}

/** Runs the CLI once with a clean environment, feeding `stdin` (then closing it). */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
  stdin?: string | Uint8Array,
  wrap?: readonly string[],
): Promise<RunResult> {
  const child = spawnCli(args, env, { wrap });
  const writer = child.stdin.getWriter();
  if (stdin !== undefined) {
    const bytes = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
    await writer.write(bytes).catch(() => {});
  }
  await writer.close().catch(() => {});
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}
