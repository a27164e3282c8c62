/**
 * How OpenClaw 2026.9 layers an agent's auth documents over the shared ones,
 * and where each changed key goes back (docs/openclaw.md,
 * "Layering"). Pure functions on parsed documents; lib/store/openclaw/db.ts
 * does the SQLite part.
 *
 * @module
 */

import { ClawauthError, Exit } from "../../errors.ts";
import { isObject, jsonEqual, type JsonObject } from "../../json/json.ts";

/** The agent whose credentials OpenClaw keeps in the shared documents. */
export const MAIN_AGENT = "main";
const STATE_FIELDS = ["order", "lastGood", "usageStats"] as const;

/** The credentials document (`auth-profiles.json`'s shape); unknown keys are kept. */
export interface AuthStoreDocument extends JsonObject {
  version: 1;
  profiles: JsonObject;
}

/** The routing-state document; each field is an object keyed by provider or profile id. */
export interface AuthStateDocument extends JsonObject {
  /** Provider → profile ids, in routing order. */
  order?: JsonObject;
  /** Provider → the profile id that last worked. */
  lastGood?: JsonObject;
  /** Profile id → `{lastUsed, errorCount, cooldownUntil, …}`. */
  usageStats?: JsonObject;
}

/** The documents an agent sees: shared ones overlaid by its own. */
export interface AuthDocuments {
  store: AuthStoreDocument;
  state: AuthStateDocument;
}

/** One stored row: its exact text (for compare-and-swap) and its parsed document (absent: no row). */
export interface Row {
  text?: string;
  doc?: JsonObject;
}

/** The two documents of one database. */
export interface Layer {
  store: Row;
  state: Row;
}

/** A layer as OpenClaw reads it: profiles plus state, the state row winning per key. */
interface View {
  profiles: JsonObject;
  order?: JsonObject;
  lastGood?: JsonObject;
  usageStats?: JsonObject;
}

function layerView(layer: Layer): View {
  const store = layer.store.doc;
  const state = layer.state.doc;
  const view: View = { profiles: isObject(store?.profiles) ? store.profiles : {} };
  for (const field of STATE_FIELDS) {
    const merged = mergeRecords(objectAt(store, field), objectAt(state, field));
    if (merged) view[field] = merged;
  }
  return view;
}

/** OpenClaw's `mergeAuthProfileStores(shared, local)` for the persisted fields. */
function mergeViews(base: View, override: View): View {
  const overrideIds = Object.keys(override.profiles);
  if (
    overrideIds.length === 0 && !override.order && !override.lastGood && !override.usageStats
  ) return base;
  const profiles: JsonObject = { ...override.profiles };
  for (const [id, credential] of Object.entries(base.profiles)) {
    if (!Object.hasOwn(profiles, id)) profiles[id] = credential;
  }
  const merged: View = { profiles };
  const order = mergeOrder(base.order, override.order, override.profiles);
  if (order) {
    const kept = Object.entries(order).filter(([, ids]) => Array.isArray(ids) && ids.length > 0);
    merged.order = Object.fromEntries(kept);
  }
  const lastGood = mergeRecords(base.lastGood, override.lastGood);
  if (lastGood) {
    merged.lastGood = Object.fromEntries(
      Object.entries(lastGood).filter(([, id]) =>
        typeof id === "string" && Object.hasOwn(profiles, id)
      ),
    );
  }
  const usageStats = mergeRecords(base.usageStats, override.usageStats);
  if (usageStats) {
    merged.usageStats = Object.fromEntries(
      Object.entries(usageStats).filter(([id]) =>
        Object.hasOwn(profiles, id) || id.startsWith("inline-api-key:")
      ),
    );
  }
  return merged;
}

/**
 * OpenClaw's `mergeProfileOrderWithOverridePrecedence`: the agent's order for a
 * provider replaces the shared one; where the agent has profiles of a provider
 * but no order for it, they go first, before the shared order.
 */
function mergeOrder(
  base: JsonObject | undefined,
  override: JsonObject | undefined,
  overrideProfiles: JsonObject,
): JsonObject | undefined {
  const merged = mergeRecords(base, override);
  if (!merged) return undefined;
  const byProvider = new Map<string, string[]>();
  for (const [id, credential] of Object.entries(overrideProfiles)) {
    if (!isObject(credential) || typeof credential.provider !== "string") continue;
    const key = providerKey(credential.provider);
    byProvider.set(key, [...byProvider.get(key) ?? [], id]);
  }
  const findKey = (order: JsonObject | undefined, key: string) =>
    Object.keys(order ?? {}).find((k) => providerKey(k) === key);
  for (const [key, ids] of byProvider) {
    const baseKey = findKey(base, key);
    const overrideKey = findKey(override, key);
    const mergedKey = overrideKey ?? baseKey;
    if (!mergedKey) continue;
    for (const k of Object.keys(merged)) {
      if (k !== mergedKey && providerKey(k) === key) delete merged[k];
    }
    if (overrideKey) {
      merged[mergedKey] = unique(stringList(override?.[overrideKey]));
      continue;
    }
    merged[mergedKey] = unique([
      ...ids,
      ...stringList(baseKey ? base?.[baseKey] : undefined),
      ...stringList(merged[mergedKey]),
    ]);
  }
  return merged;
}

/** The documents OpenClaw shows an agent: `shared` overlaid by `local` (its agent DB, if any). */
export function effectiveDocuments(shared: Layer, local: Layer | undefined): AuthDocuments {
  const view = local ? mergeViews(layerView(shared), layerView(local)) : layerView(shared);
  const state: AuthStateDocument = {};
  for (const field of STATE_FIELDS) if (view[field]) state[field] = view[field];
  return clone({ store: { version: 1, profiles: view.profiles }, state });
}

/** The documents of one layer after the change; `undefined` = leave the row as it is. */
export interface LayerPlan {
  store?: JsonObject;
  state?: JsonObject;
}

/** Works out, key by key, which layer each change goes to (see updateAuthDocuments). */
export function placeChanges(
  before: AuthDocuments,
  after: AuthDocuments,
  shared: Layer,
  local: Layer | undefined,
  target: { agent: string; agentDb: string },
): { shared: LayerPlan; local: LayerPlan } {
  const isMain = target.agent === MAIN_AGENT;
  const plans = {
    shared: { store: cloneOpt(shared.store.doc), state: cloneOpt(shared.state.doc) },
    local: { store: cloneOpt(local?.store.doc), state: cloneOpt(local?.state.doc) },
  };
  const needAgentDb = (what: string): never => {
    throw new ClawauthError(
      `OpenClaw has no database for agent "${target.agent}" yet (${target.agentDb}), and ${what} belongs there; nothing was written.`,
      Exit.data,
      `Let OpenClaw create it (e.g. \`openclaw models auth paste-token --agent ${target.agent}\`), or use --agent main; clawauth never creates OpenClaw's databases.`,
    );
  };
  const storeOf = (side: LayerPlan): JsonObject & { profiles: JsonObject } => {
    side.store ??= { version: 1, profiles: {} };
    if (!isObject(side.store.profiles)) side.store.profiles = {};
    return side.store as JsonObject & { profiles: JsonObject };
  };

  const afterProfiles = after.store?.profiles;
  if (!isObject(afterProfiles)) throw new TypeError("docs.store.profiles must stay an object");
  for (const id of unionKeys(before.store.profiles, afterProfiles)) {
    const was = ownValue(before.store.profiles, id);
    const now = ownValue(afterProfiles, id);
    if (jsonEqual(was, now)) continue;
    const inLocal = local !== undefined && hasKey(plans.local.store?.profiles, id);
    const inShared = hasKey(plans.shared.store?.profiles, id);
    if (now !== undefined) {
      const side = inLocal
        ? plans.local
        : inShared || isMain
        ? plans.shared
        : local
        ? plans.local
        : needAgentDb(`the new profile ${id}`);
      storeOf(side).profiles[id] = now;
      continue;
    }
    if (inShared && !isMain) {
      throw new ClawauthError(
        `The profile ${id} is shared by every agent (OpenClaw keeps it in the shared store), so agent "${target.agent}" cannot remove it; nothing was written.`,
        Exit.data,
        `Remove it as agent main: --agent main.`,
      );
    }
    if (inLocal) delete storeOf(plans.local).profiles[id];
    if (inShared) delete storeOf(plans.shared).profiles[id];
  }

  for (const field of STATE_FIELDS) {
    const was = objectAt(before.state, field) ?? {};
    const now = objectAt(after.state, field) ?? {};
    for (const key of unionKeys(was, now)) {
      const value = ownValue(now, key);
      if (jsonEqual(ownValue(was, key), value)) continue;
      if (value !== undefined) {
        const side = local
          ? plans.local
          : isMain || field !== "order"
          ? plans.shared
          : needAgentDb(`its ${field} for ${key}`);
        side.state ??= { version: 1 };
        fieldOf(side.state, field)[key] = value;
        continue;
      }
      const sides = local && !isMain ? [plans.local] : [plans.local, plans.shared];
      for (const side of sides) {
        for (const doc of [side.state, side.store]) removeStateKey(doc, field, key);
      }
    }
  }
  return { shared: plans.shared, local: plans.local };
}

function removeStateKey(doc: JsonObject | undefined, field: string, key: string): void {
  const record = objectAt(doc, field);
  if (!doc || !record || !Object.hasOwn(record, key)) return;
  delete record[key];
  if (Object.keys(record).length === 0) delete doc[field];
}

function fieldOf(doc: JsonObject, field: string): JsonObject {
  const value = doc[field];
  if (isObject(value)) return value;
  const fresh: JsonObject = {};
  doc[field] = fresh;
  return fresh;
}

/** Whether a state document holds nothing OpenClaw would keep (it then deletes the row). */
export function emptyState(doc: JsonObject): boolean {
  return Object.entries(doc).every(([key, value]) =>
    key === "version" ||
    ((STATE_FIELDS as readonly string[]).includes(key) && isObject(value) &&
      Object.keys(value).length === 0)
  );
}

// --- small helpers ----------------------------------------------------------

function objectAt(doc: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = doc !== undefined && Object.hasOwn(doc, key) ? doc[key] : undefined;
  return isObject(value) ? value : undefined;
}

function ownValue(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function hasKey(obj: unknown, key: string): boolean {
  return isObject(obj) && Object.hasOwn(obj, key);
}

function mergeRecords(
  base: JsonObject | undefined,
  override: JsonObject | undefined,
): JsonObject | undefined {
  if (!base && !override) return undefined;
  return { ...base, ...override };
}

function providerKey(provider: string): string {
  return provider.trim().toLowerCase();
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function unionKeys(a: JsonObject, b: JsonObject): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function cloneOpt(doc: JsonObject | undefined): JsonObject | undefined {
  return doc === undefined ? undefined : clone(doc);
}
