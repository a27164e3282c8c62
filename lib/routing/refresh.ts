/**
 * Refreshing an OAuth login exactly once, across every copy of it (docs/locking.md
 * and the lineage rules): under the login's state-wide lineage lock and the
 * store lock, re-read; use a token another process (or a sibling copy)
 * already refreshed; else make one token request, write the rotated tokens
 * atomically, then into every other copy and linked file.
 *
 * @module
 */

import { resolveProvider } from "../config.ts";
import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { loginCommand } from "../output/hints.ts";
import { child, type JsonObject, own, stringAt } from "../json/json.ts";
import {
  copyEntry,
  copyLabel,
  findCopies,
  lineageId,
  lineageKey,
  type LinkCopy,
  type StoreCopy,
} from "./lineage.ts";
import { lockTimeoutMs } from "../store/lock.ts";
import {
  isRejectedGrant,
  type OAuthTarget,
  oauthTarget,
  refreshTimeoutMs,
  refreshTokens,
  type TokenSet,
} from "../oauth/oauth.ts";
import { holdSignals, type SignalHold } from "../interrupt.ts";
import { definitionIdOf } from "../provider/names.ts";
import { warn } from "../output/output.ts";
import type { Paths } from "../paths.ts";
import { type Profile, readProfile, usageOf } from "../profiles.ts";
import {
  foreignRefreshOf,
  readStore,
  type StoreData,
  updateStore,
  withLineageLock,
} from "../store.ts";
import type { ForeignRefresh } from "../store/backend.ts";
import { credentialOf, install, writeToCopies } from "./lineage_sync.ts";

type Outcome =
  | { kind: "fresh"; profile: Profile; rotated?: TokenSet }
  | { kind: "fenced" }
  | { kind: "gone" }
  | { kind: "needs_login"; profile: Profile; reason: string }
  | { kind: "failed"; profile: Profile; error: ClawauthError };

type Copy = StoreCopy | LinkCopy;

/**
 * What one refresh has sent and received: once a request is out, signals
 * wait (docs/locking.md), and rotated tokens are remembered so that a failed write
 * can still say so and hand out the new access token.
 */
interface Exchange {
  hold?: SignalHold;
  rotated?: TokenSet;
}

function isSelf(copy: Copy, paths: Paths, id: string): boolean {
  return copy.kind === "store" && copy.agent === paths.agent && copy.profile.id === id;
}

/** Sibling credentials, freshest first. */
function siblings(copies: Copy[], paths: Paths, id: string): JsonObject[] {
  return copies.filter((copy) => !isSelf(copy, paths, id)).map(copyEntry)
    .sort((a, b) => (Number(b.expires) || 0) - (Number(a.expires) || 0));
}

async function targetFor(ctx: Context, paths: Paths, providerId: string): Promise<OAuthTarget> {
  const provider = resolveProvider(providerId, paths.config);
  if (!provider) {
    throw new ClawauthError(
      `Unknown provider ${providerId}.`,
      Exit.data,
      `Declare it in ${paths.config}.`,
    );
  }
  // Discovery happens under the store lock too: its wait stays below the lock wait.
  return await oauthTarget(ctx, provider, { timeoutMs: refreshTimeoutMs(ctx) });
}

/** One refresh of {@linkcode refreshProfile}: what {@linkcode decide} works on. */
interface RefreshJob {
  paths: Paths;
  /** The profile as the caller saw it before the lock. */
  seen: Profile;
  minValidMs: number;
  /** The lineage key, when the login has one. */
  key: string | undefined;
  exchange: Exchange;
  /** Another program's refresh protocol in this store (OpenClaw's), if any. */
  foreign: ForeignRefresh | undefined;
}

/**
 * Inside the store lock: decide, adopt or refresh. Refresh tokens are tried
 * once each, freshest copy first; a dead one is never retried.
 */
async function decide(
  ctx: Context,
  store: StoreData,
  job: RefreshJob,
): Promise<Outcome> {
  const { paths, seen, minValidMs, key, exchange, foreign } = job;
  if (!Object.hasOwn(store.profiles, seen.id)) return { kind: "gone" };
  const current = readProfile(seen.id, own(store.profiles, seen.id));
  // OpenClaw is refreshing it (a pending fence): its answer is awaited outside every lock.
  const fence = foreign?.stateOf(current.raw);
  if (fence === "pending") return { kind: "fenced" };
  if (fence) return { kind: "needs_login", profile: current, reason: FAILED_FENCE };
  const dead = usageOf(store.usageStats, seen.id).needsLogin !== undefined;
  const validFor = (p: Profile) =>
    stringAt(p.raw, "access") !== undefined &&
    (p.expires === null || p.expires - ctx.now() >= minValidMs);
  // Another process refreshed while this one waited for the lock: its token
  // is as fresh as the provider makes them.
  if (
    !dead && (stringAt(current.raw, "access") !== stringAt(seen.raw, "access") || validFor(current))
  ) {
    return { kind: "fresh", profile: current };
  }
  const tried = new Set<string>();
  let target: OAuthTarget | undefined;
  let lastError: ClawauthError | undefined;
  for (let round = 0; round < 2; round++) {
    // Round two re-reads the copies: a linked tool may have refreshed meanwhile.
    const others = key
      ? siblings(await findCopies(ctx, { state: paths, key }), paths, seen.id)
      : [];
    const adoptable = others.find((entry) =>
      stringAt(entry, "access") !== stringAt(current.raw, "access") &&
      validFor(readProfile(seen.id, { ...current.raw, ...credentialOf(entry) }))
    );
    if (adoptable) {
      return { kind: "fresh", profile: install(store, seen.id, credentialOf(adoptable)) };
    }
    // The copy that expires last was refreshed last: its refresh token is
    // the one most likely alive (trying a dead one first may make the
    // provider revoke the whole grant).
    const refreshTokensToTry = [...(dead ? [] : [current.raw]), ...others]
      .sort((a, b) => (Number(b.expires) || 0) - (Number(a.expires) || 0))
      .map((entry) => stringAt(entry, "refresh"))
      .filter((token): token is string =>
        token !== undefined && !tried.has(token) && !foreign?.isPlaceholder(token)
      );
    for (const refresh of new Set(refreshTokensToTry)) {
      tried.add(refresh);
      try {
        target ??= await targetFor(ctx, paths, definitionIdOf(current));
        exchange.hold ??= holdSignals();
        const rotated = { refresh, ...await refreshTokens(ctx, target, refresh) };
        exchange.rotated = rotated;
        return { kind: "fresh", profile: install(store, seen.id, rotated), rotated };
      } catch (error) {
        if (!isRejectedGrant(error)) {
          if (error instanceof ClawauthError) return { kind: "failed", profile: current, error };
          throw error;
        }
        lastError = error as ClawauthError;
      }
    }
  }
  // Keep the data (a copy may still be adopted later); mark the verdict.
  child(child(store, "usageStats"), seen.id).needsLogin = ctx.now();
  const reason = lastError?.message ??
    (dead ? "its refresh token was rejected earlier" : "it has no refresh token");
  return { kind: "needs_login", profile: current, reason };
}

/** Writes rotated tokens into every other copy of the lineage. */
async function propagate(
  ctx: Context,
  paths: Paths,
  key: string,
  id: string,
  tokens: TokenSet,
): Promise<void> {
  const others = (await findCopies(ctx, { state: paths, key })).filter((copy) =>
    !isSelf(copy, paths, id)
  );
  for (
    const { copy, error } of await writeToCopies(ctx, others, key, credentialOf({ ...tokens }))
  ) {
    // That copy stays behind; it adopts the fresh tokens on its next refresh.
    warn(ctx, `could not update the copy in ${copyLabel(copy)}: ${error}`);
  }
}

/**
 * The provider rotated the tokens but they could not be written: the old
 * refresh token is now dead, so say plainly that the login may need a new
 * `login`, and still hand out the new access token.
 */
function unsaved(
  ctx: Context,
  profile: Profile,
  rotated: TokenSet,
  error: ClawauthError,
  stopped: ClawauthError | undefined,
): Profile {
  const problem = `${profile.id} was refreshed, but the new tokens could not be saved (${
    error.message.replace(/\.$/, "")
  }); the provider has retired the old refresh token, so this login will likely need a new login`;
  const fresh = readProfile(profile.id, { ...profile.raw, ...rotated });
  if (stopped || fresh.invalid) {
    throw new ClawauthError(`${problem}.`, stopped?.exitCode ?? error.exitCode, error.hint);
  }
  warn(ctx, `${problem}. Using the new access token meanwhile.`);
  return fresh;
}

const FAILED_FENCE = "OpenClaw's own refresh of it failed";

/**
 * Waits (polling as OpenClaw's readers do) until OpenClaw settles its
 * refresh of `profile`, and returns the settled credential; a fence value is
 * never handed out, and no request of our own is made for it.
 */
async function settledByOpenclaw(
  ctx: Context,
  job: { paths: Paths; profile: Profile; timeoutMs: number; foreign: ForeignRefresh },
): Promise<Profile> {
  const { paths, profile, timeoutMs, foreign } = job;
  const deadline = ctx.now() + timeoutMs;
  for (;;) {
    const entry = own((await readStore(ctx, paths)).profiles, profile.id);
    const fence = foreign.stateOf(entry);
    if (entry === undefined || fence === "failed") {
      throw new ClawauthError(
        `${profile.id} needs a new login: ${entry ? FAILED_FENCE : "it was removed meanwhile"}.`,
        Exit.noCredential,
        `Run: ${loginCommand(profile.provider, profile)}`,
      );
    }
    if (!fence) return readProfile(profile.id, entry);
    if (ctx.now() >= deadline) {
      throw new ClawauthError(
        `OpenClaw's refresh of ${profile.id} did not settle within ${timeoutMs / 1000} s.`,
        Exit.lockTimeout,
        "Retry, or raise CLAWAUTH_LOCK_TIMEOUT.",
      );
    }
    await ctx.sleep(FENCE_POLL_MS);
  }
}

/** OpenClaw's readers poll a pending fence this often. */
const FENCE_POLL_MS = 25;

/**
 * Returns `profile` with an access token valid for at least `minValidMs`,
 * refreshing it (once for its whole lineage) when needed.
 */
export async function refreshProfile(
  ctx: Context,
  paths: Paths,
  profile: Profile,
  minValidMs: number,
): Promise<Profile> {
  const key = lineageKey(profile);
  const exchange: Exchange = {};
  const foreign = await foreignRefreshOf(paths);
  const job: RefreshJob = { paths, seen: profile, minValidMs, key, exchange, foreign };
  const work = async () => {
    const outcome = await updateStore(ctx, paths, (store) => decide(ctx, store, job));
    if (outcome.kind === "fresh" && outcome.rotated && key) {
      await propagate(ctx, paths, key, profile.id, outcome.rotated);
    }
    return outcome;
  };
  const timeoutMs = lockTimeoutMs(ctx);
  // Lock order: the lineage lock, OpenClaw's refresh lock of the profile, the store lock.
  // In a fleet store the lineage lock spans every machine (lib/store/postgres/store.ts).
  const guarded = foreign
    ? () =>
      foreign.withLock(
        ctx,
        { stateDir: paths.stateDir, provider: profile.provider, profileId: profile.id, timeoutMs },
        work,
      )
    : work;
  let outcome: Outcome;
  try {
    outcome = key
      ? await withLineageLock(ctx, paths, { lineage: await lineageId(key), timeoutMs, fn: guarded })
      : await guarded();
  } catch (error) {
    const stopped = await exchange.hold?.release();
    if (!exchange.rotated || !(error instanceof ClawauthError)) throw stopped ?? error;
    return unsaved(ctx, profile, exchange.rotated, error, stopped);
  }
  const stopped = await exchange.hold?.release();
  if (stopped) throw stopped;
  switch (outcome.kind) {
    case "fresh":
      return outcome.profile;
    case "fenced":
      // Only a backend with a foreign refresh protocol reports a fence.
      return await settledByOpenclaw(ctx, { paths, profile, timeoutMs, foreign: foreign! });
    case "gone":
      throw new ClawauthError(
        `Profile ${profile.id} was removed meanwhile.`,
        Exit.noCredential,
        `Run: ${loginCommand(profile.provider, profile)}`,
      );
    case "needs_login":
      throw new ClawauthError(
        `${profile.id} needs a new login: ${outcome.reason.replace(/\.$/, "")}.`,
        Exit.noCredential,
        `Run: ${loginCommand(profile.provider, profile)}`,
      );
    case "failed": {
      const { expires } = outcome.profile;
      // The request went out and its answer was lost: the provider may have rotated anyway.
      const lost = outcome.error.reason === "no_answer"
        ? " The provider may have rotated the refresh token before its answer was lost; if the next refresh is refused, log in again."
        : "";
      if (expires === null || expires <= ctx.now() || !stringAt(outcome.profile.raw, "access")) {
        const { message, exitCode, hint } = outcome.error;
        throw new ClawauthError(
          `${profile.id} was not refreshed: ${message[0].toLowerCase()}${message.slice(1)}${lost}`,
          exitCode,
          hint,
        );
      }
      warn(
        ctx,
        `${outcome.error.message}${lost} Using the current token, valid for ${
          Math.round((expires - ctx.now()) / 1000)
        } s more.`,
      );
      return outcome.profile;
    }
  }
}
