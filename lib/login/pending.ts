/**
 * Pending two-step logins (`login --start` / `login --finish`): the PKCE
 * verifier waits in a 0600 file for at most 15 minutes and is used once.
 *
 * Nothing read back is trusted: the file must still be the user's own
 * private regular file (not a link, not readable or writable by others),
 * and every field must have the shape `--start` wrote, since the profile
 * name becomes a store key and the verifier and redirect URI go to the
 * provider.
 *
 * @module
 */

import { endpointProblem } from "../oauth/endpoints.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { statIfExists, writeFileAtomic } from "../fs/files.ts";
import { isObject, own } from "../json/json.ts";
import { safeText } from "../output/output.ts";
import { join } from "../paths.ts";
import { PROFILE_NAME, PROVIDER_ID } from "../profiles.ts";

/** How long a started login may be finished. */
export const PENDING_TTL_MS = 15 * 60_000;

/** Clock steps tolerated on an expiry that lies further ahead than the TTL. */
const EXPIRY_SLACK_MS = 60_000;
/** A pending file is a few hundred bytes; anything much larger is not ours. */
const MAX_PENDING_BYTES = 16 * 1024;
/** RFC 6749 state as `--start` makes it (base64url), with room for other shapes. */
const STATE = /^[\x21-\x7e]{16,512}$/;
/** RFC 7636 §4.1: 43-128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const MAX_REDIRECT_LENGTH = 2048;
const POSIX = Deno.build.os !== "windows";

/** What `login --finish` needs to complete a started login. */
export interface PendingLogin {
  provider: string;
  profile?: string;
  state: string;
  verifier: string;
  redirectUri: string;
  expiresAt: number;
}

/** The directory of an agent's pending logins. */
export function pendingDir(agentDir: string): string {
  return join(agentDir, "pending");
}

async function fileName(state: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(state),
  );
  return `${
    [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")
  }.json`;
}

/** Saves a started login. */
export async function savePending(
  agentDir: string,
  login: PendingLogin,
): Promise<void> {
  writeFileAtomic(
    join(pendingDir(agentDir), await fileName(login.state)),
    JSON.stringify(login),
  );
}

/** Why a redirect URI read back is unusable, or `undefined` when it is fine. */
function redirectProblem(value: string): string | undefined {
  if (value.length > MAX_REDIRECT_LENGTH || endpointProblem(value) !== undefined) {
    return "its redirect URI is not an https or loopback URL";
  }
  const url = new URL(value);
  if (url.username || url.password || url.hash) {
    return "its redirect URI has credentials or a fragment";
  }
  return undefined;
}

/** The pending login in `data`, or the reason it is not one `--start` wrote. */
function validPending(data: unknown, now: number): PendingLogin | string {
  if (!isObject(data)) return "it is not a JSON object";
  const text = (key: string) => {
    const value = own(data, key);
    return typeof value === "string" ? value : undefined;
  };
  const [provider, state, verifier, redirectUri, profile] = [
    "provider",
    "state",
    "verifier",
    "redirectUri",
    "profile",
  ].map(text);
  const expiresAt = own(data, "expiresAt");
  if (provider === undefined || !PROVIDER_ID.test(provider)) return "its provider id is invalid";
  if (
    own(data, "profile") !== undefined && (profile === undefined || !PROFILE_NAME.test(profile))
  ) {
    return "its profile name is invalid";
  }
  if (state === undefined || !STATE.test(state)) return "its state is invalid";
  if (verifier === undefined || !VERIFIER.test(verifier)) return "its PKCE verifier is invalid";
  if (redirectUri === undefined) return "it has no redirect URI";
  const problem = redirectProblem(redirectUri);
  if (problem) return problem;
  if (
    typeof expiresAt !== "number" || !Number.isSafeInteger(expiresAt) || expiresAt <= 0 ||
    expiresAt > now + PENDING_TTL_MS + EXPIRY_SLACK_MS
  ) {
    return "its expiry is invalid";
  }
  return { provider, ...(profile ? { profile } : {}), state, verifier, redirectUri, expiresAt };
}

/**
 * The effective uid of this process. `Deno.uid()` needs `--allow-sys`, which
 * the binary may lack (and asking would prompt on a terminal), so without it
 * the owner of a file created here tells.
 */
function ownUid(dir: string): number | null {
  if (!POSIX) return null;
  if (Deno.permissions.querySync({ name: "sys", kind: "uid" }).state === "granted") {
    return Deno.uid();
  }
  const probe = join(dir, `.uid-probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  const file = Deno.openSync(probe, { write: true, createNew: true, mode: 0o600 });
  try {
    return file.statSync().uid;
  } finally {
    file.close();
    Deno.removeSync(probe);
  }
}

function untrusted(path: string, problem: string, fix: string): ClawauthError {
  return new ClawauthError(
    `The pending login ${safeText(path, 300)} ${problem}, so clawauth will not use it.`,
    Exit.data,
    fix,
  );
}

/**
 * Refuses (exit 65) a pending directory or file that is not the user's own
 * and private: a link, not a regular file (directory), another owner, or
 * group/other permission bits (directories: write bits).
 */
function assertPrivate(path: string, info: Deno.FileInfo, uid: number | null, dir: boolean): void {
  const restart = "then start the login again: clawauth login --provider ID --start";
  if (info.isSymlink) {
    throw untrusted(path, "is a symbolic link", `Remove it (rm ${path}), ${restart}`);
  }
  if (dir ? !info.isDirectory : !info.isFile) {
    throw untrusted(
      path,
      dir ? "is not a directory" : "is not a regular file",
      `Remove it (rm -r ${path}), ${restart}`,
    );
  }
  if (!POSIX) return;
  if (uid !== null && info.uid !== uid) {
    throw untrusted(
      path,
      `is owned by uid ${info.uid}, not by you`,
      `Remove it (rm -r ${path}), ${restart}`,
    );
  }
  const mode = (info.mode ?? 0) & 0o777;
  if (dir ? (mode & 0o022) !== 0 : (mode & 0o077) !== 0) {
    const octal = mode.toString(8).padStart(4, "0");
    throw untrusted(
      path,
      dir
        ? `is writable by other users (mode ${octal})`
        : `can be read or changed by other users (mode ${octal})`,
      dir
        ? `Make it private (chmod 700 ${path}), ${restart}`
        : `Its PKCE verifier may have been seen: remove it (rm ${path}), ${restart}`,
    );
  }
}

/** Reads a checked pending file through one descriptor, making sure it is the inode checked. */
function readChecked(path: string, checked: Deno.FileInfo): string {
  const file = Deno.openSync(path, { read: true });
  try {
    const opened = file.statSync();
    if (opened.ino !== checked.ino || opened.dev !== checked.dev || !opened.isFile) {
      throw untrusted(path, "changed while it was read", "Start the login again.");
    }
    const buffer = new Uint8Array(MAX_PENDING_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = file.readSync(buffer.subarray(length));
      if (n === null || n === 0) break;
      length += n;
    }
    return length > MAX_PENDING_BYTES ? "" : new TextDecoder().decode(buffer.subarray(0, length));
  } finally {
    file.close();
  }
}

function parse(text: string, now: number): PendingLogin | string {
  try {
    return validPending(JSON.parse(text), now);
  } catch {
    return "it is not JSON";
  }
}

/** The pending entries, of any kind: links and directories are refused rather than skipped. */
function listPending(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((entry) => entry.name.endsWith(".json"))
      .map((entry) => join(dir, entry.name));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

const notPending = (why: string) =>
  new ClawauthError(
    `No pending login matches this answer: ${why}.`,
    Exit.data,
    "Start again: clawauth login --provider ID --start",
  );

/**
 * Takes the pending login a `--finish` answer belongs to, removing it so it
 * is used once; by `state` when the answer has one, else the only one.
 * Refuses (exit 65) pending files that are not private or not well-formed.
 */
export async function claimPending(
  agentDir: string,
  state: string | null,
  now: number,
): Promise<PendingLogin> {
  const dir = pendingDir(agentDir);
  const dirInfo = statIfExists(dir, { link: true });
  if (!dirInfo) throw notPending("none is waiting");
  const uid = dirInfo.isDirectory && !dirInfo.isSymlink ? ownUid(dir) : null;
  assertPrivate(dir, dirInfo, uid, true);
  let path: string;
  if (state !== null) {
    path = join(dir, await fileName(state));
  } else {
    const live: string[] = [];
    for (const candidate of listPending(dir)) {
      const info = statIfExists(candidate, { link: true });
      if (!info) continue; // claimed by another finisher meanwhile
      assertPrivate(candidate, info, uid, false);
      const login = parse(readChecked(candidate, info), now);
      if (typeof login === "object" && login.expiresAt > now) live.push(candidate);
    }
    if (live.length !== 1) {
      throw notPending(
        live.length === 0 ? "none is waiting" : "several are waiting, and a bare code names none",
      );
    }
    path = live[0];
  }
  const info = statIfExists(path, { link: true });
  if (!info) throw notPending("it was already used, or never started here");
  assertPrivate(path, info, uid, false);
  // Renaming first makes the claim atomic: of two finishers only one wins.
  const claimed = `${path}.claimed-${Deno.pid}`;
  try {
    Deno.renameSync(path, claimed);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw notPending("it was already used, or never started here");
    }
    throw error;
  }
  let login: PendingLogin | string;
  try {
    login = parse(readChecked(claimed, info), now);
  } finally {
    Deno.removeSync(claimed);
  }
  if (typeof login === "string") throw notPending(`its file is damaged (${login})`);
  if (path !== join(dir, await fileName(login.state))) {
    throw notPending("its file is damaged (its name does not match its state)");
  }
  if (login.expiresAt <= now) {
    throw notPending("it expired (logins must be finished within 15 minutes)");
  }
  return login;
}
