/**
 * The runtime cache `auth.json`, in pi-coding-agent's shape: per provider, the
 * credential routing picks now. Derived from the store after every change and
 * never read as a source of truth (docs/files.md).
 *
 * @module
 */

import { readTextIfExists, writeFileAtomic } from "../fs/files.ts";
import { isObject, type JsonObject } from "../json/json.ts";
import type { AgentPaths } from "../paths.ts";
import { listProfiles, type Profile, secretOf } from "../profiles.ts";
import { rankProvider } from "../routing/routing.ts";

type StoreLike = JsonObject & { profiles: JsonObject };

/** One provider's entry: OAuth as stored, tokens and keys as pi's `api_key`. */
export function cacheEntry(profile: Profile): JsonObject {
  if (profile.type === "oauth") {
    const { provider: _provider, ...rest } = profile.raw;
    return { ...rest, type: "oauth" };
  }
  // pi-ai recognises an Anthropic setup-token given as a key by its prefix.
  return { type: "api_key", key: secretOf(profile) };
}

/** The cache for a store: the first ready profile of each provider. */
export function buildCache(store: StoreLike, now: number): JsonObject {
  const cache: JsonObject = {};
  const providers = new Set(
    listProfiles(store.profiles).map((p) => p.provider),
  );
  for (const provider of providers) {
    const first = rankProvider(store, provider, now).usable[0];
    if (first) cache[provider] = cacheEntry(first.profile);
  }
  return cache;
}

/**
 * Rewrites `auth.json` from `store`. Entries of providers that neither this
 * store nor its previous version knows belong to another tool and are kept.
 */
export function writeCache(
  paths: AgentPaths,
  store: StoreLike,
  before: StoreLike,
  now: number,
): void {
  let existing: JsonObject = {};
  try {
    const parsed: unknown = JSON.parse(readTextIfExists(paths.cache) ?? "{}");
    if (isObject(parsed)) existing = parsed;
  } catch {
    // A damaged cache is rebuilt from the store, which is the truth.
  }
  const ours = new Set(
    [...listProfiles(before.profiles), ...listProfiles(store.profiles)].map((
      p,
    ) => p.provider),
  );
  const kept = Object.fromEntries(
    Object.entries(existing).filter(([key]) => !ours.has(key)),
  );
  const next = { ...kept, ...buildCache(store, now) };
  writeFileAtomic(paths.cache, `${JSON.stringify(next, null, 2)}\n`);
}
