/**
 * The credential store, `auth-profiles.json` version 1 (OpenClaw's format):
 * read and check it, and change it only under the lock with an atomic write,
 * keeping every key we do not know (SPEC §1, §4).
 *
 * @module
 */

import type { Context } from "./context.ts";
import { assertPrivateDirs, readTextIfExists } from "./files.ts";
import { isObject, type JsonObject, own } from "./json.ts";
import { agentDirChain, type AgentPaths, type Paths } from "./paths.ts";
import { lazyImport } from "./lazy.ts";
import type { StoreData } from "./store/data.ts";
import { readJsonStore } from "./store/json_read.ts";
import { openclawStateDbPath } from "./store/kind.ts";

export { emptyStore, type StoreData } from "./store/data.ts";
export { parseStore } from "./store/json_read.ts";

/** Reads an agent's store from its backend; none yet is an empty store. */
export async function readStore(paths: AgentPaths): Promise<StoreData> {
  assertPrivateDirs(agentDirChain(paths));
  return paths.backend === "json"
    ? readJsonStore(paths)
    : (await openclawBackend()).readOpenclawStore(paths);
}

/**
 * Read-modify-write under the store lock: re-reads the store, lets `change`
 * edit it in place, and writes it only if it changed (atomically for the
 * JSON files, with compare-and-swap in OpenClaw's SQLite store). In the
 * `json` backend, when the main agent has no store yet and `paths.legacy` is
 * given, the legacy `credentials/oauth.json` is adopted first.
 */
export async function updateStore<T>(
  ctx: Context,
  paths: AgentPaths & { legacy?: string },
  change: (store: StoreData) => T | Promise<T>,
): Promise<T> {
  assertPrivateDirs(agentDirChain(paths));
  // The write path's modules load only when a command writes (lib/lazy.ts).
  const { lockTimeoutMs, withLock } = await lazyImport<typeof import("./lock.ts")>(
    "./lock.ts",
    import.meta.url,
  );
  const backend = paths.backend === "json"
    ? await lazyImport<typeof import("./store/json_store.ts")>(
      "./store/json_store.ts",
      import.meta.url,
    )
    : undefined;
  const openclaw = backend ? undefined : await openclawBackend();
  const timeoutMs = lockTimeoutMs(ctx);
  return await withLock(
    paths.lock,
    timeoutMs,
    () =>
      backend
        ? backend.updateJsonStore(ctx, paths, change)
        : openclaw!.updateOpenclawStore(paths, timeoutMs, change),
  );
}

function openclawBackend(): Promise<typeof import("./store/openclaw_store.ts")> {
  // node:sqlite loads only for the OpenClaw store, never on the JSON hot path.
  return lazyImport("./store/openclaw_store.ts", import.meta.url);
}

/**
 * Reads the store for a command, importing the legacy
 * `credentials/oauth.json` first when the main agent has no JSON store yet.
 */
export async function openStore(
  ctx: Context,
  paths: Paths,
): Promise<StoreData> {
  const store = await readStore(paths);
  if (paths.backend !== "json" || paths.agent !== "main") return store;
  if (Object.keys(store.profiles).length > 0) return store;
  if (readTextIfExists(paths.store) !== undefined) return store;
  if (readTextIfExists(paths.legacy) === undefined) return store;
  // updateStore adopts the legacy file while the store is still missing.
  return await updateStore(ctx, paths, (fresh) => fresh);
}

/** Where an agent's store lives, for messages: a file, or OpenClaw's database. */
export function storeLocation(paths: AgentPaths): string {
  return paths.backend === "json" ? paths.store : `${openclawStateDbPath(paths.stateDir)}`;
}

/** Keys that describe a credential; a new credential replaces all of them. */
const CREDENTIAL_KEYS = new Set([
  "type",
  "provider",
  "access",
  "refresh",
  "expires",
  "accountId",
  "email",
  "token",
  "key",
]);

/**
 * Puts a new credential at `id` (replacing the old one) and clears the
 * provider's `needs_login` verdict on it; returns whether `id` existed.
 */
export function putProfile(
  store: StoreData,
  id: string,
  entry: JsonObject,
): boolean {
  const previous = own(store.profiles, id);
  // Keys another tool added to this profile survive; the credential is replaced whole.
  const kept = isObject(previous)
    ? Object.fromEntries(Object.entries(previous).filter(([key]) => !CREDENTIAL_KEYS.has(key)))
    : {};
  store.profiles[id] = { ...kept, ...entry };
  clearNeedsLogin(store, id);
  return previous !== undefined;
}

/** Drops the provider's `needs_login` verdict on `id`: its credential is new. */
export function clearNeedsLogin(store: StoreData, id: string): void {
  const stats = isObject(store.usageStats) ? own(store.usageStats, id) : undefined;
  if (isObject(stats)) delete stats.needsLogin;
}
