/**
 * Claude Code: `apiKeyHelper` in `settings.json` (`$CLAUDE_CONFIG_DIR`, else
 * `~/.claude/`). Claude Code runs the helper with `/bin/sh`, sends its
 * stdout both as `x-api-key` and as `Authorization: Bearer`, and runs it
 * again after `CLAUDE_CODE_API_KEY_HELPER_TTL_MS` (default 5 min) or a 401.
 * So the helper asks for a token valid for that long plus 5 minutes.
 *
 * With `--proxy`, settings.json's `env` gets `ANTHROPIC_BASE_URL` (the
 * proxy's route) and `ANTHROPIC_AUTH_TOKEN` (the local key), and an
 * `apiKeyHelper` is taken out while connected. `ANTHROPIC_AUTH_TOKEN`, not
 * `ANTHROPIC_API_KEY`: Claude Code sends it as `Authorization: Bearer` and,
 * with it set, leaves its own claude.ai login unused, while an
 * `ANTHROPIC_API_KEY` is used by an interactive session only after the user
 * approves it at a prompt (`customApiKeyResponses`); `claude -p` would take
 * either. A helper would send its token beside the local key, hence it goes.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { exists } from "../fs/files.ts";
import { warn } from "../output/output.ts";
import { join } from "../paths.ts";
import { hasValueAt, valueAt } from "./json_config.ts";
import { connectJsonTool, type JsonConfig, type JsonEdit, jsonToolAdapter } from "./json_tool.ts";
import { proxyBaseUrl, proxyCaching, type ProxyTarget, shownValue } from "./proxy_target.ts";
import { selectionWords, shellLine } from "./self_command.ts";
import { warnIfUnservable } from "./servable.ts";
import { minutesWord, requestOr, type ToolAdapter, toolDir, type ToolRun } from "./tool.ts";

const TOOL = "claude-code";
/** Claude Code's default helper TTL. */
const DEFAULT_TTL_MS = 5 * 60_000;
/** Margin beyond the TTL: a token is never handed out to expire before the next call. */
const MARGIN_MS = 5 * 60_000;
/** Variables that Claude Code sends instead of the helper's token. */
const OVERRIDES = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"] as const;

/** Claude Code's config dir: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. */
export function claudeConfigDir(ctx: Context): string {
  return toolDir(ctx, {
    variable: "CLAUDE_CONFIG_DIR",
    home: [".claude"],
    what: "Claude Code's config dir",
  });
}

/** The helper TTL in force: settings.json's `env`, else the environment, else 5 min. */
function helperTtlMs(ctx: Context, settingsEnv: unknown): number {
  const fromFile = typeof settingsEnv === "object" && settingsEnv !== null
    ? (settingsEnv as Record<string, unknown>).CLAUDE_CODE_API_KEY_HELPER_TTL_MS
    : undefined;
  const raw = String(fromFile ?? ctx.env("CLAUDE_CODE_API_KEY_HELPER_TTL_MS") ?? "");
  const ms = Number(raw);
  return raw !== "" && Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_TTL_MS;
}

/** Where `name` is set: settings.json's `env`, else this environment, else `undefined`. */
function setIn(ctx: Context, config: JsonConfig, name: string): string | undefined {
  const env = valueAt(config.tree, ["env"]);
  const inFile = typeof env === "object" && env !== null && Object.hasOwn(env, name);
  return inFile ? `in ${config.file} ("env")` : ctx.env(name) ? "in this environment" : undefined;
}

/** The helper: `apiKeyHelper` runs `clawauth token`. */
async function connectHelper(run: ToolRun, config: JsonConfig): Promise<void> {
  const { ctx } = run;
  const { file } = config;
  const env = valueAt(config.tree, ["env"]);
  const ttl = helperTtlMs(ctx, env);
  const helper = shellLine([
    ...run.self,
    "token",
    ...run.state,
    ...selectionWords(requestOr(run, "anthropic")),
    "--min-valid",
    minutesWord(ttl + MARGIN_MS),
  ]);
  await connectJsonTool(run, {
    tool: TOOL,
    file,
    edits: [{ path: ["apiKeyHelper"], value: helper }],
    snippet: `"apiKeyHelper": ${JSON.stringify(helper)}`,
    caching: `Claude Code runs it again after ${
      Math.round(ttl / 1000)
    } s (CLAUDE_CODE_API_KEY_HELPER_TTL_MS) or after a 401; each token it gets stays valid for at least ${
      minutesWord(ttl + MARGIN_MS)
    } more.`,
  });
  for (const name of OVERRIDES) {
    const where = setIn(ctx, config, name);
    if (where) {
      warn(
        ctx,
        `${name} is set ${where}: Claude Code sends it in place of the helper's token (${
          name === "ANTHROPIC_API_KEY" ? "x-api-key" : "Authorization"
        }); unset it so clawauth's token is used.`,
      );
    }
  }
}

/** `--proxy`: the proxy's URL and the local key in settings.json's `env`. */
async function connectProxy(run: ToolRun, proxy: ProxyTarget, config: JsonConfig): Promise<void> {
  const { file, tree } = config;
  const request = requestOr(run, "anthropic");
  const edits: JsonEdit[] = [
    {
      path: ["env", "ANTHROPIC_BASE_URL"],
      value: proxyBaseUrl(proxy, { ...request, provider: request.provider ?? "anthropic" }),
    },
    { path: ["env", "ANTHROPIC_AUTH_TOKEN"], value: proxy.key },
  ];
  // A helper would hand Claude Code a real token beside the local key.
  const helper = hasValueAt(tree, ["apiKeyHelper"]);
  if (helper) edits.push({ path: ["apiKeyHelper"], value: undefined });
  await connectJsonTool(run, {
    tool: TOOL,
    file,
    edits,
    snippet: `"env": {${
      edits.filter((e) => e.path[0] === "env").map((e) =>
        `${JSON.stringify(e.path[1])}: ${JSON.stringify(shownValue(proxy, e.value))}`
      ).join(", ")
    }}`,
    caching: proxyCaching(proxy),
  });
  if (helper) {
    run.ctx.out(`apiKeyHelper is left out while connected; disconnect puts it back.\n`);
  }
  const where = setIn(run.ctx, config, "ANTHROPIC_API_KEY");
  if (where) {
    warn(
      run.ctx,
      `ANTHROPIC_API_KEY is set ${where}: Claude Code would send it (x-api-key) beside the local key; unset it so Claude Code holds no provider secret.`,
    );
  }
}

/** The `claude-code` adapter. */
export const claudeCode: ToolAdapter = jsonToolAdapter({
  name: TOOL,
  summary: "apiKeyHelper in settings.json ($CLAUDE_CONFIG_DIR, else ~/.claude)",
  flags: ["proxy", "port"],
  file: (ctx) => join(claudeConfigDir(ctx), "settings.json"),
  async connect(run, config) {
    if (run.proxy) await connectProxy(run, run.proxy, config);
    else await connectHelper(run, config);
    await warnIfUnservable(run, requestOr(run, "anthropic"));
    const credentials = join(claudeConfigDir(run.ctx), ".credentials.json");
    if (exists(credentials)) {
      run.ctx.out(
        `Note: Claude Code still keeps a login of its own in ${credentials}; run "claude /logout" so only clawauth refreshes (import it first: clawauth import --from claude-code).\n`,
      );
    }
  },
});
