/**
 * Builders for stored profiles and stores (OpenClaw's v1 `auth-profiles.json`,
 * lib/profiles.ts): each gives the fields a valid entry of its type needs and
 * takes the rest as overrides, so a test states only what it is about. A
 * field set to `undefined` is left out (e.g. `oauthProfile({ refresh:
 * undefined })` for a login that cannot be refreshed).
 *
 * @module
 */

import { fakeSecret } from "./helpers.ts";

/** A stored entry or store, typed loosely for writing and asserting. */
export type Json = Record<string, unknown>;

const HOUR = 3_600_000;

/** `fields` without the keys whose value is `undefined`. */
function defined(fields: Json): Json {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** A `token` entry (a setup-token): provider anthropic unless `fields` say otherwise. */
export function tokenProfile(token: string = fakeSecret(), fields: Json = {}): Json {
  return defined({ type: "token", provider: "anthropic", token, ...fields });
}

/** An `api_key` entry: provider openai unless `fields` say otherwise. */
export function apiKeyProfile(key: string = fakeSecret("sk-"), fields: Json = {}): Json {
  return defined({ type: "api_key", provider: "openai", key, ...fields });
}

/**
 * An `oauth` entry: provider openai-codex, fresh access and refresh tokens,
 * expiring in an hour, unless `fields` say otherwise.
 */
export function oauthProfile(fields: Json = {}): Json {
  return defined({
    type: "oauth",
    provider: "openai-codex",
    access: fakeSecret("eyJ"),
    refresh: fakeSecret("rt_"),
    expires: Date.now() + HOUR,
    ...fields,
  });
}

/** A base64url JWT whose payload is `claims` (unsigned: clawauth only reads claims). */
export function jwt(claims: Json): string {
  const part = (value: Json) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "none" })}.${part(claims)}.sig`;
}

/**
 * An {@linkcode oauthProfile} of dev@example.test (account acct-1) whose
 * access token is a JWT of user-1, all expiring an hour after `now`.
 */
export function devLoginProfile(now: number, fields: Json = {}): Json {
  return oauthProfile({
    access: jwt({ sub: "user-1", exp: Math.floor(now / 1000) + 3600 }),
    refresh: fakeSecret("rt-"),
    expires: now + HOUR,
    accountId: "acct-1",
    email: "dev@example.test",
    ...fields,
  });
}

/** A v1 store: its profiles, and whatever else it holds (order, usageStats, lastGood, …). */
export type StoreOf<P> = { version: 1; profiles: P } & Json;

/** A v1 store of `profiles`, with `extras` beside them. */
export function storeOf<P>(profiles: P, extras: Json = {}): StoreOf<P> {
  return { version: 1, profiles, ...extras };
}
