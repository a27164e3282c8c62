/**
 * `clawauth connect TOOL` and `clawauth disconnect TOOL`: plug clawauth into
 * another tool's own credential hook (SPEC §7), so that the tool holds no
 * refresh token and asks clawauth each time. One adapter per tool lives in
 * `lib/connect/`.
 *
 * @module
 */

import { type Args } from "../args.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import type { Context } from "../context.ts";
import { usageError } from "../errors.ts";
import { safeText, warn } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { requestOf } from "../routing/select.ts";
import { selfCommand, stateWords, storeLeftOut } from "../connect/self_command.ts";
import type { ToolAdapter, ToolRun } from "../connect/tool.ts";
import { findTool, TOOLS } from "../connect/tools.ts";

const TOOL_FLAGS = ["host", "base-url"] as const;

function toolList(): string {
  return TOOLS.map((tool) => tool.name).join(", ");
}

/** The adapter the one positional names; anything else is a usage error listing the tools. */
function toolOf(args: Args, verb: string): ToolAdapter {
  if (args.positionals.length !== 1) {
    throw usageError(`${verb} needs exactly one tool: ${toolList()}.`, verb);
  }
  const name = args.positionals[0];
  const tool = findTool(name);
  if (!tool) throw usageError(`Unknown tool ${safeText(name)}; one of: ${toolList()}.`, verb);
  for (const flag of TOOL_FLAGS) {
    if (args.has(flag) && !tool.flags.includes(flag)) {
      throw usageError(`--${flag} does not apply to ${tool.name}.`, verb);
    }
  }
  return tool;
}

function toolRun(ctx: Context, args: Args, verb: string): ToolRun {
  const paths = resolvePaths(args, ctx);
  return {
    ctx,
    args,
    paths,
    request: verb === "connect" ? requestOf(args, verb) : {},
    dryRun: args.bool("dry-run"),
    self: selfCommand(),
    state: stateWords(ctx, args, paths),
  };
}

/** Warns about settings the tool's environment will not carry into the command. */
function warnEnvironment(ctx: Context, args: Args): void {
  if (storeLeftOut(ctx, args)) {
    warn(
      ctx,
      "the store URL holds a password, which never goes into another tool's config: give the tool CLAWAUTH_STORE (and PGPASSWORD or ~/.pgpass) in its environment.",
    );
  }
  if (ctx.env("CLAWAUTH_CONFIG")) {
    warn(ctx, "CLAWAUTH_CONFIG is set here; the tool must have it in its environment too.");
  }
}

const TOOLS_HELP = () =>
  TOOLS.map((tool) => `  ${tool.name.padEnd(12)} ${tool.summary}`).join("\n");

/** The `connect` command. */
export const command: Command = {
  flags: {
    provider: { type: "string" },
    profile: { type: "string" },
    "dry-run": { type: "boolean" },
    host: { type: "string" },
    "base-url": { type: "string" },
  },
  positionals: true,
  help: `Usage: clawauth connect TOOL [--provider ID | --profile ID] [--dry-run]
                        [--host HOST] (git) [--base-url URL] (codex)

Writes clawauth into TOOL's own credential hook, so TOOL holds no refresh
token of its own and asks clawauth for a fresh token each time. What is
written is the absolute command that runs this clawauth (the binary, or deno
run with the binary's permissions and the absolute main.ts), the state dir
and the profile or provider: it works from any directory and environment.
Every other setting in the file is kept; the write is atomic and the
previous file stays beside it as <file>.clawauth-backup. Running it twice
changes nothing; "clawauth disconnect TOOL" removes exactly what it added.

Tools:
${TOOLS_HELP()}

Flags:
  --provider ID   route among this provider's profiles (default: anthropic for
                  claude-code and pi, openai for codex; git: clawauth.json's
                  "git" map, else github.com -> github-copilot)
  --profile ID    always use exactly this profile, e.g. anthropic:work
  --dry-run       print what would be written, write nothing
  --host HOST     git: the host (default github.com) or an http(s):// origin
  --base-url URL  codex: the API's base URL (default: OpenAI's API for openai,
                  https://chatgpt.com/backend-api/codex for openai-codex)
${GLOBAL_HELP}

Examples:
  clawauth connect claude-code --profile anthropic:work
  clawauth connect codex --provider openai-codex
  clawauth connect pi --provider openai
  clawauth connect git --host github.com --provider github-copilot
  clawauth connect openclaw --dry-run`,
  async run(ctx, args) {
    const tool = toolOf(args, "connect");
    const run = toolRun(ctx, args, "connect");
    warnEnvironment(ctx, args);
    await tool.connect(run);
    return 0;
  },
};

/** The `disconnect` command. */
export const disconnectCommand: Command = {
  flags: {
    "dry-run": { type: "boolean" },
    host: { type: "string" },
  },
  positionals: true,
  help: `Usage: clawauth disconnect TOOL [--dry-run] [--host HOST] (git)

Removes exactly what "clawauth connect TOOL" added. When the file still reads
as connect left it, its earlier text comes back byte for byte (a file connect
created is removed); when it was edited since, only clawauth's entries go,
and a value connect replaced is put back. The file before this change stays
as <file>.clawauth-backup. Use the same --state-dir (and --host for git) as
for connect.

Tools: ${toolList()}

Flags:
  --dry-run    print what would be removed, write nothing
  --host HOST  git: the host (default github.com) or an http(s):// origin
${GLOBAL_HELP}

Examples:
  clawauth disconnect claude-code
  clawauth disconnect git --host github.com`,
  async run(ctx, args) {
    const tool = toolOf(args, "disconnect");
    await tool.disconnect(toolRun(ctx, args, "disconnect"));
    return 0;
  },
};
