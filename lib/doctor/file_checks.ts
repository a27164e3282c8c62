/**
 * Doctor checks of the files around a store: permissions, pending logins, temp files, the lock.
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import { formatSpan } from "../duration.ts";
import { octalMode, readTextIfExists, statIfExists } from "../fs/files.ts";
import { isObject, numberAt } from "../json/json.ts";
import { type AgentPaths, join } from "../paths.ts";
import { pendingDir } from "../login/pending.ts";
import type { StoreKind } from "../store/kind.ts";
import { openclawStateDbPath } from "../store/kind.ts";
import { databaseFiles, openclawAgentDb } from "../store/openclaw/db.ts";
import { Doctor, errorText, listDir } from "./report.ts";

const POSIX = Deno.build.os !== "windows";
/** A temp or claimed file this old belongs to no running writer. */
const ABANDONED_AFTER_MS = 60_000;

// --- permissions ----------------------------------------------------------

/**
 * One entry's owner and mode; `inPlace` marks a file whose secrets clawauth
 * reads where they are (OpenClaw's databases), which it refuses whenever
 * group or others have any access.
 */
function checkMode(
  doc: Doctor,
  path: string,
  want: 0o600 | 0o700,
  agent: string | undefined,
  inPlace = false,
): boolean {
  const info = statIfExists(path, { link: true });
  if (!info || info.mode === null || info.isSymlink) return true;
  const uid = Deno.uid();
  if (uid !== null && info.uid !== uid) {
    // clawauth refuses to keep secrets there (exit 65); only the owner or root can hand it back.
    doc.add({
      check: "permissions",
      severity: "error",
      message: `${path} is owned by uid ${info.uid}, not by you (uid ${uid})`,
      fix: `chown "$(id -u)" ${path}, or move your state elsewhere (--state-dir)`,
      path,
      ...(agent ? { agent } : {}),
    });
    return false;
  }
  const mode = info.mode & 0o777;
  if ((mode & 0o077) === 0) return true;
  // A directory others can write into lets them plant links and files: clawauth refuses it.
  const writable = (mode & 0o022) !== 0;
  const refused = inPlace || (info.isDirectory && writable);
  doc.repairable(
    {
      check: "permissions",
      severity: refused ? "error" : "warning",
      message: `${path} is ${octalMode(mode)}: ${
        writable ? "writable" : mode & 0o044 ? "readable" : "accessible"
      } by group or others (want ${octalMode(want)})`,
      path,
      ...(agent ? { agent } : {}),
    },
    () => Deno.chmodSync(path, want),
    `chmod ${octalMode(want)}`,
  );
  return false;
}

/**
 * Checks that the state dir is private (0700), and for the `openclaw` store
 * OpenClaw's `state/` (0700) and its state database files (0600).
 */
export function checkStatePermissions(doc: Doctor, stateDir: string, backend?: StoreKind): void {
  if (!POSIX) return;
  const dirs = [stateDir, join(stateDir, "agents")];
  const good = dirs.map((dir) => checkMode(doc, dir, 0o700, undefined)).every(Boolean);
  if (good && statIfExists(stateDir, { link: true })) {
    doc.add({
      check: "permissions",
      severity: "ok",
      message: `${stateDir} is private (0700)`,
      path: stateDir,
    });
  }
  if (backend !== "openclaw") return;
  const stateDb = openclawStateDbPath(stateDir);
  const dbDir = join(stateDir, "state");
  const allPrivate = [
    checkMode(doc, dbDir, 0o700, undefined),
    ...databaseFiles(stateDb).map((path) => checkMode(doc, path, 0o600, undefined, true)),
  ].every(Boolean);
  if (allPrivate && statIfExists(stateDb, { link: true })) {
    doc.add({
      check: "permissions",
      severity: "ok",
      message: `OpenClaw's state database files are 0600 and ${dbDir} is 0700`,
      path: dbDir,
    });
  }
}

/** Checks an agent's dirs (0700) and files (0600); `--fix` repairs them. */
export function checkAgentPermissions(doc: Doctor, paths: AgentPaths): void {
  if (!POSIX || !statIfExists(paths.dir, { link: true })) return;
  const pending = pendingDir(paths.dir);
  const checks: [string, 0o600 | 0o700][] = [
    [paths.dir.replace(/\/agent$/, ""), 0o700],
    [paths.dir, 0o700],
    [paths.store, 0o600],
    [paths.cache, 0o600],
    [paths.lock, 0o600],
    [pending, 0o700],
    ...listDir(pending)
      .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
      .map((entry): [string, 0o600] => [join(pending, entry.name), 0o600]),
  ];
  const databases = paths.backend === "openclaw" ? databaseFiles(openclawAgentDb(paths.dir)) : [];
  const good = [
    ...checks.map(([path, want]) => checkMode(doc, path, want, paths.agent)),
    ...databases.map((path) => checkMode(doc, path, 0o600, paths.agent, true)),
  ].every(Boolean);
  if (good) {
    doc.add({
      check: "permissions",
      severity: "ok",
      message: "files are 0600 and directories 0700",
      agent: paths.agent,
      path: paths.dir,
    });
  }
}

// --- pending logins, the lock, temp files ---------------------------------

function pendingProblem(path: string, now: number): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(readTextIfExists(path) ?? "");
  } catch {
    return "cannot be read";
  }
  const expiresAt = isObject(data) ? numberAt(data, "expiresAt") : undefined;
  if (expiresAt === undefined) return "has no expiry";
  return expiresAt <= now ? `expired ${formatSpan(now - expiresAt)} ago` : undefined;
}

function abandoned(path: string, now: number): boolean {
  const mtime = statIfExists(path, { link: true })?.mtime?.getTime();
  return mtime !== undefined && now - mtime > ABANDONED_AFTER_MS;
}

/** Finds expired, unreadable or half-claimed pending logins; `--fix` deletes them. */
export function checkPending(doc: Doctor, paths: AgentPaths): void {
  const dir = pendingDir(paths.dir);
  const now = doc.ctx.now();
  let stale = 0;
  for (const entry of listDir(dir)) {
    if (!entry.isFile) continue;
    const path = join(dir, entry.name);
    const problem = entry.name.endsWith(".json")
      ? pendingProblem(path, now)
      : /\.json\.claimed-\d+$/.test(entry.name)
      ? "was claimed by a login --finish that did not complete"
      : entry.name.endsWith(".tmp") && abandoned(path, now)
      ? "is a temp file of an interrupted login --start"
      : undefined;
    if (problem === undefined) continue;
    stale++;
    doc.repairable(
      {
        check: "pending",
        severity: "warning",
        message: `stale pending login ${safeText(entry.name, 80)} ${problem}`,
        agent: paths.agent,
        path,
      },
      () => Deno.removeSync(path),
      "deleted",
    );
  }
  if (stale === 0) {
    doc.add({
      check: "pending",
      severity: "ok",
      message: "no stale pending logins",
      agent: paths.agent,
      path: dir,
    });
  }
}

/** Leftover `*.tmp` files of writes that never reached their rename. */
export function checkTemps(doc: Doctor, paths: AgentPaths, lockHeld: boolean): void {
  const now = doc.ctx.now();
  // Writers keep the lock while their temp file exists, so with the lock in
  // our hand every temp file is a leftover; otherwise only old ones are.
  const temps = listDir(paths.dir)
    .filter((entry) => entry.isFile && entry.name.endsWith(".tmp"))
    .map((entry) => join(paths.dir, entry.name))
    .filter((path) => lockHeld || abandoned(path, now));
  for (const path of temps) {
    doc.repairable(
      {
        check: "temp-files",
        severity: "warning",
        message: `${safeText(path, 200)} is left over from an interrupted write`,
        agent: paths.agent,
        path,
      },
      () => Deno.removeSync(path),
      "deleted",
    );
  }
}

/** Tries the store lock without waiting; never breaks a lock someone holds. */
export function checkLock(doc: Doctor, paths: AgentPaths): void {
  const base = { check: "lock", agent: paths.agent, path: paths.lock };
  if (!statIfExists(paths.lock, { link: true })) {
    doc.add({ ...base, severity: "ok", message: "the store lock is free" });
    checkTemps(doc, paths, true);
    return;
  }
  if (!statIfExists(paths.lock, { link: true })?.isFile) {
    doc.add({
      ...base,
      severity: "error",
      message: `${paths.lock} is not a regular file, so no command can take the store lock`,
      fix: `remove it (rm -r ${paths.lock}); clawauth creates the lock file itself`,
    });
    checkTemps(doc, paths, false);
    return;
  }
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(paths.lock, { read: true });
  } catch (error) {
    doc.add({
      ...base,
      severity: "warning",
      message: `${paths.lock} cannot be opened: ${errorText(error)}`,
      fix: `check the owner and mode of ${paths.lock}`,
    });
    checkTemps(doc, paths, false);
    return;
  }
  try {
    if (file.tryLockSync(true)) {
      try {
        doc.add({ ...base, severity: "ok", message: "the store lock is free" });
        checkTemps(doc, paths, true);
      } finally {
        file.unlockSync();
      }
    } else {
      doc.add({
        ...base,
        severity: "warning",
        message: `${paths.lock} is held by another process right now (left alone)`,
        fix: `wait for that process; if the lock stays held, find it with: fuser -v ${paths.lock}`,
      });
      checkTemps(doc, paths, false);
    }
  } finally {
    file.close();
  }
}
