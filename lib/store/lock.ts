/**
 * The store lock: an exclusive flock(2) on `auth-profiles.lock` through
 * `Deno.FsFile.lock`, so `flock(1)` and other clawauth processes exclude each
 * other. The wait is bounded (SPEC §4).
 *
 * @module
 */

import { type Context, sleep as realSleep } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { assertPrivateDirs, ensurePrivateDir, fileError, openPrivate } from "../fs/files.ts";
import { parseDuration } from "../duration.ts";

const DEFAULT_TIMEOUT_MS = 30_000;
/** The longest lock wait accepted: a day (timers overflow past 2^31 ms, about 24.8 days). */
export const MAX_LOCK_TIMEOUT_MS = 86_400_000;

/** The lock wait from `$CLAWAUTH_LOCK_TIMEOUT` (seconds or a duration), default 30 s. */
export function lockTimeoutMs(ctx: Context): number {
  const raw = ctx.env("CLAWAUTH_LOCK_TIMEOUT");
  if (!raw) return DEFAULT_TIMEOUT_MS;
  const ms = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : parseDuration(raw);
  if (ms === undefined || !Number.isFinite(ms) || ms > MAX_LOCK_TIMEOUT_MS) {
    throw new ClawauthError(
      `CLAWAUTH_LOCK_TIMEOUT=${raw.slice(0, 20)} is not a duration of at most 24 h.`,
      Exit.usage,
      "Use seconds, e.g. CLAWAUTH_LOCK_TIMEOUT=30, or a duration such as 2m.",
    );
  }
  return ms;
}

/** How {@linkcode withLock} waits. */
export interface LockWait {
  /** The longest wait for the lock; then exit 75. */
  timeoutMs: number;
  /** Times the wait ({@linkcode Context.sleep}); the real clock by default. */
  sleep?: Context["sleep"];
}

/**
 * Runs `fn` while holding the exclusive lock on `lockPath`, waiting at most
 * `wait.timeoutMs` for it; a timeout is exit 75.
 */
export async function withLock<T>(
  lockPath: string,
  wait: LockWait,
  fn: () => Promise<T> | T,
): Promise<T> {
  const { timeoutMs, sleep = realSleep } = wait;
  const file = openLockFile(lockPath);
  try {
    if (!file.tryLockSync(true)) await waitForLock(file, lockPath, timeoutMs, sleep);
    try {
      return await fn();
    } finally {
      file.unlockSync();
    }
  } finally {
    file.close();
  }
}

/** Opens a lock file in a private directory; any file-system failure is one sentence. */
function openLockFile(lockPath: string): Deno.FsFile {
  const dir = lockPath.replace(/\/[^/]*$/, "");
  try {
    ensurePrivateDir(dir);
    assertPrivateDirs([dir]);
    return openPrivate(lockPath);
  } catch (error) {
    if (error instanceof ClawauthError) throw error;
    throw fileError(
      lockPath,
      `cannot be opened (${error instanceof Error ? error.message : String(error)})`,
      "Check free space, permissions and whether the disk is read-only (clawauth doctor)",
      Exit.failure,
    );
  }
}

async function waitForLock(
  file: Deno.FsFile,
  lockPath: string,
  timeoutMs: number,
  sleep: Context["sleep"],
): Promise<void> {
  const done = new AbortController();
  const timeout = sleep(timeoutMs, done.signal).then(() => {
    throw new ClawauthError(
      `Timed out after ${timeoutMs / 1000} s waiting for the lock on ${lockPath}.`,
      Exit.lockTimeout,
      "Another clawauth (or OpenClaw) process holds it; retry, or raise CLAWAUTH_LOCK_TIMEOUT.",
    );
  });
  try {
    // A blocking flock wakes the moment the holder releases, unlike polling.
    await Promise.race([file.lock(true), timeout]);
  } finally {
    done.abort(); // clears the timer; the race has settled, so its rejection goes unheard
  }
}
