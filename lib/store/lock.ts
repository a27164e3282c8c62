/**
 * The store lock: an exclusive flock(2) on `auth-profiles.lock` through
 * `Deno.FsFile`, so `flock(1)` and other clawauth processes exclude each
 * other. The wait is bounded (docs/locking.md) and polls a non-blocking lock: a
 * blocking `lock()` cannot be called off, so after a timeout it would stay
 * pending and keep an in-process caller that caught the 75 alive until the
 * holder lets go.
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

/** The first pause between two looks at a held lock. */
const FIRST_POLL_MS = 2;
/** The longest pause: a long wait looks again at least this often. */
const MAX_POLL_MS = 250;

/** How {@linkcode withLock} waits. */
export interface LockWait {
  /** The longest wait for the lock; then exit 75. */
  timeoutMs: number;
  /** Times the pauses between looks ({@linkcode Context.sleep}); the real clock by default. */
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

/**
 * Looks at the lock again after pauses that grow with the wait (a tenth of
 * it, between {@linkcode FIRST_POLL_MS} and {@linkcode MAX_POLL_MS}): a lock
 * held for a moment is taken within milliseconds of its release, a long wait
 * costs few looks.
 */
async function waitForLock(
  file: Deno.FsFile,
  lockPath: string,
  timeoutMs: number,
  sleep: Context["sleep"],
): Promise<void> {
  const started = Date.now();
  let slept = 0;
  for (;;) {
    // The larger of the two clocks: a test's instant sleep moves only its own.
    const waited = Math.max(slept, Date.now() - started);
    if (waited >= timeoutMs) {
      throw new ClawauthError(
        `Timed out after ${timeoutMs / 1000} s waiting for the lock on ${lockPath}.`,
        Exit.lockTimeout,
        "Another clawauth (or OpenClaw) process holds it; retry, or raise CLAWAUTH_LOCK_TIMEOUT.",
      );
    }
    const pause = Math.min(
      Math.max(Math.round(waited / 10), FIRST_POLL_MS),
      MAX_POLL_MS,
      timeoutMs - waited,
    );
    await sleep(pause);
    slept += pause;
    if (file.tryLockSync(true)) return;
  }
}
