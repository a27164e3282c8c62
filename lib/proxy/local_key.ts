/**
 * The proxy's local key: what tools hold instead of a provider secret. It
 * works on 127.0.0.1 and nowhere else. Stored 0600 in the state dir as
 * `clawauth-proxy.key`; `clawauth-local-` and 32 random bytes (base64url),
 * so a leaked one is recognisable.
 *
 * @module
 */

import { ClawauthError, Exit } from "../errors.ts";
import { join } from "../paths.ts";
import { readTextIfExists, statIfExists, writeFileAtomic } from "../fs/files.ts";

/** The prefix every local key starts with. */
export const LOCAL_KEY_PREFIX = "clawauth-local-";

const KEY_SHAPE = /^clawauth-local-[A-Za-z0-9_-]{43}$/;

/** Where the local key of a state dir lives. */
export function localKeyPath(stateDir: string): string {
  return join(stateDir, "clawauth-proxy.key");
}

function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const base64 = btoa(String.fromCharCode(...bytes));
  return LOCAL_KEY_PREFIX + base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The local key of a state dir, or `undefined` when none was made yet; a damaged one is exit 65. */
export function readLocalKey(stateDir: string): string | undefined {
  const path = localKeyPath(stateDir);
  const text = readTextIfExists(path);
  if (text === undefined) return undefined;
  const key = text.trim();
  if (!KEY_SHAPE.test(key)) {
    throw new ClawauthError(
      `The proxy key ${path} is not a clawauth local key.`,
      Exit.data,
      "Make a new one: clawauth proxy key --rotate",
    );
  }
  return key;
}

/** The local key, created first when there is none (two processes creating it agree). */
export function ensureLocalKey(stateDir: string): string {
  const existing = readLocalKey(stateDir);
  if (existing !== undefined) return existing;
  const path = localKeyPath(stateDir);
  const draft = `${path}.${Deno.pid}.new`;
  writeFileAtomic(draft, `${newKey()}\n`);
  try {
    // A hard link never replaces: whoever links first made the key everyone reads.
    Deno.linkSync(draft, path);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  } finally {
    Deno.removeSync(draft);
  }
  return readLocalKey(stateDir) as string;
}

/** Replaces the local key with a new one; a running proxy takes it within a second. */
export function rotateLocalKey(stateDir: string): string {
  const key = newKey();
  writeFileAtomic(localKeyPath(stateDir), `${key}\n`);
  return key;
}

/** Whether two keys are equal, in time that depends on the expected key's length only. */
export function sameKey(given: string, expected: string): boolean {
  const sameLength = given.length === expected.length;
  const left = sameLength ? given : expected;
  let diff = sameLength ? 0 : 1;
  for (let i = 0; i < expected.length; i++) diff |= left.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

/**
 * The key a running proxy accepts, re-read when its file changes (checked at
 * most once a second), so `proxy key --rotate` retires the old key without a
 * restart.
 */
export class LocalKeyHolder {
  #key: string;
  #mtime: number | undefined;
  #checkedAt = 0;

  /** Reads (or creates) the key of `stateDir`. */
  constructor(private readonly stateDir: string, private readonly now: () => number) {
    this.#key = ensureLocalKey(stateDir);
    this.#mtime = statIfExists(localKeyPath(stateDir))?.mtime?.getTime();
  }

  /** Whether `given` is the current key. */
  accepts(given: string | undefined): boolean {
    const now = this.now();
    if (now - this.#checkedAt >= 1000) {
      this.#checkedAt = now;
      const mtime = statIfExists(localKeyPath(this.stateDir))?.mtime?.getTime();
      if (mtime !== this.#mtime) {
        this.#mtime = mtime;
        try {
          this.#key = readLocalKey(this.stateDir) ?? this.#key;
        } catch {
          // A damaged key file: keep the key that was valid rather than accept none.
        }
      }
    }
    return given !== undefined && sameKey(given, this.#key);
  }
}
