/**
 * Claude Code: `apiKeyHelper` in `settings.json` (`$CLAUDE_CONFIG_DIR`, else
 * `~/.claude/`). Claude Code runs the helper with `/bin/sh`, sends its
 * stdout both as `x-api-key` and as `Authorization: Bearer`, and runs it
 * again after `CLAUDE_CODE_API_KEY_HELPER_TTL_MS` (default 5 min) or a 401.
 * So the helper asks for a token valid for that long plus 5 minutes.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { exists } from "../fs/files.ts";
import { warn } from "../output/output.ts";
import { join } from "../paths.ts";
import { valueAt } from "./json_config.ts";
import { connectJsonTool, jsonToolAdapter } from "./json_tool.ts";
import { selectionWords, shellLine } from "./self_command.ts";
import { warnIfUnservable } from "./servable.ts";
import { minutesWord, requestOr, type ToolAdapter, toolDir } from "./tool.ts";

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

/** The `claude-code` adapter. */
export const claudeCode: ToolAdapter = jsonToolAdapter({
  name: TOOL,
  summary: "apiKeyHelper in settings.json ($CLAUDE_CONFIG_DIR, else ~/.claude)",
  file: (ctx) => join(claudeConfigDir(ctx), "settings.json"),
  async connect(run, { file, tree }) {
    const { ctx } = run;
    const env = valueAt(tree, ["env"]);
    const ttl = helperTtlMs(ctx, env);
    const request = requestOr(run, "anthropic");
    const helper = shellLine([
      ...run.self,
      "token",
      ...run.state,
      ...selectionWords(request),
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
      const inFile = typeof env === "object" && env !== null && Object.hasOwn(env, name);
      if (ctx.env(name) || inFile) {
        warn(
          ctx,
          `${name} is set${
            inFile ? ` in ${file} ("env")` : " in this environment"
          }: Claude Code sends it in place of the helper's token (${
            name === "ANTHROPIC_API_KEY" ? "x-api-key" : "Authorization"
          }); unset it so clawauth's token is used.`,
        );
      }
    }
    await warnIfUnservable(run, request);
    const credentials = join(claudeConfigDir(ctx), ".credentials.json");
    if (exists(credentials)) {
      ctx.out(
        `Note: Claude Code still keeps a login of its own in ${credentials}; run "claude /logout" so only clawauth refreshes (import it first: clawauth import --from claude-code).\n`,
      );
    }
  },
});
