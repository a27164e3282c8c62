/**
 * The fleet store's password, found as libpq finds it: `PGPASSWORD`, else
 * the first matching line of the pgpass file (the URL's `passfile`, else
 * `PGPASSFILE`, else `~/.pgpass`). Never from argv or the URL. A pgpass file
 * that group or others can read is ignored with a warning, as libpq does.
 *
 * @module
 */

import type { PostgresTarget } from "./url.ts";

/** What the search found: the password, and a warning to print, if any. */
export interface PasswordLookup {
  password?: string;
  warning?: string;
}

/** Splits one pgpass line on unescaped `:` and undoes `\:` and `\\`. */
export function pgpassFields(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === "\\" && i + 1 < line.length) {
      current += line[++i];
    } else if (char === ":") {
      fields.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  fields.push(current);
  return fields;
}

/** The password of the first pgpass line matching `target` (`*` matches anything). */
export function matchPgpass(text: string, target: PostgresTarget): string | undefined {
  const wanted = [target.host, String(target.port), target.database, target.user];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === "" || raw.startsWith("#")) continue;
    const fields = pgpassFields(raw);
    if (fields.length < 5) continue;
    // A password may itself contain ':' (escaped or not past the fourth field).
    const password = fields.slice(4).join(":");
    if (wanted.every((value, i) => fields[i] === "*" || fields[i] === value)) return password;
  }
  return undefined;
}

/** Looks the password up for `target` in the run's environment. */
export function findPassword(
  target: PostgresTarget,
  env: (name: string) => string | undefined,
): PasswordLookup {
  const direct = env("PGPASSWORD");
  if (direct) return { password: direct };
  const home = env("HOME") || env("USERPROFILE");
  const file = target.passfile ?? env("PGPASSFILE") ?? (home ? `${home}/.pgpass` : undefined);
  if (!file) return {};
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(file);
  } catch {
    return {};
  }
  if (!info.isFile) return {};
  if (Deno.build.os !== "windows" && info.mode !== null && (info.mode & 0o077) !== 0) {
    return {
      warning:
        `the password file ${file} is readable by group or others, so it is ignored (chmod 600 ${file})`,
    };
  }
  try {
    return { password: matchPgpass(Deno.readTextFileSync(file), target) };
  } catch {
    return {};
  }
}
