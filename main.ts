/**
 * clawauth: one token sink for AI coding agents. Parses the command line,
 * loads only the command it names, and turns errors into exit codes.
 *
 * @module
 */

import { safeText } from "./lib/output/output.ts";
import { hoistGlobalFlags, parseArgs } from "./lib/args.ts";
import { ALIASES, COMMANDS, findCommand } from "./lib/commands/index.ts";
import { type Context, processContext } from "./lib/context.ts";
import { ClawauthError, Exit, usageError } from "./lib/errors.ts";
import { VERSION } from "./lib/version.ts";

function topHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`);
  const aliases = Object.entries(ALIASES).filter(([, to]) => Object.hasOwn(COMMANDS, to))
    .map(([from, to]) => `${from} → ${to}`);
  return `clawauth ${VERSION}: one token sink for AI coding agents.

Usage: clawauth COMMAND [FLAGS]

Commands:
${lines.join("\n")}

Aliases: ${aliases.join(", ")}

Global flags: --state-dir DIR, --store json|openclaw|postgres://…, --agent ID, -h/--help;
clawauth --version.
Run "clawauth COMMAND --help" for a command's flags and examples.
`;
}

/** Runs the CLI for `argv` and returns the exit code. */
export async function main(
  ctx: Context,
  rawArgv: readonly string[],
): Promise<number> {
  try {
    const argv = hoistGlobalFlags(rawArgv);
    const [first] = argv;
    if (
      first === undefined || first === "-h" || first === "--help" ||
      first === "help"
    ) {
      // Help on stdout is an answer, never an error: exit 0 (a wrong command is 64, on stderr).
      ctx.out(topHelp());
      return Exit.ok;
    }
    if (first === "--version" || first === "-V") {
      ctx.out(`clawauth ${VERSION} (${Deno.build.target})\n`);
      return Exit.ok;
    }
    const found = findCommand(argv);
    if (!found) {
      throw usageError(
        `Unknown command ${safeText(argv.slice(0, 2).join(" "))}.`,
      );
    }
    const { command } = await COMMANDS[found.name].load();
    const beforeDashes = found.rest.indexOf("--") < 0
      ? found.rest
      : found.rest.slice(0, found.rest.indexOf("--"));
    if (beforeDashes.includes("--help") || beforeDashes.includes("-h")) {
      ctx.out(`${command.help}\n`);
      return Exit.ok;
    }
    return await command.run(ctx, parseArgs(found.rest, command.flags, found.name, command));
  } catch (error) {
    return report(ctx, error);
  }
}

function report(ctx: Context, error: unknown): number {
  const debug = ctx.env("CLAWAUTH_DEBUG") === "1";
  if (error instanceof ClawauthError) {
    ctx.err(
      `clawauth: ${error.message}\n${error.hint ? `${error.hint}\n` : ""}`,
    );
    if (debug && error.stack) ctx.err(`${error.stack}\n`);
    return error.exitCode;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    ctx.err(
      `clawauth: permission denied: ${error.message}.\nCheck the owner and mode of the state dir (clawauth doctor).\n`,
    );
  } else {
    const message = error instanceof Error ? error.message : String(error);
    ctx.err(`clawauth: unexpected error: ${safeText(message, 300)}\n`);
    ctx.err(
      debug
        ? `${error instanceof Error ? error.stack : ""}\n`
        : "Set CLAWAUTH_DEBUG=1 for details.\n",
    );
  }
  return Exit.failure;
}

if (import.meta.main) {
  Deno.exit(await main(processContext(), Deno.args));
}
