/**
 * What a stored profile is and what state it is in (docs/stores.md, docs/commands.md#status). Pure:
 * every function takes the clock as an argument.
 *
 * @module
 */

import { isObject, type JsonObject, numberAt, own, stringAt } from "./json/json.ts";
import { parseRefreshFence } from "./store/openclaw/fence.ts";

/** Provider ids: lowercase words joined by `-`, `_` or `.`. */
export const PROVIDER_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Profile names as docs/stores.md#profiles-every-backend allows them. */
export const PROFILE_NAME = /^[A-Za-z0-9._@+-]{1,128}$/;
/** Largest `expires` a JavaScript Date can hold. */
export const MAX_EXPIRES = 8.64e15;
/** `expiring` means: cannot be refreshed and expires within this span. */
export const EXPIRING_WINDOW_MS = 24 * 3_600_000;

/** The three credential types of OpenClaw's v1 store. */
export type ProfileType = "oauth" | "token" | "api_key";

/** The states of docs/commands.md#status. */
export type ProfileState =
  | "ok"
  | "expiring"
  | "expired"
  | "needs_login"
  | "cooldown"
  | "disabled"
  | "invalid";

/** A profile read from the store, checked but not copied. */
export interface Profile {
  /** `<provider>:<name>`. */
  id: string;
  /** The provider id (from the entry, else from the id). */
  provider: string;
  /** The credential type; `undefined` only when invalid. */
  type: ProfileType | undefined;
  /** The entry as stored, unknown keys included. */
  raw: JsonObject;
  /** Expiry in epoch ms, `null` when the credential has none. */
  expires: number | null;
  /** Why the entry is malformed, when it is. */
  invalid?: string;
}

/** Failover bookkeeping of one profile, from `usageStats`. */
export interface UsageStats {
  lastUsed?: number;
  errorCount?: number;
  cooldownUntil?: number;
  disabledUntil?: number;
  disabledReason?: string;
  /** Set when the provider rejected the refresh token (clawauth's key). */
  needsLogin?: number;
}

/** The keys one credential type keeps in a stored entry, by the part each plays. */
export interface CredentialFields {
  /** The secret the profile hands out. */
  readonly secret: string;
  /** The refresh token, for a type that refreshes. */
  readonly refresh?: string;
  /** The expiry in epoch ms, for a type that may expire. */
  readonly expiry?: string;
  /** Who the credential belongs to, where the provider says (shown by `status`). */
  readonly identity: readonly string[];
}

/**
 * The one schema of a stored credential (docs/stores.md): every key each type
 * keeps beside `type` and `provider`. Other modules derive their field lists
 * from it ({@linkcode ROTATING_FIELDS}, {@linkcode IDENTITY_FIELDS},
 * {@linkcode isCredentialKey}) instead of spelling the names again.
 *
 * @example
 * ```ts
 * import { CREDENTIAL_FIELDS } from "./profiles.ts";
 * CREDENTIAL_FIELDS.api_key.secret; // "key"
 * ```
 */
export const CREDENTIAL_FIELDS = {
  oauth: {
    secret: "access",
    refresh: "refresh",
    expiry: "expires",
    identity: ["accountId", "email"],
  },
  token: { secret: "token", expiry: "expires", identity: [] },
  api_key: { secret: "key", identity: [] },
} as const satisfies Record<ProfileType, CredentialFields>;

/** The keys a refresh (or adopting another copy's tokens) rewrites, in the order written. */
export const ROTATING_FIELDS = [
  CREDENTIAL_FIELDS.oauth.secret,
  CREDENTIAL_FIELDS.oauth.refresh,
  CREDENTIAL_FIELDS.oauth.expiry,
] as const;

/** The keys naming whose credential an entry is, in the order views show them. */
export const IDENTITY_FIELDS: readonly IdentityField[] = CREDENTIAL_FIELDS.oauth.identity;

/** One of {@linkcode IDENTITY_FIELDS}. */
export type IdentityField = typeof CREDENTIAL_FIELDS.oauth.identity[number];

/**
 * Whether `key` of a stored entry describes its credential (`type`,
 * `provider`, or a key of any type's {@linkcode CREDENTIAL_FIELDS}): a new
 * credential replaces all of them, whatever its type.
 */
export function isCredentialKey(key: string): boolean {
  if (key === "type" || key === "provider") return true;
  return Object.values(CREDENTIAL_FIELDS).some((fields: CredentialFields) =>
    key === fields.secret || key === fields.refresh || key === fields.expiry ||
    fields.identity.includes(key)
  );
}

/** Splits `provider:name`, or `undefined` when the id is malformed. */
export function splitProfileId(
  id: string,
): { provider: string; name: string } | undefined {
  const colon = id.indexOf(":");
  const provider = id.slice(0, colon);
  const name = id.slice(colon + 1);
  if (colon < 1 || !PROVIDER_ID.test(provider) || !PROFILE_NAME.test(name)) {
    return undefined;
  }
  return { provider, name };
}

/** The secret a profile hands out (`access`, `token` or `key`). */
export function secretOf(profile: Profile): string | undefined {
  return profile.type ? stringAt(profile.raw, CREDENTIAL_FIELDS[profile.type].secret) : undefined;
}

/** Whether an OAuth profile holds a refresh token. */
export function canRefresh(profile: Profile): boolean {
  return profile.type === "oauth" &&
    stringAt(profile.raw, CREDENTIAL_FIELDS.oauth.refresh) !== undefined;
}

/** Checks one store entry; a malformed one is returned with `invalid` set. */
export function readProfile(id: string, raw: unknown): Profile {
  const entry: JsonObject = isObject(raw) ? raw : {};
  const parts = splitProfileId(id);
  const provider = stringAt(entry, "provider") ?? parts?.provider ?? "";
  const rawType = own(entry, "type");
  const type = rawType === "oauth" || rawType === "token" || rawType === "api_key"
    ? rawType
    : undefined;
  const rawExpires = own(entry, "expires");
  const expires = numberAt(entry, "expires");
  const profile: Profile = {
    id,
    provider,
    type,
    raw: entry,
    expires: expires ?? null,
  };
  const problem = !isObject(raw)
    ? "entry is not an object"
    : !parts
    ? "profile id is not <provider>:<name>"
    : !PROVIDER_ID.test(provider)
    ? "provider is missing or malformed"
    : provider !== parts.provider
    ? `provider ${provider} does not match the profile id`
    : !type
    ? "type is not oauth, token or api_key"
    : rawExpires !== undefined && rawExpires !== null &&
        (expires === undefined || expires <= 0 || expires > MAX_EXPIRES)
    ? "expires is not a valid epoch-milliseconds time"
    : secretOf(profile) === undefined && !canRefresh(profile)
    ? `${CREDENTIAL_FIELDS[type].secret} is missing`
    : undefined;
  return problem ? { ...profile, invalid: problem, expires: expires ?? null } : profile;
}

/** Every profile of a store's `profiles` object, in key order. */
export function listProfiles(profiles: JsonObject): Profile[] {
  return Object.keys(profiles).map((id) => readProfile(id, profiles[id]));
}

/** The `usageStats` entry of a profile as numbers. */
export function usageOf(usageStats: unknown, id: string): UsageStats {
  const entry = isObject(usageStats) ? own(usageStats, id) : undefined;
  if (!isObject(entry)) return {};
  return {
    lastUsed: numberAt(entry, "lastUsed"),
    errorCount: numberAt(entry, "errorCount"),
    cooldownUntil: numberAt(entry, "cooldownUntil"),
    disabledUntil: numberAt(entry, "disabledUntil"),
    disabledReason: stringAt(entry, "disabledReason"),
    needsLogin: numberAt(entry, "needsLogin"),
  };
}

/**
 * The state of a profile at `now` (docs/commands.md#status). Brokenness outranks expiry,
 * which outranks failover sidelining: the worst fact is the one to show.
 */
export function stateOf(
  profile: Profile,
  usage: UsageStats,
  now: number,
): ProfileState {
  if (profile.invalid) return "invalid";
  // OpenClaw's failed refresh fence: the login is spent (docs/locking.md).
  if (usage.needsLogin || parseRefreshFence(profile.raw)?.state === "failed") return "needs_login";
  if (!canRefresh(profile) && profile.expires !== null) {
    if (profile.expires <= now) return "expired";
    if (profile.expires - now < EXPIRING_WINDOW_MS) return "expiring";
  }
  if ((usage.disabledUntil ?? 0) > now) return "disabled";
  if ((usage.cooldownUntil ?? 0) > now) return "cooldown";
  return "ok";
}
