/**
 * The shape of a `connect` adapter: one small module per tool that knows
 * where the tool keeps its config and what to write there.
 *
 * @module
 */

import { type Context, homePath } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { safeText } from "../output/output.ts";
import type { Paths } from "../paths.ts";
import type { RouteRequest } from "../routing/routing.ts";
import type { ProxyTarget } from "./proxy_target.ts";

/** Everything an adapter needs for one `connect` or `disconnect`. */
export interface ToolRun {
  ctx: Context;
  /** `--host HOST` (git). */
  host?: string;
  /** `--base-url URL` (codex). */
  baseUrl?: string;
  /** clawauth's own paths (state dir, agent, store). */
  paths: Paths;
  /** What the tool should be given: `--provider` / `--profile` (either may be unset). */
  request: RouteRequest;
  /** Print what would change, write nothing. */
  dryRun: boolean;
  /** The program and fixed words that run this clawauth ({@linkcode selfCommand}). */
  self: readonly string[];
  /** `--state-dir …` and friends, so the command works from anywhere. */
  state: readonly string[];
  /** `--proxy`: the tool is given this proxy and its local key instead of a command. */
  proxy?: ProxyTarget;
}

/** One tool `connect` can plug clawauth into. */
export interface ToolAdapter {
  /** The name on the command line, e.g. `claude-code`. */
  name: string;
  /** One line for the help text. */
  summary: string;
  /** Flags only this tool takes, beyond --provider, --profile and --dry-run. */
  flags: readonly string[];
  /** Whether --provider / --profile mean anything to it. */
  selects: boolean;
  /** Writes clawauth into the tool's config (or prints what to write). */
  connect(run: ToolRun): Promise<void>;
  /** Removes exactly what `connect` added. */
  disconnect(run: ToolRun): Promise<void>;
}

/** What the tool should be given: `--provider` / `--profile` as asked, else every `provider` profile. */
export function requestOr(run: ToolRun, provider: string): RouteRequest {
  return run.request.provider || run.request.profileId ? run.request : { provider };
}

/** A duration in whole minutes for `--min-valid`, rounded up. */
export function minutesWord(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 60_000))}m`;
}

/** Where a tool keeps its config: a variable that names the dir, else a dir in the home. */
export interface ToolDirSpec {
  /** The variable, e.g. `CLAUDE_CONFIG_DIR`. */
  variable: string;
  /** The dir under the home when the variable is unset, e.g. `[".claude"]`. */
  home: readonly string[];
  /** What the dir is to the user, e.g. "Claude Code's config dir". */
  what: string;
}

/**
 * The tool's dir: `$variable`, else `~/<home>`. Something other than a
 * directory there (`/dev/null`, a file, a path through a file) is refused in
 * one sentence: exit 64 when the variable names it, 65 when it sits at the
 * default place. A dir that does not exist yet is fine (connect creates it).
 */
export function toolDir(ctx: Context, spec: ToolDirSpec): string {
  const named = ctx.env(spec.variable);
  const dir = named || homePath(ctx, spec.home, `Set ${spec.variable} to ${spec.what}.`);
  let isDir: boolean;
  try {
    isDir = Deno.statSync(dir).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return dir;
    // A file where a parent dir should be.
    if (!(error instanceof Deno.errors.NotADirectory)) throw error;
    isDir = false;
  }
  if (isDir) return dir;
  const shown = safeText(dir, 120);
  throw named
    ? new ClawauthError(
      `${spec.variable}=${shown} is not a directory.`,
      Exit.usage,
      `Point ${spec.variable} at ${spec.what}, or unset it to use ~/${spec.home.join("/")}.`,
    )
    : new ClawauthError(
      `${shown} is not a directory.`,
      Exit.data,
      `Move it out of the way, or set ${spec.variable} to ${spec.what}.`,
    );
}
