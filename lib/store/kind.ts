/**
 * Which store backend a run uses (SPEC §1 "Store backends"): `--store` >
 * `$CLAWAUTH_STORE` > `clawauth.json` `"store"` > detection. Cheap: on the
 * `token` hot path it costs at most one small file read and one stat.
 *
 * @module
 */

import { ClawauthError, Exit } from "../errors.ts";
import { readTextIfExists } from "../files.ts";
import { isObject, own } from "../json.ts";

/** The store backends this version knows. */
export type StoreKind = "json" | "openclaw";

const KINDS: readonly StoreKind[] = ["json", "openclaw"];

/** `<state>/state/openclaw.sqlite`: OpenClaw ≥ 2026.9's shared state DB. */
export function openclawStateDbPath(stateDir: string): string {
  return `${stateDir}/state/openclaw.sqlite`.replace(/\/{2,}/g, "/");
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

/** The backend of this run; a name it does not know is a usage error (exit 64). */
export function chooseStoreKind(choice: StoreChoice): StoreKind {
  const named = choice.flag || choice.env || configuredStore(choice.configPath);
  if (named) return checkedKind(named);
  try {
    return Deno.statSync(openclawStateDbPath(choice.stateDir)).isFile ? "openclaw" : "json";
  } catch {
    return "json";
  }
}

function checkedKind(named: string): StoreKind {
  if ((KINDS as readonly string[]).includes(named)) return named as StoreKind;
  if (/^postgres(ql)?:\/\//.test(named)) {
    throw new ClawauthError(
      "A PostgreSQL store (fleet mode) is not available in this version of clawauth.",
      Exit.usage,
      "Use --store json or --store openclaw.",
    );
  }
  throw new ClawauthError(
    `The store "${named.slice(0, 40).replace(/[^\x20-\x7e]/g, "?")}" is not json or openclaw.`,
    Exit.usage,
    'Pick one with --store json|openclaw, CLAWAUTH_STORE or clawauth.json\'s "store".',
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
