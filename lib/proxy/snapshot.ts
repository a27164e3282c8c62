/**
 * The store as the proxy sees it: a cached snapshot, so the success path
 * reads no file, takes no lock and makes no database round trip. A request
 * that finds it older than a second re-reads it first (changes by other
 * processes show within about a second), and so does one after the proxy's own
 * writes, which also patch it so the next request already routes around a
 * failed profile.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { child, type JsonObject } from "../json/json.ts";
import { routingOrder } from "../openclaw_config.ts";
import { warn } from "../output/output.ts";
import type { Paths } from "../paths.ts";
import { readStore, type StoreData } from "../store.ts";

/** A store snapshot and OpenClaw's `auth.order` read with it. */
export interface View {
  store: StoreData;
  externalOrder: unknown;
  /** When it was read (epoch ms of the context clock). */
  readAt: number;
}

/** How old a snapshot may be before a request starts a re-read. */
const MAX_AGE_MS = 1000;

/** The proxy's cached view of the store. */
export class StoreView {
  #view: View | undefined;
  #reading: Promise<View> | undefined;
  #stale = false;
  #warned = false;
  #version = 0;

  /** A view of the store at `paths`. */
  constructor(private readonly ctx: Context, private readonly paths: Paths) {}

  /**
   * The current snapshot: the cached one while it is young, else (and after
   * own writes) a re-read, awaited. Serving an old one while a re-read ran
   * would let the first request after a quiet spell route on a snapshot of
   * any age, e.g. to a profile another proxy of the fleet put in cooldown.
   * While the store cannot be read, the old one serves and is re-read behind.
   */
  async current(): Promise<View> {
    const view = this.#view;
    if (view && !this.#stale) {
      if (this.ctx.now() - view.readAt < MAX_AGE_MS) return view;
      if (this.#warned) {
        this.#reload().catch(() => {});
        return view;
      }
    }
    return await this.#reload();
  }

  /** Marks the snapshot out of date (after a write): the next request re-reads it. */
  invalidate(): void {
    this.#stale = true;
  }

  /** Edits the cached snapshot in place, e.g. with the counters a write just stored. */
  patch(edit: (store: StoreData) => void): void {
    if (this.#view) edit(this.#view.store);
    this.#version++;
  }

  /** Moves on every change of the snapshot: what was derived from an older one is stale. */
  get version(): number {
    return this.#version;
  }

  /** The cached `usageStats` entry of `id` (created empty in the snapshot when missing). */
  usage(id: string): JsonObject | undefined {
    return this.#view ? child(child(this.#view.store, "usageStats"), id) : undefined;
  }

  /** The cached `lastGood` map, as stored. */
  lastGood(): unknown {
    return this.#view?.store.lastGood;
  }

  #reload(): Promise<View> {
    this.#reading ??= (async () => {
      this.#stale = false;
      const readAt = this.ctx.now();
      try {
        const [store, externalOrder] = await Promise.all([
          readStore(this.ctx, this.paths),
          routingOrder(this.ctx, this.paths.openclawConfig),
        ]);
        this.#view = { store, externalOrder, readAt };
        this.#version++;
        this.#warned = false;
        return this.#view;
      } catch (error) {
        if (!this.#view) throw error;
        // The old snapshot serves until the store reads again; say so once.
        if (!this.#warned) {
          this.#warned = true;
          warn(this.ctx, `could not re-read the store (${(error as Error).message})`);
        }
        this.#view = { ...this.#view, readAt };
        return this.#view;
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }
}
