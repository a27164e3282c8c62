/**
 * The command line other tools run to ask this clawauth for a token: the
 * compiled binary itself, or `deno run` with the binary's flags and the
 * absolute `main.ts` when clawauth runs from source; then the subcommand, the
 * state dir (absolute), the agent and store when they were chosen, and the
 * profile or provider. Everything a tool needs is in the words, so the
 * command works from any working directory and with any environment the tool
 * passes on.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { shellWord } from "../login/via.ts";
import type { Paths } from "../paths.ts";
import { CLI_FLAGS } from "../permissions.ts";
import type { RouteRequest } from "../routing/routing.ts";

/** Whether this process is the compiled `clawauth` binary (`deno compile`). */
export function isCompiled(): boolean {
  return Deno.build.standalone === true;
}

/** The absolute path of `main.ts` (source runs only). */
export function mainModulePath(): string {
  return decodeURIComponent(new URL("../../main.ts", import.meta.url).pathname);
}

/** The program and fixed arguments that run this clawauth. */
export function selfCommand(): string[] {
  if (isCompiled()) return [Deno.execPath()];
  // `--quiet` keeps Deno's own progress lines out of the tools' stderr.
  return [Deno.execPath(), "run", "--quiet", ...CLI_FLAGS, mainModulePath()];
}

/** `path` made absolute against the working directory (a tool runs us from elsewhere). */
export function absolute(path: string): string {
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) return path;
  return `${Deno.cwd()}/${path}`.replace(/\/(\.\/)+/g, "/").replace(/\/{2,}/g, "/");
}

/** A store named by the user (`--store`, else `$CLAWAUTH_STORE`) that may go into argv: a word, or a URL without a password. */
function storeWord(ctx: Context, storeFlag: string | undefined): string | undefined {
  const named = storeFlag || ctx.env("CLAWAUTH_STORE");
  if (!named) return undefined;
  // A password never goes into another tool's config (nor argv): docs/fleet.md.
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(named) ? undefined : named;
}

/**
 * The words that pin this run's state: `--state-dir` (always, absolute),
 * `--agent` unless it is `main`, `--store` when the user named one.
 */
export function stateWords(ctx: Context, storeFlag: string | undefined, paths: Paths): string[] {
  const words = ["--state-dir", absolute(paths.stateDir)];
  if (paths.agent !== "main") words.push("--agent", paths.agent);
  const store = storeWord(ctx, storeFlag);
  if (store) words.push("--store", store);
  return words;
}

/** Whether a store was named (`--store`, else `$CLAWAUTH_STORE`) that cannot go into the command (a URL with a password). */
export function storeLeftOut(ctx: Context, storeFlag: string | undefined): boolean {
  const named = storeFlag || ctx.env("CLAWAUTH_STORE");
  return named !== undefined && named !== "" && storeWord(ctx, storeFlag) === undefined;
}

/** `--profile ID`, else `--provider ID`, else nothing. */
export function selectionWords(request: RouteRequest): string[] {
  if (request.profileId !== undefined) return ["--profile", request.profileId];
  if (request.provider !== undefined) return ["--provider", request.provider];
  return [];
}

/**
 * A command line for `/bin/sh`: every word quoted where the shell would split
 * or expand it. Our words are absolute paths, flags and ids, never `~/…`
 * (which `shellWord` leaves for the shell to expand).
 */
export function shellLine(words: readonly string[]): string {
  return words.map(shellWord).join(" ");
}
