/**
 * An unbounded in-memory oidc-provider adapter (oidc-provider's development
 * adapter is an LRU of about 1,000 entries, too few for soak tests and
 * benchmarks). Expired entries are dropped when read and swept every 5,000
 * writes.
 *
 * @module
 */

// @ts-types="npm:@types/oidc-provider@9"
import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider";

interface StoredEntry {
  payload: AdapterPayload;
  expiresAt: number | undefined; // epoch ms
}

/** A fresh, empty store; each model name gets its own key space in it. */
export function mapAdapterFactory(): AdapterFactory {
  const entries = new Map<string, StoredEntry>();
  const byGrant = new Map<string, Set<string>>();
  const byUserCode = new Map<string, string>();
  const byUid = new Map<string, string>();
  let writes = 0;

  const live = (key: string | undefined): AdapterPayload | undefined => {
    if (key === undefined) return undefined;
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  const sweep = (): void => {
    const now = Date.now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
        entries.delete(key);
      }
    }
    for (const [grantId, keys] of byGrant) {
      for (const key of keys) if (!entries.has(key)) keys.delete(key);
      if (keys.size === 0) byGrant.delete(grantId);
    }
    for (const index of [byUserCode, byUid]) {
      for (const [k, key] of index) if (!entries.has(key)) index.delete(k);
    }
  };

  return (name: string): Adapter => {
    const keyFor = (id: string): string => `${name}:${id}`;
    return {
      upsert(id, payload, expiresIn): Promise<void> {
        const key = keyFor(id);
        entries.set(key, {
          payload: { ...payload },
          expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
        });
        if (payload.grantId) {
          let keys = byGrant.get(payload.grantId);
          if (!keys) byGrant.set(payload.grantId, keys = new Set());
          keys.add(key);
        }
        if (payload.userCode) byUserCode.set(payload.userCode, key);
        if (payload.uid) byUid.set(payload.uid, key);
        if (++writes % 5000 === 0) sweep();
        return Promise.resolve();
      },
      find(id): Promise<AdapterPayload | undefined> {
        return Promise.resolve(live(keyFor(id)));
      },
      findByUserCode(userCode): Promise<AdapterPayload | undefined> {
        return Promise.resolve(live(byUserCode.get(userCode)));
      },
      findByUid(uid): Promise<AdapterPayload | undefined> {
        return Promise.resolve(live(byUid.get(uid)));
      },
      consume(id): Promise<void> {
        const payload = live(keyFor(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy(id): Promise<void> {
        entries.delete(keyFor(id));
        return Promise.resolve();
      },
      revokeByGrantId(grantId): Promise<void> {
        for (const key of byGrant.get(grantId) ?? []) entries.delete(key);
        byGrant.delete(grantId);
        return Promise.resolve();
      },
    };
  };
}
