/**
 * Administration of a fleet store, behind `clawauth store`: `init` (create
 * or migrate the schema and its key canary), `status` (what the store holds,
 * without decrypting a secret), and `rotate-key` (re-seal every secret under
 * a new key in one transaction).
 *
 * @module
 */

import { ClawauthError, Exit } from "../../errors.ts";
import type { Context } from "../../context.ts";
import type { StateRef } from "../../paths.ts";
import { type FleetClient, fleetClient, guarded, transaction } from "./client.ts";
import { associatedData, canaryOpens, seal, type StoreKey, unseal } from "./crypto.ts";
import {
  assertCanary,
  assertWritable,
  type InitResult,
  migrate,
  SCHEMA_VERSION,
  schemaStateOf,
  sealCanary,
} from "./schema.ts";
import { postgresSchemaState } from "./store.ts";
import type { SslMode } from "./url.ts";

/** The pool of a fleet store; anything else is a usage error naming the command. */
export function fleetOf(ctx: Context, state: StateRef, command: string): FleetClient {
  if (state.backend !== "postgres") {
    throw new ClawauthError(
      `store ${command} works on a fleet store, and this run's store is ${state.backend}.`,
      Exit.usage,
      "Name it: --store postgres://USER@HOST/DB, or set CLAWAUTH_STORE.",
    );
  }
  return fleetClient(ctx, state);
}

/** Creates or migrates the schema; the key must be (or become) the store's. */
export async function initFleet(
  ctx: Context,
  state: StateRef,
  timeoutMs: number,
): Promise<InitResult> {
  const client = fleetOf(ctx, state, "init");
  return await migrate(client, await client.key(), timeoutMs);
}

/** What `store status` shows: never a secret, nor the password. */
export interface FleetStatus {
  /** The store URL, without a password. */
  url: string;
  /** The server's version. */
  server: string;
  /** The URL's sslmode, and what the session uses. */
  tls: { sslmode: SslMode; inUse: boolean; version: string | null };
  /** The schema version found (`null`: not initialised) and this client's. */
  schema: { version: number | null; readableBy: number | null; client: number };
  /** Whether the run's key opens the canary: `ok`, `wrong`, `missing`, `no-canary`, or the problem. */
  key: string;
  /** The key's id, when a key was given. */
  keyId: string | null;
  /** Agents with their profile counts, by type. */
  agents: { id: string; profiles: number; types: Record<string, number> }[];
  /** Lineages that were ever locked for a refresh. */
  lineages: number;
}

/** Reads the status of a fleet store; only an unreachable database is an error. */
export async function fleetStatus(ctx: Context, state: StateRef): Promise<FleetStatus> {
  const client = fleetOf(ctx, state, "status");
  const session = await guarded(client, "read its status", async (sql) => {
    const [row] = await sql<{ version: string; ssl: boolean | null; tls: string | null }[]>`
      SELECT current_setting('server_version') AS version, s.ssl, s.version AS tls
      FROM (SELECT 1) AS one LEFT JOIN pg_stat_ssl s ON s.pid = pg_backend_pid()`;
    return row;
  });
  const schema = await postgresSchemaState(ctx, state);
  const status: FleetStatus = {
    url: client.target.url,
    server: session.version,
    tls: { sslmode: client.target.sslmode, inUse: session.ssl === true, version: session.tls },
    schema: {
      version: schema?.version ?? null,
      readableBy: schema?.readableBy ?? null,
      client: SCHEMA_VERSION,
    },
    key: "no-canary",
    keyId: null,
    agents: [],
    lineages: 0,
  };
  if (!schema) return status;
  const [agents, lineages, canary] = await guarded(client, "read its status", (sql) =>
    Promise.all([
      sql<{ agent: string; type: string | null; n: string }[]>`
        SELECT a.agent, p.type, count(p.id) AS n
        FROM clawauth.agents a LEFT JOIN clawauth.profiles p ON p.agent = a.agent
        GROUP BY a.agent, p.type ORDER BY a.agent COLLATE "C"`,
      sql<{ n: string }[]>`SELECT count(*) AS n FROM clawauth.lineages`,
      sql<{ canary: Uint8Array }[]>`SELECT canary FROM clawauth.key_canary WHERE id = 1`,
    ]));
  for (const row of agents) {
    let entry = status.agents.find((a) => a.id === row.agent);
    if (!entry) status.agents.push(entry = { id: row.agent, profiles: 0, types: {} });
    const n = Number(row.n);
    entry.profiles += n;
    if (n > 0) entry.types[row.type ?? "invalid"] = n;
  }
  status.lineages = Number(lineages[0]?.n ?? 0);
  let key: StoreKey | undefined;
  try {
    key = await client.key();
  } catch (error) {
    status.key = error instanceof ClawauthError && error.exitCode === Exit.usage
      ? "missing"
      : error instanceof Error
      ? error.message
      : String(error);
  }
  if (key) {
    status.keyId = key.id;
    const opens = await canaryOpens(key, canary[0]);
    status.key = opens === undefined ? "no-canary" : opens ? "ok" : "wrong";
  }
  return status;
}

/** What `store rotate-key` did. */
export interface RotateResult {
  profiles: number;
  extras: number;
  oldKeyId: string;
  newKeyId: string;
}

/**
 * Re-seals every secret of the store under `next`, in one transaction that
 * holds the canary's row lock (which every writer shares first), so no write
 * under the old key can land after it. A value that does not open with the
 * current key stops it, with nothing changed.
 */
export async function rotateKey(
  ctx: Context,
  state: StateRef,
  next: StoreKey,
  timeoutMs: number,
): Promise<RotateResult> {
  const client = fleetOf(ctx, state, "rotate-key");
  const current = await client.key();
  if (current.id === next.id) {
    throw new ClawauthError(
      "The new key is the key the store already uses.",
      Exit.usage,
      "Make a new one with: clawauth store keygen --out FILE",
    );
  }
  return await transaction(client, "rotate the key", timeoutMs, async (tx) => {
    const [meta, canary] = await Promise.all([
      tx<{ key: string; value: string }[]>`SELECT key, value FROM clawauth.meta`,
      tx<{ canary: Uint8Array }[]>`SELECT canary FROM clawauth.key_canary WHERE id = 1 FOR UPDATE`,
    ]);
    assertWritable(schemaStateOf(meta), client.target);
    await assertCanary(current, canary[0], client.target);
    const [profiles, extras] = await Promise.all([
      tx<{ agent: string; id: string; secret: Uint8Array; version: string }[]>`
        SELECT agent, id, secret, version FROM clawauth.profiles FOR UPDATE`,
      tx<{ agent: string; extra: Uint8Array; extra_version: string }[]>`
        SELECT agent, extra, extra_version FROM clawauth.agents
        WHERE extra IS NOT NULL FOR UPDATE`,
    ]);
    const updates: Promise<unknown>[] = [];
    const broken: string[] = [];
    for (const row of profiles) {
      // The same row version under the new key: the content is unchanged.
      const ad = associatedData(row.agent, row.id, "secret", Number(row.version));
      const plain = Number(row.version) >= 1 ? await unseal(current, row.secret, ad) : undefined;
      if (plain === undefined) {
        broken.push(`${row.agent}/${row.id}`);
        continue;
      }
      const sealed = await seal(next, plain, ad);
      updates.push(tx`UPDATE clawauth.profiles SET secret = ${sealed}, key_id = ${next.id}
        WHERE agent = ${row.agent} AND id = ${row.id}`);
    }
    for (const row of extras) {
      const ad = associatedData(row.agent, "", "extra", Number(row.extra_version));
      const plain = Number(row.extra_version) >= 1
        ? await unseal(current, row.extra, ad)
        : undefined;
      if (plain === undefined) {
        broken.push(`${row.agent} (extra keys)`);
        continue;
      }
      updates.push(
        tx`UPDATE clawauth.agents SET extra = ${await seal(
          next,
          plain,
          ad,
        )} WHERE agent = ${row.agent}`,
      );
    }
    if (broken.length > 0) {
      throw new ClawauthError(
        `The key was not rotated: ${broken.length} value${broken.length === 1 ? "" : "s"} (${
          broken.slice(0, 5).join(", ")
        }) do not decrypt with the current key, so they could not be re-sealed.`,
        Exit.data,
        "Remove those profiles (clawauth remove ID --agent AGENT; clawauth doctor lists them), then rotate again.",
      );
    }
    updates.push(tx`UPDATE clawauth.key_canary
      SET canary = ${await sealCanary(next)}, key_id = ${next.id},
        rotated_at = now() WHERE id = 1`);
    await Promise.all(updates);
    return {
      profiles: profiles.length,
      extras: extras.length,
      oldKeyId: current.id,
      newKeyId: next.id,
    };
  });
}
