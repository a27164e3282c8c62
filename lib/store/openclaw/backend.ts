/**
 * The `openclaw` backend: OpenClaw 2026.9's SQLite store, whose agents and
 * locks are the file backends' (lib/store/json/backend.ts), and whose
 * credentials OpenClaw refreshes too, under its own lock and fences
 * ({@linkcode ForeignRefresh}).
 *
 * @module
 */

import type { Backend, ForeignRefresh } from "../backend.ts";
import { fileBackend } from "../file_backend.ts";
import { load } from "../../lazy.ts";
import { openclawStateDbPath } from "../kind.ts";
import { isFenceValue, parseRefreshFence } from "./fence.ts";

/** OpenClaw's refresh protocol (docs/openclaw.md): its per-profile lock and fences. */
const openclawRefresh: ForeignRefresh = {
  stateOf: (entry) => parseRefreshFence(entry)?.state,
  isPlaceholder: isFenceValue,
  async withLock(ctx, opts, fn) {
    const { withOpenclawRefreshLock } = await load("store/openclaw/refresh_lock.ts");
    return await withOpenclawRefreshLock({ ...opts, ctx }, fn);
  },
};

/** The `openclaw` backend: OpenClaw 2026.9's SQLite store (node:sqlite loads only here). */
export const openclawBackend: Backend = fileBackend({
  async read(paths) {
    return (await load("store/openclaw/store.ts")).readOpenclawStore(paths);
  },
  async write(_ctx, paths, { timeoutMs, change }) {
    const { updateOpenclawStore } = await load("store/openclaw/store.ts");
    return await updateOpenclawStore(paths, timeoutMs, change);
  },
  location: (paths) => openclawStateDbPath(paths.stateDir),
}, { foreignRefresh: openclawRefresh });
