/**
 * Running commands for `deno task bench`: each in the repository with a
 * clean environment, timed by wall clock, interleaved round-robin after
 * checked warm-up rounds.
 *
 * @module
 */

import { CLI_COMMAND, cliEnv, ROOT } from "./cli_runner.ts";

/** One command the benchmark runs. */
export interface Probe {
  /** Key in results.json. */
  key: string;
  /** Label in the Markdown table. */
  label: string;
  cmd: readonly string[];
  env: Record<string, string>;
  /** Checks a run's stdout; returns what is wrong, if anything. */
  check?: (stdout: string) => string | undefined;
  /** Exit codes that count as success; default [0]. */
  okCodes?: readonly number[];
}

/** One finished run. */
export interface Run {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` in the repository with a clean environment; stdout captured only if asked. */
export async function spawn(
  cmd: readonly string[],
  env: Record<string, string>,
  captureStdout: boolean,
): Promise<Run> {
  const decoder = new TextDecoder();
  const start = performance.now();
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    clearEnv: true,
    env: cliEnv(env),
    stdin: "null",
    stdout: captureStdout ? "piped" : "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - start;
  return {
    ms: elapsed,
    code: out.code,
    stdout: captureStdout ? decoder.decode(out.stdout) : "",
    stderr: decoder.decode(out.stderr),
  };
}

function failure(probe: Probe, run: Run): string | undefined {
  if (!(probe.okCodes ?? [0]).includes(run.code)) {
    return `${probe.label} exited ${run.code}: ${run.stderr.trim().slice(0, 400)}`;
  }
  return undefined;
}

/**
 * `warmup` checked rounds, then `runs` timed rounds over every probe,
 * round-robin with a rotating start so drifts in machine load hit all alike.
 */
export async function roundRobin(
  probes: readonly Probe[],
  runs: number,
  warmup: number,
): Promise<Map<string, number[]>> {
  for (let w = 0; w < warmup; w++) {
    for (const probe of probes) {
      const run = await spawn(probe.cmd, probe.env, true);
      const problem = failure(probe, run) ?? probe.check?.(run.stdout);
      if (problem) throw new Error(`${probe.label}: ${problem}`);
    }
  }
  const samples = new Map(probes.map((p) => [p.key, [] as number[]]));
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < probes.length; j++) {
      const probe = probes[(r + j) % probes.length];
      const run = await spawn(probe.cmd, probe.env, false);
      const problem = failure(probe, run);
      if (problem) throw new Error(problem);
      samples.get(probe.key)!.push(run.ms);
    }
  }
  return samples;
}

/** A check that stdout is exactly one line, `want`. */
export const expectLine = (want: string) => (stdout: string): string | undefined =>
  stdout.trim() === want ? undefined : `printed ${JSON.stringify(stdout.slice(0, 80))}`;

/** The absolute path of `name` on PATH, if any. */
export function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs clawauth once for set-up (stdin fed, then closed); its stdout, or an error. */
export async function clawauth(
  env: Record<string, string>,
  args: string[],
  stdin?: string,
): Promise<string> {
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
  if (stdin !== undefined) await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(`clawauth ${args.join(" ")} exited ${out.code}: ${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout);
}
