/**
 * pi (`@mariozechner/pi-coding-agent`): a `"!command"` API key for the
 * provider in `models.json` (`$PI_CODING_AGENT_DIR`, else `~/.pi/agent/`).
 * pi runs such a command on every request when it comes from `models.json`
 * (in `auth.json` it would run once per process), so the default
 * `--min-valid` suffices. pi prefers its own `auth.json` entry and the
 * provider's environment variables over `models.json`: connect warns about
 * both. A provider entry holding only an `apiKey` is refused by pi ("must
 * specify baseUrl, headers, compat, modelOverrides, or models"), so an entry
 * clawauth creates also gets `"headers": {}`, which changes nothing else.
 *
 * With `--proxy`, the provider's entry gets the proxy's route as `baseUrl`
 * and the local key itself as `apiKey` (not a provider secret, and no
 * command to run per request). pi's ChatGPT mode (`openai-codex`) cannot go
 * through it: pi reads the account id out of the token, a JWT, and the local
 * key is none.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { readTextIfExists } from "../fs/files.ts";
import { usageError } from "../errors.ts";
import { warn } from "../output/output.ts";
import { join } from "../paths.ts";
import { valueAt } from "./json_config.ts";
import { connectJsonTool, type JsonEdit, jsonToolAdapter } from "./json_tool.ts";
import { proxyBaseUrl, proxyCaching, type ProxyTarget, shownValue } from "./proxy_target.ts";
import { selectionWords, shellLine } from "./self_command.ts";
import { warnIfUnservable } from "./servable.ts";
import { requestOr, type ToolAdapter, toolDir, type ToolRun } from "./tool.ts";

const TOOL = "pi";
/** What makes pi accept a provider override besides `apiKey`. */
const OVERRIDE_KEYS = ["baseUrl", "headers", "compat", "modelOverrides", "models"];
/** The variables pi reads for a provider before models.json (pi-ai's env-api-keys). */
const ENV_KEYS: Record<string, readonly string[]> = {
  anthropic: ["ANTHROPIC_OAUTH_TOKEN", "ANTHROPIC_API_KEY"],
  openai: ["OPENAI_API_KEY"],
  "github-copilot": ["COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"],
};

/** pi's agent dir: `$PI_CODING_AGENT_DIR`, else `~/.pi/agent`. */
export function piAgentDir(ctx: Context): string {
  return toolDir(ctx, {
    variable: "PI_CODING_AGENT_DIR",
    home: [".pi", "agent"],
    what: "pi's agent dir",
  });
}

/** Warns about what pi uses before models.json for `provider`. */
function warnOverrides(ctx: Context, provider: string): void {
  for (const name of ENV_KEYS[provider] ?? []) {
    if (ctx.env(name)) {
      warn(
        ctx,
        `${name} is set: pi uses it before models.json; unset it so clawauth's token is used.`,
      );
    }
  }
  const authPath = join(piAgentDir(ctx), "auth.json");
  let auth: unknown;
  try {
    auth = JSON.parse(readTextIfExists(authPath) ?? "{}");
  } catch {
    return; // pi's own file; if it is broken pi says so
  }
  if (typeof auth === "object" && auth !== null && Object.hasOwn(auth, provider)) {
    warn(
      ctx,
      `${authPath} holds pi's own ${provider} login, which pi uses before models.json; remove that entry (or /logout in pi) so clawauth's token is used.`,
    );
  }
}

/** The values `--proxy` sets for `provider`: the proxy's route and the local key. */
function proxyEdits(run: ToolRun, proxy: ProxyTarget, provider: string): JsonEdit[] {
  if (provider === "openai-codex") {
    throw usageError(
      "pi's ChatGPT mode (openai-codex) cannot use the proxy: pi reads the account out of the token, and the local key is no ChatGPT token; connect pi --provider openai-codex without --proxy.",
      "connect",
    );
  }
  const request = { ...requestOr(run, provider), provider };
  return [
    { path: ["providers", provider, "baseUrl"], value: proxyBaseUrl(proxy, request) },
    { path: ["providers", provider, "apiKey"], value: proxy.key },
  ];
}

/** The `"!command"` that asks clawauth for the token, and what else pi needs to accept it. */
function helperEdits(run: ToolRun, provider: string, entry: unknown): JsonEdit[] {
  const command = `!${
    shellLine([...run.self, "token", ...run.state, ...selectionWords(requestOr(run, provider))])
  }`;
  const edits: JsonEdit[] = [{ path: ["providers", provider, "apiKey"], value: command }];
  const accepted = typeof entry === "object" && entry !== null &&
    OVERRIDE_KEYS.some((key) => Object.hasOwn(entry, key));
  if (!accepted) edits.push({ path: ["providers", provider, "headers"], value: {} });
  return edits;
}

/** The `pi` adapter. */
export const pi: ToolAdapter = jsonToolAdapter({
  name: TOOL,
  summary: '"!command" apiKey in models.json ($PI_CODING_AGENT_DIR, else ~/.pi/agent)',
  flags: ["proxy", "port"],
  file: (ctx) => join(piAgentDir(ctx), "models.json"),
  async connect(run, { file, tree }) {
    const request = requestOr(run, "anthropic");
    // pi names providers as clawauth does (anthropic, openai, openai-codex, …).
    const provider = request.provider ?? request.profileId?.split(":")[0] ?? "anthropic";
    const { proxy } = run;
    const edits = proxy
      ? proxyEdits(run, proxy, provider)
      : helperEdits(run, provider, valueAt(tree, ["providers", provider]));
    await connectJsonTool(run, {
      tool: TOOL,
      file,
      edits,
      snippet: `"providers": {"${provider}": {${
        edits.map((e) =>
          `${JSON.stringify(e.path[2])}: ${
            JSON.stringify(proxy ? shownValue(proxy, e.value) : e.value)
          }`
        ).join(", ")
      }}}`,
      caching: proxy
        ? proxyCaching(proxy)
        : "pi runs the command on every request (models.json values are not cached); it does not retry after a 401.",
    });
    warnOverrides(run.ctx, provider);
    await warnIfUnservable(run, request);
    if (provider === "github-copilot") {
      warn(
        run.ctx,
        "pi sends this key to Copilot as it is; Copilot wants the short-lived token minted from the GitHub login, which clawauth does not mint.",
      );
    }
  },
});
