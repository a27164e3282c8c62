/**
 * One agent's store document as fleet-store rows, and back. A profile's
 * metadata (provider, type, expiry, e-mail, account, lineage digest) sits in
 * plain columns that status, doctor and a person in psql can read; every
 * other key, the secrets first of all, is sealed into one `secret` value
 * bound to (agent, profile, "secret", row version). Keys of the document
 * beyond profiles and routing state (another tool's) are sealed too, bound
 * to (agent, "", "extra", version): nobody knows what they hold. Versions
 * come from one sequence, so no two writes of a row ever share one.
 *
 * @module
 */

import { isObject, type JsonObject } from "../../json/json.ts";
import { load } from "../../lazy.ts";
import { type IdentityField, readProfile } from "../../profiles.ts";
import { associatedData, seal, type StoreKey, unseal } from "./crypto.ts";

/** A `clawauth.profiles` row as read or written (its `agent` aside). */
export interface ProfileRow {
  id: string;
  provider: string | null;
  type: string | null;
  /** Epoch ms; a bigint column, which the driver hands back as a string. */
  expires: string | number | null;
  email: string | null;
  account_id: string | null;
  lineage: string | null;
  secret: Uint8Array;
  key_id: string;
  /** The version `secret` is bound to (bigint, a string from the driver); 0: not bound yet. */
  version: string | number;
}

/** The keys kept in plain columns (every identity field among them), and their columns. */
const PLAIN = {
  provider: "provider",
  type: "type",
  email: "email",
  accountId: "account_id",
} as const satisfies Record<"provider" | "type" | IdentityField, keyof ProfileRow>;

/** The routing-state keys of a store document, and their columns. */
export const ROUTING = {
  order: "order",
  lastGood: "last_good",
  usageStats: "usage_stats",
} as const;

/** Keys of the document that are neither profiles nor routing state nor `version`. */
export function extraOf(store: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(store).filter(([key]) =>
      key !== "version" && key !== "profiles" && !Object.hasOwn(ROUTING, key)
    ),
  );
}

/** Seals one profile entry into its row at `version` (a fresh one from the sequence). */
export async function sealProfile(
  key: StoreKey,
  agent: string,
  id: string,
  entry: unknown,
  version: number,
): Promise<ProfileRow> {
  const row: ProfileRow = {
    id,
    provider: null,
    type: null,
    expires: null,
    email: null,
    account_id: null,
    lineage: null,
    secret: new Uint8Array(),
    key_id: key.id,
    version,
  };
  let payload: JsonObject;
  if (isObject(entry)) {
    const rest: JsonObject = { ...entry };
    for (const [field, column] of Object.entries(PLAIN)) {
      const value = rest[field];
      if (typeof value === "string") {
        row[column] = value;
        delete rest[field];
      }
    }
    // Only an exact epoch-ms integer fits the bigint column; anything else stays sealed as is.
    if (Number.isSafeInteger(rest.expires)) {
      row.expires = rest.expires as number;
      delete rest.expires;
    }
    const profile = readProfile(id, entry);
    // Only writes need the lineage column: reading rows (`token`) never loads lineage.ts.
    const { lineageId, lineageKey } = await load("routing/lineage.ts");
    const lineage = profile.invalid ? undefined : lineageKey(profile);
    row.lineage = lineage ? await lineageId(lineage) : null;
    payload = { rest };
  } else {
    payload = { value: entry };
  }
  row.secret = await seal(
    key,
    JSON.stringify(payload),
    associatedData(agent, id, "secret", version),
  );
  return row;
}

/** A profile entry opened from its row. */
export type Opened = { ok: true; entry: unknown } | { ok: false };

/** A row version a value can be bound to (1 and up), or `undefined` (0: never bound). */
function boundVersion(version: string | number | null | undefined): number | undefined {
  const n = Number(version);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/**
 * Opens a row back into its profile entry; not `ok` when its secret does
 * not decrypt with `key` for its version (another key, damage, a row moved
 * in the database, or an older ciphertext put back).
 */
export async function openProfile(
  key: StoreKey,
  agent: string,
  row: ProfileRow,
): Promise<Opened> {
  const version = boundVersion(row.version);
  if (version === undefined) return { ok: false };
  const text = await unseal(key, row.secret, associatedData(agent, row.id, "secret", version));
  if (text === undefined) return { ok: false };
  const payload = JSON.parse(text) as { rest?: JsonObject; value?: unknown };
  if (!isObject(payload.rest)) return { ok: true, entry: payload.value ?? null };
  return { ok: true, entry: { ...plainOf(row), ...payload.rest } };
}

/** The plain columns of a row as profile keys: all a profile shows when its secret is lost. */
export function plainOf(row: ProfileRow): JsonObject {
  const entry: JsonObject = {};
  for (const [field, column] of Object.entries(PLAIN)) {
    const value = row[column];
    if (value !== null) entry[field] = value;
  }
  if (row.expires !== null) entry.expires = Number(row.expires);
  return entry;
}

/** Seals the extra keys of a document at `version`; `null` when there are none. */
export async function sealExtra(
  key: StoreKey,
  agent: string,
  extra: JsonObject,
  version: number,
): Promise<Uint8Array | null> {
  if (Object.keys(extra).length === 0) return null;
  return await seal(key, JSON.stringify(extra), associatedData(agent, "", "extra", version));
}

/** Opens an agent's extra keys sealed at `version`; `undefined` when they do not decrypt. */
export async function openExtra(
  key: StoreKey,
  agent: string,
  sealed: Uint8Array,
  version: string | number,
): Promise<JsonObject | undefined> {
  const bound = boundVersion(version);
  if (bound === undefined) return undefined;
  const text = await unseal(key, sealed, associatedData(agent, "", "extra", bound));
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  return isObject(value) ? value : {};
}
