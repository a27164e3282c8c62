/**
 * What a store backend answers (SPEC §1 "Store backends"). Commands and
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
  read(paths: AgentPaths): Promise<StoreData>;
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
  /** Runs `fn` holding the store-wide lock of one lineage (SPEC §4). */
  withLineageLock<T>(
    state: StateRef,
    opts: { lineage: string; timeoutMs: number; fn: () => Promise<T> },
  ): Promise<T>;
  /** The agents of the store, sorted. */
  agents(state: StateRef): Promise<string[]>;
  /** Whether an agent exists. */
  agentExists(paths: AgentPaths): Promise<boolean>;
  /** Creates an agent with an empty store; `false` when it exists already. */
  createAgent(paths: AgentPaths, timeoutMs: number): Promise<boolean>;
  /** Deletes an agent and its credentials; `false` when there is none. */
  removeAgent(paths: AgentPaths, timeoutMs: number): Promise<boolean>;
  /** Where an agent's store lives, for messages (never a password). */
  location(paths: AgentPaths): string;
}
