/**
 * `clawauth store copy`: moving profiles and routing state between a local
 * store (`json`, `openclaw`) and a fleet store, agent by agent. A plan is
 * made first (what is new, the same, or different in the target); anything
 * different is overwritten only with `--force`. Every write goes through the
 * target's own `updateStore`, under its lock.
 *
 * @module
 */

import { BUILTIN_PROVIDERS } from "../../../providers/index.ts";
import type { Context } from "../../context.ts";
import { isObject, jsonEqual, type JsonObject } from "../../json/json.ts";
import { agentPaths, type StateRef } from "../../paths.ts";
import { readStore, storeAgents, type StoreData, updateStore } from "../../store.ts";

/** The routing-state fields, copied entry by entry. */
const ROUTING_FIELDS = ["order", "lastGood", "usageStats"] as const;

/** One thing to copy: a profile (`profiles.<id>`), a routing entry, or another top-level key. */
export interface CopyItem {
  /** `profiles`, a routing field, or `extra` (a top-level key another tool added). */
  group: string;
  /** The profile id, provider or key within the group. */
  key: string;
  /** What the target holds there now: `new`, `same`, or `different`. */
  status: "new" | "same" | "different";
  /** The value to write. */
  value: unknown;
}

/** What copying one agent would do. */
export interface AgentCopyPlan {
  agent: string;
  items: CopyItem[];
}

/**
 * OpenClaw 2026.9 keeps a Codex login as provider `openai`, type `oauth`;
 * every other store says `openai-codex`. Renames such profiles (and their
 * routing entries) to the name the target store uses.
 */
export function fromOpenclawNames(store: StoreData): StoreData {
  const renamed = new Map<string, string>();
  const profiles: JsonObject = {};
  for (const [id, entry] of Object.entries(store.profiles)) {
    const definition = isObject(entry)
      ? [...BUILTIN_PROVIDERS.values()].find((d) =>
        d.storedAs?.provider === entry.provider && d.storedAs?.type === entry.type
      )
      : undefined;
    const colon = id.indexOf(":");
    if (!definition || !isObject(entry) || colon < 0) {
      profiles[id] = entry;
      continue;
    }
    const to = `${definition.id}${id.slice(colon)}`;
    renamed.set(id, to);
    profiles[to] = { ...entry, provider: definition.id };
  }
  const out: StoreData = { ...store, profiles };
  if (renamed.size === 0) return out;
  const rename = (id: unknown) => typeof id === "string" ? renamed.get(id) ?? id : id;
  if (isObject(store.usageStats)) {
    out.usageStats = Object.fromEntries(
      Object.entries(store.usageStats).map(([id, stats]) => [rename(id) as string, stats]),
    );
  }
  if (isObject(store.lastGood)) {
    const lastGood: JsonObject = {};
    for (const [provider, id] of Object.entries(store.lastGood)) {
      const to = rename(id);
      lastGood[to !== id && typeof to === "string" ? to.split(":")[0] : provider] = to;
    }
    out.lastGood = lastGood;
  }
  if (isObject(store.order)) {
    const order: JsonObject = {};
    for (const [provider, ids] of Object.entries(store.order)) {
      if (!Array.isArray(ids)) {
        order[provider] = ids;
        continue;
      }
      for (const id of ids) {
        const to = rename(id);
        const into = to !== id && typeof to === "string" ? to.split(":")[0] : provider;
        const list = Array.isArray(order[into]) ? order[into] as unknown[] : [];
        order[into] = [...list, to];
      }
      if (ids.length === 0) order[provider] = [];
    }
    out.order = order;
  }
  return out;
}

function entries(store: StoreData, group: string): [string, unknown][] {
  const value = group === "profiles" ? store.profiles : store[group];
  return isObject(value) ? Object.entries(value) : [];
}

function extraKeys(store: StoreData): [string, unknown][] {
  return Object.entries(store).filter(([key]) =>
    key !== "version" && key !== "profiles" &&
    !(ROUTING_FIELDS as readonly string[]).includes(key)
  );
}

/** Compares one agent's source document with the target's. */
export function planAgent(agent: string, source: StoreData, target: StoreData): AgentCopyPlan {
  const items: CopyItem[] = [];
  const add = (group: string, key: string, value: unknown, there: unknown, present: boolean) =>
    items.push({
      group,
      key,
      value,
      status: !present ? "new" : jsonEqual(value, there) ? "same" : "different",
    });
  for (const group of ["profiles", ...ROUTING_FIELDS]) {
    const into = new Map(entries(target, group));
    for (const [key, value] of entries(source, group)) {
      add(group, key, value, into.get(key), into.has(key));
    }
  }
  const targetExtra = new Map(extraKeys(target));
  for (const [key, value] of extraKeys(source)) {
    add("extra", key, value, targetExtra.get(key), targetExtra.has(key));
  }
  return { agent, items };
}

/**
 * Plans copying every agent of `from` (or only `only`) into `to`; OpenClaw's
 * names are turned into the target's on the way.
 */
export async function planCopy(
  ctx: Context,
  { from, to, only }: { from: StateRef; to: StateRef; only?: string },
): Promise<AgentCopyPlan[]> {
  const agents = only === undefined ? await storeAgents(ctx, from) : [only];
  const plans: AgentCopyPlan[] = [];
  for (const agent of agents) {
    let source = await readStore(ctx, agentPaths(from, agent));
    if (from.backend === "openclaw" && to.backend !== "openclaw") {
      source = fromOpenclawNames(source);
    }
    const target = await readStore(ctx, agentPaths(to, agent));
    plans.push(planAgent(agent, source, target));
  }
  return plans;
}

/** Puts a copy of one item's value into a document. */
function put(store: StoreData, item: CopyItem): void {
  const value = structuredClone(item.value);
  if (item.group === "profiles") store.profiles[item.key] = value;
  else if (item.group === "extra") store[item.key] = value;
  else {
    const group = isObject(store[item.group]) ? store[item.group] as JsonObject : {};
    group[item.key] = value;
    store[item.group] = group;
  }
}

/**
 * Writes a plan's new items (and, with `force`, its different ones) into
 * `to`; each agent is compared again under its lock, so an entry that
 * appeared since the plan is not overwritten without `force` either.
 */
export async function applyCopy(
  ctx: Context,
  to: StateRef,
  plans: readonly AgentCopyPlan[],
  force: boolean,
): Promise<number> {
  let written = 0;
  for (const plan of plans) {
    if (!plan.items.some((item) => item.status === "new" || item.status === "different")) continue;
    written += await updateStore(ctx, agentPaths(to, plan.agent), (store) => {
      let count = 0;
      const source: StoreData = { version: 1, profiles: {} };
      for (const item of plan.items) put(source, item);
      for (const item of planAgent(plan.agent, source, store).items) {
        if (item.status === "same" || (item.status === "different" && !force)) continue;
        put(store, item);
        count++;
      }
      return count;
    });
  }
  return written;
}
