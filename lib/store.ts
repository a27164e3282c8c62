/**
 * The credential store, `auth-profiles.json` version 1 (OpenClaw's format):
 * read and check it, and change it only under the lock with an atomic write,
 * keeping every key we do not know (docs/files.md, docs/locking.md). The same surface serves
 * each backend (docs/stores.md): the JSON files, OpenClaw's SQLite
 * store, and a PostgreSQL fleet store (§8), whose locks are database locks.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { readTextIfExists } from "./fs/files.ts";
import { isObject, type JsonObject, own } from "./json/json.ts";
import type { AgentPaths, Paths, StateRef } from "./paths.ts";
import { isCredentialKey } from "./profiles.ts";
import { load } from "./lazy.ts";
import type { Backend, ForeignRefresh } from "./store/backend.ts";
import type { StoreData } from "./store/data.ts";
import { jsonBackend } from "./store/json/backend.ts";

export { emptyStore, type StoreData } from "./store/data.ts";
export { parseStore } from "./store/json/read.ts";

/** The backend of a run: the file stores are at hand, the fleet's client loads only when named. */
async function backendOf(state: StateRef): Promise<Backend> {
  switch (state.backend) {
    case "json":
      return jsonBackend;
    case "openclaw":
      return (await load("store/openclaw/backend.ts")).openclawBackend;
    case "postgres":
      return (await load("store/postgres/backend.ts")).postgresBackend;
  }
}

/** The refresh protocol another program shares with clawauth in this store, if any. */
export async function foreignRefreshOf(state: StateRef): Promise<ForeignRefresh | undefined> {
  return (await backendOf(state)).foreignRefresh;
}

/** Reads an agent's store from its backend; none yet is an empty store. */
export async function readStore(ctx: Context, paths: AgentPaths): Promise<StoreData> {
  return await (await backendOf(paths)).read(ctx, paths);
}

/**
 * Read-modify-write under the store lock: re-reads the store, lets `change`
 * edit it in place, and writes it only if it changed (atomically for the
 * JSON files, with compare-and-swap in OpenClaw's SQLite store, in one
 * transaction under the agent's row lock in a fleet store). In the
 * `json` backend, when the main agent has no store yet and `paths.legacy` is
 * given, the legacy `credentials/oauth.json` is adopted first.
 */
export async function updateStore<T>(
  ctx: Context,
  paths: AgentPaths & { legacy?: string },
  change: (store: StoreData) => T | Promise<T>,
): Promise<T> {
  const timeoutMs = (await load("store/lock.ts")).lockTimeoutMs(ctx);
  return await (await backendOf(paths)).update(ctx, paths, { timeoutMs, change });
}

/**
 * Runs `fn` holding the store-wide lock of one lineage (docs/locking.md), waiting at
 * most `timeoutMs` (exit 75): a flock on `<state>/locks/<id>.lock` for the
 * file stores, a row lock in the database for a fleet store, where it spans
 * every machine and dies with its holder's connection.
 */
export async function withLineageLock<T>(
  ctx: Context,
  state: StateRef,
  opts: { lineage: string; timeoutMs: number; fn: () => Promise<T> },
): Promise<T> {
  return await (await backendOf(state)).withLineageLock(ctx, state, opts);
}

/** The agents of a store, sorted: directories of the state dir, or a fleet store's namespaces. */
export async function storeAgents(ctx: Context, state: StateRef): Promise<string[]> {
  return await (await backendOf(state)).agents(ctx, state);
}

/** Whether an agent exists in its store. */
export async function agentExists(ctx: Context, paths: AgentPaths): Promise<boolean> {
  return await (await backendOf(paths)).agentExists(ctx, paths);
}

/** Creates an agent with an empty store; `false` when it exists already. */
export async function createAgent(ctx: Context, paths: AgentPaths): Promise<boolean> {
  const timeoutMs = (await load("store/lock.ts")).lockTimeoutMs(ctx);
  return await (await backendOf(paths)).createAgent(ctx, paths, timeoutMs);
}

/** Deletes an agent and its credentials once no writer holds its store; `false` when absent. */
export async function removeAgent(ctx: Context, paths: AgentPaths): Promise<boolean> {
  const timeoutMs = (await load("store/lock.ts")).lockTimeoutMs(ctx);
  return await (await backendOf(paths)).removeAgent(ctx, paths, timeoutMs);
}

/**
 * Reads the store for a command, importing the legacy
 * `credentials/oauth.json` first when the main agent has no JSON store yet.
 */
export async function openStore(
  ctx: Context,
  paths: Paths,
): Promise<StoreData> {
  const store = await readStore(ctx, paths);
  if (paths.backend !== "json" || paths.agent !== "main") return store;
  if (Object.keys(store.profiles).length > 0) return store;
  if (readTextIfExists(paths.store) !== undefined) return store;
  if (readTextIfExists(paths.legacy) === undefined) return store;
  // updateStore adopts the legacy file while the store is still missing.
  return await updateStore(ctx, paths, (fresh) => fresh);
}

/** Where an agent's store lives, for messages: a file, OpenClaw's database, or the fleet's URL. */
export async function storeLocation(ctx: Context, paths: AgentPaths): Promise<string> {
  return (await backendOf(paths)).location(ctx, paths);
}

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
    ? Object.fromEntries(Object.entries(previous).filter(([key]) => !isCredentialKey(key)))
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
