/**
 * Reading and rewriting another tool's config file the way `connect` must:
 * a symlinked dotfile is written through (its link stays a link), the file
 * keeps its permission bits, every write is atomic (temp file, fsync,
 * rename) and leaves the previous content beside it as
 * `<file>.clawauth-backup` (0600: a config may hold secrets).
 *
 * @module
 */

import { Exit } from "../errors.ts";
import { fileError, readTextIfExists, writeFileAtomic } from "../fs/files.ts";

/** A tool's config file as read. */
export interface ConfigFile {
  /** The path as the tool names it. */
  path: string;
  /** Where it really lives: a symlink is followed, so the link survives our rename. */
  realPath: string;
  /** Its text, or `undefined` when it does not exist yet. */
  text: string | undefined;
  /** Its permission bits, when it exists (POSIX). */
  mode?: number;
}

/** The backup beside a config: the content before clawauth's last write. */
export function backupPathOf(file: ConfigFile): string {
  return `${file.realPath}.clawauth-backup`;
}

function realPathOf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return path;
    throw error;
  }
}

/** Reads a config file (a regular file of bounded size, or missing). */
export function readConfigFile(path: string): ConfigFile {
  const realPath = realPathOf(path);
  const text = readTextIfExists(realPath);
  if (text === undefined) return { path, realPath, text };
  const mode = Deno.build.os === "windows" ? undefined : Deno.statSync(realPath).mode ?? undefined;
  return { path, realPath, text, ...(mode === undefined ? {} : { mode: mode & 0o777 }) };
}

/**
 * Writes `text` over `file` atomically, after saving its previous content
 * as the backup; returns the backup's path, or `undefined` when the file is
 * new. The file keeps its mode (a new one is 0600).
 */
export function writeConfigFile(file: ConfigFile, text: string): string | undefined {
  const backup = file.text === undefined ? undefined : backupPathOf(file);
  if (backup !== undefined) writeFileAtomic(backup, file.text ?? "");
  writeFileAtomic(file.realPath, text);
  if (file.mode !== undefined && file.mode !== 0o600) {
    try {
      Deno.chmodSync(file.realPath, file.mode);
    } catch (error) {
      throw fileError(
        file.realPath,
        `was written but its mode could not be restored (${
          error instanceof Error ? error.message : String(error)
        })`,
        `Restore it by hand: chmod ${file.mode.toString(8)} ${file.realPath}`,
        Exit.failure,
      );
    }
  }
  return backup;
}

/** Removes a config file clawauth created, keeping its last content as the backup. */
export function removeConfigFile(file: ConfigFile): string | undefined {
  if (file.text === undefined) return undefined;
  const backup = backupPathOf(file);
  writeFileAtomic(backup, file.text);
  Deno.removeSync(file.realPath);
  return backup;
}

/** The SHA-256 of a text, as hex (to tell whether a file changed since clawauth wrote it). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
