/**
 * Doctor checks of OpenClaw's SQLite store (the `openclaw` backend): it can
 * be read, and no retired JSON file sits beside it. Such a file makes
 * OpenClaw ≥ 2026.9 refuse every provider with
 * `AUTH_PROFILE_MIGRATION_REQUIRED`; `--fix` moves its profiles into the
 * SQLite store and archives it as OpenClaw's own doctor does
 * (`<file>.migrated-<stamp>-<uuid>`).
 *
 * @module
 */

import { ClawauthError } from "../errors.ts";
import { readTextIfExists } from "../fs/files.ts";
import { isObject, type JsonObject, own } from "../json/json.ts";
import { type AgentPaths, join } from "../paths.ts";
import { storedProfileId, storedProviderId } from "../provider/names.ts";
import { listProfiles } from "../profiles.ts";
import { openclawLegacyEntries } from "../sources.ts";
import { parseStore, readStore, storeLocation, updateStore } from "../store.ts";
import type { StoreData } from "../store/data.ts";
import { retiredAuthFiles } from "../store/openclaw/db.ts";
import {
  idsInUse,
  isRetiredProfileId,
  openclawRenameOf,
  renameProfile,
} from "../store/openclaw/profile_ids.ts";
import { Doctor, errorText } from "./report.ts";

/** Checks that OpenClaw's store answers for this agent; returns it when it does. */
export async function checkOpenclawStore(
  doc: Doctor,
  paths: AgentPaths,
): Promise<StoreData | undefined> {
  const base = { check: "store", agent: paths.agent, path: await storeLocation(doc.ctx, paths) };
  try {
    const store = await readStore(doc.ctx, paths);
    const count = Object.keys(store.profiles).length;
    doc.add({
      ...base,
      severity: "ok",
      message: `OpenClaw's SQLite store ${base.path} holds ${count} profile${
        count === 1 ? "" : "s"
      } for agent ${paths.agent}`,
    });
    return store;
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    doc.add({ ...base, severity: "error", message: error.message, fix: error.hint });
    return undefined;
  }
}

/** The profiles a retired file holds, named as OpenClaw's store names them. */
function retiredProfiles(path: string, paths: AgentPaths): JsonObject {
  const text = readTextIfExists(path) ?? "";
  const name = path.slice(path.lastIndexOf("/") + 1);
  // auth.json is clawauth's derived cache: importing it made wrong api_key profiles.
  if (name === "auth.json") return {};
  const entries: [string, JsonObject][] = name === "oauth.json"
    ? openclawLegacyEntries(text, path).map(({ id, entry }) => [id, entry])
    : Object.entries(parseStore(text, path).profiles)
      .flatMap(([id, entry]) => isObject(entry) ? [[id, entry]] : []);
  return Object.fromEntries(entries.map(([id, entry]) => {
    const provider = typeof entry.provider === "string" ? entry.provider : undefined;
    const stored = provider && storedProviderId(paths.backend, provider);
    return [storedProfileId(paths.backend, id), stored ? { ...entry, provider: stored } : entry];
  }));
}

/** Moves a retired file's profiles (and its routing state) into the store, never overwriting. */
async function migrate(doc: Doctor, paths: AgentPaths, path: string): Promise<string[]> {
  const profiles = retiredProfiles(path, paths);
  const old = path.endsWith("auth-profiles.json")
    ? parseStore(readTextIfExists(path) ?? "", path)
    : undefined;
  return await updateStore(doc.ctx, paths, (store) => {
    const added = listProfiles(profiles)
      .filter((p) => !p.invalid && !Object.hasOwn(store.profiles, p.id))
      .map((p) => p.id);
    for (const id of added) store.profiles[id] = profiles[id];
    for (const field of ["order", "lastGood", "usageStats"]) {
      const from = old && own(old, field);
      if (!isObject(from)) continue;
      const into = isObject(store[field]) ? store[field] as JsonObject : {};
      for (const [key, value] of Object.entries(from)) {
        if (!Object.hasOwn(into, key)) into[key] = value;
      }
      store[field] = into;
    }
    return added;
  });
}

function archiveName(path: string, now: number): string {
  return `${path}.migrated-${
    new Date(now).toISOString().replaceAll(":", "-")
  }-${crypto.randomUUID()}`;
}

/**
 * Reports each retired JSON file beside OpenClaw's store as an error;
 * `--fix` moves its profiles into the store and archives it.
 */
export async function checkRetiredFiles(doc: Doctor, paths: AgentPaths): Promise<void> {
  const found = retiredAuthFiles({
    stateDir: paths.stateDir,
    agentDir: paths.dir,
    agent: paths.agent,
  });
  for (const path of found) {
    const finding = {
      check: "openclaw",
      agent: paths.agent,
      path,
      message:
        `${path} sits beside OpenClaw's SQLite store, so OpenClaw refuses every provider (AUTH_PROFILE_MIGRATION_REQUIRED)`,
    };
    if (!doc.fix) {
      doc.add({
        ...finding,
        severity: "error",
        fix: "clawauth doctor --fix (moves its profiles into the store and archives it)",
      });
      continue;
    }
    try {
      const added = await migrate(doc, paths, path);
      const archive = archiveName(path, doc.ctx.now());
      Deno.renameSync(path, archive);
      const done = `moved ${added.length} profile${
        added.length === 1 ? "" : "s"
      } into the store and archived it as ${archive}`;
      doc.fixed.push({ check: "openclaw", message: done, path });
      doc.add({ ...finding, severity: "ok", message: `${finding.message}; fixed: ${done}` });
    } catch (error) {
      doc.add({
        ...finding,
        severity: "error",
        message: `${finding.message}; --fix failed: ${errorText(error)}`,
      });
    }
  }
  if (found.length === 0) {
    doc.add({
      check: "openclaw",
      agent: paths.agent,
      severity: "ok",
      message: "no retired JSON store beside OpenClaw's SQLite store",
    });
  }
}

/** Whether openclaw.json mentions `id` (OpenClaw's doctor rewrites its config; clawauth does not). */
function configNames(paths: AgentPaths, id: string): boolean {
  try {
    return readTextIfExists(join(paths.stateDir, "openclaw.json"))?.includes(`"${id}"`) ?? false;
  } catch {
    return true; // unreadable: leave the rename to OpenClaw
  }
}

/**
 * Flags each profile under an id OpenClaw retires (`openai:codex-cli`): its
 * doctor renames it, and `--profile <old id>` then finds nothing. `--fix`
 * renames it as OpenClaw would, with its `order`, `lastGood` and
 * `usageStats` references, unless openclaw.json names the id too.
 */
export async function checkRetiredProfileIds(
  doc: Doctor,
  paths: AgentPaths,
  store: StoreData,
): Promise<void> {
  for (const id of Object.keys(store.profiles).filter(isRetiredProfileId)) {
    const target = openclawRenameOf(id, idsInUse(store)) ?? id;
    const finding = {
      check: "openclaw",
      agent: paths.agent,
      path: await storeLocation(doc.ctx, paths),
      message:
        `profile ${id} has an id OpenClaw retires: \`openclaw doctor --fix\` renames it to ${target}, and --profile ${id} then finds nothing`,
    };
    const inConfig = configNames(paths, id);
    if (!doc.fix || inConfig) {
      doc.add({
        ...finding,
        severity: "warning",
        fix: inConfig
          ? `openclaw doctor --fix (openclaw.json names ${id} too), then use --profile ${target}`
          : "clawauth doctor --fix",
      });
      continue;
    }
    try {
      const renamed = await updateStore(doc.ctx, paths, (current) => {
        if (!Object.hasOwn(current.profiles, id)) return undefined;
        const to = openclawRenameOf(id, idsInUse(current)) ?? id;
        renameProfile(current, id, to);
        return to;
      });
      if (renamed === undefined) continue;
      const done = `renamed ${id} to ${renamed}, with its order, lastGood and usageStats entries`;
      doc.fixed.push({ check: "openclaw", message: done, path: finding.path });
      doc.add({ ...finding, severity: "ok", message: `${finding.message}; fixed: ${done}` });
    } catch (error) {
      doc.add({
        ...finding,
        severity: "warning",
        message: `${finding.message}; --fix failed: ${errorText(error)}`,
      });
    }
  }
}
