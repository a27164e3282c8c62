/**
 * Builds the single `clawauth` binary with `deno compile`, for the host or
 * for every release target, with exactly the permissions and V8
 * flags in `permissions.ts`. `deno compile` downloads the `denort` runtime of each
 * target unless `DENORT_BIN` names a local one (it then fits one target only).
 *
 * Usage: deno task compile [--target TRIPLE | --all] [--out DIR] [--dry-run]
 *
 * @module
 */

import { CLI_FLAGS } from "./permissions.ts";

/** Every release target, as `deno compile --target` names them. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** The host's target triple. */
export function hostTarget(): string {
  return Deno.build.target;
}

/** Every TypeScript module under lib/, as absolute paths, sorted. */
export function libModules(dir = new URL("../lib/", import.meta.url).pathname): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) =>
    entry.isDirectory
      ? libModules(`${dir}${entry.name}/`)
      : entry.name.endsWith(".ts")
      ? [`${dir}${entry.name}`]
      : []
  ).sort();
}

/** The `deno compile` arguments for one target. */
export function compileArgs(target: string, outDir: string): string[] {
  const exe = target.includes("windows") ? ".exe" : "";
  return [
    "compile",
    ...CLI_FLAGS,
    // lib/lazy.ts imports commands and the OAuth code by computed paths,
    // which deno compile cannot follow: every module of lib/ goes in by name.
    ...libModules().flatMap((path) => ["--include", path]),
    "--target",
    target,
    "--output",
    `${outDir}/clawauth-${target}${exe}`,
    new URL("../main.ts", import.meta.url).pathname,
  ];
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  const all = args.includes("--all");
  const targets = all ? TARGETS : [option(args, "--target") ?? hostTarget()];
  const unknown = targets.find((t) => !TARGETS.includes(t));
  if (unknown) {
    console.error(`Unknown target ${unknown}; one of: ${TARGETS.join(", ")}`);
    return 64;
  }
  if (all && Deno.env.get("DENORT_BIN")) {
    console.error(
      "DENORT_BIN names one runtime, so it can build one target: use --target.",
    );
    return 64;
  }
  const outDir = option(args, "--out") ?? "dist";
  for (const target of targets) {
    const compile = compileArgs(target, outDir);
    console.log(`deno ${compile.join(" ")}`);
    if (args.includes("--dry-run")) continue;
    const { code } = await new Deno.Command(Deno.execPath(), { args: compile })
      .spawn().status;
    if (code !== 0) {
      console.error(
        `deno compile failed for ${target}. Without network access, point DENORT_BIN at that target's denort binary.`,
      );
      return code;
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
