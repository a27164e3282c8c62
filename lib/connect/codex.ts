/**
 * Codex CLI: a custom model provider `clawauth` in `config.toml`
 * (`$CODEX_HOME`, else `~/.codex/`) whose `[auth]` command is clawauth, made
 * Codex's `model_provider`. Codex runs the command (argv, no shell) at start,
 * again after `refresh_interval_ms` and after a 401, and sends its stdout as
 * `Authorization: Bearer`. A command that outlives `timeout_ms` makes Codex
 * send the request with no credential at all, so the timeout covers a
 * refresh that waits for the store lock.
 *
 * - `--provider openai` (default): an OpenAI API key, `https://api.openai.com/v1`.
 * - `--provider openai-codex`: the ChatGPT login. Codex's own ChatGPT mode
 *   sends `Authorization: Bearer <access token>` and `chatgpt-account-id:
 *   <workspace>` to `https://chatgpt.com/backend-api/codex` (`/responses`);
 *   a custom provider carries the same two headers (the account id as a
 *   static `http_headers` entry), so the profile is pinned, since another
 *   profile could belong to another workspace. What it cannot do is Codex's
 *   ChatGPT-only extras (workspace discovery, usage limits, plugins).
 *
 * With `--proxy`, the provider's `base_url` is the proxy's route
 * (`/openai/v1` for an API key, `/codex` for a ChatGPT login, which the
 * proxy sends with each profile's own `chatgpt-account-id`) and the `[auth]`
 * command is `clawauth proxy key`, which prints the local key: `env_key`
 * would need the key exported in the user's shell, and `auth` cannot be
 * combined with it.
 *
 * @module
 */

import type { TomlTable } from "smol-toml";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { stringAt } from "../json/json.ts";
import { warn } from "../output/output.ts";
import { join } from "../paths.ts";
import { selectProfile, storedRequest } from "../routing/select.ts";
import { openStore } from "../store.ts";
import { readConfigFile } from "./config_file.ts";
import { undoConnection, writeConnection } from "./connection.ts";
import { reportConnected, reportDisconnected } from "./report.ts";
import { selectionWords } from "./self_command.ts";
import { canServe, warnIfUnservable } from "./servable.ts";
import { proxyBaseUrl, proxyCaching, type ProxyTarget } from "./proxy_target.ts";
import {
  blockText,
  hasBlock,
  parseToml,
  withBlock,
  withoutBlock,
  withoutTopLevelKey,
  withTopLevelKey,
} from "./toml_block.ts";
import { minutesWord, type ToolAdapter, toolDir, type ToolRun } from "./tool.ts";
import type { Context } from "../context.ts";

const TOOL = "codex";
/** The provider id clawauth's table has in config.toml. */
export const CODEX_PROVIDER_ID = "clawauth";
/** How often Codex asks again on its own. */
const REFRESH_INTERVAL_MS = 5 * 60_000;
/** Above clawauth's worst case: the store lock's 30 s wait plus a refresh. */
const COMMAND_TIMEOUT_MS = 60_000;
/** Margin beyond the refresh interval. */
const MARGIN_MS = 5 * 60_000;
/** Where each provider's API is, as Codex itself calls it. */
const BASE_URLS: Record<string, string> = {
  openai: "https://api.openai.com/v1",
  "openai-codex": "https://chatgpt.com/backend-api/codex",
};

/** Codex's home: `$CODEX_HOME`, else `~/.codex`. */
export function codexHome(ctx: Context): string {
  return toolDir(ctx, { variable: "CODEX_HOME", home: [".codex"], what: "Codex's home dir" });
}

/** The ChatGPT profile to pin and its workspace (account id), from the store. */
async function chatgptProfile(run: ToolRun): Promise<{ id: string; accountId?: string }> {
  const store = await openStore(run.ctx, run.paths);
  const chosen = selectProfile(
    store,
    storedRequest(run.paths.backend, {
      provider: "openai-codex",
      ...(run.request.profileId ? { profileId: run.request.profileId } : {}),
    }),
    run.ctx.now(),
  );
  const accountId = stringAt(chosen.profile.raw, "accountId");
  return { id: chosen.profile.id, ...(accountId ? { accountId } : {}) };
}

/** What clawauth writes into config.toml and how the report words it. */
interface ProviderPlan {
  provider: string;
  tables: TomlTable;
  caching: string;
}

/** Codex's provider table: `base_url`, the Responses API, extra headers, the `[auth]` command. */
function providerTable(
  run: ToolRun,
  entry: { provider: string; baseUrl: string; headers?: Record<string, string>; args: string[] },
): TomlTable {
  const [command, ...fixed] = run.self;
  const { headers = {} } = entry;
  return {
    model_providers: {
      [CODEX_PROVIDER_ID]: {
        name: `clawauth${run.proxy ? " proxy" : ""} (${entry.provider})`,
        base_url: entry.baseUrl,
        wire_api: "responses",
        ...(Object.keys(headers).length > 0 ? { http_headers: headers } : {}),
        auth: {
          command,
          args: [...fixed, ...entry.args],
          timeout_ms: COMMAND_TIMEOUT_MS,
          refresh_interval_ms: REFRESH_INTERVAL_MS,
        },
      },
    },
  };
}

/** The tables clawauth writes for the chosen provider. */
async function helperPlan(run: ToolRun): Promise<ProviderPlan> {
  const provider = run.request.provider ?? "openai";
  const baseUrl = run.baseUrl ?? BASE_URLS[provider];
  if (baseUrl === undefined) {
    throw usageError(
      `Codex needs the API's base URL for provider ${provider}: pass --base-url URL.`,
      "connect",
    );
  }
  let selection = selectionWords(run.request.provider ? run.request : { provider });
  const headers: Record<string, string> = {};
  if (provider === "openai-codex") {
    const chosen = await chatgptProfile(run);
    selection = ["--profile", chosen.id];
    if (chosen.accountId) headers["chatgpt-account-id"] = chosen.accountId;
  }
  const minValid = minutesWord(REFRESH_INTERVAL_MS + MARGIN_MS);
  return {
    provider,
    tables: providerTable(run, {
      provider,
      baseUrl,
      headers,
      args: ["token", ...run.state, ...selection, "--min-valid", minValid],
    }),
    caching: `Codex runs it at start, every ${
      REFRESH_INTERVAL_MS / 60_000
    } min (refresh_interval_ms) and after a 401; each token it gets stays valid for at least ${minValid} more.`,
  };
}

/**
 * `--proxy`: the route of `--provider` / `--profile`, else of what the store
 * can serve: an OpenAI API key, else a ChatGPT login.
 */
async function proxyPlan(run: ToolRun, proxy: ProxyTarget): Promise<ProviderPlan> {
  if (run.baseUrl !== undefined) {
    throw usageError("--base-url does not go with --proxy: the proxy is the base URL.", "connect");
  }
  const provider = run.request.provider ??
    (!await canServe(run, { provider: "openai" }) &&
        await canServe(run, { provider: "openai-codex" })
      ? "openai-codex"
      : "openai");
  return {
    provider,
    tables: providerTable(run, {
      provider,
      baseUrl: proxyBaseUrl(proxy, { ...run.request, provider }),
      args: ["proxy", "key", ...run.state],
    }),
    caching: `The [auth] command prints the proxy's local key. ${proxyCaching(proxy)}`,
  };
}

function tableAt(table: TomlTable, ...keys: string[]): TomlTable | undefined {
  let at: unknown = table;
  for (const key of keys) {
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as TomlTable)[key];
  }
  return typeof at === "object" && at !== null && !Array.isArray(at) ? at as TomlTable : undefined;
}

/** Warns about what would make Codex use something other than clawauth's provider. */
function warnOverrides(ctx: Context, file: string, before: TomlTable): void {
  const previous = before.model_provider;
  if (typeof previous === "string" && previous !== CODEX_PROVIDER_ID) {
    const envKey = tableAt(before, "model_providers", previous)?.env_key;
    ctx.out(
      `Codex used model_provider "${previous}"${
        typeof envKey === "string" ? ` (key from $${envKey})` : ""
      } until now; that line is commented out, and disconnect brings it back.\n`,
    );
  }
  for (const [name, profile] of Object.entries(tableAt(before, "profiles") ?? {})) {
    const chosen = typeof profile === "object" && profile !== null
      ? (profile as TomlTable).model_provider
      : undefined;
    if (typeof chosen === "string" && chosen !== CODEX_PROVIDER_ID) {
      warn(ctx, `${file}: codex --profile ${name} still uses model_provider "${chosen}".`);
    }
  }
}

/** The `codex` adapter. */
export const codex: ToolAdapter = {
  name: TOOL,
  summary:
    "custom model provider with an [auth] command in config.toml ($CODEX_HOME, else ~/.codex)",
  flags: ["base-url", "proxy", "port"],
  selects: true,
  async connect(run) {
    const { ctx } = run;
    const path = join(codexHome(ctx), "config.toml");
    const file = readConfigFile(path);
    const text = file.text ?? "";
    const before = parseToml(path, text);
    if (tableAt(before, "model_providers", CODEX_PROVIDER_ID) && !hasBlock(text)) {
      throw new ClawauthError(
        `${path} already defines [model_providers.${CODEX_PROVIDER_ID}] by hand; clawauth left it untouched.`,
        Exit.data,
        `Rename or remove that table, then run the command again.`,
      );
    }
    const plan = run.proxy ? await proxyPlan(run, run.proxy) : await helperPlan(run);
    const { tables } = plan;
    const next = withTopLevelKey(withBlock(text, tables), {
      key: "model_provider",
      value: `"${CODEX_PROVIDER_ID}"`,
    });
    const after = parseToml(path, next);
    const ours = tableAt(after, "model_providers", CODEX_PROVIDER_ID);
    if (after.model_provider !== CODEX_PROVIDER_ID || ours?.env_key !== undefined) {
      throw new ClawauthError(
        `${path} could not be connected: its provider "${CODEX_PROVIDER_ID}" would not be used as written; clawauth left it untouched.`,
        Exit.data,
        "Check model_provider and [model_providers.clawauth] in the file.",
      );
    }
    const changed = next !== text;
    const backup = changed && !run.dryRun
      ? await writeConnection(run.paths.stateDir, { tool: TOOL, file, text: next, undo: {} })
      : undefined;
    reportConnected(ctx, {
      tool: TOOL,
      file: path,
      dryRun: run.dryRun,
      changed,
      backup,
      snippet: `model_provider = "${CODEX_PROVIDER_ID}"\n\n${blockText(tables)}`,
      caching: plan.caching,
    });
    warnOverrides(ctx, path, before);
    if (run.proxy || plan.provider !== "openai-codex") {
      await warnIfUnservable(run, run.request.provider ? run.request : { provider: plan.provider });
    }
  },
  async disconnect(run) {
    const path = join(codexHome(run.ctx), "config.toml");
    const outcome = await undoConnection(run.paths.stateDir, {
      tool: TOOL,
      path,
      dryRun: run.dryRun,
      partial(current, record) {
        const text = withoutTopLevelKey(withoutBlock(current), "model_provider");
        parseToml(path, text);
        return record.undo.createdFile === true && text.trim() === "" ? undefined : text;
      },
    });
    reportDisconnected(run.ctx, { tool: TOOL, ...outcome, dryRun: run.dryRun });
  },
};
