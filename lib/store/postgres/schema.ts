/**
 * The fleet store's schema: its own namespace (`clawauth`), versioned in
 * `clawauth.meta`, created and migrated forward by `clawauth store init`
 * only. A client reads a schema whose `readable_by` it reaches, and writes
 * only the exact version it knows: an older client never writes rows it
 * does not understand.
 *
 * @module
 */

import { ClawauthError, Exit } from "../../errors.ts";
import { type FleetClient, notInitialized, transaction, type Tx } from "./client.ts";
import {
  associatedData,
  CANARY_AD,
  CANARY_TEXT,
  canaryOpens,
  seal,
  type StoreKey,
  unseal,
  wrongKeyError,
} from "./crypto.ts";
import type { PostgresTarget } from "./url.ts";

/** The schema (namespace) every table lives in. */
export const SCHEMA = "clawauth";

/** The schema version this client reads and writes. */
export const SCHEMA_VERSION = 2;

/** One forward step. */
interface Migration {
  /** The version it leads to. */
  version: number;
  /** The oldest client version that can still read the schema after it. */
  readableBy: number;
  /** DDL, run in order in the migration's transaction. */
  statements: readonly string[];
  /** Rewrites rows for the new version, with the store's key, after the DDL. */
  data?: (tx: Tx, key: StoreKey) => Promise<void>;
}

/** `n` fresh row versions from the store's sequence, in one round trip. */
export async function nextVersions(tx: Tx, n: number): Promise<number[]> {
  if (n === 0) return [];
  const rows = await tx<{ v: string }[]>`
    SELECT nextval('clawauth.row_versions') AS v FROM generate_series(1, ${n}::int)`;
  return rows.map((row) => Number(row.v));
}

/**
 * Schema 2's data step: every value sealed under schema 1 is re-sealed with
 * the store's key (checked against the canary first), bound to a fresh row
 * version, under the migration's locks (the canary row, which every writer
 * shares first). A value that does not open stays at version 0, which no
 * client opens: doctor lists it and `clawauth remove` drops it.
 */
async function bindVersions(tx: Tx, key: StoreKey): Promise<void> {
  const [profiles, extras] = await Promise.all([
    tx<{ agent: string; id: string; secret: Uint8Array }[]>`
      SELECT agent, id, secret FROM clawauth.profiles WHERE version = 0 FOR UPDATE`,
    tx<{ agent: string; extra: Uint8Array }[]>`
      SELECT agent, extra FROM clawauth.agents
      WHERE extra IS NOT NULL AND extra_version = 0 FOR UPDATE`,
  ]);
  const versions = await nextVersions(tx, profiles.length + extras.length);
  const updates: Promise<unknown>[] = [];
  for (const [i, row] of profiles.entries()) {
    const plain = await unseal(key, row.secret, associatedData(row.agent, row.id, "secret"));
    if (plain === undefined) continue;
    const version = versions[i];
    const sealed = await seal(key, plain, associatedData(row.agent, row.id, "secret", version));
    updates.push(tx`UPDATE clawauth.profiles SET secret = ${sealed}, key_id = ${key.id},
      version = ${version} WHERE agent = ${row.agent} AND id = ${row.id}`);
  }
  for (const [i, row] of extras.entries()) {
    const plain = await unseal(key, row.extra, associatedData(row.agent, "", "extra"));
    if (plain === undefined) continue;
    const version = versions[profiles.length + i];
    const sealed = await seal(key, plain, associatedData(row.agent, "", "extra", version));
    updates.push(tx`UPDATE clawauth.agents SET extra = ${sealed}, extra_version = ${version}
      WHERE agent = ${row.agent}`);
  }
  await Promise.all(updates);
}

/**
 * Every migration, oldest first. Secrets live only in `bytea` columns sealed
 * by the client; everything else is metadata a person may read in psql.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    readableBy: 1,
    statements: [
      `CREATE TABLE clawauth.agents (
        agent text PRIMARY KEY CHECK (agent ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        extra bytea,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE clawauth.profiles (
        agent text NOT NULL REFERENCES clawauth.agents (agent) ON DELETE CASCADE,
        id text NOT NULL,
        provider text,
        type text,
        expires bigint,
        email text,
        account_id text,
        lineage text,
        secret bytea NOT NULL,
        key_id text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (agent, id)
      )`,
      `CREATE INDEX profiles_lineage ON clawauth.profiles (lineage) WHERE lineage IS NOT NULL`,
      `CREATE TABLE clawauth.routing (
        agent text PRIMARY KEY REFERENCES clawauth.agents (agent) ON DELETE CASCADE,
        "order" jsonb,
        last_good jsonb,
        usage_stats jsonb,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE clawauth.lineages (
        id text PRIMARY KEY,
        locked_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE clawauth.key_canary (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        key_id text NOT NULL,
        canary bytea NOT NULL,
        rotated_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // Row versions: each sealed value is bound to one, so an older ciphertext put back is refused.
    version: 2,
    readableBy: 2,
    statements: [
      `CREATE SEQUENCE clawauth.row_versions AS bigint`,
      `ALTER TABLE clawauth.profiles ADD COLUMN version bigint NOT NULL DEFAULT 0`,
      `ALTER TABLE clawauth.agents ADD COLUMN extra_version bigint NOT NULL DEFAULT 0`,
    ],
    data: bindVersions,
  },
];

/** The schema a database holds. */
export interface SchemaState {
  /** Its version. */
  version: number;
  /** The oldest client version that may read it. */
  readableBy: number;
}

/** Reads `clawauth.meta`'s rows into a state; `undefined` when they are missing. */
export function schemaStateOf(
  rows: readonly { key: string; value: string }[],
): SchemaState | undefined {
  const value = (key: string) => rows.find((row) => row.key === key)?.value;
  const version = Number(value("schema_version"));
  if (!Number.isSafeInteger(version) || version < 1) return undefined;
  const readableBy = Number(value("readable_by") ?? version);
  return { version, readableBy: Number.isSafeInteger(readableBy) ? readableBy : version };
}

/** Refuses a store this client cannot read (none yet, or too new). */
export function assertReadable(state: SchemaState | undefined, target: PostgresTarget): void {
  if (!state) throw notInitialized(target);
  if (state.readableBy > SCHEMA_VERSION) throw tooNew(state, target);
}

/** Refuses to write anything but the exact schema version this client knows. */
export function assertWritable(state: SchemaState | undefined, target: PostgresTarget): void {
  assertReadable(state, target);
  if (state!.version > SCHEMA_VERSION) throw tooNew(state!, target);
  if (state!.version < SCHEMA_VERSION) {
    throw new ClawauthError(
      `The fleet store ${target.url} has schema version ${
        state!.version
      }; this clawauth writes version ${SCHEMA_VERSION}.`,
      Exit.data,
      `Migrate it first: clawauth store init --store ${target.url}`,
    );
  }
}

function tooNew(state: SchemaState, target: PostgresTarget): ClawauthError {
  return new ClawauthError(
    `The fleet store ${target.url} has schema version ${state.version}, newer than this clawauth (${SCHEMA_VERSION}), which therefore writes nothing to it.`,
    Exit.data,
    "Upgrade clawauth on this machine to the fleet's version.",
  );
}

/** Refuses to seal anything under a key that is not the store's (the canary says which is). */
export async function assertKey(
  tx: Tx,
  key: StoreKey,
  target: PostgresTarget,
): Promise<void> {
  // FOR SHARE: a rotate-key (which updates this row) waits for this writer, and vice versa.
  const rows = await tx<{ canary: Uint8Array }[]>`
    SELECT canary FROM clawauth.key_canary WHERE id = 1 FOR SHARE`;
  await assertCanary(key, rows[0], target);
}

/**
 * Throws unless the canary `row` opens with `key`: a store without one was
 * never initialised (exit 65 naming `store init`), else the key is wrong.
 */
export async function assertCanary(
  key: StoreKey,
  row: { canary: Uint8Array } | undefined,
  target: PostgresTarget,
): Promise<void> {
  const opens = await canaryOpens(key, row);
  if (opens === undefined) throw notInitialized(target);
  if (!opens) throw wrongKeyError(key, target.url);
}

/** The key canary sealed under `key`, which later tells the store's key from any other. */
export function sealCanary(key: StoreKey): Promise<Uint8Array> {
  return seal(key, CANARY_TEXT, CANARY_AD);
}

/** What `store init` did. */
export interface InitResult {
  /** The version found (0: none). */
  from: number;
  /** The version now. */
  to: number;
  /** Whether the key canary was written now (a new store). */
  canaryCreated: boolean;
}

/**
 * Creates the schema or migrates it forward, in one transaction, serialised
 * across machines by an advisory lock; checks the key canary of an existing
 * store before anything changes (a wrong key is exit 65, nothing written)
 * and writes the canary of a new one.
 */
export function migrate(
  client: FleetClient,
  key: StoreKey,
  timeoutMs: number,
): Promise<InitResult> {
  return transaction(client, "initialise the schema", timeoutMs, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('clawauth schema migration'))`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await tx.unsafe(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.meta (key text PRIMARY KEY, value text NOT NULL)`,
    );
    const state = schemaStateOf(
      await tx<{ key: string; value: string }[]>`
      SELECT key, value FROM clawauth.meta`,
    );
    const from = state?.version ?? 0;
    if (state && state.version > SCHEMA_VERSION) throw tooNew(state, client.target);
    // FOR UPDATE: writers share this row first, so none writes while rows are re-sealed.
    const opens = from === 0 ? undefined : await canaryOpens(
      key,
      (await tx<{ canary: Uint8Array }[]>`
        SELECT canary FROM clawauth.key_canary WHERE id = 1 FOR UPDATE`)[0],
    );
    if (opens === false) throw wrongKeyError(key, client.target.url);
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      for (const statement of migration.statements) await tx.unsafe(statement);
      for (
        const [name, value] of [
          ["schema_version", migration.version],
          ["readable_by", migration.readableBy],
        ] as const
      ) {
        await tx`INSERT INTO clawauth.meta (key, value) VALUES (${name}, ${String(value)})
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
      }
      await migration.data?.(tx, key);
    }
    if (opens === undefined) {
      const sealed = await sealCanary(key);
      await tx`INSERT INTO clawauth.key_canary (id, key_id, canary) VALUES (1, ${key.id}, ${sealed})`;
    }
    return { from, to: Math.max(from, SCHEMA_VERSION), canaryCreated: opens === undefined };
  });
}
