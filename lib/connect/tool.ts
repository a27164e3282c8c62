/**
 * The shape of a `connect` adapter: one small module per tool that knows
 * where the tool keeps its config and what to write there.
 *
 * @module
 */

import type { Context } from "../context.ts";
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
