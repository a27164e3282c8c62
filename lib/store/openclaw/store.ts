/**
 * The `openclaw` backend: the store document of an agent, as OpenClaw ≥
 * 2026.9 layers it in SQLite (lib/store/openclaw/db.ts), seen through the
 * same {@linkcode StoreData} shape the JSON backend has.
 *
 * A change may wait (a refresh makes an HTTP request), and no SQLite write
 * transaction may be held that long: OpenClaw's own writers would time out
 * behind it. So the change runs on a snapshot, under clawauth's store lock,
 * and what it changed is then written key by key in one short transaction,
 * each key compared with the snapshot first: a key OpenClaw changed
 * meanwhile is never overwritten.
 *
 * @module
 */

import { ClawauthError, Exit } from "../../errors.ts";
import { isObject, jsonEqual, type JsonObject } from "../../json/json.ts";
import type { AgentPaths } from "../../paths.ts";
import type { StoreData } from "../data.ts";
import { type AuthDocuments, readAuthDocuments, updateAuthDocuments } from "./db.ts";

/** The routing-state fields, kept in OpenClaw's `authProfiles.state` document. */
const STATE_FIELDS = ["order", "lastGood", "usageStats"] as const;

function dbOptions(paths: AgentPaths): { stateDir: string; agentDir: string; agent: string } {
  return { stateDir: paths.stateDir, agentDir: paths.dir, agent: paths.agent };
}

/** OpenClaw's two documents as one store document. */
function asStore(docs: AuthDocuments): StoreData {
  const store: StoreData = { ...docs.store, version: 1, profiles: { ...docs.store.profiles } };
  for (const field of STATE_FIELDS) {
    const value = docs.state[field];
    if (isObject(value)) store[field] = value;
  }
  return store;
}

/** An agent's store as OpenClaw shows it to that agent. */
export function readOpenclawStore(paths: AgentPaths): StoreData {
  return asStore(readAuthDocuments(dbOptions(paths)));
}

/** The object of a group (`profiles` or a state field) in a store document. */
function group(store: JsonObject, name: string): JsonObject {
  const value = store[name];
  return isObject(value) ? value : {};
}

/** Where a group lives in OpenClaw's documents, created on demand. */
function target(docs: AuthDocuments, name: string): JsonObject {
  if (name === "profiles") return docs.store.profiles;
  const existing = docs.state[name];
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  docs.state[name] = created;
  return created;
}

/**
 * Writes into `docs` each key `working` changed against `snapshot`; a key
 * whose stored value is neither the snapshot's nor ours was changed by
 * someone else meanwhile, and nothing is written.
 */
function applyChanges(snapshot: StoreData, working: StoreData, docs: AuthDocuments): void {
  for (const name of ["profiles", ...STATE_FIELDS]) {
    const before = group(snapshot, name);
    const after = group(working, name);
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const was = before[key];
      const now = after[key];
      if (jsonEqual(was, now)) continue;
      const into = target(docs, name);
      const stored = into[key];
      if (!jsonEqual(stored, was) && !jsonEqual(stored, now)) {
        throw new ClawauthError(
          `OpenClaw changed ${
            name === "profiles" ? "profile" : name
          } ${key} at the same moment, so nothing was written.`,
          Exit.lockTimeout,
          "Run the command again.",
        );
      }
      if (now === undefined) delete into[key];
      else into[key] = now;
    }
  }
}

/**
 * Read-modify-write of an agent's store; the caller holds clawauth's store
 * lock. `change` edits a snapshot (it may wait); the keys it changed are
 * written in one transaction that waits at most `timeoutMs` for OpenClaw's
 * writers (exit 75).
 */
export async function updateOpenclawStore<T>(
  paths: AgentPaths,
  timeoutMs: number,
  change: (store: StoreData) => T | Promise<T>,
): Promise<T> {
  const snapshot = readOpenclawStore(paths);
  const working = structuredClone(snapshot);
  const result = await change(working);
  if (!jsonEqual(snapshot, working)) {
    updateAuthDocuments(
      { ...dbOptions(paths), timeoutMs },
      (docs) => applyChanges(snapshot, working, docs),
    );
  }
  return result;
}
