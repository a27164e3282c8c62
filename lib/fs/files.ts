/**
 * Private, crash-safe file access: directories 0700 and files 0600 whatever
 * the umask, and a write is a rename of a fsynced temp file, so a crash leaves
 * the old or the new content, never a mix (docs/files.md, docs/locking.md). Every read is of a
 * regular file of bounded size, and no file is created through a link that
 * someone else planted.
 *
 * @module
 */

import { ClawauthError, Exit } from "../errors.ts";
import { parseJson } from "../json/json.ts";

const POSIX = Deno.build.os !== "windows";

/** The largest file clawauth reads (a store of 1,000 profiles is about 0.6 MB). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** One sentence for a file-system surprise: the path, what is wrong, and the fix. */
export function fileError(
  path: string,
  problem: string,
  fix: string,
  exitCode: typeof Exit.data | typeof Exit.failure = Exit.data,
): ClawauthError {
  return new ClawauthError(`${path} ${problem}.`, exitCode, fix);
}

/** What an entry is, in words, for messages. */
function kindOf(info: Deno.FileInfo): string {
  return info.isSymlink
    ? "a symbolic link"
    : info.isDirectory
    ? "a directory"
    : info.isFile
    ? "a file"
    : "a special file (FIFO, socket or device)";
}

/** Creates `dir` and its missing parents as 0700 (mode bits are POSIX only). */
export function ensurePrivateDir(dir: string): void {
  try {
    if (Deno.statSync(dir).isDirectory) return;
    throw fileError(dir, "is not a directory", `Move it aside: mv ${dir} ${dir}.old`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const parent = dir.replace(/\/+[^/]*\/*$/, "");
  if (parent && parent !== dir) ensurePrivateDir(parent);
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    return;
  }
  // mkdir's mode is filtered by the umask; the store must not be. Only the
  // directory just made is changed, never what a link would point to.
  if (POSIX && Deno.lstatSync(dir).isDirectory) Deno.chmodSync(dir, 0o700);
}

/**
 * `stat` of `path` (`lstat` with `link: true`: a symlink itself, not what it
 * points to), or `undefined` when nothing is there.
 */
export function statIfExists(
  path: string,
  opts: { link?: boolean } = {},
): Deno.FileInfo | undefined {
  try {
    return opts.link ? Deno.lstatSync(path) : Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The names in `dir`, or `undefined` when it cannot be listed: one call
 * answers for several files that are usually absent, where each failed stat
 * would build and throw an exception.
 */
export function entryNames(dir: string): ReadonlySet<string> | undefined {
  try {
    return new Set(Array.from(Deno.readDirSync(dir), (entry) => entry.name));
  } catch {
    return undefined;
  }
}

/**
 * Why `dir` must not hold secrets (owned by another user, or writable by
 * group or others), or `undefined` when it is private enough or missing.
 */
export function unsafeDirProblem(dir: string): string | undefined {
  if (!POSIX) return undefined;
  const info = statIfExists(dir);
  if (!info) return undefined;
  if (!info.isDirectory) return "is not a directory";
  const uid = Deno.uid();
  if (uid !== null && info.uid !== uid) return `is owned by uid ${info.uid}, not by you`;
  if (((info.mode ?? 0) & 0o022) !== 0) return "is writable by group or others";
  return undefined;
}

/**
 * Refuses (exit 65) to keep secrets in a directory another user controls:
 * each of `dirs` that exists must be the user's and not group/other-writable.
 */
export function assertPrivateDirs(dirs: readonly string[]): void {
  for (const dir of dirs) {
    const problem = unsafeDirProblem(dir);
    if (problem) {
      throw fileError(
        dir,
        `${problem}, so clawauth will not keep secrets in it`,
        `Make it yours and private: chown "$(id -u)" ${dir} && chmod 700 ${dir}`,
      );
    }
  }
}

/** A mode as `chmod` takes it: `0666`. */
export function octalMode(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}

/**
 * Why a file must not hold secrets that clawauth reads in place (owned by
 * another user, or any access for group or others), or `undefined` when it
 * is private: unlike a store clawauth rewrites (a fresh 0600 file each
 * time), such a file keeps whatever mode it has.
 */
export function unsafeFileProblem(info: Deno.FileInfo): string | undefined {
  if (!POSIX || info.mode === null) return undefined;
  const uid = Deno.uid();
  if (uid !== null && info.uid !== uid) return `is owned by uid ${info.uid}, not by you`;
  const mode = info.mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `is ${octalMode(mode)}: ${mode & 0o022 ? "writable" : "readable"} by group or others`;
}

/**
 * Refuses (exit 65) to use secrets in a file (already stat'ed as `info`)
 * that another user owns or may read or change.
 */
export function assertPrivateFile(path: string, info: Deno.FileInfo): void {
  const problem = unsafeFileProblem(info);
  if (problem) {
    throw fileError(
      path,
      `${problem}, so clawauth will not use the secrets in it`,
      `Make it yours and private: chown "$(id -u)" ${path} && chmod 600 ${path}`,
    );
  }
}

/**
 * Reads a text file, or `undefined` when it does not exist. Anything but a
 * regular file of at most {@linkcode MAX_FILE_BYTES} is refused (exit 65)
 * before it is opened: a FIFO would hang the read, a device would never end.
 */
export function readTextIfExists(path: string): string | undefined {
  const info = statIfExists(path);
  if (!info) return undefined;
  if (!info.isFile) {
    throw fileError(
      path,
      `is ${kindOf(info)}, not a regular file`,
      `Move it aside: mv ${path} ${path}.old`,
    );
  }
  if (info.size > MAX_FILE_BYTES) throw tooLarge(path);
  // One call opens, reads and decodes: half the cost of open, fstat, read and
  // close on the hot path. Swapping the file between stat and read takes write
  // access to its directory, which for the store only its user has (a state
  // dir that is not private is refused). A byte-order mark is kept (JSON.parse
  // refuses it).
  const text = Deno.readTextFileSync(path);
  // Grown past the cap since the stat (in characters, which never outnumber bytes).
  if (text.length > MAX_FILE_BYTES) throw tooLarge(path);
  return text;
}

function tooLarge(path: string): ClawauthError {
  return fileError(
    path,
    `is larger than ${MAX_FILE_BYTES >> 20} MiB`,
    `Check what wrote it, then move it aside: mv ${path} ${path}.old`,
  );
}

/**
 * Parses a JSON file, or `undefined` when it does not exist; text that does
 * not parse becomes `bad(reason)` (the caller's sentence, its exit code).
 */
export function readJsonFile(path: string, bad: (reason: string) => Error): unknown {
  const text = readTextIfExists(path);
  return text === undefined ? undefined : parseJson(text, bad);
}

/**
 * Opens (creating 0600 if needed) a file used only for locking, without
 * following a link planted at `path`: a new file is created exclusively
 * (O_EXCL does not follow links), an existing one must be a regular file that
 * is still the same inode once opened.
 */
export function openPrivate(path: string): Deno.FsFile {
  for (let attempt = 0; attempt < 3; attempt++) {
    let before: Deno.FileInfo;
    try {
      before = Deno.lstatSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      try {
        // The mode is only ever narrowed by the umask, so no chmod is needed.
        return Deno.openSync(path, { read: true, write: true, createNew: true, mode: 0o600 });
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) continue;
        throw error;
      }
    }
    if (!before.isFile) {
      throw fileError(
        path,
        `is ${kindOf(before)}, not a lock file`,
        `Remove it (rm -r ${path}); clawauth creates the lock file itself`,
      );
    }
    const file = Deno.openSync(path, { read: true, write: true });
    const opened = file.statSync();
    if (opened.ino !== before.ino || opened.dev !== before.dev) {
      file.close();
      continue; // replaced between the check and the open: look again
    }
    const uid = Deno.uid();
    if (POSIX && uid !== null && opened.uid !== uid) {
      file.close();
      throw fileError(path, `is owned by uid ${opened.uid}, not by you`, `Remove it: rm ${path}`);
    }
    if (POSIX && ((opened.mode ?? 0) & 0o077) !== 0) Deno.chmodSync(path, 0o600);
    return file;
  }
  throw fileError(path, "keeps changing while clawauth opens it", "Check what else writes there");
}

/**
 * Writes `text` to `path` atomically: a 0600 temp file beside it, fsync,
 * rename, then fsync of the directory so the rename itself survives a crash.
 */
export function writeFileAtomic(path: string, text: string): void {
  try {
    writeAtomically(path, text);
  } catch (error) {
    if (error instanceof ClawauthError) throw error;
    // A full or read-only disk, a directory in the way: say which file, and what to do.
    throw fileError(
      path,
      `could not be written (${error instanceof Error ? error.message : String(error)})`,
      "Check free space and permissions (clawauth doctor); the previous content is intact",
      Exit.failure,
    );
  }
}

function writeAtomically(path: string, text: string): void {
  const dir = path.replace(/\/[^/]*$/, "") || ".";
  ensurePrivateDir(dir);
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const temp = `${path}.${Deno.pid}.${random}.tmp`;
  // createNew is O_EXCL: it never follows a link, and the umask only narrows 0600.
  const file = Deno.openSync(temp, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) {
      written += file.writeSync(bytes.subarray(written));
    }
    file.syncSync();
  } catch (error) {
    file.close();
    Deno.removeSync(temp);
    throw error;
  }
  file.close();
  try {
    Deno.renameSync(temp, path);
  } catch (error) {
    Deno.removeSync(temp);
    throw error;
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  if (!POSIX) return;
  try {
    const handle = Deno.openSync(dir, { read: true });
    try {
      handle.syncSync();
    } finally {
      handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** Whether `path` exists (any kind of entry). */
export function exists(path: string): boolean {
  return statIfExists(path) !== undefined;
}
