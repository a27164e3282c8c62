/**
 * The `postgres` backend (fleet mode, docs/fleet.md): an agent's store document
 * kept in a PostgreSQL database that many machines share, seen through the
 * same {@linkcode StoreData} shape the JSON backend has.
 *
 * - A read is one round of queries, no lock (MVCC gives a consistent
 *   enough view, as an atomically renamed file does), through the
 *   Deno-native wire reader (postgres_wire.ts) or the pool
 *   ({@linkcode readRows} decides): `token` on a valid credential loads
 *   neither npm:postgres nor the Node layer.
 * - A write is one transaction holding the agent's row lock (the fleet's
 *   store lock): re-read, let `change` edit the document, write back only the
 *   rows it changed, commit. Lock waits are bounded by `lock_timeout`.
 * - A refresh holds its lineage's row lock (`clawauth.lineages`) in a
 *   transaction of its own for the whole refresh; the lock dies with the
 *   holder's connection, so a killed machine blocks nobody.
 *
 * @module
 */

import type { Context } from "../../context.ts";
import { ClawauthError, Exit } from "../../errors.ts";
import { isObject, jsonEqual, type JsonObject } from "../../json/json.ts";
import { load } from "../../lazy.ts";
import { httpTimeoutMs } from "../../oauth/http_timeout.ts";
import { warn } from "../../output/output.ts";
import { AGENT_ID, type AgentPaths, type StateRef } from "../../paths.ts";
import type { StoreData } from "../data.ts";
// Types only: the client module (npm:postgres) loads on first use, never on the hot read.
import type { FleetClient, Sql, Tx } from "./client.ts";
import { canaryOpens, loadStoreKey, type StoreKey, wrongKeyError } from "./crypto.ts";
import { damagedRowError, reportDamage } from "./damage.ts";
import { findPassword } from "./pass.ts";
import {
  extraOf,
  openExtra,
  openProfile,
  plainOf,
  type ProfileRow,
  ROUTING,
  sealExtra,
  sealProfile,
} from "./rows.ts";
import type { SCHEMA_VERSION, SchemaState } from "./schema.ts";
import { parsePostgresUrl, type PostgresTarget } from "./url.ts";
import { NeedsClient, wireQuery } from "./wire.ts";

/** An agent's document as read, and the profiles whose secrets did not decrypt. */
export interface FleetSnapshot {
  store: StoreData;
  /** Ids of profiles whose sealed part did not open with the (right) key: damaged or moved. */
  undecryptable: string[];
  /** Whether the agent's sealed extra keys (another tool's) did not open either. */
  extraDamaged: boolean;
}

interface AgentRow {
  extra: Uint8Array | null;
  /** The version `extra` is bound to (bigint, a string from the driver). */
  extra_version: string | number;
  order: unknown;
  last_good: unknown;
  usage_stats: unknown;
}

type Query = Sql | Tx;
type Schema = typeof import("./schema.ts");

function metaQuery(q: Query) {
  return q<{ key: string; value: string }[]>`SELECT key, value FROM clawauth.meta`;
}

function profileQuery(q: Query, agent: string) {
  return q<ProfileRow[]>`
    SELECT id, provider, type, expires, email, account_id, lineage, secret, key_id, version
    FROM clawauth.profiles WHERE agent = ${agent} ORDER BY id COLLATE "C"`;
}

function agentQuery(q: Query, agent: string) {
  return q<AgentRow[]>`
    SELECT a.extra, a.extra_version, r."order", r.last_good, r.usage_stats
    FROM clawauth.agents a LEFT JOIN clawauth.routing r ON r.agent = a.agent
    WHERE a.agent = ${agent}`;
}

/** Store URLs whose connection warning was printed (once per process). */
const warned = new Set<string>();
/** Store URLs whose npm:postgres pool this process has opened. */
const pooled = new Set<string>();

function warnOnce(ctx: Context, url: string, warning: string | undefined): void {
  if (!warning || warned.has(url)) return;
  warned.add(url);
  warn(ctx, warning);
}

/**
 * The npm:postgres side of `state`'s fleet store (writes, locks, listings),
 * loaded on first use: its pool, the client module and the schema module.
 */
async function poolOf(ctx: Context, state: StateRef) {
  const [db, schema] = await Promise.all([
    load("store/postgres/client.ts"),
    load("store/postgres/schema.ts"),
  ]);
  const client = db.fleetClient(ctx, state);
  pooled.add(state.url!);
  warnOnce(ctx, client.target.url, client.warning);
  return { client, db, schema };
}

/** How the rows are opened: the canary decides a read's failures; a write checked it already. */
interface OpenOptions {
  /** The key canary's row, opened only when a row does not; `checked` when the key is known good. */
  canary: { row: { canary: Uint8Array } | undefined } | "checked";
  /** Whether damaged rows are warned about on stderr (doctor lists them instead). */
  quiet?: boolean;
}

/**
 * Opens the rows of one agent into its document. A row that does not open
 * with the key is either the wrong key for the whole store (the canary
 * decides: exit 65) or one damaged, moved or rolled-back row, reported and
 * shown by its plain metadata only (which makes the profile `invalid`,
 * never a garbage token): every other profile keeps working.
 */
async function openSnapshot(
  ctx: Context,
  client: Pick<FleetClient, "target" | "key">,
  rows: { agent: string; profiles: readonly ProfileRow[]; agentRow: AgentRow | undefined },
  opts: OpenOptions,
): Promise<FleetSnapshot> {
  const { agent, profiles, agentRow } = rows;
  const store: StoreData = { version: 1, profiles: {} };
  const undecryptable: string[] = [];
  const sealedExtra = agentRow?.extra ?? null;
  const key: StoreKey | undefined = profiles.length > 0 || sealedExtra
    ? await client.key()
    : undefined;
  // Every row opens at once: each decryption is a hop to Deno's crypto threads.
  const [extra, opened] = await Promise.all([
    key && sealedExtra
      ? openExtra(key, agent, sealedExtra, agentRow?.extra_version ?? 0)
      : Promise.resolve<JsonObject>({}),
    Promise.all(profiles.map((row) => openProfile(key!, agent, row))),
  ]);
  profiles.forEach((row, i) => {
    const open = opened[i];
    if (open.ok) store.profiles[row.id] = open.entry;
    else {
      undecryptable.push(row.id);
      store.profiles[row.id] = plainOf(row);
    }
  });
  if ((undecryptable.length > 0 || extra === undefined) && opts.canary !== "checked") {
    if (!(await canaryOpens(key!, opts.canary.row))) {
      throw wrongKeyError(key!, client.target.url);
    }
  }
  if (!opts.quiet) {
    reportDamage(ctx, client.target.url, agent, [
      ...(extra === undefined ? [""] : []),
      ...undecryptable,
    ]);
  }
  Object.assign(store, extra ?? {});
  for (const [field, column] of Object.entries(ROUTING)) {
    const value = agentRow?.[column];
    if (value !== null && value !== undefined) store[field] = value;
  }
  return { store, undecryptable, extraDamaged: extra === undefined };
}

function canaryQuery(q: Query) {
  return q<{ canary: Uint8Array }[]>`SELECT canary FROM clawauth.key_canary WHERE id = 1`
    .then((rows) => rows[0]);
}

/** The rows of the read path's four statements. */
type ReadRows = [
  { key: string; value: string }[],
  ProfileRow[],
  AgentRow[],
  { canary: Uint8Array }[],
];

/**
 * The read path's four statements as one simple-protocol message: one
 * round trip, no statement preparation (it saves ~10 ms per `token`). The
 * agent id is inlined, which is safe only because it matches `AGENT_ID`.
 * The key canary (a few dozen bytes) comes along, so a damaged row among
 * healthy ones is told from a wrong key without a second connection.
 * Both read paths send exactly this.
 */
export function readSql(agent: string): string {
  if (!AGENT_ID.test(agent)) throw new Error(`not an agent id: ${agent}`);
  return `
    SELECT key, value FROM clawauth.meta;
    SELECT id, provider, type, expires, email, account_id, lineage, secret, key_id, version
      FROM clawauth.profiles WHERE agent = '${agent}' ORDER BY id COLLATE "C";
    SELECT a.extra, a.extra_version, r."order", r.last_good, r.usage_stats
      FROM clawauth.agents a LEFT JOIN clawauth.routing r ON r.agent = a.agent
      WHERE a.agent = '${agent}';
    SELECT canary FROM clawauth.key_canary WHERE id = 1`;
}

/** What a read got: the rows, and the store's target and key for opening them. */
interface Read {
  rows: ReadRows;
  target: PostgresTarget;
  key(): Promise<StoreKey>;
}

/**
 * Reads an agent's rows; the one place that decides how. Until this process
 * opens its npm:postgres pool (`token` on a valid credential, `status`,
 * `list`), through the wire reader: one short Deno-native connection, no
 * Node layer (`token` ≈ 2× the Deno floor on loopback, against ≈ 4× through
 * npm:postgres). Once the pool is open (a refresh re-reading under its
 * lineage lock, a read after a write), through the pool, which saves a
 * connection. And through the pool whatever the wire reader declines
 * ({@linkcode NeedsClient}): TLS that `prefer`/`allow`/`require` accept
 * unverified (no sslrootcert), an authentication method besides trust,
 * password and SCRAM-SHA-256 (md5 among them).
 */
async function readRows(ctx: Context, paths: AgentPaths, what: string): Promise<Read> {
  const sql = readSql(paths.agent);
  if (!pooled.has(paths.url!)) {
    const target = parsePostgresUrl(paths.url!);
    const { password, warning } = findPassword(target, ctx.env);
    warnOnce(ctx, target.url, warning);
    const reading = wireQuery(target, password, sql, { answerMs: httpTimeoutMs(ctx) });
    // The key loads while the database answers; its failure counts only if the key is needed.
    const key = loadStoreKey(ctx.env);
    key.catch(() => {});
    try {
      const rows = await reading as unknown as ReadRows;
      return { rows, target, key: () => key };
    } catch (error) {
      if (!(error instanceof NeedsClient)) {
        throw (await load("store/postgres/client.ts")).dbError(error, target, what);
      }
    }
  }
  const { client, db } = await poolOf(ctx, paths);
  const rows = await db.guarded(client, what, (q) => q.unsafe(sql)) as unknown as ReadRows;
  return { rows, target: client.target, key: client.key };
}

/**
 * Refuses a schema this client cannot read, without loading the client
 * when the schema is plainly readable; otherwise postgres_schema.ts's
 * `assertReadable` decides (and words the error).
 */
async function assertReadable(meta: ReadRows[0], target: PostgresTarget): Promise<void> {
  const value = (key: string) => Number(meta.find((row) => row.key === key)?.value);
  const [version, readableBy] = [value("schema_version"), value("readable_by")];
  const plain = Number.isSafeInteger(version) && version >= 1 && Number.isSafeInteger(readableBy);
  if (plain && readableBy <= READS_UP_TO) return;
  const schema = await load("store/postgres/schema.ts");
  schema.assertReadable(schema.schemaStateOf(meta), target);
}

/** `SCHEMA_VERSION`, here without loading its module; `deno check` fails if they differ. */
const READS_UP_TO: typeof SCHEMA_VERSION = 2;

/** Reads an agent's document and the profiles that do not decrypt (for doctor). */
export async function readPostgresSnapshot(
  ctx: Context,
  paths: AgentPaths,
  opts: { quiet?: boolean } = {},
): Promise<FleetSnapshot> {
  const read = await readRows(ctx, paths, `read agent ${paths.agent}`);
  const [meta, profiles, agentRows, canary] = read.rows;
  await assertReadable(meta, read.target);
  return await openSnapshot(
    ctx,
    read,
    { agent: paths.agent, profiles, agentRow: agentRows[0] },
    { canary: { row: canary[0] }, ...opts },
  );
}

/** An agent's store as the fleet holds it now; none yet is an empty store. */
export async function readPostgresStore(ctx: Context, paths: AgentPaths): Promise<StoreData> {
  return (await readPostgresSnapshot(ctx, paths)).store;
}

/** The fields of a document compared key by key when writing back. */
function groupOf(store: JsonObject, name: string): JsonObject {
  const value = store[name];
  return isObject(value) ? value : {};
}

/** What one write changes: the document as read under the lock, and as `change` left it. */
interface Changes {
  key: StoreKey;
  url: string;
  agent: string;
  snapshot: FleetSnapshot;
  working: StoreData;
  /** `n` fresh row versions (postgres/schema.ts's `nextVersions`). */
  versions(n: number): Promise<number[]>;
}

/**
 * Writes the rows `working` changed against the snapshot, in the open
 * transaction, each sealed value bound to a fresh row version. A row that
 * did not decrypt is never rewritten, only deleted.
 */
async function writeChanges(tx: Tx, changes: Changes): Promise<void> {
  const { key, url, agent, working } = changes;
  const snapshot = changes.snapshot.store;
  const damaged = new Set(changes.snapshot.undecryptable);
  const writes: Promise<unknown>[] = [];
  const before = groupOf(snapshot, "profiles");
  const after = groupOf(working, "profiles");
  const sealing: string[] = [];
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (jsonEqual(before[id], after[id])) continue;
    if (damaged.has(id) && Object.hasOwn(after, id)) throw damagedRowError(url, agent, id);
    if (Object.hasOwn(after, id)) sealing.push(id);
    else writes.push(tx`DELETE FROM clawauth.profiles WHERE agent = ${agent} AND id = ${id}`);
  }
  const extra = extraOf(working);
  const extraChanged = !jsonEqual(extraOf(snapshot), extra);
  if (extraChanged && changes.snapshot.extraDamaged) throw damagedRowError(url, agent, "");
  const versions = await changes.versions(sealing.length + (extraChanged ? 1 : 0));
  for (const [i, id] of sealing.entries()) {
    const row = await sealProfile(key, agent, id, after[id], versions[i]);
    writes.push(tx`
      INSERT INTO clawauth.profiles
        (agent, id, provider, type, expires, email, account_id, lineage, secret, key_id, version)
      VALUES (${agent}, ${id}, ${row.provider}, ${row.type}, ${row.expires}, ${row.email},
        ${row.account_id}, ${row.lineage}, ${row.secret}, ${row.key_id}, ${row.version})
      ON CONFLICT (agent, id) DO UPDATE SET provider = EXCLUDED.provider, type = EXCLUDED.type,
        expires = EXCLUDED.expires, email = EXCLUDED.email, account_id = EXCLUDED.account_id,
        lineage = EXCLUDED.lineage, secret = EXCLUDED.secret, key_id = EXCLUDED.key_id,
        version = EXCLUDED.version, updated_at = now()`);
  }
  if (Object.keys(ROUTING).some((field) => !jsonEqual(snapshot[field], working[field]))) {
    const value = (field: keyof typeof ROUTING) =>
      working[field] === undefined ? null : tx.json(working[field] as never);
    writes.push(tx`
      INSERT INTO clawauth.routing (agent, "order", last_good, usage_stats)
      VALUES (${agent}, ${value("order")}, ${value("lastGood")}, ${value("usageStats")})
      ON CONFLICT (agent) DO UPDATE SET "order" = EXCLUDED."order",
        last_good = EXCLUDED.last_good, usage_stats = EXCLUDED.usage_stats, updated_at = now()`);
  }
  if (extraChanged) {
    const version = versions[sealing.length];
    const sealed = await sealExtra(key, agent, extra, version);
    writes.push(tx`UPDATE clawauth.agents SET extra = ${sealed}, extra_version = ${version}
      WHERE agent = ${agent}`);
  }
  await Promise.all(writes);
}

/**
 * The first statements of every write, sent in one round: the schema must be
 * this client's, the key the store's, and the agent's row (created on first
 * write, as the JSON store's directory is) is locked for the transaction.
 */
async function lockAgent(
  tx: Tx,
  schema: Schema,
  client: FleetClient,
  key: StoreKey,
  agent: string,
): Promise<{ rows: ProfileRow[]; agentRow: AgentRow | undefined }> {
  const [meta, , , , rows, agentRows] = await Promise.all([
    metaQuery(tx),
    schema.assertKey(tx, key, client.target),
    tx`INSERT INTO clawauth.agents (agent) VALUES (${agent}) ON CONFLICT (agent) DO NOTHING`,
    tx`SELECT 1 FROM clawauth.agents WHERE agent = ${agent} FOR UPDATE`,
    profileQuery(tx, agent),
    agentQuery(tx, agent),
  ]);
  schema.assertWritable(schema.schemaStateOf(meta), client.target);
  return { rows, agentRow: agentRows[0] };
}

/**
 * Read-modify-write of an agent's store under its row lock: `change` edits
 * a fresh copy (it may wait, e.g. for a refresh request); the rows it
 * changed are written in the same transaction. Lock waits beyond
 * `timeoutMs` are exit 75.
 */
export async function updatePostgresStore<T>(
  ctx: Context,
  paths: AgentPaths,
  timeoutMs: number,
  change: (store: StoreData) => T | Promise<T>,
): Promise<T> {
  const { client, db, schema } = await poolOf(ctx, paths);
  const key = await client.key();
  const what = `write agent ${paths.agent}`;
  return await db.transaction(client, what, timeoutMs, async (tx, aside) => {
    const { rows, agentRow } = await lockAgent(tx, schema, client, key, paths.agent);
    // The canary opened above, so a row that does not decrypt is damaged, not the key wrong.
    const snapshot = await openSnapshot(
      ctx,
      client,
      { agent: paths.agent, profiles: rows, agentRow },
      { canary: "checked" },
    );
    const working = structuredClone(snapshot.store);
    // `change` may wait (a refresh's request): the database's deadline pauses meanwhile.
    const result = await aside(() => change(working));
    if (!jsonEqual(snapshot.store, working)) {
      await writeChanges(tx, {
        key,
        url: client.target.url,
        agent: paths.agent,
        snapshot,
        working,
        versions: (n) => schema.nextVersions(tx, n),
      });
    }
    return result;
  });
}

/**
 * Runs `fn` holding the fleet-wide lock of one lineage: a row lock on
 * `clawauth.lineages` inside a transaction, waited for at most `timeoutMs`
 * (exit 75). A holder that dies frees it when its connection ends.
 */
export async function withPostgresLineageLock<T>(
  ctx: Context,
  state: StateRef,
  lineage: string,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const { client, db } = await poolOf(ctx, state);
  let done: { result: T } | undefined;
  try {
    await db.transaction(client, "lock a login for its refresh", timeoutMs, async (tx, aside) => {
      await tx`INSERT INTO clawauth.lineages (id) VALUES (${lineage})
        ON CONFLICT (id) DO UPDATE SET locked_at = now()`;
      done = { result: await aside(fn) };
    });
  } catch (error) {
    // The work is committed; only releasing the lock failed, and a lost connection releases it.
    if (done) return done.result;
    throw error;
  }
  return done!.result;
}

/** The agents of a fleet store, sorted. */
export async function postgresAgents(ctx: Context, state: StateRef): Promise<string[]> {
  const { client, db, schema } = await poolOf(ctx, state);
  return await db.guarded(client, "list the agents", async (sql) => {
    const [meta, rows] = await Promise.all([
      metaQuery(sql),
      sql<{ agent: string }[]>`SELECT agent FROM clawauth.agents ORDER BY agent COLLATE "C"`,
    ]);
    schema.assertReadable(schema.schemaStateOf(meta), client.target);
    return rows.map((row) => row.agent);
  });
}

/** Whether the fleet store has the agent of `paths`. */
export async function postgresAgentExists(ctx: Context, paths: AgentPaths): Promise<boolean> {
  const { client, db, schema } = await poolOf(ctx, paths);
  return await db.guarded(client, `look up agent ${paths.agent}`, async (sql) => {
    const [meta, rows] = await Promise.all([
      metaQuery(sql),
      sql`SELECT 1 FROM clawauth.agents WHERE agent = ${paths.agent}`,
    ]);
    schema.assertReadable(schema.schemaStateOf(meta), client.target);
    return rows.length > 0;
  });
}

/** Creates an agent (an empty namespace); `false` when it exists already. */
export async function createPostgresAgent(
  ctx: Context,
  paths: AgentPaths,
  timeoutMs: number,
): Promise<boolean> {
  const { client, db, schema } = await poolOf(ctx, paths);
  return await db.transaction(client, `add agent ${paths.agent}`, timeoutMs, async (tx) => {
    const [meta, inserted] = await Promise.all([
      metaQuery(tx),
      tx`INSERT INTO clawauth.agents (agent) VALUES (${paths.agent})
        ON CONFLICT (agent) DO NOTHING RETURNING agent`,
    ]);
    schema.assertWritable(schema.schemaStateOf(meta), client.target);
    return inserted.length > 0;
  });
}

/** Deletes an agent and everything it holds, once no writer holds it; `false` when absent. */
export async function removePostgresAgent(
  ctx: Context,
  paths: AgentPaths,
  timeoutMs: number,
): Promise<boolean> {
  const { client, db, schema } = await poolOf(ctx, paths);
  return await db.transaction(client, `remove agent ${paths.agent}`, timeoutMs, async (tx) => {
    const [meta, , deleted] = await Promise.all([
      metaQuery(tx),
      // The canary first, as every writer and rotate-key take it: no lock-order deadlock.
      tx`SELECT 1 FROM clawauth.key_canary WHERE id = 1 FOR SHARE`,
      tx`DELETE FROM clawauth.agents WHERE agent = ${paths.agent} RETURNING agent`,
    ]);
    schema.assertWritable(schema.schemaStateOf(meta), client.target);
    return deleted.length > 0;
  });
}

/** The schema state of a fleet store (`undefined`: not initialised), for status and doctor. */
export async function postgresSchemaState(
  ctx: Context,
  state: StateRef,
): Promise<SchemaState | undefined> {
  const { client, db, schema } = await poolOf(ctx, state);
  return await db.guarded(client, "read the schema version", async (sql) => {
    const [exists] = await sql<{ meta: string | null }[]>`
      SELECT to_regclass('clawauth.meta')::text AS meta`;
    return exists.meta ? schema.schemaStateOf(await metaQuery(sql)) : undefined;
  });
}

/** Refuses a key that does not open the store's canary (exit 65). */
export async function checkPostgresKey(ctx: Context, state: StateRef): Promise<void> {
  const { client, db } = await poolOf(ctx, state);
  const key = await client.key();
  const row = await db.guarded(client, "check the key", (sql) => canaryQuery(sql));
  const opens = await canaryOpens(key, row);
  if (opens === false) throw wrongKeyError(key, client.target.url);
  if (opens === undefined) {
    throw new ClawauthError(
      `The fleet store ${client.target.url} has no key canary yet.`,
      Exit.data,
      `Run: clawauth store init --store ${client.target.url}`,
    );
  }
}
