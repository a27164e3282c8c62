/**
 * Doctor checks of clawauth.json, openclaw.json and (online) the clock.
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import { readProviderConfig, resolveProvider } from "../config.ts";
import { formatSpan } from "../duration.ts";
import { load } from "../lazy.ts";
import { ClawauthError } from "../errors.ts";
import { readTextIfExists } from "../fs/files.ts";
import { endpointProblem } from "../oauth/endpoints.ts";
import { isObject, type JsonObject } from "../json/json.ts";
import { readOpenclawOrder } from "../openclaw_config.ts";
import { join } from "../paths.ts";
import { OVERRIDE_KEYS } from "../provider/definition.ts";
import { configuredRoute } from "../proxy/routes.ts";
import { Doctor, errorText } from "./report.ts";

/** Clock skew beyond this is a warning: tokens look expired, or not yet valid. */
const MAX_SKEW_MS = 5 * 60_000;
const DEFAULT_HTTP_TIMEOUT_MS = 5_000;

// --- config and clock -----------------------------------------------------

/** The overrides clawauth contacts or shows: the issuer and every `…Url`. */
const URL_KEYS = OVERRIDE_KEYS.filter((key) => key === "issuer" || key.endsWith("Url"));

/** Checks clawauth.json; returns the ids of the providers it declares. */
export function checkConfig(doc: Doctor, configPath: string): string[] {
  const base = { check: "config", path: configPath };
  let providers: JsonObject;
  try {
    providers = readProviderConfig(configPath);
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    doc.add({ ...base, severity: "error", message: error.message, fix: `edit ${configPath}` });
    return [];
  }
  const ids = Object.keys(providers);
  let bad = 0;
  for (const id of ids) {
    const problem = providerProblem(id, configPath, providers[id]);
    if (problem === undefined) continue;
    bad++;
    doc.add({
      ...base,
      severity: "error",
      message: `${configPath}: provider ${safeText(id, 64)}: ${problem}`,
      fix: `edit ${configPath}`,
    });
  }
  if (bad === 0) {
    doc.add({
      ...base,
      severity: "ok",
      message: readTextIfExists(configPath) === undefined
        ? `no ${configPath} (built-in providers only)`
        : `${configPath} is valid (${ids.length} provider${ids.length === 1 ? "" : "s"})`,
    });
  }
  return ids;
}

function providerProblem(id: string, configPath: string, entry: unknown): string | undefined {
  try {
    resolveProvider(id, configPath);
  } catch (error) {
    return error instanceof ClawauthError ? error.message : errorText(error);
  }
  if (!isObject(entry)) return "not an object";
  try {
    configuredRoute(id, entry, configPath); // the proxy's apiBaseUrl and apiAuth
  } catch (error) {
    return error instanceof ClawauthError ? error.message : errorText(error);
  }
  for (const key of URL_KEYS) {
    const value = entry[key];
    const problem = typeof value === "string" ? endpointProblem(value) : undefined;
    if (problem) return `${key} ${problem}`;
  }
  return undefined;
}

/** Checks that OpenClaw's openclaw.json (JSON5) parses. */
export async function checkOpenclawConfig(doc: Doctor, stateDir: string): Promise<void> {
  const path = join(stateDir, "openclaw.json");
  if (readTextIfExists(path) === undefined) return;
  try {
    await readOpenclawOrder(path);
    doc.add({ check: "config", severity: "ok", message: `${path} parses`, path });
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    doc.add({
      check: "config",
      severity: "error",
      message: error.message,
      fix: error.hint ?? `edit ${path}`,
      path,
    });
  }
}

/** The token URL of every OAuth provider in use or declared, one per host. */
export function clockTargets(ids: Iterable<string>, configPath: string): URL[] {
  const byHost = new Map<string, URL>();
  for (const id of ids) {
    let value: string | undefined;
    try {
      const oauth = resolveProvider(id, configPath)?.oauth;
      value = oauth?.tokenUrl ?? oauth?.issuer;
    } catch {
      continue; // the config check reports it
    }
    if (!value || endpointProblem(value)) continue;
    const url = new URL(value);
    if (!byHost.has(url.host)) byHost.set(url.host, url);
  }
  return [...byHost.values()];
}

/** Compares the local clock with each target's `Date` header; unreachable hosts are skipped. */
export async function checkClock(doc: Doctor, targets: URL[]): Promise<void> {
  // One reading of CLAWAUTH_HTTP_TIMEOUT (bounds, junk refused) for every provider request.
  const { httpTimeoutMs } = await load("oauth/oauth.ts");
  // A clock check should not wait as long as a login may: 5 s unless the user chose.
  const timeout = doc.ctx.env("CLAWAUTH_HTTP_TIMEOUT")
    ? httpTimeoutMs(doc.ctx)
    : DEFAULT_HTTP_TIMEOUT_MS;
  await Promise.all(targets.map(async (url) => {
    let date: string | null;
    const sent = doc.ctx.now();
    try {
      const response = await doc.ctx.fetch(url, {
        method: "HEAD",
        redirect: "manual",
        signal: AbortSignal.timeout(timeout),
      });
      await response.body?.cancel();
      date = response.headers.get("date");
    } catch {
      return; // offline or unreachable: nothing to compare with
    }
    const server = date === null ? NaN : Date.parse(date);
    if (Number.isNaN(server)) return;
    // The Date header has whole seconds; compare with the middle of the request.
    const skew = (sent + doc.ctx.now()) / 2 - (server + 500);
    const text = `${formatSpan(skew)} ${skew >= 0 ? "ahead of" : "behind"} ${url.host}`;
    doc.add({
      check: "clock",
      severity: Math.abs(skew) > MAX_SKEW_MS ? "warning" : "ok",
      message: Math.abs(skew) > MAX_SKEW_MS
        ? `the local clock is ${text}: tokens will look expired or not yet valid`
        : `the local clock agrees with ${url.host} (${formatSpan(skew)} apart)`,
      ...(Math.abs(skew) > MAX_SKEW_MS
        ? { fix: "sync the clock, e.g. sudo timedatectl set-ntp true" }
        : {}),
    });
  }));
}
