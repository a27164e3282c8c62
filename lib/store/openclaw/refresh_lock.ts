/**
 * OpenClaw's per-profile OAuth refresh lock, taken by clawauth too so that
 * OpenClaw never refreshes a login clawauth is refreshing (docs/locking.md). The lock
 * is the sidecar `<target>.lock`, created exclusively and holding
 * `{"pid","createdAt"}` as OpenClaw's own file lock writes it (`starttime`
 * is optional there); it is stale after 180 s or once its pid is gone.
 *
 * @module
 */

import type { Context } from "../../context.ts";
import { ClawauthError, Exit } from "../../errors.ts";
import { ensurePrivateDir, readTextIfExists } from "../../fs/files.ts";
import { isObject } from "../../json/json.ts";
import { oauthRefreshLockTarget } from "./fence.ts";

/** OpenClaw's `OAUTH_REFRESH_LOCK_OPTIONS.stale`. */
const STALE_AFTER_MS = 180_000;
/** How often a held lock is looked at again (OpenClaw's readers poll fences every 25 ms). */
const POLL_MS = 25;

/** Whose lock to take, and for how long to wait. */
export interface RefreshLockOptions {
  stateDir: string;
  /** The provider id as OpenClaw stores it (`openai` for a ChatGPT login). */
  provider: string;
  profileId: string;
  timeoutMs: number;
  /**
   * The clock that bounds the wait and the sleep between looks; the lock
   * file's age is always measured on the real clock (other processes wrote it).
   */
  ctx: Pick<Context, "now" | "sleep">;
}

function alive(pid: number): boolean {
  try {
    // Signal 0 delivers nothing: it only asks whether the process exists.
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}

/**
 * The holder's pid when the lock is live, `undefined` when it is stale, by
 * OpenClaw's rules: a lock naming a pid lives as long as that process (its
 * `starttime` would tell a reused pid, but reading `/proc` needs more than
 * clawauth's permissions: a reused pid only makes us wait, bounded); a lock
 * naming none goes stale 180 s after it was made.
 */
function liveHolder(lockPath: string, now: number): number | undefined {
  let data: unknown;
  try {
    data = JSON.parse(readTextIfExists(lockPath) ?? "null");
  } catch {
    data = undefined;
  }
  if (isObject(data) && typeof data.pid === "number") {
    return alive(data.pid) ? data.pid : undefined;
  }
  let created = isObject(data) && typeof data.createdAt === "string"
    ? Date.parse(data.createdAt)
    : NaN;
  try {
    if (!Number.isFinite(created)) created = Deno.statSync(lockPath).mtime?.getTime() ?? 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return now - created > STALE_AFTER_MS ? undefined : 0;
}

function tryCreate(lockPath: string, payload: string): boolean {
  try {
    // createNew is O_EXCL: it neither follows a planted link nor takes a held lock.
    const file = Deno.openSync(lockPath, { write: true, createNew: true, mode: 0o600 });
    try {
      file.writeSync(new TextEncoder().encode(payload));
    } finally {
      file.close();
    }
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

/**
 * Runs `fn` holding OpenClaw's refresh lock of one profile, waiting while a
 * live OpenClaw (or clawauth) process holds it: at most `timeoutMs`, then
 * exit 75. A stale lock (dead pid, older than 180 s) is taken over.
 */
export async function withOpenclawRefreshLock<T>(
  opts: RefreshLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const lockPath = `${oauthRefreshLockTarget(opts.stateDir, opts.provider, opts.profileId)}.lock`;
  ensurePrivateDir(lockPath.replace(/\/[^/]*$/, ""));
  const payload = JSON.stringify({ pid: Deno.pid, createdAt: new Date().toISOString() });
  const deadline = opts.ctx.now() + opts.timeoutMs;
  let holder: number | undefined;
  while (!tryCreate(lockPath, payload)) {
    holder = liveHolder(lockPath, Date.now());
    if (holder === undefined) {
      try {
        Deno.removeSync(lockPath);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      continue;
    }
    if (opts.ctx.now() >= deadline) {
      throw new ClawauthError(
        `Timed out after ${
          opts.timeoutMs / 1000
        } s waiting for OpenClaw's refresh lock of ${opts.profileId} (held by ${
          holder ? `pid ${holder}` : "another process"
        }).`,
        Exit.lockTimeout,
        "OpenClaw is refreshing this login; retry, or raise CLAWAUTH_LOCK_TIMEOUT.",
      );
    }
    await opts.ctx.sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    // Only our own lock is removed: a holder that took over a stale one keeps it.
    if (readTextIfExists(lockPath) === payload) Deno.removeSync(lockPath);
  }
}
