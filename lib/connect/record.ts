/**
 * What `connect` changed, kept so that `disconnect` removes exactly that:
 * one small JSON file per tool and config file in
 * `<state>/clawauth-connect/` (0600 in a 0700 dir, since it keeps the text
 * the file had before clawauth first touched it). When the file still reads
 * exactly as clawauth left it, `disconnect` puts that text back byte for
 * byte; when someone edited it since, only clawauth's own entries are taken
 * out (each adapter keeps in `undo` what it needs for that).
 *
 * @module
 */

import { type ClawauthError, unusableFile } from "../errors.ts";
import { readJsonFile, readTextIfExists, writeFileAtomic } from "../fs/files.ts";
import { isObject, type JsonObject } from "../json/json.ts";
import { join } from "../paths.ts";
import { sha256Hex } from "./config_file.ts";

/** One tool connection. */
export interface ConnectRecord {
  version: 1;
  /** The tool's name, e.g. `claude-code`. */
  tool: string;
  /** The config file connect changed, as the tool names it. */
  file: string;
  /** The file's text before the first connect; `null` when connect created it. */
  before: string | null;
  /** SHA-256 of the text clawauth last wrote (hex). */
  afterSha256: string;
  /** Adapter-specific data for undoing only clawauth's entries. */
  undo: JsonObject;
}

/** The dir of the records: `<state>/clawauth-connect`. */
export function recordDir(stateDir: string): string {
  return join(stateDir, "clawauth-connect");
}

/** Which connection a record is about: a tool and the config it changed. */
export interface RecordKey {
  tool: string;
  /** The config file (or another name for what was changed, e.g. `<file>#<url>`). */
  file: string;
}

/** Where the record of one tool and file lives. */
export async function recordPath(stateDir: string, key: RecordKey): Promise<string> {
  const hash = (await sha256Hex(key.file)).slice(0, 16);
  return join(recordDir(stateDir), `${key.tool}-${hash}.json`);
}

function badRecord(path: string, reason: string): ClawauthError {
  return unusableFile({
    what: "connect record",
    path,
    hint:
      `Move it aside (mv ${path} ${path}.old) and remove clawauth's entries from the tool's config by hand.`,
  }, reason);
}

/** Reads a record, or `undefined` when there is none. */
export function readRecord(path: string): ConnectRecord | undefined {
  const data = readJsonFile(path, (reason) => badRecord(path, reason));
  if (data === undefined) return undefined;
  if (
    !isObject(data) || data.version !== 1 || typeof data.tool !== "string" ||
    typeof data.file !== "string" || typeof data.afterSha256 !== "string" ||
    !(data.before === null || typeof data.before === "string") || !isObject(data.undo)
  ) {
    throw badRecord(path, "it is not a version 1 record");
  }
  return data as unknown as ConnectRecord;
}

/** Writes a record atomically (0600; its dir 0700). */
export function writeRecord(path: string, record: ConnectRecord): void {
  writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * Records a connection that another program wrote into `file` (`git config`,
 * `openclaw config patch`): there is no earlier text to put back byte for
 * byte (`before` is null), only the adapter's `undo` and the hash of the
 * file as that program left it.
 */
export async function recordProgramEdit(
  path: string,
  edit: { tool: string; file: string; undo: JsonObject },
): Promise<void> {
  writeRecord(path, {
    version: 1,
    tool: edit.tool,
    file: edit.file,
    before: null,
    afterSha256: await sha256Hex(readTextIfExists(edit.file) ?? ""),
    undo: edit.undo,
  });
}

/** Deletes a record once its connection is undone. */
export function deleteRecord(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
