/**
 * The credential store, `auth-profiles.json` version 1 (OpenClaw's format):
 * read and check it, and change it only under the lock with an atomic write,
 * keeping every key we do not know (SPEC §1, §4).
 *
 * @module
 */

import type { Context } from "./context.ts";
import { ClawauthError, Exit } from "./errors.ts";
import { assertPrivateDirs, readTextIfExists, writeFileAtomic } from "./files.ts";
import { isObject, jsonErrorText, type JsonObject, own } from "./json.ts";
import { agentDirChain, type AgentPaths, type Paths } from "./paths.ts";
import { lazyImport } from "./lazy.ts";

/** The store document; keys beyond these are kept as they are. */
export interface StoreData extends JsonObject {
  version: 1;
  profiles: JsonObject;
}

/** A fresh, empty store. */
export function emptyStore(): StoreData {
  return { version: 1, profiles: {} };
}

/** Parses store text; anything but a v1 store is exit 65 naming the file. */
export function parseStore(text: string, path: string): StoreData {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw badStore(
      path,
      jsonErrorText(error),
    );
  }
  if (!isObject(data)) {
    throw badStore(path, "the top level is not a JSON object");
  }
  if (data.version !== 1) {
    throw badStore(path, `version is ${versionText(data.version)}, expected 1`);
  }
  if (!isObject(data.profiles)) {
    throw badStore(path, '"profiles" is not an object');
  }
  return data as StoreData;
}

/** Names a wrong `version` without printing what it holds (it may be huge, deep or hostile). */
function versionText(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  return typeof value === "string" ? "a string" : Array.isArray(value) ? "an array" : "an object";
}

function badStore(path: string, reason: string): ClawauthError {
  return new ClawauthError(
    `The store ${path} cannot be read: ${reason}.`,
    Exit.data,
    "Fix or move the file aside; clawauth never overwrites a store it cannot parse.",
  );
}

/** Reads an agent's store; a missing file is an empty store. */
export function readStore(paths: AgentPaths): StoreData {
  assertPrivateDirs(agentDirChain(paths));
  const text = readTextIfExists(paths.store);
  return text === undefined ? emptyStore() : parseStore(text, paths.store);
}

/**
 * Read-modify-write under the store lock: re-reads the store, lets `change`
 * edit it in place, and writes it atomically only if it changed. When the
 * main agent has no store yet and `paths.legacy` is given, the legacy
 * `credentials/oauth.json` is adopted first, whatever the first use is.
 */
export async function updateStore<T>(
  ctx: Context,
  paths: AgentPaths & { legacy?: string },
  change: (store: StoreData) => T | Promise<T>,
): Promise<T> {
  // The write path's modules load only when a command writes (lib/lazy.ts).
  const [{ lockTimeoutMs, withLock }, { writeCache }, { importLegacy }] = await Promise.all([
    lazyImport<typeof import("./lock.ts")>("./lock.ts", import.meta.url),
    lazyImport<typeof import("./cache.ts")>("./cache.ts", import.meta.url),
    lazyImport<typeof import("./sources.ts")>("./sources.ts", import.meta.url),
  ]);
  assertPrivateDirs(agentDirChain(paths));
  return await withLock(paths.lock, lockTimeoutMs(ctx), async () => {
    const text = readTextIfExists(paths.store);
    const store = text === undefined ? emptyStore() : parseStore(text, paths.store);
    const before = serialize(store, paths.store);
    const legacy = text === undefined && paths.agent === "main" ? paths.legacy : undefined;
    const legacyText = legacy && readTextIfExists(legacy);
    if (legacy && legacyText !== undefined) {
      importLegacy(store, legacyText, legacy);
    }
    const result = await change(store);
    const after = serialize(store, paths.store);
    if (after !== before) {
      writeFileAtomic(paths.store, `${after}\n`);
      writeCache(paths, store, JSON.parse(before), ctx.now());
    }
    return result;
  });
}

/** The store as written; one nested too deeply to serialize is exit 65, never a crash. */
function serialize(store: StoreData, path: string): string {
  try {
    return JSON.stringify(store, null, 2);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ClawauthError(
      `The store ${path} is nested too deeply to be rewritten safely.`,
      Exit.data,
      "Fix or move the file aside; clawauth never overwrites a store it cannot parse.",
    );
  }
}

/**
 * Reads the store for a command, importing the legacy
 * `credentials/oauth.json` first when the main agent has no store yet.
 */
export async function openStore(
  ctx: Context,
  paths: Paths,
): Promise<StoreData> {
  const store = readStore(paths);
  if (paths.agent !== "main" || Object.keys(store.profiles).length > 0) {
    return store;
  }
  if (readTextIfExists(paths.store) !== undefined) return store;
  if (readTextIfExists(paths.legacy) === undefined) return store;
  // updateStore adopts the legacy file while the store is still missing.
  return await updateStore(ctx, paths, (fresh) => fresh);
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
