/**
 * What the two file-based backends share (`json`, and `openclaw`, whose
 * SQLite databases sit in the state dir too): agents are directories of the
 * state dir, and locks are flock(2) files in it (docs/locking.md).
 *
 * @module
 */

import type { Context } from "../context.ts";
import { agentDirChain, agentIds, type AgentPaths, join, lineageLockPath } from "../paths.ts";
import type { Backend } from "./backend.ts";
import { emptyStore, type StoreData } from "./data.ts";
import { assertPrivateDirs, ensurePrivateDir, exists, writeFileAtomic } from "../fs/files.ts";
import { load } from "../lazy.ts";

/** How a file backend reads an agent's store and writes it under the caller's lock. */
export interface FileStore {
  read(paths: AgentPaths): Promise<StoreData> | StoreData;
  write<T>(
    ctx: Context,
    paths: AgentPaths & { legacy?: string },
    opts: { timeoutMs: number; change: (store: StoreData) => T | Promise<T> },
  ): Promise<T>;
  location(paths: AgentPaths): string;
}

/** A file backend: the shared agents and locks around `store`'s read and write. */
export function fileBackend(store: FileStore, extra: Partial<Backend> = {}): Backend {
  return {
    read(_ctx, paths) {
      assertPrivateDirs(agentDirChain(paths));
      return Promise.resolve(store.read(paths));
    },
    async update(ctx, paths, opts) {
      assertPrivateDirs(agentDirChain(paths));
      // The write path's modules load only when a command writes (lib/lazy.ts).
      const { withLock } = await load("store/lock.ts");
      return await withLock(
        paths.lock,
        { timeoutMs: opts.timeoutMs, sleep: ctx.sleep },
        () => store.write(ctx, paths, opts),
      );
    },
    async withLineageLock(ctx, state, { lineage, timeoutMs, fn }) {
      const { withLock } = await load("store/lock.ts");
      return await withLock(
        lineageLockPath(state.stateDir, lineage),
        { timeoutMs, sleep: ctx.sleep },
        fn,
      );
    },
    agents: (_ctx, state) => Promise.resolve(agentIds(state.stateDir)),
    agentExists: (_ctx, paths) => Promise.resolve(exists(paths.dir)),
    async createAgent(ctx, paths, timeoutMs) {
      if (exists(paths.dir)) return false;
      ensurePrivateDir(paths.dir);
      const { withLock } = await load("store/lock.ts");
      await withLock(paths.lock, { timeoutMs, sleep: ctx.sleep }, () => {
        if (!exists(paths.store)) {
          writeFileAtomic(paths.store, `${JSON.stringify(emptyStore(), null, 2)}\n`);
        }
      });
      return true;
    },
    async removeAgent(ctx, paths, timeoutMs) {
      if (!exists(paths.dir)) return false;
      const { withLock } = await load("store/lock.ts");
      // Hold the agent's lock so no writer is mid-rename while its files go.
      await withLock(paths.lock, { timeoutMs, sleep: ctx.sleep }, () => {
        Deno.removeSync(join(paths.stateDir, "agents", paths.agent), { recursive: true });
      });
      return true;
    },
    location: (_ctx, paths) => store.location(paths),
    ...extra,
  };
}
