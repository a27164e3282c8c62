/**
 * Which store backend a run uses (docs/stores.md): `--store` >
 * `$CLAWAUTH_STORE` > `clawauth.json` `"store"` > detection. Cheap: on the
 * `token` hot path it costs at most one small file read and one stat.
 *
 * @module
 */

import { ClawauthError, Exit } from "../errors.ts";
import { entryNames, readTextIfExists } from "../fs/files.ts";
import { isObject, own } from "../json/json.ts";
import { isPostgresUrl, parsePostgresUrl, withoutPassword } from "./postgres/url.ts";

/** The store backends this version knows. */
export type StoreKind = "json" | "openclaw" | "postgres";

/** The backends named by a word; `postgres` is named by its URL. */
const KINDS: readonly StoreKind[] = ["json", "openclaw"];

/** A chosen backend; a fleet store also carries its URL (never with a password). */
export interface StoreSelection {
  backend: StoreKind;
  /** The PostgreSQL store's normalised URL, when `backend` is `postgres`. */
  url?: string;
}

/** `<state>/state/openclaw.sqlite`: OpenClaw ≥ 2026.9's shared state DB. */
export function openclawStateDbPath(stateDir: string): string {
  return `${stateDir.replace(/\/+$/, "")}/state/openclaw.sqlite`;
}

/** What picks the backend, strongest first. */
export interface StoreChoice {
  stateDir: string;
  /** `--store`. */
  flag?: string;
  /** `$CLAWAUTH_STORE`. */
  env?: string;
  /** clawauth.json, whose `"store"` comes next. */
  configPath: string;
}

/** The backend of this run and, for a fleet store, its URL; junk is a usage error (exit 64). */
export function chooseStore(choice: StoreChoice): StoreSelection {
  const named = choice.flag || choice.env;
  if (named) return namedStore(named);
  const present = entryNames(choice.stateDir);
  const inStateDir = choice.configPath === `${choice.stateDir.replace(/\/+$/, "")}/clawauth.json`;
  const configured = present && inStateDir && !present.has("clawauth.json")
    ? undefined
    : configuredStore(choice.configPath);
  if (configured) return namedStore(configured);
  // A state dir without `state/` is a JSON layout: no stat of a file that is not there.
  if (present && !present.has("state")) return { backend: "json" };
  try {
    return {
      backend: Deno.statSync(openclawStateDbPath(choice.stateDir)).isFile ? "openclaw" : "json",
    };
  } catch {
    return { backend: "json" };
  }
}

/** The backend a name (`json`, `openclaw`, or a `postgres://` URL) selects; junk is exit 64. */
export function namedStore(named: string): StoreSelection {
  if ((KINDS as readonly string[]).includes(named)) return { backend: named as StoreKind };
  // Only the URL is checked here: the database client loads when the store is first used.
  if (isPostgresUrl(named)) return { backend: "postgres", url: parsePostgresUrl(named).url };
  throw new ClawauthError(
    `The store "${
      withoutPassword(named).slice(0, 40)
    }" is not json, openclaw or a postgres:// URL.`,
    Exit.usage,
    'Pick one with --store json|openclaw|postgres://USER@HOST/DB, CLAWAUTH_STORE or clawauth.json\'s "store".',
  );
}

/** clawauth.json's `"store"`, if set; a config that does not parse is left to its real readers. */
function configuredStore(path: string): string | undefined {
  const text = readTextIfExists(path);
  if (text === undefined || !text.includes('"store"')) return undefined;
  try {
    const data: unknown = JSON.parse(text);
    const store = isObject(data) ? own(data, "store") : undefined;
    return typeof store === "string" ? store : undefined;
  } catch {
    return undefined;
  }
}
