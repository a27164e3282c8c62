/**
 * Profile ids OpenClaw 2026.9 retires, and what its `doctor --fix` renames
 * them to (`legacyAuthProfileTarget` and `allocateLegacyAuthProfileId` in
 * its `auth-profile-repair` chunk): `openai:codex-cli` becomes
 * `openai:default`, or `openai:cli-default` (then `-2`, `-3`, …) when that
 * id is taken by a profile or named in `order`, `lastGood` or `usageStats`.
 * A profile under a retired id stops answering to it once OpenClaw's doctor
 * ran, so clawauth never creates one and `clawauth doctor` renames it the
 * same way.
 *
 * @module
 */

import { isObject, type JsonObject } from "../../json/json.ts";
import type { StoreData } from "../data.ts";

/** Each retired id and the name its provider's profile gets instead. */
const RETIRED: ReadonlyMap<string, { provider: string; name: string }> = new Map([
  ["openai:codex-cli", { provider: "openai", name: "default" }],
]);

/** Whether OpenClaw ≥ 2026.9 retires this profile id. */
export function isRetiredProfileId(id: string): boolean {
  return RETIRED.has(id);
}

/**
 * The id OpenClaw's doctor gives a retired id, the first of
 * `<provider>:<name>`, `<provider>:cli-<name>`, `<provider>:cli-<name>-2`, …
 * not in `taken`; `undefined` for an id it keeps.
 */
export function openclawRenameOf(id: string, taken: ReadonlySet<string>): string | undefined {
  const target = RETIRED.get(id);
  if (!target) return undefined;
  const direct = `${target.provider}:${target.name}`;
  if (!taken.has(direct)) return direct;
  const fallback = `${target.provider}:cli-${target.name}`;
  for (let n = 1;; n++) {
    const candidate = n === 1 ? fallback : `${fallback}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Every id a store uses: its profiles and the ids its routing state names (OpenClaw's census). */
export function idsInUse(store: StoreData): Set<string> {
  const ids = new Set(Object.keys(store.profiles));
  const record = (field: string): JsonObject => isObject(store[field]) ? store[field] : {};
  for (const list of Object.values(record("order"))) {
    if (Array.isArray(list)) { for (const id of list) if (typeof id === "string") ids.add(id); }
  }
  for (const id of Object.values(record("lastGood"))) if (typeof id === "string") ids.add(id);
  for (const id of Object.keys(record("usageStats"))) ids.add(id);
  return ids;
}

/**
 * Renames profile `from` to `to` in place, with every reference to it:
 * its place in each `order` list, `lastGood` values and its `usageStats`
 * entry. `to` must be free.
 */
export function renameProfile(store: StoreData, from: string, to: string): void {
  store.profiles[to] = store.profiles[from];
  delete store.profiles[from];
  if (isObject(store.order)) {
    for (const [provider, list] of Object.entries(store.order)) {
      if (!Array.isArray(list)) continue;
      store.order[provider] = [...new Set(list.map((id) => id === from ? to : id))];
    }
  }
  if (isObject(store.lastGood)) {
    for (const [provider, id] of Object.entries(store.lastGood)) {
      if (id === from) store.lastGood[provider] = to;
    }
  }
  if (isObject(store.usageStats) && Object.hasOwn(store.usageStats, from)) {
    store.usageStats[to] = store.usageStats[from];
    delete store.usageStats[from];
  }
}
