/**
 * Encryption at rest for the fleet store (docs/fleet.md): every secret is sealed
 * by clawauth with AES-256-GCM (Web Crypto) before it leaves the machine, so
 * the database, its backups and `pg_dump` never hold a plaintext token.
 *
 * The key is 32 random bytes, base64, from `CLAWAUTH_STORE_KEY` or the file
 * named by `CLAWAUTH_STORE_KEY_FILE` (which must be 0600). The associated
 * data binds each ciphertext to its agent, profile, field and row version,
 * so a row copied, swapped or rolled back to an older ciphertext inside the
 * database does not decrypt: it is refused, never served as another
 * profile's secret or as a refresh token that has rotated out.
 *
 * A sealed value is `0x01 ‖ key id (8 bytes) ‖ IV (12 bytes) ‖ ciphertext ‖
 * tag (16 bytes)`. The key id (a digest of the key) tells "sealed under
 * another key" apart from "damaged or moved".
 *
 * @module
 */

import { ClawauthError, Exit } from "../../errors.ts";
import { readTextIfExists, statIfExists } from "../../fs/files.ts";

/** The format byte that starts every sealed value. */
const FORMAT = 1;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES;
const KEY_BYTES = 32;

/** A loaded store key. */
export interface StoreKey {
  /** The AES-256-GCM key (not extractable). */
  key: CryptoKey;
  /** 16 hex digits naming the key without revealing it. */
  id: string;
  /** Where it came from, for messages: `CLAWAUTH_STORE_KEY` or the file's path. */
  source: string;
}

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A fresh key, base64 (what `clawauth store keygen` prints). */
export function generateKeyText(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(KEY_BYTES))));
}

/** Decodes a key written as base64 of 32 bytes; anything else is exit 65 naming `source`. */
export function decodeKeyText(text: string, source: string): Uint8Array {
  const trimmed = text.trim().replace(/-/g, "+").replace(/_/g, "/");
  let raw: Uint8Array | undefined;
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    try {
      raw = Uint8Array.from(atob(trimmed), (c) => c.charCodeAt(0));
    } catch {
      raw = undefined;
    }
  }
  if (!raw || raw.length !== KEY_BYTES) {
    throw new ClawauthError(
      `${source} is not a store key (base64 of 32 bytes).`,
      Exit.data,
      "Make one with: clawauth store keygen",
    );
  }
  return raw;
}

/** Imports raw key bytes; `source` names them in messages. */
export async function importStoreKey(raw: Uint8Array, source: string): Promise<StoreKey> {
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new Uint8Array([...encoder.encode("clawauth-key-id\0"), ...raw]),
    ),
  );
  const key = await crypto.subtle.importKey("raw", new Uint8Array(raw), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  return { key, id: hex(digest.slice(0, KEY_ID_BYTES)), source };
}

/**
 * The store key of this run: `CLAWAUTH_STORE_KEY`, else the file named by
 * `CLAWAUTH_STORE_KEY_FILE` (0600, owned by the user). None is exit 64; a
 * malformed or exposed one exit 65.
 */
export async function loadStoreKey(env: (name: string) => string | undefined): Promise<StoreKey> {
  const inline = env("CLAWAUTH_STORE_KEY");
  if (inline) {
    return await importStoreKey(decodeKeyText(inline, "CLAWAUTH_STORE_KEY"), "CLAWAUTH_STORE_KEY");
  }
  const file = env("CLAWAUTH_STORE_KEY_FILE");
  if (!file) {
    throw new ClawauthError(
      "The fleet store needs its key: CLAWAUTH_STORE_KEY or CLAWAUTH_STORE_KEY_FILE is not set.",
      Exit.usage,
      "Set CLAWAUTH_STORE_KEY_FILE to a 0600 file holding the fleet's key (make a new one with: clawauth store keygen --out FILE).",
    );
  }
  return await importStoreKey(decodeKeyText(readKeyFile(file), `The key file ${file}`), file);
}

/**
 * Reads a key file, refusing one that others can read, that another user
 * owns, or that is not a regular file (a FIFO or a device would block the
 * read, or never end).
 */
export function readKeyFile(path: string): string {
  const hint = "Point CLAWAUTH_STORE_KEY_FILE at the 0600 file holding the fleet's key.";
  let info: Deno.FileInfo | undefined;
  try {
    info = statIfExists(path);
  } catch (error) {
    throw new ClawauthError(
      `The key file ${path} cannot be read (${error instanceof Error ? error.message : error}).`,
      Exit.data,
      hint,
    );
  }
  if (!info) throw new ClawauthError(`The key file ${path} does not exist.`, Exit.data, hint);
  if (!info.isFile) {
    throw new ClawauthError(`The key file ${path} is not a regular file.`, Exit.data, hint);
  }
  if (Deno.build.os !== "windows" && info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new ClawauthError(
      `The key file ${path} is readable by group or others (mode ${
        (info.mode & 0o777).toString(8).padStart(4, "0")
      }); it must be 0600.`,
      Exit.data,
      `Run: chmod 600 ${path}`,
    );
  }
  const uid = Deno.build.os === "windows" ? null : Deno.uid();
  if (uid !== null && info.uid !== null && info.uid !== uid && uid !== 0) {
    throw new ClawauthError(
      `The key file ${path} belongs to uid ${info.uid}, not to you.`,
      Exit.data,
      "Keep your own copy of the key, mode 0600.",
    );
  }
  let text: string | undefined;
  try {
    // The safe read checks the type again (a file swapped for a FIFO since the stat) and the size.
    text = readTextIfExists(path);
  } catch (error) {
    const why = error instanceof ClawauthError
      ? error.message.replace(/^.* (is [^.]*)\.$/, "$1")
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ClawauthError(`The key file ${path} cannot be read (${why}).`, Exit.data, hint);
  }
  if (text === undefined) {
    throw new ClawauthError(`The key file ${path} does not exist.`, Exit.data, hint);
  }
  return text;
}

/**
 * The associated data of one sealed value: what it belongs to, unambiguous
 * (a JSON array, so no id can forge another's by containing a separator).
 * A row's value is bound to the row's version too (schema 2), which every
 * write bumps: an older ciphertext of the same row put back does not open.
 * Without a version: the canary, and schema 1's rows while they migrate.
 */
export function associatedData(
  agent: string,
  profile: string,
  field: string,
  version?: number,
): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(
    version === undefined
      ? ["clawauth-fleet", 1, agent, profile, field]
      : ["clawauth-fleet", 2, agent, profile, field, version],
  ));
}

/** Seals `plaintext` for (agent, profile, field). */
export async function seal(
  key: StoreKey,
  plaintext: string,
  ad: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: ad, tagLength: TAG_BYTES * 8 },
      key.key,
      encoder.encode(plaintext),
    ),
  );
  const out = new Uint8Array(HEADER_BYTES + sealed.length);
  out[0] = FORMAT;
  out.set(hexBytes(key.id), 1);
  out.set(iv, 1 + KEY_ID_BYTES);
  out.set(sealed, HEADER_BYTES);
  return out;
}

function hexBytes(id: string): Uint8Array {
  return Uint8Array.from(id.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** The id of the key a value was sealed under, or `undefined` when it is not a sealed value. */
export function sealedKeyId(blob: Uint8Array): string | undefined {
  if (blob.length < HEADER_BYTES + TAG_BYTES || blob[0] !== FORMAT) return undefined;
  return hex(blob.subarray(1, 1 + KEY_ID_BYTES));
}

/**
 * Opens a sealed value; `undefined` when it does not decrypt (another key,
 * damage, or a value moved from another agent, profile or field).
 */
export async function unseal(
  key: StoreKey,
  blob: Uint8Array,
  ad: Uint8Array<ArrayBuffer>,
): Promise<string | undefined> {
  if (sealedKeyId(blob) === undefined) return undefined;
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: new Uint8Array(blob.subarray(1 + KEY_ID_BYTES, HEADER_BYTES)),
        additionalData: ad,
        tagLength: TAG_BYTES * 8,
      },
      key.key,
      new Uint8Array(blob.subarray(HEADER_BYTES)),
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(plain);
  } catch {
    return undefined;
  }
}

/** The canary's plaintext: a value only the right key turns back into this. */
export const CANARY_TEXT = "clawauth fleet store key canary v1";

/** Where the canary is bound: no agent, no profile. */
export const CANARY_AD: Uint8Array<ArrayBuffer> = associatedData("", "", "canary");

/**
 * Whether the canary row opens with `key`; `undefined` when there is no
 * canary. Here, beside the sealing, so the hot read can ask without loading
 * the database client.
 */
export async function canaryOpens(
  key: StoreKey,
  row: { canary: Uint8Array } | undefined,
): Promise<boolean | undefined> {
  if (!row) return undefined;
  return await unseal(key, row.canary, CANARY_AD) === CANARY_TEXT;
}

/** The error a key that does not open this store's canary gives (exit 65, never garbage). */
export function wrongKeyError(key: StoreKey, url: string): ClawauthError {
  return new ClawauthError(
    `The store key from ${key.source} is not the key of the fleet store ${url}: its secrets do not decrypt with it.`,
    Exit.data,
    "Use the fleet's current key (it may have been rotated with clawauth store rotate-key); clawauth store status shows the key check.",
  );
}
