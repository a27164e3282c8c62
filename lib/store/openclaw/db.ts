/**
 * OpenClaw ≥ 2026.9's SQLite auth documents, read and written the way OpenClaw
 * layers them (docs/openclaw.md has the facts this follows):
 *
 * - shared: `<state>/state/openclaw.sqlite`, table `config_machine_state`,
 *   rows `authProfiles.store` (`{version: 1, profiles}`) and
 *   `authProfiles.state` (`{version: 1, order, lastGood, usageStats}`), found
 *   through row `auth.sharedStore` = `{"location": "state-db"}`;
 * - agent-local: `<agent dir>/openclaw-agent.sqlite`, tables
 *   `auth_profile_store` / `auth_profile_state`, row `primary`.
 *
 * An agent sees the shared documents overlaid by its own (its profiles win by
 * id, its order wins per provider, its lastGood and usageStats per key). This
 * module knows nothing of commands. It never creates a database, a table or a
 * legacy JSON file, and refuses, writing nothing, what it was not tested
 * with.
 *
 * @module
 */

import { assertPrivateDirs, assertPrivateFile, entryNames } from "../../fs/files.ts";
import { openclawStateDbPath } from "../kind.ts";
import { DatabaseSync } from "node:sqlite";
import { ClawauthError, Exit } from "../../errors.ts";
import { isObject, jsonEqual, type JsonObject, parseJson } from "../../json/json.ts";
import {
  type AuthDocuments,
  effectiveDocuments,
  emptyState,
  type Layer,
  type LayerPlan,
  MAIN_AGENT,
  placeChanges,
  type Row,
} from "./layers.ts";

export type { AuthDocuments, AuthStateDocument, AuthStoreDocument } from "./layers.ts";

/** The OpenClaw release these schemas were read from and tested against. */
export const OPENCLAW_TESTED_VERSION = "2026.9.6";
/** `PRAGMA user_version` of the shared state DB in that release. */
export const STATE_SCHEMA_VERSION = 18;
/** `PRAGMA user_version` of an agent DB in that release. */
export const AGENT_SCHEMA_VERSION = 23;

const SHARED_LOCATION_KEY = "auth.sharedStore";
const SHARED_STORE_KEY = "authProfiles.store";
const SHARED_STATE_KEY = "authProfiles.state";
const PRIMARY = "primary";
/** How long a read waits for a checkpoint or recovery to finish. */
const READ_BUSY_TIMEOUT_MS = 5_000;

/** Which databases the documents came from. */
export interface AuthSource {
  /** The shared state DB. */
  stateDb: string;
  /** The agent DB, when it exists (it then holds the auth tables). */
  agentDb?: string;
}

/** {@linkcode AuthDocuments} and where they came from. */
export interface AuthDocumentsRead extends AuthDocuments {
  source: AuthSource;
}

/** Whose documents to read or write. */
export interface OpenclawDbOptions {
  /** The OpenClaw state dir. */
  stateDir: string;
  /** `<state>/agents/<agent>/agent`. */
  agentDir: string;
  /** The agent id; `main` owns the shared documents. */
  agent: string;
}

/** {@linkcode updateAuthDocuments}'s options. */
export interface OpenclawUpdateOptions extends OpenclawDbOptions {
  /** How long to wait for OpenClaw's write lock on each database (exit 75 after). */
  timeoutMs: number;
}

const AGENT_DB_NAME = "openclaw-agent.sqlite";

/** `<agent dir>/openclaw-agent.sqlite`. */
export function openclawAgentDb(agentDir: string): string {
  return `${agentDir.replace(/\/+$/, "")}/${AGENT_DB_NAME}`;
}

/**
 * A database and the files SQLite keeps beside it in WAL mode (`-wal` holds
 * its latest pages, `-shm` their index): each must be private (0600).
 */
export function databaseFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

/** Whether the state dir holds OpenClaw's state DB (one stat; for backend detection). */
export function hasOpenclawStateDb(stateDir: string): boolean {
  return isFile(openclawStateDbPath(stateDir));
}

/**
 * The retired JSON files that make OpenClaw refuse an agent's providers with
 * `AUTH_PROFILE_MIGRATION_REQUIRED` (when that agent's own database holds no
 * profile) until `openclaw doctor --fix` archives them: `auth-profiles.json`
 * and `auth.json` in the agent dir, and for `main` also
 * `<state>/credentials/oauth.json`. Returns those that exist.
 */
export function retiredAuthFiles(opts: OpenclawDbOptions): string[] {
  const dir = opts.agentDir.replace(/\/+$/, "");
  const candidates = [`${dir}/auth-profiles.json`, `${dir}/auth.json`];
  if (opts.agent === MAIN_AGENT) {
    candidates.push(`${opts.stateDir.replace(/\/+$/, "")}/credentials/oauth.json`);
  }
  return candidates.filter(exists);
}

/**
 * The documents OpenClaw would show agent `opts.agent`, read-only: the shared
 * rows overlaid by the agent DB's rows when that file exists. Opens each
 * database read-only, reads its rows in one statement, writes nothing.
 *
 * @example
 * ```ts ignore
 * const { store } = readAuthDocuments({ stateDir, agentDir, agent: "main" });
 * console.log(Object.keys(store.profiles));
 * ```
 */
export function readAuthDocuments(opts: OpenclawDbOptions): AuthDocumentsRead {
  const stateDb = openclawStateDbPath(opts.stateDir);
  const agentDb = openclawAgentDb(opts.agentDir);
  // The agent dirs are checked by the caller; `state/` is the one dir only this store uses.
  assertPrivateDirs([parentDir(stateDb)]);
  const shared = withDatabase(stateDb, true, (db) => readSharedLayer(db, stateDb));
  // Most agents have no database of their own: a listing says so without a failed stat.
  const local = (entryNames(opts.agentDir)?.has(AGENT_DB_NAME) ?? true) && isFile(agentDb)
    ? withDatabase(agentDb, true, (db) => readLocalLayer(db, agentDb, opts.agent))
    : undefined;
  return {
    ...effectiveDocuments(shared, local),
    source: local ? { stateDb, agentDb } : { stateDb },
  };
}

/**
 * Changes the documents of `opts.agent` in one write transaction per database
 * (`BEGIN IMMEDIATE`, waiting at most `opts.timeoutMs` for OpenClaw's writers,
 * else exit 75). Inside it the rows are read again, `change` edits the
 * effective documents in place (it must not wait for anything), and each
 * changed key is written back where OpenClaw keeps it:
 *
 * - a profile to the layer that holds it; a new one to the shared store for
 *   `main`, to the agent DB for any other agent;
 * - `order`, `lastGood` and `usageStats` entries to the agent DB when it exists,
 *   else to the shared state (for another agent than `main`, `order` then
 *   needs the agent DB);
 * - a removed key from the agent DB, and also from the shared documents for
 *   `main` or an agent without a DB; another agent cannot remove a shared
 *   profile.
 *
 * Keys this module does not know are kept. Each row is replaced only if it
 * still holds the text read (`UPDATE … WHERE key = ? AND value = ?`), so a
 * writer that bypassed SQLite's locking fails the update instead of being
 * overwritten. Any error rolls everything back that was not committed yet;
 * the two databases commit one after the other (agent DB first).
 *
 * @example
 * ```ts ignore
 * updateAuthDocuments({ stateDir, agentDir, agent: "main", timeoutMs: 30_000 }, (docs) => {
 *   docs.store.profiles["openai:ci"] = { type: "api_key", provider: "openai", key };
 * });
 * ```
 */
export function updateAuthDocuments<T>(
  opts: OpenclawUpdateOptions,
  change: (docs: AuthDocuments) => T,
): T {
  const stateDb = openclawStateDbPath(opts.stateDir);
  const agentDb = openclawAgentDb(opts.agentDir);
  const hasAgentDb = isFile(agentDb);
  assertPrivateDirs([parentDir(stateDb)]);
  // A read trusts `-wal`/`-shm` because only the user can reach them in a
  // private dir; a write checks them too, so a file left open before is
  // never written through (SQLite keeps the mode it finds).
  for (const path of hasAgentDb ? [stateDb, agentDb] : [stateDb]) {
    for (const file of databaseFiles(path).slice(1)) {
      const info = fileInfo(file);
      if (info) assertPrivateFile(file, info);
    }
  }
  assertWritable(stateDb);
  if (hasAgentDb) assertWritable(agentDb);
  const deadline = Date.now() + Math.max(0, opts.timeoutMs);
  return withDatabase(stateDb, false, (sharedDb) => {
    const run = (localDb: DatabaseSync | undefined): T => {
      const open: { db: DatabaseSync; path: string }[] = [];
      try {
        begin(sharedDb, stateDb, deadline);
        open.push({ db: sharedDb, path: stateDb });
        if (localDb) {
          begin(localDb, agentDb, deadline);
          open.push({ db: localDb, path: agentDb });
        }
        const shared = readSharedLayer(sharedDb, stateDb);
        const local = localDb ? readLocalLayer(localDb, agentDb, opts.agent) : undefined;
        const before = effectiveDocuments(shared, local);
        const docs = clone(before);
        const result = change(docs);
        const plan = placeChanges(before, docs, shared, local, { agent: opts.agent, agentDb });
        if (localDb && local) writeLayer(localDb, agentDb, "agent", local, plan.local);
        writeLayer(sharedDb, stateDb, "shared", shared, plan.shared);
        while (open.length > 0) {
          const last = open[open.length - 1];
          commit(last.db, last.path);
          open.pop();
        }
        return result;
      } catch (error) {
        for (const { db } of open) rollback(db);
        throw error;
      }
    };
    return hasAgentDb ? withDatabase(agentDb, false, run) : run(undefined);
  });
}

// --- layers -----------------------------------------------------------------

function readSharedLayer(db: DatabaseSync, path: string): Layer {
  assertSchema(db, path, STATE_SCHEMA_VERSION, "state");
  const rows = query(
    db,
    path,
    "SELECT state_key AS k, value_json AS v FROM config_machine_state WHERE state_key IN (?, ?, ?)",
    [SHARED_LOCATION_KEY, SHARED_STORE_KEY, SHARED_STATE_KEY],
  );
  const text = (key: string): string | undefined => {
    const row = rows.find((r) => r.k === key);
    return row === undefined ? undefined : String(row.v);
  };
  const location = text(SHARED_LOCATION_KEY);
  if (location === undefined) {
    throw refusal(
      `OpenClaw's state database ${path} has no "${SHARED_LOCATION_KEY}" row, so its credentials are not where clawauth looks`,
    );
  }
  const where = parseDocument(location, path, SHARED_LOCATION_KEY);
  if (where.location !== "state-db") {
    throw refusal(
      `OpenClaw's state database ${path} says the shared credentials live in "${
        String(where.location).slice(0, 40)
      }", not in the state database (the only layout clawauth supports)`,
    );
  }
  return {
    store: storeRow(text(SHARED_STORE_KEY), path, SHARED_STORE_KEY),
    state: stateRow(text(SHARED_STATE_KEY), path, SHARED_STATE_KEY),
  };
}

function readLocalLayer(db: DatabaseSync, path: string, agent: string): Layer {
  assertSchema(db, path, AGENT_SCHEMA_VERSION, "agent");
  const [row] = query(
    db,
    path,
    `SELECT (SELECT store_json FROM auth_profile_store WHERE store_key = ?) AS store,
            (SELECT state_json FROM auth_profile_state WHERE state_key = ?) AS state,
            (SELECT agent_id FROM schema_meta WHERE meta_key = ?) AS owner`,
    [PRIMARY, PRIMARY, PRIMARY],
  );
  if (typeof row?.owner === "string" && row.owner !== agent) {
    throw refusal(`The agent database ${path} belongs to agent "${row.owner}", not "${agent}"`);
  }
  const text = (value: unknown) =>
    value === null || value === undefined ? undefined : String(value);
  return {
    store: storeRow(text(row?.store), path, `auth_profile_store/${PRIMARY}`),
    state: stateRow(text(row?.state), path, `auth_profile_state/${PRIMARY}`),
  };
}

function storeRow(text: string | undefined, path: string, name: string): Row {
  if (text === undefined) return {};
  const doc = parseDocument(text, path, name);
  if (!isObject(doc.profiles)) {
    throw refusal(`The credentials row ${name} in ${path} has no "profiles" object`);
  }
  if (doc.version !== undefined && doc.version !== 1) {
    throw refusal(
      `The credentials row ${name} in ${path} is version ${String(doc.version)}, not 1`,
    );
  }
  return { text, doc };
}

function stateRow(text: string | undefined, path: string, name: string): Row {
  return text === undefined ? {} : { text, doc: parseDocument(text, path, name) };
}

function parseDocument(text: string, path: string, name: string): JsonObject {
  const doc = parseJson(
    text,
    (reason) => refusal(`The row ${name} in ${path} is not JSON (${reason})`),
  );
  if (!isObject(doc)) throw refusal(`The row ${name} in ${path} is not a JSON object`);
  return doc;
}

// --- writing ----------------------------------------------------------------

const TABLES = {
  shared: {
    store: {
      table: "config_machine_state",
      key: "state_key",
      value: "value_json",
      time: "updated_at_ms",
      id: SHARED_STORE_KEY,
    },
    state: {
      table: "config_machine_state",
      key: "state_key",
      value: "value_json",
      time: "updated_at_ms",
      id: SHARED_STATE_KEY,
    },
  },
  agent: {
    store: {
      table: "auth_profile_store",
      key: "store_key",
      value: "store_json",
      time: "updated_at",
      id: PRIMARY,
    },
    state: {
      table: "auth_profile_state",
      key: "state_key",
      value: "state_json",
      time: "updated_at",
      id: PRIMARY,
    },
  },
} as const;

function writeLayer(
  db: DatabaseSync,
  path: string,
  kind: "shared" | "agent",
  layer: Layer,
  plan: LayerPlan,
): void {
  for (const doc of ["store", "state"] as const) {
    const old = layer[doc];
    const next = plan[doc];
    if (next === undefined || (old.doc !== undefined && jsonEqual(old.doc, next))) continue;
    const text = doc === "state" && emptyState(next) ? undefined : JSON.stringify(next);
    if (text === old.text) continue;
    casWrite(db, path, TABLES[kind][doc], old.text, text);
  }
}

interface RowTarget {
  table: string;
  key: string;
  value: string;
  time: string;
  id: string;
}

/** Replaces one row only if it still holds `old` (absent = no row); else fails, writing nothing. */
function casWrite(
  db: DatabaseSync,
  path: string,
  t: RowTarget,
  old: string | undefined,
  next: string | undefined,
): void {
  let changes: number | bigint;
  try {
    if (old === undefined) {
      if (next === undefined) return;
      changes =
        db.prepare(`INSERT INTO ${t.table} (${t.key}, ${t.value}, ${t.time}) VALUES (?, ?, ?)`)
          .run(t.id, next, Date.now()).changes;
    } else if (next === undefined) {
      changes = db.prepare(`DELETE FROM ${t.table} WHERE ${t.key} = ? AND ${t.value} = ?`)
        .run(t.id, old).changes;
    } else {
      changes = db.prepare(
        `UPDATE ${t.table} SET ${t.value} = ?, ${t.time} = ? WHERE ${t.key} = ? AND ${t.value} = ?`,
      ).run(next, Date.now(), t.id, old).changes;
    }
  } catch (error) {
    if (/UNIQUE constraint/i.test(errorText(error))) changes = 0;
    else throw sqliteError(error, path, "written");
  }
  if (Number(changes) !== 1) {
    throw new ClawauthError(
      `The row ${t.id} in ${path} changed while clawauth was writing it (another program wrote it without SQLite's lock); nothing was written.`,
      Exit.lockTimeout,
      "Run the command again.",
    );
  }
}

// --- SQLite -----------------------------------------------------------------

/** Opens an existing database (never creates one), runs `fn`, closes it. */
function withDatabase<T>(path: string, readOnly: boolean, fn: (db: DatabaseSync) => T): T {
  const info = fileInfo(path);
  if (!info?.isFile) {
    throw new ClawauthError(
      `OpenClaw's database ${path} does not exist (or is not a file); clawauth never creates it.`,
      Exit.data,
      "Run `openclaw doctor --fix` to set up OpenClaw's state, or choose the json store (--store json).",
    );
  }
  // The stat that found the file answers for its mode too: no second one on the hot path.
  assertPrivateFile(path, info);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, readOnly ? { readOnly: true, timeout: READ_BUSY_TIMEOUT_MS } : {});
  } catch (error) {
    throw sqliteError(error, path, "opened");
  }
  try {
    return fn(db);
  } finally {
    try {
      db.close();
    } catch { /* closing a broken handle */ }
  }
}

function assertSchema(
  db: DatabaseSync,
  path: string,
  tested: number,
  kind: "state" | "agent",
): void {
  const [row] = query(db, path, "PRAGMA user_version", []);
  const version = Number(row?.user_version ?? 0);
  if (version > tested) {
    throw refusal(
      `OpenClaw's ${kind} database ${path} has schema version ${version}, newer than ${tested}, the one clawauth was tested with (OpenClaw ${OPENCLAW_TESTED_VERSION})`,
      "Update clawauth, or use the OpenClaw CLI for this state dir; clawauth writes nothing to a schema it does not know.",
    );
  }
}

function query(
  db: DatabaseSync,
  path: string,
  sql: string,
  params: (string | number)[],
): Record<string, unknown>[] {
  try {
    return db.prepare(sql).all(...params) as Record<string, unknown>[];
  } catch (error) {
    const table = /no such table: (\w+)/.exec(errorText(error))?.[1];
    if (table) {
      throw refusal(
        `OpenClaw's database ${path} has no table ${table}, so it is not a database clawauth knows`,
      );
    }
    throw sqliteError(error, path, "read");
  }
}

function begin(db: DatabaseSync, path: string, deadline: number): void {
  const wait = Math.max(0, Math.min(deadline - Date.now(), 2_147_483_647));
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.ceil(wait)}`);
    db.exec("BEGIN IMMEDIATE");
  } catch (error) {
    throw sqliteError(error, path, "locked for writing");
  }
}

function commit(db: DatabaseSync, path: string): void {
  try {
    db.exec("COMMIT");
  } catch (error) {
    throw sqliteError(error, path, "written");
  }
}

function rollback(db: DatabaseSync): void {
  try {
    if (db.isTransaction) db.exec("ROLLBACK");
  } catch { /* the transaction is gone already */ }
}

/** Refuses to write to a database file whose owner write bit is off (even as root). */
function assertWritable(path: string): void {
  if (!isFile(path)) return; // withDatabase says so
  const mode = Deno.statSync(path).mode;
  if (mode !== null && (mode & 0o200) === 0) {
    throw readOnlyError(path);
  }
}

function readOnlyError(path: string): ClawauthError {
  return new ClawauthError(
    `OpenClaw's database ${path} is read-only; nothing was written.`,
    Exit.data,
    "Make it writable (chmod u+w) if clawauth should change it, or run the command without changing the store.",
  );
}

/** SQLite result codes (primary) this module tells apart. */
const SQLITE = { busy: 5, locked: 6, readonly: 8, corrupt: 11, cantopen: 14, notadb: 26 };

/** Maps a node:sqlite error to one sentence; the raw error only under CLAWAUTH_DEBUG. */
function sqliteError(error: unknown, path: string, action: string): ClawauthError {
  if (error instanceof ClawauthError) return error;
  const text = errorText(error);
  const code = isObject(error) && typeof error.errcode === "number" ? error.errcode & 0xff : -1;
  if (code === SQLITE.busy || code === SQLITE.locked || /database is (locked|busy)/i.test(text)) {
    return new ClawauthError(
      `OpenClaw's database ${path} stayed locked by another writer; it could not be ${action} in time and nothing was written.`,
      Exit.lockTimeout,
      "Try again, or wait longer with CLAWAUTH_LOCK_TIMEOUT (e.g. 60).",
    );
  }
  if (code === SQLITE.notadb || /not a database/i.test(text)) {
    return refusal(
      `OpenClaw's database ${path} is not an SQLite database (file is not a database)`,
    );
  }
  if (code === SQLITE.corrupt || /malformed|corrupt/i.test(text)) {
    return refusal(`OpenClaw's database ${path} is corrupt (${text.slice(0, 80)})`);
  }
  if (code === SQLITE.readonly || /readonly|read-only/i.test(text)) return readOnlyError(path);
  if (code === SQLITE.cantopen || /unable to open/i.test(text)) {
    return new ClawauthError(
      `OpenClaw's database ${path} cannot be opened (${text.slice(0, 80)}).`,
      Exit.data,
      "Check its permissions and those of its directory.",
    );
  }
  return new ClawauthError(
    `OpenClaw's database ${path} could not be ${action} (${text.slice(0, 120)}).`,
    Exit.data,
    "Run `openclaw doctor` to check it.",
  );
}

function refusal(sentence: string, hint?: string): ClawauthError {
  return new ClawauthError(
    `${sentence}; nothing was written.`,
    Exit.data,
    hint ??
      "Run `openclaw doctor --fix`, or restore the file; clawauth never repairs OpenClaw's databases.",
  );
}

// --- small helpers ----------------------------------------------------------

function clone<T>(value: T): T {
  return structuredClone(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `stat` of `path`, or `undefined` when it cannot be stat'ed (missing, or a dir in the way). */
function fileInfo(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

function isFile(path: string): boolean {
  return fileInfo(path)?.isFile ?? false;
}

function parentDir(path: string): string {
  return path.replace(/\/[^/]*$/, "") || "/";
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
