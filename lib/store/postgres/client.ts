/**
 * The fleet store's database connection: one small pool per store URL and
 * process, made with `npm:postgres` (loaded only here, only in fleet mode),
 * and the one place where database failures become clawauth errors: an
 * unreachable or vanished database is exit 69 naming the host (never the
 * password), a lock wait past `CLAWAUTH_LOCK_TIMEOUT` exit 75, a missing or
 * too new schema exit 65. There is no local fallback: a second store would
 * fork every lineage.
 *
 * @module
 */

import postgres from "postgres";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { ClawauthError, Exit } from "../../errors.ts";
import type { Context } from "../../context.ts";
import { httpTimeoutMs } from "../../oauth/http_timeout.ts";
import type { StateRef } from "../../paths.ts";
import { loadStoreKey, type StoreKey } from "./crypto.ts";
import { findPassword } from "./pass.ts";
import { parsePostgresUrl, type PostgresTarget } from "./url.ts";

/** A connection pool (npm:postgres). */
export type Sql = postgres.Sql;
/** A transaction's connection (npm:postgres). */
export type Tx = postgres.TransactionSql;

/** One fleet store of this process. */
export interface FleetClient {
  /** The pool. */
  sql: Sql;
  /** What the URL names. */
  target: PostgresTarget;
  /** The run's environment. */
  env: (name: string) => string | undefined;
  /**
   * How long the database may take to answer a round trip that waits for no
   * lock: the HTTP budget (`CLAWAUTH_HTTP_TIMEOUT`); work that may wait for a
   * lock gets the lock wait on top. Past it the store counts as gone (exit 69).
   */
  answerMs: number;
  /** The store key, loaded on first need. */
  key(): Promise<StoreKey>;
  /** A warning found while connecting (e.g. an exposed pgpass file), printed once by the caller. */
  warning?: string;
}

const clients = new Map<string, FleetClient>();

/**
 * npm:postgres 3.4.9 throws from a timer when the server drops a connection
 * that still has a small write queued, e.g. the ROLLBACK of a transaction
 * whose backend was terminated (porsager/postgres#1154 and #1208,
 * denoland/deno#34667; fixes pending upstream). The transaction has already
 * failed with CONNECTION_CLOSED by then, which becomes exit 69; the stray
 * exception would instead kill the process with a stack trace. Only that
 * exception is dropped. Remove once a fixed release is pinned.
 */
function dropOrphanedWriteErrors(event: ErrorEvent): void {
  const error: unknown = event.error;
  if (
    error instanceof TypeError && /\(reading 'write'\)/.test(error.message) &&
    /nextWrite/.test(error.stack ?? "") && /postgres/.test(error.stack ?? "")
  ) {
    event.preventDefault();
  }
}
addEventListener("error", dropOrphanedWriteErrors);

/**
 * Connections per process: a refresh holds one for the lineage lock, one
 * for the agent's write transaction and reads through a third; a plain
 * `token` opens one. Kept small so a fleet of concurrent callers stays far
 * below the server's `max_connections`.
 */
const POOL_SIZE = 4;

/**
 * Server-side keepalives (seconds): a machine that loses its network holds
 * its locks only until the server notices its connection is gone.
 */
const KEEPALIVE = {
  tcp_keepalives_idle: "10",
  tcp_keepalives_interval: "5",
  tcp_keepalives_count: "3",
};

/** The TLS options of `sslmode` (libpq's meanings). */
function tlsOption(target: PostgresTarget): postgres.Options<Record<string, never>>["ssl"] {
  const { sslmode, sslrootcert, host } = target;
  // libpq: with a root certificate given, `require` verifies the chain like `verify-ca`.
  const mode = sslmode === "require" && sslrootcert && sslrootcert !== "system"
    ? "verify-ca"
    : sslmode;
  if (mode === "disable") return false;
  if (mode === "allow" || mode === "prefer" || mode === "require") return mode;
  let ca: string | undefined;
  if (sslrootcert && sslrootcert !== "system") {
    try {
      ca = Deno.readTextFileSync(sslrootcert);
    } catch (error) {
      throw new ClawauthError(
        `The sslrootcert ${sslrootcert} of the fleet store cannot be read (${
          error instanceof Error ? error.message : error
        }).`,
        Exit.usage,
        "Point sslrootcert at the CA certificate (PEM) that signed the server's certificate, or use sslrootcert=system.",
      );
    }
  }
  return {
    rejectUnauthorized: true,
    ...(ca ? { ca } : {}),
    // SNI: the socket is ours (socketFor), so npm:postgres does not know the name.
    ...(isIP(host) ? {} : { servername: host }),
    // verify-full checks the name the URL gives; verify-ca only the chain.
    checkServerIdentity: mode === "verify-full"
      ? (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert)
      : () => undefined,
  };
}

/**
 * Opens the TCP connection for npm:postgres, with Nagle's algorithm off:
 * the TLS handshake and each query are small writes that otherwise wait for
 * the peer's delayed ACK (~40 ms each; measured 100 ms → 10 ms per TLS
 * connect on loopback). The wait is bounded by `connect_timeout`.
 */
function socketFor(target: PostgresTarget): () => Promise<Socket> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = netConnect({ host: target.host, port: target.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error("connect timed out"), { code: "CONNECT_TIMEOUT" }));
      }, target.connectTimeoutSec * 1000);
      const failed = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once("error", failed);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", failed);
        resolve(socket);
      });
    });
}

/**
 * The pool of the fleet store `state` names, made once per process; its
 * password and key come from the run's environment (`ctx.env`).
 */
export function fleetClient(ctx: Context, state: StateRef): FleetClient {
  if (state.backend !== "postgres" || state.url === undefined) {
    throw new Error("fleetClient needs a postgres StateRef");
  }
  const cached = clients.get(state.url);
  if (cached) return cached;
  const target = parsePostgresUrl(state.url);
  const env = ctx.env;
  const { password, warning } = findPassword(target, env);
  const options: postgres.Options<Record<string, never>> & { socket: () => Promise<Socket> } = {
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.user,
    // npm:postgres would otherwise read PGPASSWORD itself; we already did.
    password: password ?? "",
    ssl: tlsOption(target),
    max: POOL_SIZE,
    connect_timeout: target.connectTimeoutSec,
    // Types are known; fetching them costs a round trip on every connect.
    fetch_types: false,
    // Notices would go to stdout, which `token` reserves for the secret.
    onnotice: () => {},
    connection: {
      application_name: "clawauth",
      ...KEEPALIVE,
    },
    // Undocumented in the typings, supported by npm:postgres: the socket to speak over.
    socket: socketFor(target),
  };
  const sql = postgres(options);
  let key: Promise<StoreKey> | undefined;
  const client: FleetClient = {
    sql,
    target,
    env,
    answerMs: httpTimeoutMs(ctx),
    key: () => key ??= loadStoreKey(env),
    ...(warning ? { warning } : {}),
  };
  clients.set(state.url, client);
  return client;
}

/** Closes every pool of this process (tests, and commands that run long). */
export async function closeFleetClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((client) => client.sql.end({ timeout: 1 })));
}

/** Connection-level failures: the database is not there (any more). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "QUERY_TIMEOUT",
]);

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "timed out",
  EPIPE: "connection lost",
  CONNECT_TIMEOUT: "no answer within connect_timeout",
  CONNECTION_CLOSED: "the connection was closed",
  CONNECTION_ENDED: "the connection ended",
  CONNECTION_DESTROYED: "the connection was dropped",
};

/** The SQLSTATE of a server error, or the code of a client one. */
function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** A message from the server or the socket layer, cleaned for one terminal line. */
function detailOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

/** Whether `error` comes from the database or the connection (not from clawauth's own code). */
export function isDatabaseError(error: unknown): boolean {
  if (error instanceof ClawauthError) return false;
  const code = codeOf(error);
  if (code === undefined) return false;
  return error instanceof postgres.PostgresError || UNREACHABLE.has(code) ||
    /^(ERR_TLS|CERT_|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO|ERR_SSL)/.test(code) ||
    /^[0-9A-Z]{5}$/.test(code);
}

/** The store is missing its schema: exit 65 with the command that creates it. */
export function notInitialized(target: PostgresTarget): ClawauthError {
  return new ClawauthError(
    `The fleet store ${target.url} has no clawauth schema yet.`,
    Exit.data,
    `Run: clawauth store init --store ${target.url}`,
  );
}

/**
 * Turns a database or connection failure into one clawauth sentence; other
 * errors pass through. `what` says what was being done ("read agent main").
 */
export function dbError(error: unknown, target: PostgresTarget, what: string): unknown {
  if (!isDatabaseError(error)) return error;
  const code = codeOf(error) ?? "";
  const where = `${target.host}:${target.port}`;
  const noFallback = "clawauth does not fall back to a local store (it would fork your logins).";
  if (UNREACHABLE.has(code)) {
    const reason = code === "QUERY_TIMEOUT"
      ? `it stopped answering (${
        detailOf(error)
      }; CLAWAUTH_HTTP_TIMEOUT and CLAWAUTH_LOCK_TIMEOUT set that wait)`
      : REASONS[code] ?? code;
    return new ClawauthError(
      `The fleet store at ${where} (${target.url}) could not be reached to ${what}: ${reason}.`,
      Exit.unavailable,
      `Check that PostgreSQL runs there and this machine may connect; ${noFallback}`,
    );
  }
  if (/^(ERR_TLS|CERT_|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO|ERR_SSL)/.test(code)) {
    return new ClawauthError(
      `The TLS certificate of the fleet store at ${where} was not accepted (${detailOf(error)}).`,
      Exit.unavailable,
      `Check sslrootcert (the CA that signed the server's certificate) and that the URL names the host on the certificate (sslmode=${target.sslmode}).`,
    );
  }
  if (code === "40P01") {
    return new ClawauthError(
      `A lock conflict with another machine in the fleet store at ${where} stopped this attempt to ${what}; nothing was written.`,
      Exit.lockTimeout,
      "Run the command again.",
    );
  }
  if (code === "55P03") {
    return new ClawauthError(
      `Timed out waiting for a lock in the fleet store at ${where} to ${what}.`,
      Exit.lockTimeout,
      "Another machine holds it (a refresh or a write); retry, or raise CLAWAUTH_LOCK_TIMEOUT.",
    );
  }
  if (code === "42P01" || code === "3F000") return notInitialized(target);
  // A column this client reads is missing: the schema predates it (store init migrates it).
  if (code === "42703") {
    return new ClawauthError(
      `The fleet store ${target.url} has an older clawauth schema than this clawauth reads.`,
      Exit.data,
      `Migrate it with this clawauth: clawauth store init --store ${target.url} (every machine then needs this version).`,
    );
  }
  if (code === "28P01" || code === "28000") {
    return new ClawauthError(
      `The fleet store at ${where} refused the login of role ${target.user} (${detailOf(error)}).`,
      Exit.unavailable,
      "Put the role's password in PGPASSWORD, ~/.pgpass (0600) or the URL's passfile, never in the URL.",
    );
  }
  if (code === "3D000") {
    return new ClawauthError(
      `The fleet store at ${where} has no database ${target.database}.`,
      Exit.unavailable,
      "Create it (createdb), or fix the database name in the store URL.",
    );
  }
  if (code === "42501") {
    return new ClawauthError(
      `Role ${target.user} may not ${what} in the fleet store at ${where} (${detailOf(error)}).`,
      Exit.unavailable,
      "Grant the role USAGE on schema clawauth and SELECT, INSERT, UPDATE, DELETE on its tables (CREATE on the database for store init).",
    );
  }
  // Shutdowns, restarts, too many clients, out of disk: the database is not serving us now.
  return new ClawauthError(
    `The fleet store at ${where} failed to ${what}: ${detailOf(error)} (SQLSTATE ${code}).`,
    Exit.unavailable,
    `Retry once the database is back; ${noFallback}`,
  );
}

/** The failure of a database that stopped answering within `ms` (exit 69 by {@linkcode dbError}). */
function stalled(ms: number): Error {
  return Object.assign(new Error(`no reply within ${ms / 1000} s`), { code: "QUERY_TIMEOUT" });
}

/**
 * A deadline on waiting for the database: armed while clawauth waits for an
 * answer, paused ({@linkcode Watchdog.aside}) while its own work runs (a
 * refresh's HTTP request inside a transaction). When it fires, the pool's
 * connections are dropped, so nothing waits on the silent server any more.
 */
class Watchdog {
  readonly fired: Promise<never>;
  #fire!: (error: Error) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #done = false;
  constructor(readonly client: FleetClient, readonly ms: number) {
    this.fired = new Promise((_, reject) => this.#fire = reject);
    this.fired.catch(() => {});
  }
  arm(): void {
    clearTimeout(this.#timer);
    if (this.#done) return;
    this.#timer = setTimeout(() => {
      dropClient(this.client);
      this.#fire(stalled(this.ms));
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.#timer);
  }
  /** Runs clawauth's own `work` with the deadline paused; it restarts afterwards. */
  async aside<T>(work: () => Promise<T> | T): Promise<T> {
    this.stop();
    try {
      return await work();
    } finally {
      this.arm();
    }
  }
  /** `work` against the deadline: whichever ends first. */
  async race<T>(work: Promise<T>): Promise<T> {
    this.arm();
    try {
      return await Promise.race([work, this.fired]);
    } finally {
      this.#done = true;
      this.stop();
    }
  }
}

/** Forgets a pool whose server stopped answering and cuts its connections. */
function dropClient(client: FleetClient): void {
  if (clients.get(client.target.url) === client) clients.delete(client.target.url);
  client.sql.end({ timeout: 0 }).catch(() => {});
}

/**
 * Runs `fn` on the pool, mapping database failures (see {@linkcode dbError});
 * it waits for no lock, so the database has {@linkcode FleetClient.answerMs}.
 */
export async function guarded<T>(
  client: FleetClient,
  what: string,
  fn: (sql: Sql) => Promise<T>,
): Promise<T> {
  try {
    return await new Watchdog(client, client.answerMs).race(fn(client.sql));
  } catch (error) {
    // A pool whose connect failed waits on it for good (npm:postgres 3.4): the next call starts afresh.
    if (UNREACHABLE.has(codeOf(error) ?? "")) dropClient(client);
    throw dbError(error, client.target, what);
  }
}

/**
 * A transaction with bounded lock waits: `lock_timeout` is the lock wait
 * (exit 75), and a transaction left idle longer than that plus a margin
 * (a holder whose machine vanished without closing its connection) is ended
 * by the server, which frees its locks. Waiting on the database is bounded
 * too: the lock wait plus {@linkcode FleetClient.answerMs}, restarted after
 * each stretch of clawauth's own work, which `fn` runs through `aside`.
 */
export async function transaction<T>(
  client: FleetClient,
  what: string,
  timeoutMs: number,
  fn: (tx: Tx, aside: <R>(work: () => Promise<R> | R) => Promise<R>) => Promise<T>,
): Promise<T> {
  const watchdog = new Watchdog(client, timeoutMs + client.answerMs);
  try {
    return await watchdog.race(client.sql.begin(async (tx) => {
      const lockMs = String(Math.max(1, Math.round(timeoutMs)));
      const idleMs = String(2 * Math.round(timeoutMs) + 60_000);
      await tx`SELECT set_config('lock_timeout', ${lockMs}, true),
        set_config('idle_in_transaction_session_timeout', ${idleMs}, true)`;
      return await fn(tx, (work) => watchdog.aside(work));
    }) as Promise<T>);
  } catch (error) {
    // A pool whose connect failed waits on it for good (npm:postgres 3.4): the next call starts afresh.
    if (UNREACHABLE.has(codeOf(error) ?? "")) dropClient(client);
    throw dbError(error, client.target, what);
  }
}
