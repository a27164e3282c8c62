/**
 * What the proxy writes to the store, and when. A failure is written at
 * once, under the lock, by the one implementation (`recordOutcome`), so
 * every process routes around the profile; a failure of a profile already
 * cooling down (requests that were in flight together) is not counted
 * again. Successes write nothing unless something changed meaningfully (the
 * counters to clear, `lastGood`, quota, a `lastUsed` a minute old), and
 * then in one batched write at most every two seconds, flushed on shutdown.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { child, isObject, numberAt, own } from "../json/json.ts";
import { warn } from "../output/output.ts";
import type { Paths } from "../paths.ts";
import { recordSuccess } from "../routing/failover.ts";
import { recordOutcome } from "../routing/outcome.ts";
import { updateStore } from "../store.ts";
import type { Failure } from "./failover.ts";
import { type Quota, quotaChanged, readQuota } from "./quota.ts";
import type { StoreView } from "./snapshot.ts";

/** How long batched success bookkeeping waits before it is written. */
const FLUSH_MS = 2000;
/** `lastUsed` is only for `status` here: a minute of lag is fine. */
const LAST_USED_SLACK_MS = 60_000;

interface Pending {
  /** A success at this moment, of a profile of this (stored) provider. */
  ok?: { at: number; provider: string };
  quota?: Quota;
}

/** Batches the proxy's bookkeeping writes. */
export class Recorder {
  #pending = new Map<string, Pending>();
  /** The quota each profile's last answer reported: most answers repeat it. */
  #lastSeen = new Map<string, Quota>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> = Promise.resolve();
  /** Failure writes in progress, by profile. */
  #failing = new Map<string, Promise<number | undefined>>();

  /** Writes through `paths`' backend and keeps `view` in step. */
  constructor(
    private readonly ctx: Context,
    private readonly paths: Paths,
    private readonly view: StoreView,
  ) {}

  /**
   * Records a failure of `id` now (cooldown from the provider's reset time
   * when it gave one). Returns when the profile may serve again. Failures
   * of requests that were in flight together count once: they join the
   * write in progress, and a profile already cooling down is left as it is.
   */
  failure(id: string, failure: Failure): Promise<number | undefined> {
    const usage = this.view.usage(id);
    const until = Math.max(
      numberAt(usage, "cooldownUntil") ?? 0,
      numberAt(usage, "disabledUntil") ?? 0,
    );
    if (until > this.ctx.now()) return Promise.resolve(until);
    let writing = this.#failing.get(id);
    if (!writing) {
      writing = this.#recordFailure(id, failure).finally(() => this.#failing.delete(id));
      this.#failing.set(id, writing);
    }
    return writing;
  }

  async #recordFailure(id: string, failure: Failure): Promise<number | undefined> {
    try {
      const result = await recordOutcome(this.ctx, this.paths, id, failure.reason, {
        until: failure.until,
      });
      this.view.patch((store) => {
        const entry = child(child(store, "usageStats"), id);
        for (const [key, value] of Object.entries(result)) {
          if (value !== undefined) entry[key] = value;
        }
      });
      this.view.invalidate();
      return Math.max(result.cooldownUntil ?? 0, result.disabledUntil ?? 0) || undefined;
    } catch (error) {
      warn(this.ctx, `could not record the failure of ${id} (${(error as Error).message})`);
      return undefined;
    }
  }

  /** Notes a success of `id` (a profile of stored `provider`) with the quota its answer reported. */
  success(id: string, provider: string, quota: Quota | undefined): void {
    const now = this.ctx.now();
    const usage = this.view.usage(id) ?? {};
    const lastGoods = this.view.lastGood();
    const lastGood = isObject(lastGoods) ? own(lastGoods, provider) : undefined;
    const worth = (numberAt(usage, "errorCount") ?? 0) > 0 ||
      usage.cooldownUntil !== undefined || usage.disabledUntil !== undefined ||
      lastGood !== id ||
      now - (numberAt(usage, "lastUsed") ?? 0) >= LAST_USED_SLACK_MS;
    const pending = this.#pending.get(id);
    if (worth) this.#note(id, { ...pending, ok: { at: now, provider } });
    if (quota) this.observe(id, quota);
  }

  /** Notes the quota an answer of `id` reported; written only when it moved. */
  observe(id: string, quota: Quota): void {
    const last = this.#lastSeen.get(id);
    if (last && !quotaChanged(last, quota)) return;
    this.#lastSeen.set(id, quota);
    const known = { ...readQuota(this.view.usage(id)), ...this.#pending.get(id)?.quota };
    if (!quotaChanged(known, { ...known, ...quota })) return;
    const pending = this.#pending.get(id);
    this.#note(id, { ...pending, quota: { ...pending?.quota, ...quota } });
  }

  #note(id: string, pending: Pending): void {
    this.#pending.set(id, pending);
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, FLUSH_MS);
  }

  /** Writes what is pending now, in one store update. */
  flush(): Promise<void> {
    const batch = new Map(this.#pending);
    this.#pending.clear();
    if (batch.size === 0) return this.#flushing;
    this.#flushing = this.#flushing.then(() => this.#write(batch));
    return this.#flushing;
  }

  async #write(batch: Map<string, Pending>): Promise<void> {
    try {
      await updateStore(this.ctx, this.paths, (store) => {
        for (const [id, pending] of batch) {
          if (!Object.hasOwn(store.profiles, id)) continue;
          const entry = child(child(store, "usageStats"), id);
          if (pending.quota) entry.quota = { ...readQuota(entry), ...pending.quota };
          // A failure recorded after this success stands.
          if (pending.ok && (numberAt(entry, "lastFailureAt") ?? 0) <= pending.ok.at) {
            recordSuccess(entry, pending.ok.at);
            child(store, "lastGood")[pending.ok.provider] = id;
          }
        }
      });
      this.view.invalidate();
    } catch (error) {
      warn(this.ctx, `could not record usage (${(error as Error).message})`);
    }
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
