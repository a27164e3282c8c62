/**
 * Lineages: copies of one OAuth login held in several places (agents of the
 * state dir, and `--link`ed files of other tools). Copies are one login only
 * when they are the same person's (docs/locking.md): the same provider and user
 * identity (the access token's `sub` or OpenAI's `chatgpt_user_id`, else the
 * e-mail) together with the account where there is one, or the very same
 * refresh token. An `accountId` alone never joins copies: ChatGPT's
 * `chatgpt_account_id` is a workspace that every member of a team shares.
 * Nothing is stored: the lineage is computed.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { readTextIfExists } from "../fs/files.ts";
import { isObject, type JsonObject, own, stringAt } from "../json/json.ts";
import { jwtClaims } from "../oauth/jwt.ts";
import { definitionIdOf } from "../provider/names.ts";
import { type AgentPaths, agentPaths, type StateRef } from "../paths.ts";
import { listProfiles, type Profile, readProfile } from "../profiles.ts";
import { type Link, linkOf, SOURCES } from "../sources.ts";
import { readStore, storeAgents } from "../store.ts";

/** OpenAI's claims inside its access tokens. */
const OPENAI_AUTH_CLAIM = "https://api.openai.com/auth";

/** Who an OAuth credential belongs to, as far as it tells. */
export interface Person {
  /** The user id in its access token: OpenAI's `chatgpt_user_id`/`user_id`, else `sub`. */
  user?: string;
  /** The account's e-mail, lowercased. */
  email?: string;
  /** The account or workspace (`accountId`); never an identity on its own. */
  account?: string;
}

/** The person and account behind a credential entry. */
export function personOf(entry: JsonObject): Person {
  const claims = jwtClaims(stringAt(entry, "access"));
  const openai = claims && own(claims, OPENAI_AUTH_CLAIM);
  const user =
    (isObject(openai)
      ? stringAt(openai, "chatgpt_user_id") ?? stringAt(openai, "user_id")
      : undefined) ?? (claims && stringAt(claims, "sub"));
  const email = stringAt(entry, "email")?.toLowerCase();
  const account = stringAt(entry, "accountId");
  return {
    ...(user ? { user } : {}),
    ...(email ? { email } : {}),
    ...(account ? { account } : {}),
  };
}

/**
 * What identifies a login: provider plus the person (the user id in its
 * access token, else its e-mail) with the account, else the very refresh
 * token. Copies of one login carry access tokens of one kind, so they agree
 * on which fact names the person.
 */
export function lineageKey(profile: Profile): string | undefined {
  if (profile.type !== "oauth") return undefined;
  const person = personOf(profile.raw);
  const who = person.user ? `user:${person.user}` : person.email && `email:${person.email}`;
  if (who) return `${profile.provider}\n${who}\naccount:${person.account ?? ""}`;
  const refresh = stringAt(profile.raw, "refresh");
  return refresh && `${profile.provider}\nrefresh:${refresh}`;
}

/** A short, file-name-safe digest of a lineage key (it may hold a refresh token). */
export async function lineageId(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

export { lineageLockPath } from "../paths.ts";

/** One copy of a login: a profile in an agent's store. */
export interface StoreCopy {
  kind: "store";
  agent: string;
  paths: AgentPaths;
  profile: Profile;
}

/** One copy of a login: another tool's file that a profile is linked to. */
export interface LinkCopy {
  kind: "link";
  link: Link;
  /** The credential as that tool holds it now. */
  entry: JsonObject;
}

/** The credential a linked tool holds now, if its file still has one for `provider`. */
export function readLink(link: Link, provider: string): JsonObject | undefined {
  const source = SOURCES.get(link.source);
  const text = readTextIfExists(link.path);
  if (!source || text === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(text);
    if (!isObject(data)) return undefined;
    // The tool names the login by clawauth's provider id, the store maybe by OpenClaw's.
    const wanted = definitionIdOf({ provider, type: "oauth" });
    return source.read(data).find((found) =>
      found.entry.provider === wanted && found.entry.type === "oauth"
    )
      ?.entry;
  } catch {
    return undefined; // a damaged source is not a copy
  }
}

/**
 * Every OAuth login of the state dir, by lineage key: its copies in each
 * agent's store (stores that do not parse are skipped) and, when `withLinks`,
 * in the files those copies are linked to. One pass over all stores.
 */
export async function collectCopies(
  ctx: Context,
  state: StateRef,
  withLinks = true,
): Promise<Map<string, (StoreCopy | LinkCopy)[]>> {
  const byKey = new Map<string, (StoreCopy | LinkCopy)[]>();
  const links = new Map<string, { key: string; link: Link; holder: JsonObject }>();
  for (const agent of await storeAgents(ctx, state)) {
    const paths = agentPaths(state, agent);
    let profiles: JsonObject;
    try {
      profiles = (await readStore(ctx, paths)).profiles;
    } catch {
      continue;
    }
    for (const profile of listProfiles(profiles)) {
      const key = profile.invalid ? undefined : lineageKey(profile);
      if (!key) continue;
      byKey.set(key, [...byKey.get(key) ?? [], { kind: "store", agent, paths, profile }]);
      const link = linkOf(profile.raw);
      if (link) {
        links.set(`${key}\n${link.source}\n${link.path}`, { key, link, holder: profile.raw });
      }
    }
  }
  if (!withLinks) return byKey;
  for (const { key, link, holder } of links.values()) {
    const entry = readLink(link, key.split("\n")[0]);
    if (entry && samePerson(holder, entry)) byKey.get(key)?.push({ kind: "link", link, entry });
  }
  return byKey;
}

/**
 * Whether a linked tool's credential may be a copy of `holder`'s login: the
 * link is the person's own choice, so a credential that names nobody counts;
 * one that names anybody must name the same person (and account, where both
 * name one) in every fact both carry.
 */
function samePerson(holder: JsonObject, linked: JsonObject): boolean {
  const a = personOf(holder);
  const b = personOf(linked);
  if (b.user === undefined && b.email === undefined) return true;
  const facts = (["user", "email", "account"] as const).filter((k) => a[k] && b[k]);
  return facts.some((k) => k !== "account") && facts.every((k) => a[k] === b[k]);
}

/** Every copy of the lineage `key`, in stores and linked files. */
export async function findCopies(
  ctx: Context,
  query: { state: StateRef; key: string },
): Promise<(StoreCopy | LinkCopy)[]> {
  return (await collectCopies(ctx, query.state)).get(query.key) ?? [];
}

/** The credential fields of a copy, as a profile entry. */
export function copyEntry(copy: StoreCopy | LinkCopy): JsonObject {
  return copy.kind === "store" ? copy.profile.raw : copy.entry;
}

/** The copy whose access token lives longest, with a valid profile view. */
export function freshest(copies: (StoreCopy | LinkCopy)[], id: string): Profile | undefined {
  let best: Profile | undefined;
  for (const copy of copies) {
    const profile = readProfile(id, { ...copyEntry(copy), type: "oauth" });
    if (profile.invalid || profile.expires === null) continue;
    if (!best || profile.expires > (best.expires ?? 0)) best = profile;
  }
  return best;
}

/** Where a copy lives, for messages. */
export function copyLabel(copy: StoreCopy | LinkCopy): string {
  return copy.kind === "store" ? `${copy.agent}/${copy.profile.id}` : copy.link.path;
}
