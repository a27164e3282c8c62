/**
 * The shape of a command module: its flags, its help, and a `run` that takes
 * the injected {@linkcode Context} and returns the exit code.
 *
 * @module
 */

import type { Args, FlagSpecs } from "./args.ts";
import type { Context } from "./context.ts";

/** One CLI command. */
export interface Command {
  /** The flags it accepts beyond the global ones. */
  flags: FlagSpecs;
  /** Whether it takes positional arguments; others refuse them (without echoing: one may be a secret). */
  positionals?: boolean;
  /** The full `--help` text. */
  help: string;
  /** Does the work; returns the process exit code. */
  run(ctx: Context, args: Args): Promise<number>;
}

/** Help text shared by every command's "Global flags" section. */
export const GLOBAL_HELP = `Global flags:
  --state-dir DIR   state dir (default $OPENCLAW_STATE_DIR, else ~/.openclaw)
  --store STORE     json, openclaw or postgres://USER@HOST/DB (default $CLAWAUTH_STORE,
                    clawauth.json "store", else detected)
  --agent ID        agent (default $CLAWAUTH_AGENT, else main)
  -h, --help        show this help`;
