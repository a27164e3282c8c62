/**
 * Fresh OAuth tokens for the proxy, through the one refresh implementation
 * (lib/routing/refresh.ts: the lineage lock, the store lock, OpenClaw's
 * refresh lock and fences, the fleet's database lock): a timer refreshes
 * every login the proxy serves shortly before it expires, and a request
 * that finds an expired token waits for the one refresh in flight for that
 * profile instead of starting its own.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { load } from "../lazy.ts";
import { warn } from "../output/output.ts";
import type { Paths } from "../paths.ts";
import { type Profile, secretOf } from "../profiles.ts";

/** A token this close to expiry is refreshed before a request uses it. */
export const MIN_VALID_MS = 60_000;
/** The timer refreshes logins that expire within this span. */
export const AHEAD_MS = 5 * 60_000;
/** `minValidMs` that refreshes whatever the token's expiry. */
export const FORCE: number = Number.MAX_SAFE_INTEGER;
/** How often the timer looks. */
const SCAN_MS = 30_000;

/** Whether `profile` needs a refresh before it is sent within `minValidMs`. */
export function due(profile: Profile, now: number, minValidMs: number): boolean {
  if (profile.type !== "oauth") return false;
  if (secretOf(profile) === undefined) return true;
  return profile.expires !== null && profile.expires - now < minValidMs;
}

/** Single-flight refreshes per profile, and the timer that keeps served logins fresh. */
export class Refresher {
  #inflight = new Map<string, Promise<Profile>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #warned = new Set<string>();
  #stopped = false;

  /** `onFresh` receives every refreshed profile (to patch the snapshot). */
  constructor(
    private readonly ctx: Context,
    private readonly paths: Paths,
    private readonly onFresh: (profile: Profile) => void,
  ) {}

  /**
   * `profile` with a token valid for at least `minValidMs` (a minute by
   * default; {@linkcode FORCE} refreshes even a valid one, after the
   * provider refused it). Concurrent callers for one profile share one
   * refresh.
   */
  fresh(profile: Profile, minValidMs: number = MIN_VALID_MS): Promise<Profile> {
    const running = this.#inflight.get(profile.id);
    if (running) return running;
    const work = (async () => {
      try {
        const { refreshProfile } = await load("routing/refresh.ts");
        const fresh = await refreshProfile(this.ctx, this.paths, profile, minValidMs);
        this.onFresh(fresh);
        this.#warned.delete(profile.id);
        return fresh;
      } finally {
        this.#inflight.delete(profile.id);
      }
    })();
    this.#inflight.set(profile.id, work);
    return work;
  }

  /** Starts the timer: every 30 s, `served()` lists the logins to keep fresh. */
  start(served: () => Promise<Profile[]>): void {
    const scan = async () => {
      try {
        const now = this.ctx.now();
        const profiles = (await served()).filter((p) => due(p, now, AHEAD_MS));
        await Promise.all(profiles.map((p) => this.#ahead(p)));
      } catch (error) {
        warn(this.ctx, `could not look for logins to refresh (${(error as Error).message})`);
      }
    };
    const tick = () => {
      if (this.#stopped) return;
      const timer = setTimeout(() => scan().finally(tick), SCAN_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    };
    scan().finally(tick);
  }

  async #ahead(profile: Profile): Promise<void> {
    try {
      await this.fresh(profile, AHEAD_MS);
    } catch (error) {
      // Once per profile until it works again: the timer retries every 30 s.
      if (!this.#warned.has(profile.id)) {
        this.#warned.add(profile.id);
        warn(
          this.ctx,
          `could not refresh ${profile.id} ahead of expiry: ${(error as Error).message}`,
        );
      }
    }
  }

  /** Stops the timer; refreshes in flight finish (their tokens are written). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#inflight.values()]);
  }
}
