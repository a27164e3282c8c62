/**
 * Which profiles a proxied request tries, in order: the same ranking as
 * `resolve` and `token` (lib/routing), narrowed to the credential types the
 * route can send. Strategy `first` stays on the profile that served last
 * while it is usable (prompt caches stay warm); `least-used` prefers the
 * profile with the most quota left.
 *
 * @module
 */

import type { ProfileType } from "../profiles.ts";
import { type Candidate, candidateOf, rankProvider } from "../routing/routing.ts";
import { storedRequest } from "../routing/select.ts";
import { readProfile } from "../profiles.ts";
import { isObject, own } from "../json/json.ts";
import type { StoreKind } from "../store/kind.ts";
import { quotaUsed, readQuota } from "./quota.ts";
import type { ProxyRoute } from "./routes.ts";
import type { View } from "./snapshot.ts";

/** How the proxy orders a provider's ready profiles. */
export type Strategy = "first" | "least-used";

/** The strategies `--strategy` accepts. */
export const STRATEGIES = ["first", "least-used"] as const satisfies readonly Strategy[];

/** The profiles a request may try, and those it passes over. */
export interface Plan {
  /** The store's provider id the route's profiles carry. */
  provider: string;
  /** Profiles to try, best first; each is tried at most once. */
  tryOrder: Candidate[];
  /** Profiles cooling down or disabled now (not tried). */
  sidelined: Candidate[];
  /** Why nothing can be tried, when `tryOrder` and `sidelined` are empty. */
  unusable?: string;
}

/** What {@linkcode planRequest} needs beyond the view and the route. */
export interface PlanOptions {
  backend: StoreKind;
  now: number;
  strategy: Strategy;
  /** `provider:name` the request pins (never rotated away). */
  pinned?: string;
  /** The profile that served this route last (strategy `first`). */
  sticky?: string;
}

/** Plans one request on `route` from the store snapshot `view`. */
export function planRequest(view: View, route: ProxyRoute, opts: PlanOptions): Plan {
  const { backend, now } = opts;
  const request = storedRequest(backend, { provider: route.provider, profileId: opts.pinned });
  const provider = request.provider ?? route.provider;
  const servable = Object.keys(route.auth) as ProfileType[];
  const types = servable.filter((type) => request.types?.includes(type) ?? true);
  if (request.profileId !== undefined) return pinnedPlan(view, request.profileId, types, now);
  const ranking = rankProvider(view.store, provider, now, view.externalOrder, types);
  const ready = ranking.usable.filter((c) => c.state !== "cooldown" && c.state !== "disabled");
  const sidelined = ranking.usable.filter((c) => !ready.includes(c));
  const tryOrder = opts.strategy === "least-used"
    ? leastUsedFirst(view, ready, now)
    : stickyFirst(ready, opts.sticky);
  const unusable = ranking.usable.length === 0
    ? ranking.skipped.length === 0
      ? `no ${route.provider} profile that this route can send`
      : `no usable ${route.provider} profile (${
        ranking.skipped.map((s) => `${s.candidate.profile.id} ${s.reason}`).join(", ")
      })`
    : undefined;
  return { provider, tryOrder, sidelined, ...(unusable ? { unusable } : {}) };
}

function pinnedPlan(view: View, id: string, types: ProfileType[], now: number): Plan {
  const provider = id.slice(0, id.indexOf(":"));
  const entry = own(view.store.profiles, id);
  if (entry === undefined) return { provider, tryOrder: [], sidelined: [], unusable: `no ${id}` };
  const candidate = candidateOf(view.store, readProfile(id, entry), now);
  const type = candidate.profile.type;
  if (type === undefined || !types.includes(type)) {
    return {
      provider,
      tryOrder: [],
      sidelined: [],
      unusable: `${id} is of a type this route cannot send`,
    };
  }
  if (["invalid", "expired", "needs_login"].includes(candidate.state)) {
    return { provider, tryOrder: [], sidelined: [], unusable: `${id} is ${candidate.state}` };
  }
  // A pinned profile is tried even in cooldown: the caller asked for exactly it.
  return { provider, tryOrder: [candidate], sidelined: [] };
}

function stickyFirst(ready: Candidate[], sticky: string | undefined): Candidate[] {
  const index = ready.findIndex((c) => c.profile.id === sticky);
  return index <= 0 ? ready : [ready[index], ...ready.slice(0, index), ...ready.slice(index + 1)];
}

function leastUsedFirst(view: View, ready: Candidate[], now: number): Candidate[] {
  const stats = isObject(view.store.usageStats) ? view.store.usageStats : undefined;
  const usage = (c: Candidate) => quotaUsed(readQuota(own(stats, c.profile.id)), now);
  // Stable: equal quota keeps the ranking's order.
  return ready.map((c, i) => ({ c, i, used: usage(c) }))
    .sort((a, b) => a.used - b.used || a.i - b.i)
    .map(({ c }) => c);
}
