/**
 * Pending two-step logins (`login --start` / `login --finish`): the PKCE
 * verifier waits in a 0600 file for at most 15 minutes and is used once.
 *
 * @module
 */

import { ClawauthError, Exit } from "./errors.ts";
import { readTextIfExists, writeFileAtomic } from "./files.ts";
import { isObject, numberAt, stringAt } from "./json.ts";
import { join } from "./paths.ts";

/** How long a started login may be finished. */
export const PENDING_TTL_MS = 15 * 60_000;

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

function parsePending(text: string | undefined): PendingLogin | undefined {
  if (text === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(text);
    if (!isObject(data)) return undefined;
    const [provider, state, verifier, redirectUri] = [
      "provider",
      "state",
      "verifier",
      "redirectUri",
    ]
      .map((key) => stringAt(data, key));
    const expiresAt = numberAt(data, "expiresAt");
    if (
      !provider || !state || !verifier || !redirectUri ||
      expiresAt === undefined
    ) return undefined;
    return {
      provider,
      state,
      verifier,
      redirectUri,
      expiresAt,
      profile: stringAt(data, "profile"),
    };
  } catch {
    return undefined;
  }
}

function listPending(agentDir: string): string[] {
  try {
    return [...Deno.readDirSync(pendingDir(agentDir))]
      .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
      .map((entry) => join(pendingDir(agentDir), entry.name));
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
 */
export async function claimPending(
  agentDir: string,
  state: string | null,
  now: number,
): Promise<PendingLogin> {
  let path: string;
  if (state !== null) {
    path = join(pendingDir(agentDir), await fileName(state));
  } else {
    const live = listPending(agentDir).filter((p) =>
      (parsePending(readTextIfExists(p))?.expiresAt ?? 0) > now
    );
    if (live.length !== 1) {
      throw notPending(
        live.length === 0 ? "none is waiting" : "several are waiting, and a bare code names none",
      );
    }
    path = live[0];
  }
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
  const login = parsePending(readTextIfExists(claimed));
  Deno.removeSync(claimed);
  if (!login) throw notPending("its file is damaged");
  if (login.expiresAt <= now) {
    throw notPending("it expired (logins must be finished within 15 minutes)");
  }
  return login;
}
