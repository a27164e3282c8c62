/**
 * `clawauth connect TOOL` and `clawauth disconnect TOOL`: plug clawauth into
 * another tool's own credential hook (docs/helpers.md), so that the tool holds no
 * refresh token and asks clawauth each time. One adapter per tool lives in
 * `lib/connect/`.
 *
 * @module
 */

import type { Choice } from "../args.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import type { Context } from "../context.ts";
import { usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { endpointProblem } from "../oauth/endpoints.ts";
import { safeText, warn } from "../output/output.ts";
import { resolvePaths, type StateFlags } from "../paths.ts";
import { requestOf, SELECT_FLAGS } from "../routing/select.ts";
import { selfCommand, stateWords, storeLeftOut } from "../connect/self_command.ts";
import type { ToolAdapter, ToolRun } from "../connect/tool.ts";
import { findTool, TOOLS } from "../connect/tools.ts";
import { DEFAULT_PROXY_PORT, proxyTarget } from "../connect/proxy_target.ts";

/** The one positional: a tool's name, each taking nothing after it. */
const TOOL: Choice = {
  choose: "tool",
  from: Object.fromEntries(TOOLS.map((tool) => [tool.name, []])),
};

const CONNECT_FLAGS = {
  provider: SELECT_FLAGS.provider,
  profile: SELECT_FLAGS.profile,
  "dry-run": flag.boolean(),
  host: flag.string(),
  "base-url": flag.string(),
  proxy: flag.boolean(),
  port: flag.integer(1, 65535),
};

/** What `connect` and `disconnect` both read from their parsed command lines. */
interface ToolArgs extends StateFlags {
  /** The tool's name. */
  readonly action: string;
  readonly host?: string;
  readonly "base-url"?: string;
  readonly "dry-run": boolean;
  readonly proxy?: boolean;
  readonly port?: number;
}

/** The adapter the positional names, refusing a flag that belongs to another tool. */
function toolOf(args: ToolArgs, verb: string): ToolAdapter {
  const tool = findTool(args.action)!;
  for (const name of ["host", "base-url", "proxy", "port"] as const) {
    if (args[name] !== undefined && args[name] !== false && !tool.flags.includes(name)) {
      throw usageError(`--${name} does not apply to ${tool.name}.`, verb);
    }
  }
  if (args.port !== undefined && !args.proxy) {
    throw usageError("--port goes with --proxy: the port clawauth proxy listens on.", verb);
  }
  return tool;
}

/** `--base-url`, refused when the tool would send its token there in clear text. */
function baseUrlOf(args: ToolArgs): string | undefined {
  const value = args["base-url"];
  if (value === undefined) return undefined;
  const problem = endpointProblem(value);
  if (problem) throw usageError(`--base-url ${safeText(value, 100)} ${problem}.`, "connect");
  return value;
}

function toolRun(ctx: Context, args: ToolArgs, request: ToolRun["request"]): ToolRun {
  const paths = resolvePaths(args, ctx);
  return {
    ctx,
    host: args.host,
    baseUrl: baseUrlOf(args),
    paths,
    request,
    dryRun: args["dry-run"],
    self: selfCommand(),
    state: stateWords(ctx, args.store, paths),
    ...(args.proxy
      ? {
        proxy: proxyTarget(paths.stateDir, {
          port: args.port ?? DEFAULT_PROXY_PORT,
          dryRun: args["dry-run"],
        }),
      }
      : {}),
  };
}

/** Warns about settings the tool's environment will not carry into the command. */
function warnEnvironment(ctx: Context, storeFlag: string | undefined): void {
  if (storeLeftOut(ctx, storeFlag)) {
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
export const command = defineCommand({
  flags: CONNECT_FLAGS,
  positionals: TOOL,
  help: `Usage: clawauth connect TOOL [--provider ID | --profile ID] [--dry-run]
                        [--proxy [--port 8787]] (claude-code, codex, pi)
                        [--host HOST] (git) [--base-url URL] (codex)

Writes clawauth into TOOL's own credential hook, so TOOL holds no refresh
token of its own and asks clawauth for a fresh token each time. What is
written is the absolute command that runs this clawauth (the binary, or deno
run with the binary's permissions and the absolute main.ts), the state dir
and the profile or provider: it works from any directory and environment.
Every other setting in the file is kept; the write is atomic and the
previous file stays beside it as <file>.clawauth-backup. Running it twice
changes nothing; "clawauth disconnect TOOL" removes exactly what it added.

With --proxy, TOOL is given the URL of "clawauth proxy" on 127.0.0.1 and the
proxy's local key instead: it then holds no provider secret, and the proxy
picks the profile and fails over per request. Claude Code: ANTHROPIC_BASE_URL
and ANTHROPIC_AUTH_TOKEN in settings.json's "env"; Codex: a provider whose
base_url is the proxy and whose [auth] command is "clawauth proxy key"; pi:
baseUrl and apiKey of the provider in models.json (not openai-codex).

Tools:
${TOOLS_HELP()}

Flags:
  --provider ID   route among this provider's profiles (default: anthropic for
                  claude-code and pi, openai for codex; git: clawauth.json's
                  "git" map, else github.com -> github-copilot)
  --profile ID    always use exactly this profile, e.g. anthropic:work
  --dry-run       print what would be written, write nothing
  --host HOST     git: the host (default github.com) or an http(s):// origin
  --base-url URL  codex: the API's base URL, https (plain http only to
                  127.0.0.1, localhost or [::1]; default: OpenAI's API for
                  openai, https://chatgpt.com/backend-api/codex for openai-codex)
  --proxy         go through clawauth proxy (routes: /anthropic, /openai/v1,
                  /codex; --profile pins it: /anthropic:work); codex picks
                  /openai/v1 for an API key, else /codex for a ChatGPT login
  --port N        the port clawauth proxy listens on (default 8787)
${GLOBAL_HELP}

Examples:
  clawauth connect claude-code --profile anthropic:work
  clawauth connect codex --provider openai-codex
  clawauth connect claude-code --proxy
  clawauth connect pi --provider openai
  clawauth connect git --host github.com --provider github-copilot
  clawauth connect openclaw --dry-run`,
  async run(ctx, args) {
    const tool = toolOf(args, "connect");
    const run = toolRun(ctx, args, requestOf(args, "connect"));
    warnEnvironment(ctx, args.store);
    await tool.connect(run);
    return 0;
  },
});

/** The `disconnect` command. */
export const disconnectCommand = defineCommand({
  flags: { "dry-run": CONNECT_FLAGS["dry-run"], host: CONNECT_FLAGS.host },
  positionals: TOOL,
  help: `Usage: clawauth disconnect TOOL [--dry-run] [--host HOST] (git)

Removes exactly what "clawauth connect TOOL" added. When the file still reads
as connect left it, its earlier text comes back byte for byte (a file connect
created is removed); when it was edited since, only clawauth's entries go,
and a value connect replaced is put back. The file before this change stays
as <file>.clawauth-backup. Use the same --state-dir (and --host for git) as
for connect.

Tools: ${Object.keys(TOOL.from).join(", ")}

Flags:
  --dry-run    print what would be removed, write nothing
  --host HOST  git: the host (default github.com) or an http(s):// origin
${GLOBAL_HELP}

Examples:
  clawauth disconnect claude-code
  clawauth disconnect git --host github.com`,
  async run(ctx, args) {
    const tool = toolOf(args, "disconnect");
    await tool.disconnect(toolRun(ctx, args, {}));
    return 0;
  },
});
