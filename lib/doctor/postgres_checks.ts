/**
 * Doctor checks of a fleet store (PostgreSQL, docs/fleet.md): the database answers,
 * over which TLS mode, with which schema version; the key opens the store's
 * canary; and, per agent, every profile's secrets decrypt.
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import { ClawauthError } from "../errors.ts";
import { type LazyModules, load } from "../lazy.ts";
import type { AgentPaths, StateRef } from "../paths.ts";
import type { StoreData } from "../store.ts";
import type { SchemaState } from "../store/postgres/schema.ts";
import { isLoopback, parsePostgresUrl, type PostgresTarget } from "../store/postgres/url.ts";
import { Doctor, errorText } from "./report.ts";

type Backend = LazyModules["store/postgres/store.ts"];
type Client = LazyModules["store/postgres/client.ts"];
type Schema = LazyModules["store/postgres/schema.ts"];

function fleetModules(): Promise<[Backend, Client, Schema]> {
  // The database client loads only when doctor checks a fleet store.
  return Promise.all([
    load("store/postgres/store.ts"),
    load("store/postgres/client.ts"),
    load("store/postgres/schema.ts"),
  ]);
}

function failure(doc: Doctor, check: string, error: unknown, path: string): void {
  doc.add({
    check,
    severity: "error",
    message: errorText(error),
    ...(error instanceof ClawauthError && error.hint ? { fix: error.hint } : {}),
    path,
  });
}

type Session = { version: string; ssl: boolean | null; cipher: string | null };

/** TLS: the URL's sslmode, and whether this session is encrypted. */
function checkTls(doc: Doctor, target: PostgresTarget, session: Session): void {
  const tls = session.ssl ? `TLS (${session.cipher ?? "on"})` : "no TLS";
  const strong = target.sslmode === "verify-full" || target.sslmode === "verify-ca";
  const local = isLoopback(target.host);
  doc.add({
    check: "tls",
    severity: strong || local ? "ok" : "warning",
    message: strong
      ? `sslmode=${target.sslmode}: ${tls}, the server's certificate is checked`
      : `sslmode=${target.sslmode}: ${tls}${
        local ? " on loopback" : ", and the server's certificate is not checked"
      }`,
    ...(strong || local ? {} : {
      fix: "add ?sslmode=verify-full to the store URL (with sslrootcert=FILE for a private CA)",
    }),
    path: target.url,
  });
}

/** The schema version against this client's; `false` when the store cannot be read. */
function checkSchema(
  doc: Doctor,
  target: PostgresTarget,
  found: SchemaState | undefined,
  ours: number,
): boolean {
  const path = target.url;
  const init = `clawauth store init --store ${target.url}`;
  if (!found) {
    doc.add({
      check: "schema",
      severity: "error",
      message: `${path} has no clawauth schema yet`,
      fix: init,
      path,
    });
    return false;
  }
  doc.add({
    check: "schema",
    severity: found.version === ours
      ? "ok"
      : found.readableBy > ours || found.version < ours
      ? "error"
      : "warning",
    message: found.version === ours
      ? `schema version ${ours}`
      : found.version < ours
      ? `schema version ${found.version} is older than this clawauth's ${ours}: it is read and written only once migrated`
      : `schema version ${found.version} is newer than this clawauth's ${ours}: ${
        found.readableBy > ours ? "it cannot be read" : "it is read, never written"
      }`,
    ...(found.version < ours
      ? { fix: init }
      : found.version > ours
      ? { fix: "upgrade clawauth on this machine" }
      : {}),
    path,
  });
  return found.readableBy <= ours;
}

/**
 * Connectivity, TLS, schema and key of the fleet store; `true` when its
 * agents can be read (the per-agent checks run only then).
 */
export async function checkFleet(doc: Doctor, state: StateRef): Promise<boolean> {
  const [backend, clients, schema] = await fleetModules();
  const target = parsePostgresUrl(state.url ?? "");
  const path = target.url;
  const client = clients.fleetClient(doc.ctx, state);
  let session: Session;
  let found: SchemaState | undefined;
  try {
    session = await clients.guarded(client, "connect", async (sql) => {
      const [row] = await sql<Session[]>`
        SELECT current_setting('server_version') AS version, s.ssl, s.version AS cipher
        FROM (SELECT 1) AS one LEFT JOIN pg_stat_ssl s ON s.pid = pg_backend_pid()`;
      return row;
    });
  } catch (error) {
    failure(doc, "connection", error, path);
    return false;
  }
  doc.add({
    check: "connection",
    severity: "ok",
    message: `connected to ${path} (PostgreSQL ${session.version}) as ${target.user}`,
    path,
  });
  checkTls(doc, target, session);
  try {
    found = await backend.postgresSchemaState(doc.ctx, state);
  } catch (error) {
    failure(doc, "schema", error, path);
    return false;
  }
  if (!checkSchema(doc, target, found, schema.SCHEMA_VERSION)) return false;
  try {
    await backend.checkPostgresKey(doc.ctx, state);
    const key = await client.key();
    doc.add({
      check: "key",
      severity: "ok",
      message: `the key from ${key.source} opens the store (key id ${key.id})`,
      path,
    });
  } catch (error) {
    failure(doc, "key", error, path);
    return false;
  }
  return true;
}

/** One agent's document, reporting the profiles whose secrets do not decrypt. */
export async function checkFleetAgent(
  doc: Doctor,
  paths: AgentPaths,
): Promise<StoreData | undefined> {
  const [backend] = await fleetModules();
  const base = { agent: paths.agent, path: paths.url ?? "" };
  try {
    const { store, undecryptable, extraDamaged } = await backend.readPostgresSnapshot(
      doc.ctx,
      paths,
      {
        quiet: true,
      },
    );
    const count = Object.keys(store.profiles).length;
    doc.add({
      ...base,
      check: "store",
      severity: "ok",
      message: `agent ${paths.agent} of the fleet store: ${count} profile${count === 1 ? "" : "s"}`,
    });
    for (const id of undecryptable) {
      const agentFlag = paths.agent === "main" ? "" : ` --agent ${paths.agent}`;
      doc.add({
        ...base,
        check: "secrets",
        severity: "error",
        message: `the secrets of ${
          safeText(id, 80)
        } do not decrypt with the store key: the row is damaged, or was moved or rolled back in the database; it is skipped`,
        fix: `clawauth remove ${safeText(id, 80)}${agentFlag}, then log in again`,
      });
    }
    if (extraDamaged) {
      doc.add({
        ...base,
        check: "secrets",
        severity: "error",
        message:
          `the extra keys of agent ${paths.agent} (another tool's) do not decrypt with the store key; they are skipped`,
        fix:
          `restore them from a backup, or clear them: UPDATE clawauth.agents SET extra = NULL WHERE agent = '${paths.agent}'`,
      });
    }
    if (undecryptable.length === 0 && !extraDamaged && count > 0) {
      doc.add({ ...base, check: "secrets", severity: "ok", message: "every profile decrypts" });
    }
    return store;
  } catch (error) {
    failure(doc, "store", error, base.path);
    return undefined;
  }
}
