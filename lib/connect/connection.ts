/**
 * Writing a connection into a tool's config file and undoing it, shared by
 * every file-based adapter: the write is atomic with a backup, and the
 * record remembers the text before the first connect so that `disconnect`
 * can put it back byte for byte while nobody else has edited the file; once
 * someone has, the adapter's own undo takes out only clawauth's entries.
 *
 * @module
 */

import type { JsonObject } from "../json/json.ts";
import {
  type ConfigFile,
  readConfigFile,
  removeConfigFile,
  sha256Hex,
  writeConfigFile,
} from "./config_file.ts";
import { type ConnectRecord, deleteRecord, readRecord, recordPath, writeRecord } from "./record.ts";

/** The record of a tool for a config file, with where it lives. */
export async function recordOf(
  stateDir: string,
  key: { tool: string; file: ConfigFile },
): Promise<{ path: string; record: ConnectRecord | undefined }> {
  const path = await recordPath(stateDir, { tool: key.tool, file: key.file.path });
  return { path, record: readRecord(path) };
}

/**
 * Writes `text` over `file` (atomically, backup beside it) and records the
 * connection; `undo` is the adapter's data for a partial undo. Returns the
 * backup's path, if a previous file was saved.
 */
export async function writeConnection(
  stateDir: string,
  target: { tool: string; file: ConfigFile; text: string; undo: JsonObject },
): Promise<string | undefined> {
  const { tool, file, text } = target;
  const { path, record } = await recordOf(stateDir, { tool, file });
  const backup = writeConfigFile(file, text);
  // The text before the first connect can come back byte for byte only while
  // the file still reads as clawauth left it; after someone else's edit it cannot.
  const untouched = record !== undefined && record.undo.exact === true &&
    record.afterSha256 === await sha256Hex(file.text ?? "");
  const exact = record === undefined || untouched;
  const createdFile = record === undefined
    ? file.text === undefined
    : record.undo.createdFile === true;
  writeRecord(path, {
    version: 1,
    tool,
    file: file.path,
    before: record === undefined ? (file.text ?? null) : exact ? record.before : null,
    afterSha256: await sha256Hex(text),
    undo: { ...target.undo, exact, createdFile },
  });
  return backup;
}

/** What `disconnect` did to one file. */
export interface UndoOutcome {
  file: ConfigFile;
  /** `none`: nothing recorded; `restored`: the exact old text; `removed`: clawauth's entries only. */
  how: "none" | "restored" | "removed";
  backup?: string;
}

/**
 * Undoes the recorded connection of `tool` to `path`: the exact previous
 * text (or no file) when the file reads as clawauth left it; otherwise the
 * text `partial` returns, which removes only clawauth's entries (`undefined`
 * there means the file should go: clawauth created it and nothing else is
 * left in it).
 */
export async function undoConnection(
  stateDir: string,
  target: {
    tool: string;
    path: string;
    dryRun: boolean;
    partial: (text: string, record: ConnectRecord) => string | undefined;
  },
): Promise<UndoOutcome> {
  const file = readConfigFile(target.path);
  const { path, record } = await recordOf(stateDir, { tool: target.tool, file });
  if (record === undefined) return { file, how: "none" };
  const current = file.text ?? "";
  const exact = record.undo.exact === true && file.text !== undefined &&
    record.afterSha256 === await sha256Hex(current);
  if (exact) {
    if (target.dryRun) return { file, how: "restored" };
    const backup = record.before === null
      ? removeConfigFile(file)
      : writeConfigFile(file, record.before);
    deleteRecord(path);
    return { file, how: "restored", ...(backup ? { backup } : {}) };
  }
  if (file.text === undefined) {
    // The file is gone already: nothing of ours is left in it.
    if (!target.dryRun) deleteRecord(path);
    return { file, how: "removed" };
  }
  const text = target.partial(current, record);
  if (target.dryRun) return { file, how: "removed" };
  let backup: string | undefined;
  if (text === undefined) backup = removeConfigFile(file);
  else if (text !== current) backup = writeConfigFile(file, text);
  deleteRecord(path);
  return { file, how: "removed", ...(backup ? { backup } : {}) };
}
