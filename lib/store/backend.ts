/**
 * What a store backend answers (docs/stores.md). Commands and
 * lib/store.ts know nothing of files, SQLite or PostgreSQL beyond this.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { AgentPaths, StateRef } from "../paths.ts";
import type { StoreData } from "./data.ts";

/** One store backend: the JSON files, OpenClaw's SQLite store, or a PostgreSQL fleet store. */
export interface Backend {
  /** An agent's store as it is now; none yet is an empty store. No lock. */
  read(ctx: Context, paths: AgentPaths): Promise<StoreData>;
  /**
   * Read-modify-write under the agent's store lock (waiting at most
   * `timeoutMs`, then exit 75): `change` edits a fresh copy, which is written
   * only if it changed.
   */
  update<T>(
    ctx: Context,
    paths: AgentPaths & { legacy?: string },
    opts: { timeoutMs: number; change: (store: StoreData) => T | Promise<T> },
  ): Promise<T>;
  /** Runs `fn` holding the store-wide lock of one lineage (docs/locking.md). */
  withLineageLock<T>(
    ctx: Context,
    state: StateRef,
    opts: { lineage: string; timeoutMs: number; fn: () => Promise<T> },
  ): Promise<T>;
  /** The agents of the store, sorted. */
  agents(ctx: Context, state: StateRef): Promise<string[]>;
  /** Whether an agent exists. */
  agentExists(ctx: Context, paths: AgentPaths): Promise<boolean>;
  /** Creates an agent with an empty store; `false` when it exists already. */
  createAgent(ctx: Context, paths: AgentPaths, timeoutMs: number): Promise<boolean>;
  /** Deletes an agent and its credentials; `false` when there is none. */
  removeAgent(ctx: Context, paths: AgentPaths, timeoutMs: number): Promise<boolean>;
  /** Where an agent's store lives, for messages (never a password). */
  location(ctx: Context, paths: AgentPaths): string;
  /**
   * Another program's refresh protocol over the same credentials (OpenClaw's
   * lock and fences); absent where clawauth alone refreshes.
   */
  foreignRefresh?: ForeignRefresh;
}

/**
 * How a backend shares refreshes with another program that refreshes the
 * same logins (OpenClaw): routing asks it, and knows nothing of its format.
 */
export interface ForeignRefresh {
  /** Whether that program holds a refresh of a stored entry (`pending`) or gave up on it (`failed`). */
  stateOf(entry: unknown): "pending" | "failed" | undefined;
  /** Whether a stored token value is that program's placeholder, never a credential. */
  isPlaceholder(value: string): boolean;
  /** Runs `fn` holding that program's refresh lock of one profile (bounded by `timeoutMs`). */
  withLock<T>(
    ctx: Context,
    opts: { stateDir: string; provider: string; profileId: string; timeoutMs: number },
    fn: () => Promise<T>,
  ): Promise<T>;
}
