/**
 * Which profile serves a request (docs/routing.md): an explicit profile, else the
 * agent's `order`, else OpenClaw's `auth.order`, else round robin (OAuth,
 * then tokens, then API keys, least recently used first). Sidelined profiles
 * go last, soonest available first. Pure: the clock is an argument.
 *
 * @module
 */

import { isObject, type JsonObject, own } from "../json/json.ts";
import {
  listProfiles,
  type Profile,
  type ProfileState,
  type ProfileType,
  PROVIDER_ID,
  splitProfileId,
  stateOf,
  usageOf,
  type UsageStats,
} from "../profiles.ts";

/** OpenClaw's reason codes for passing a profile over. */
export type SkipReason =
  | "excluded_by_auth_order"
  | "missing_credential"
  | "expired"
  | "invalid_expires"
  | "cooldown"
  | "disabled"
  | "needs_login";

/** A profile with what routing knows of it now. */
export interface Candidate {
  profile: Profile;
  state: ProfileState;
  usage: UsageStats;
}

/** Where the order came from. */
export type OrderSource = "store" | "openclaw" | "round_robin";

/** The outcome of ranking one provider's profiles. */
export interface Ranking {
  provider: string;
  /** Usable profiles best first; sidelined ones at the end, soonest available first. */
  usable: Candidate[];
  /** Profiles that cannot serve, with the reason. */
  skipped: { candidate: Candidate; reason: SkipReason }[];
  source: OrderSource;
}

/** What a request names: a provider, and maybe a pinned profile and a model. */
export interface RouteRequest {
  provider?: string;
  profileId?: string;
  model?: string;
  /** Only profiles of these types serve a routed request (all when absent). */
  types?: readonly ProfileType[];
}

const TYPE_RANK: Record<string, number> = { oauth: 0, token: 1, api_key: 2 };

/** Which profiles {@linkcode candidatesOf} takes, and when. */
export interface CandidateQuery {
  /** The moment the states are for (epoch ms). */
  now: number;
  /** Only this provider's profiles (all when absent). */
  provider?: string;
  /** Only profiles of these types (all when absent). */
  types?: readonly ProfileType[];
}

/** A profile of `store` with its usage (from `store.usageStats`) and its state at `now`. */
export function candidateOf(store: JsonObject, profile: Profile, now: number): Candidate {
  const usage = usageOf(store.usageStats, profile.id);
  return { profile, usage, state: stateOf(profile, usage, now) };
}

/**
 * The profiles of `store` with their usage and state at `query.now`, in
 * store order: what routing ranks and what `status` and `list` show.
 */
export function candidatesOf(
  store: JsonObject & { profiles: JsonObject },
  query: CandidateQuery,
): Candidate[] {
  const { now, provider, types } = query;
  return listProfiles(store.profiles)
    .filter((profile) =>
      (provider === undefined || profile.provider === provider) &&
      (types === undefined || (profile.type !== undefined && types.includes(profile.type)))
    )
    .map((profile) => candidateOf(store, profile, now));
}

/** The profile ids listed for `provider` in an order map, if any. */
export function orderFor(
  order: unknown,
  provider: string,
): string[] | undefined {
  const list = isObject(order) ? own(order, provider) : undefined;
  if (!Array.isArray(list)) return undefined;
  // A hand-edited order may repeat an id; a profile is tried once.
  const ids = [...new Set(list.filter((id): id is string => typeof id === "string"))];
  return ids.length > 0 ? ids : undefined;
}

/** The moment a sidelined profile becomes available again. */
export function availableAt(usage: UsageStats): number {
  return Math.max(usage.cooldownUntil ?? 0, usage.disabledUntil ?? 0);
}

function unusableReason(candidate: Candidate): SkipReason | undefined {
  switch (candidate.state) {
    case "invalid":
      return candidate.profile.invalid?.startsWith("expires")
        ? "invalid_expires"
        : "missing_credential";
    case "expired":
      return "expired";
    case "needs_login":
      return "needs_login";
    default:
      return undefined;
  }
}

/** Ranks the profiles of `provider` in `store` at `now`. */
export function rankProvider(
  store: JsonObject & { profiles: JsonObject },
  provider: string,
  now: number,
  externalOrder?: unknown,
  types?: readonly ProfileType[],
): Ranking {
  const candidates = candidatesOf(store, { now, provider, types });
  const storeOrder = orderFor(store.order, provider);
  const openclawOrder = storeOrder ? undefined : orderFor(externalOrder, provider);
  const explicit = storeOrder ?? openclawOrder;
  const source: OrderSource = storeOrder ? "store" : openclawOrder ? "openclaw" : "round_robin";
  const skipped: Ranking["skipped"] = [];
  const ordered = explicit
    ? explicit.flatMap((id) => candidates.filter((c) => c.profile.id === id))
    : [...candidates].sort((a, b) =>
      (TYPE_RANK[a.profile.type ?? ""] ?? 3) -
        (TYPE_RANK[b.profile.type ?? ""] ?? 3) ||
      (a.usage.lastUsed ?? 0) - (b.usage.lastUsed ?? 0) ||
      (a.profile.id < b.profile.id ? -1 : 1)
    );
  if (explicit) {
    for (const candidate of candidates) {
      if (!ordered.includes(candidate)) {
        skipped.push({ candidate, reason: "excluded_by_auth_order" });
      }
    }
  }
  const ready: Candidate[] = [];
  const sidelined: Candidate[] = [];
  for (const candidate of ordered) {
    const reason = unusableReason(candidate);
    if (reason) skipped.push({ candidate, reason });
    else if (candidate.state === "cooldown" || candidate.state === "disabled") {
      sidelined.push(candidate);
    } else ready.push(candidate);
  }
  sidelined.sort((a, b) => availableAt(a.usage) - availableAt(b.usage));
  return { provider, usable: [...ready, ...sidelined], skipped, source };
}

/**
 * Parses OpenClaw's `Model@provider:profile` (or `Model@provider`); the model
 * part is passed through, the profile part pins.
 */
export function parseModelSpec(spec: string): RouteRequest | undefined {
  // Profile names may hold "@" (e-mails), models rarely do: take the first
  // "@" after which a valid provider or profile id follows.
  for (let at = spec.indexOf("@"); at >= 0; at = spec.indexOf("@", at + 1)) {
    const target = spec.slice(at + 1);
    const model = spec.slice(0, at) || undefined;
    if (PROVIDER_ID.test(target)) return { model, provider: target };
    const parts = splitProfileId(target);
    if (parts) return { model, provider: parts.provider, profileId: target };
  }
  return undefined;
}
