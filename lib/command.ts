/**
 * The shape of a command module: its flags and positionals (what each one
 * is), its help, and a `run` that takes the injected {@linkcode Context} and
 * the parsed, typed {@linkcode Args}, and returns the exit code.
 *
 * @module
 */

import type { Args, FlagTable, ParseOptions, Positionals } from "./args.ts";
import type { Context } from "./context.ts";

/** One CLI command; `F` and `P` type the `args` its `run` receives. */
export interface Command<F extends FlagTable = FlagTable, P extends Positionals = Positionals>
  extends ParseOptions {
  /** The flags it accepts beyond the global ones, with their kinds (lib/flags.ts). */
  flags: F;
  /** The positionals it takes (default none); others are refused without echoing them. */
  positionals?: P;
  /** The full `--help` text. */
  help: string;
  /** Does the work; returns the process exit code. */
  run(ctx: Context, args: Args<F, P>): Promise<number>;
}

/**
 * Declares a command, typing `run`'s `args` from its flag table and
 * positionals: reading a flag it does not declare, or as the wrong type, is
 * a `deno check` error.
 */
export function defineCommand<
  const F extends FlagTable,
  const P extends Positionals = readonly [],
>(command: Command<F, P>): Command<F, P> {
  return command;
}

/** Help text shared by every command's "Global flags" section. */
export const GLOBAL_HELP = `Global flags:
  --state-dir DIR   state dir (default $OPENCLAW_STATE_DIR, else ~/.openclaw)
  --store STORE     json, openclaw or postgres://USER@HOST/DB (default $CLAWAUTH_STORE,
                    clawauth.json "store", else detected)
  --agent ID        agent (default $CLAWAUTH_AGENT, else main)
  -h, --help        show this help`;
