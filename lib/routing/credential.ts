/**
 * Getting a usable secret for a request: route, refresh when due, and note
 * the use for round robin. Shared by `token` and `exec`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { load } from "../lazy.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { loginCommand } from "../output/hints.ts";
import { child } from "../json/json.ts";
import { warn } from "../output/output.ts";
import type { Paths } from "../paths.ts";
import { listProfiles, type Profile, secretOf, usageOf } from "../profiles.ts";
import { availableAt, type RouteRequest } from "./routing.ts";
import { selectProfile, storedRequest } from "./select.ts";
import { type StoreData, updateStore } from "../store.ts";

/** A chosen profile and the secret it hands out now. */
export interface Credential {
  profile: Profile;
  secret: string;
}

/** How stale a `lastUsed` may be when no routing choice depends on it: only status shows it. */
const LAST_USED_SLACK_MS = 60_000;

/**
 * Whether serving `profile` at `now` must be written down. Round robin picks
 * the least recently used of a provider's profiles, so the write matters
 * unless `profile` is already the most recent of them; then (and for a
 * provider with one profile) it only freshens what status shows, which may
 * lag a minute. So a caller asking for the same profile again and again,
 * pinned or through an explicit order, reads and never writes.
 */
function useWorthRecording(store: StoreData, profile: Profile, now: number): boolean {
  const lastUsed = (id: string) => usageOf(store.usageStats, id).lastUsed ?? 0;
  const mine = lastUsed(profile.id);
  const others = listProfiles(store.profiles).filter((other) =>
    other.provider === profile.provider && other.id !== profile.id
  );
  if (others.length === 0) return false;
  return now - mine >= LAST_USED_SLACK_MS || others.some((other) => lastUsed(other.id) >= mine);
}

/**
 * Routes `request`, refreshes an OAuth token that expires within
 * `minValidMs`, and records `lastUsed` when the provider has several
 * profiles and round robin's next choice depends on it (see
 * `useWorthRecording`): the hot path stays write-free otherwise.
 */
export async function obtainCredential(
  ctx: Context,
  paths: Paths,
  store: StoreData,
  request: RouteRequest,
  opts: { minValidMs: number; externalOrder?: unknown },
): Promise<Credential> {
  const chosen = selectProfile(
    store,
    storedRequest(paths.backend, request),
    ctx.now(),
    opts.externalOrder,
  );
  if (chosen.state === "cooldown" || chosen.state === "disabled") {
    warn(
      ctx,
      `every ${chosen.profile.provider} profile is sidelined; using ${chosen.profile.id} (${chosen.state} until ${
        new Date(availableAt(chosen.usage)).toISOString()
      }).`,
    );
  }
  let profile = chosen.profile;
  const due = profile.expires !== null && profile.expires - ctx.now() < opts.minValidMs;
  if (profile.type === "oauth" && (due || secretOf(profile) === undefined)) {
    const { refreshProfile } = await load("routing/refresh.ts");
    profile = await refreshProfile(ctx, paths, profile, opts.minValidMs);
  }
  const secret = secretOf(profile);
  if (secret === undefined) {
    // e.g. an OAuth entry holding only a refresh token: never hand out "".
    throw new ClawauthError(
      `Profile ${profile.id} holds no usable secret.`,
      Exit.noCredential,
      `Run: ${loginCommand(profile.provider, profile)}`,
    );
  }
  if (useWorthRecording(store, profile, ctx.now())) {
    try {
      await updateStore(ctx, paths, (fresh) => {
        if (Object.hasOwn(fresh.profiles, profile.id)) {
          child(child(fresh, "usageStats"), profile.id).lastUsed = ctx.now();
        }
      });
    } catch (error) {
      // Round robin's bookkeeping: a full or read-only disk must not cost the caller its token.
      if (!(error instanceof ClawauthError)) throw error;
      warn(ctx, `could not record the use of ${profile.id} (${error.message})`);
    }
  }
  return { profile, secret };
}
