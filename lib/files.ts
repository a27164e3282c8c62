/**
 * Private, crash-safe file writes: directories 0700 and files 0600 whatever
 * the umask, and a write is a rename of a fsynced temp file, so a crash leaves
 * the old or the new content, never a mix (SPEC §1, §4).
 *
 * @module
 */

const POSIX = Deno.build.os !== "windows";

/** Creates `dir` and its missing parents as 0700 (mode bits are POSIX only). */
export function ensurePrivateDir(dir: string): void {
  try {
    if (Deno.statSync(dir).isDirectory) return;
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
  // mkdir's mode is filtered by the umask; the store must not be.
  if (POSIX) Deno.chmodSync(dir, 0o700);
}

/** Reads a text file, or `undefined` when it does not exist. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Opens (creating 0600 if needed) a file used only for locking. */
export function openPrivate(path: string): Deno.FsFile {
  const file = Deno.openSync(path, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  if (POSIX) Deno.chmodSync(path, 0o600);
  return file;
}

/**
 * Writes `text` to `path` atomically: a 0600 temp file beside it, fsync,
 * rename, then fsync of the directory so the rename itself survives a crash.
 */
export function writeFileAtomic(path: string, text: string): void {
  const dir = path.replace(/\/[^/]*$/, "") || ".";
  ensurePrivateDir(dir);
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const temp = `${path}.${Deno.pid}.${random}.tmp`;
  const file = Deno.openSync(temp, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    if (POSIX) Deno.chmodSync(temp, 0o600);
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
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
