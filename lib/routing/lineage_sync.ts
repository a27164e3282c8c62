/**
 * Writing one login's credential into its copies: profiles in agents'
 * stores (each under its own lock, atomically) and linked tools' files (in
 * their own format). Used after a refresh and by `doctor --fix`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { readTextIfExists, writeFileAtomic } from "../fs/files.ts";
import { isObject, type JsonObject, own } from "../json/json.ts";
import { lineageKey, type LinkCopy, type StoreCopy } from "./lineage.ts";
import { type Profile, readProfile, ROTATING_FIELDS } from "../profiles.ts";
import { type Rotated, SOURCES } from "../sources.ts";
import { clearNeedsLogin, type StoreData, updateStore } from "../store.ts";

/** The rotating credential fields of an entry. */
export function credentialOf(entry: JsonObject): Rotated {
  return Object.fromEntries(
    ROTATING_FIELDS.flatMap((key) => own(entry, key) === undefined ? [] : [[key, entry[key]]]),
  ) as Rotated;
}

/** Writes credential fields into a store's profile and clears its `needs_login` verdict. */
export function install(store: StoreData, id: string, fields: Rotated): Profile {
  const raw: JsonObject = { ...(own(store.profiles, id) as JsonObject), ...fields };
  store.profiles[id] = raw;
  clearNeedsLogin(store, id);
  return readProfile(id, raw);
}

/**
 * Writes `fields` into each copy of the lineage `key`; a copy that changed
 * lineage meanwhile is left alone. Returns the copies that could not be
 * written (they catch up on their next refresh).
 */
export async function writeToCopies(
  ctx: Context,
  copies: (StoreCopy | LinkCopy)[],
  key: string,
  fields: Rotated,
): Promise<{ copy: StoreCopy | LinkCopy; error: string }[]> {
  const failed: { copy: StoreCopy | LinkCopy; error: string }[] = [];
  for (const copy of copies) {
    try {
      if (copy.kind === "store") {
        await updateStore(ctx, copy.paths, (store) => {
          const entry = own(store.profiles, copy.profile.id);
          const now = isObject(entry) ? readProfile(copy.profile.id, entry) : undefined;
          if (now && lineageKey(now) === key) install(store, copy.profile.id, fields);
        });
      } else {
        const source = SOURCES.get(copy.link.source);
        const data: unknown = JSON.parse(readTextIfExists(copy.link.path) ?? "null");
        if (!source || !isObject(data)) continue;
        source.writeBack(data, key.split("\n")[0], fields, ctx.now());
        writeFileAtomic(copy.link.path, `${JSON.stringify(data, null, 2)}\n`);
      }
    } catch (error) {
      failed.push({ copy, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return failed;
}
