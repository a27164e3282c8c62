/**
 * A throwaway PostgreSQL cluster for the fleet tests: `initdb` into a temp
 * dir, started on 127.0.0.1 with a free port, TLS on (a throwaway CA made by
 * openssl, when openssl is there), a login role with a password, and one fresh
 * database per test ({@linkcode PgCluster.database}). `.ci/run` installs
 * Debian's `postgresql` when it is missing; without it the tests are ignored
 * and {@linkcode startCluster} says why.
 *
 * As root, the server runs as the `postgres` user (it refuses to run as
 * root) through `runuser`, so every file it reads lives in a dir that user
 * owns. The cluster is stopped and deleted when the test process unloads.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SandboxIdp } from "../scripts/sandbox_idp.ts";
import {
  freePort,
  ignoredSuffix,
  isFile,
  outputOf,
  type RunOptions,
  type RunResult,
  type TempState,
  tempState,
} from "./helpers.ts";
import { idpFor } from "./oauth_helpers.ts";

/** The login role the tests connect as (never a superuser). */
export const FLEET_ROLE = "fleet";

/** A running throwaway cluster. */
export interface PgCluster {
  /** `127.0.0.1`. */
  host: string;
  /** The TCP port. */
  port: number;
  /** {@linkcode FLEET_ROLE}'s password (hand it over as `PGPASSWORD`). */
  password: string;
  /** The throwaway CA that signed the server certificate, when TLS is on. */
  caFile?: string;
  /** A fresh empty database owned by the fleet role; its URL (no password). */
  database(params?: string): Promise<string>;
  /** Runs SQL as the superuser (over the Unix socket); returns psql's unaligned output. */
  psql(sql: string, database?: string): Promise<string>;
  /** `pg_dump` of a database, as text. */
  dump(database: string): Promise<string>;
  /** Stops the server (fast shutdown: sessions are cut). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

function binDir(): string | undefined {
  const roots = ["/usr/lib/postgresql"];
  for (const root of roots) {
    try {
      const versions = [...Deno.readDirSync(root)].map((e) => e.name).filter((n) => /^\d+$/.test(n))
        .sort((a, b) => Number(b) - Number(a));
      for (const version of versions) {
        const dir = `${root}/${version}/bin`;
        if (isFile(`${dir}/initdb`) && isFile(`${dir}/pg_ctl`)) return dir;
      }
    } catch { /* not here */ }
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && isFile(`${dir}/initdb`) && isFile(`${dir}/pg_ctl`)) return dir;
  }
  return undefined;
}

/** The uid and gid of `postgres` when we are root, else `undefined` (we run it ourselves). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (Deno.uid() !== 0) return undefined;
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.startsWith("postgres:")
  );
  if (!line) throw new Error("running as root, but there is no postgres user to run the server");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

async function run(
  argv: string[],
  opts: { asServer?: boolean; env?: Record<string, string>; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const full = opts.asServer && Deno.uid() === 0
    ? ["runuser", "-u", "postgres", "--", ...argv]
    : argv;
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    env: { LC_ALL: "C", ...opts.env },
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return await outputOf(child, opts.stdin);
}

async function must(
  argv: string[],
  opts: Parameters<typeof run>[1] = {},
): Promise<string> {
  const result = await run(argv, opts);
  if (result.code !== 0) {
    throw new Error(`${argv.join(" ")} failed (${result.code}): ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** A CA and a server certificate for 127.0.0.1/localhost, or `undefined` without openssl. */
async function makeCertificates(dir: string): Promise<string | undefined> {
  const openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].find(isFile);
  if (!openssl) return undefined;
  const ca = `${dir}/ca.crt`;
  // `openssl req` options for a fresh P-256 key, written unencrypted to `keyout`.
  const newKey = (keyout: string) => [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyout,
  ];
  await must([
    openssl,
    "req",
    "-x509",
    ...newKey(`${dir}/ca.key`),
    "-out",
    ca,
    "-days",
    "2",
    "-subj",
    "/CN=clawauth test CA",
  ]);
  Deno.writeTextFileSync(
    `${dir}/san.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
  );
  await must([
    openssl,
    "req",
    ...newKey(`${dir}/server.key`),
    "-out",
    `${dir}/server.csr`,
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await must([
    openssl,
    "x509",
    "-req",
    "-in",
    `${dir}/server.csr`,
    "-CA",
    ca,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-out",
    `${dir}/server.crt`,
    "-days",
    "2",
    "-extfile",
    `${dir}/san.ext`,
  ]);
  return ca;
}

let started: Promise<PgCluster | string> | undefined;

/**
 * Starts the cluster once per test process; a string says why it cannot
 * (no PostgreSQL installed, or it would not start), and the tests are ignored.
 */
export function startCluster(): Promise<PgCluster | string> {
  started ??= boot().catch((error) => `PostgreSQL would not start: ${error.message ?? error}`);
  return started;
}

async function boot(): Promise<PgCluster | string> {
  const bin = binDir();
  if (!bin) {
    return "PostgreSQL is not installed (apt-get install -y postgresql; .ci/run does it)";
  }
  const owner = serverUser();
  const root = await Deno.makeTempDir({ prefix: "clawauth-pg-" });
  // The server user must reach its files; nothing secret lives here.
  Deno.chmodSync(root, 0o755);
  const data = `${root}/data`;
  const sockets = `${root}/run`;
  const tls = `${root}/tls`;
  Deno.mkdirSync(sockets);
  Deno.mkdirSync(tls);
  const password = crypto.randomUUID();
  Deno.writeTextFileSync(`${root}/pwfile`, `${crypto.randomUUID()}\n`);
  const caFile = await makeCertificates(tls);
  if (owner) {
    for (const path of [root, sockets, tls, `${root}/pwfile`]) {
      Deno.chownSync(path, owner.uid, owner.gid);
    }
    for (const entry of Deno.readDirSync(tls)) {
      Deno.chownSync(`${tls}/${entry.name}`, owner.uid, owner.gid);
    }
  }
  if (caFile) Deno.chmodSync(`${tls}/server.key`, 0o600);
  await must([
    `${bin}/initdb`,
    "-D",
    data,
    "-U",
    "postgres",
    `--pwfile=${root}/pwfile`,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "-E",
    "UTF8",
    "--no-sync",
  ], { asServer: true });
  const port = freePort();
  const options = [
    "-c listen_addresses=127.0.0.1",
    `-p ${port}`,
    `-k ${sockets}`,
    // Throwaway data: durability buys nothing and costs seconds.
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
    ...(caFile
      ? [`-c ssl=on -c ssl_cert_file=${tls}/server.crt -c ssl_key_file=${tls}/server.key`]
      : []),
  ].join(" ");
  const ctl = (action: string[]) =>
    must([`${bin}/pg_ctl`, "-D", data, "-l", `${root}/server.log`, ...action], {
      asServer: true,
    });
  const start = () => ctl(["-o", options, "-w", "-t", "30", "start"]).then(() => {});
  await start();
  addEventListener("unload", () => {
    // Synchronous: an unload handler cannot wait for a promise.
    const argv = [`${bin}/pg_ctl`, "-D", data, "-m", "immediate", "stop"];
    const full = owner ? ["runuser", "-u", "postgres", "--", ...argv] : argv;
    new Deno.Command(full[0], { args: full.slice(1), stdout: "null", stderr: "null" }).outputSync();
    try {
      Deno.removeSync(root, { recursive: true });
    } catch { /* best effort */ }
  });
  // How psql and pg_dump reach the cluster: its socket dir, as the superuser.
  const superuser = ["-h", sockets, "-p", String(port), "-U", "postgres"];
  const psql = (sql: string, database = "postgres") =>
    must([
      `${bin}/psql`,
      "-X",
      "-q",
      "-A",
      "-t",
      "-v",
      "ON_ERROR_STOP=1",
      ...superuser,
      "-d",
      database,
    ], { stdin: sql });
  await psql(`CREATE ROLE ${FLEET_ROLE} LOGIN PASSWORD '${password}';`);
  let databases = 0;
  return {
    host: "127.0.0.1",
    port,
    password,
    caFile,
    psql,
    async database(params = "") {
      const name = `fleet_${++databases}_${crypto.randomUUID().slice(0, 8)}`;
      await psql(`CREATE DATABASE ${name} OWNER ${FLEET_ROLE} TEMPLATE template0;`);
      return `postgres://${FLEET_ROLE}@127.0.0.1:${port}/${name}${params}`;
    },
    dump: (database) =>
      must([`${bin}/pg_dump`, ...superuser, database.replace(/^.*\//, "").replace(/\?.*$/, "")]),
    stop: () => ctl(["-m", "fast", "-w", "stop"]).then(() => {}),
    start,
  };
}

/** Stores setup-token `secret` as `anthropic:default` through `machine`; throws when that fails. */
export async function pasteOn(machine: Machine, secret: string): Promise<void> {
  const result = await machine.run(["paste-token", "--provider", "anthropic"], { stdin: secret });
  if (result.code !== 0) throw new Error(`paste-token exited ${result.code}: ${result.stderr}`);
}

/** A test file's cluster: started once per file, or why its tests are ignored. */
export interface TestCluster {
  /** The cluster; only usable when not `ignore`. */
  pg: PgCluster;
  /** Whether the tests are ignored (no PostgreSQL here). */
  ignore: boolean;
  /** The suffix a test's name carries when ignored ({@linkcode ignoredSuffix}). */
  suffix: string;
}

/** Starts the cluster for one test file; when it cannot, says on stderr that `what` are ignored. */
export async function testCluster(what: string): Promise<TestCluster> {
  const cluster = await startCluster();
  const ignore = typeof cluster === "string";
  if (ignore) console.error(`${what} ignored: ${cluster}.`);
  return {
    pg: cluster as PgCluster,
    ignore,
    suffix: ignoredSuffix(ignore ? cluster : undefined),
  };
}

/** One "machine" of a fleet: its own HOME and state dir, the fleet's store, password and key. */
export interface Machine {
  /** Its temp state dir (and HOME beside it). */
  state: TempState;
  /** The environment every run gets: CLAWAUTH_STORE, PGPASSWORD, CLAWAUTH_STORE_KEY. */
  env: Record<string, string>;
  /** Runs the CLI on this machine; `opts.env` adds to (or overrides) the fleet's environment. */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts the CLI on this machine without waiting. */
  spawn(args: string[], env?: Record<string, string>): Deno.ChildProcess;
}

/** Machines sharing one fleet store, removed on dispose. */
export interface Fleet extends AsyncDisposable {
  /** The store URL (no password). */
  url: string;
  /** The fleet's key (base64). */
  key: string;
  /** The machines. */
  machines: Machine[];
}

/**
 * `count` machines on a fresh database of `cluster`, with a fresh key; the
 * schema is initialised from the first machine unless `init` is false.
 */
export async function fleetOf(
  cluster: PgCluster,
  count = 3,
  opts: { init?: boolean } = {},
): Promise<Fleet> {
  const url = await cluster.database();
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const machines: Machine[] = [];
  for (let i = 0; i < count; i++) {
    const state = await tempState();
    const env = { CLAWAUTH_STORE: url, PGPASSWORD: cluster.password, CLAWAUTH_STORE_KEY: key };
    machines.push({
      state,
      env,
      run: (args, runOpts = {}) => state.run(args, { ...runOpts, env: { ...env, ...runOpts.env } }),
      spawn: (args, extra = {}) => state.spawn(args, { env: { ...env, ...extra } }),
    });
  }
  if (opts.init !== false) {
    const init = await machines[0].run(["store", "init"]);
    if (init.code !== 0) throw new Error(`store init failed: ${init.stderr}`);
  }
  return {
    url,
    key,
    machines,
    async [Symbol.asyncDispose]() {
      for (const machine of machines) await machine.state[Symbol.asyncDispose]();
    },
  };
}

/** The sandbox IdP, configured on every machine of `fleet` (each has its own clawauth.json). */
export async function fleetIdp(fleet: Fleet): Promise<SandboxIdp> {
  const [first, ...others] = fleet.machines;
  const idp = await idpFor(first.state);
  const config = Deno.readTextFileSync(`${first.state.dir}/clawauth.json`);
  for (const machine of others) machine.state.writeFile("clawauth.json", config);
  return idp;
}

/** A Codex login (`login --start` / `--finish`) on one machine of the fleet; returns the profile id. */
export async function fleetLogin(idp: SandboxIdp, machine: Machine): Promise<string> {
  const started = await machine.run(["login", "--provider", "openai-codex", "--start", "--json"]);
  assert.equal(started.code, 0, started.stderr);
  const redirect = await idp.approve(JSON.parse(started.stdout).url);
  const finished = await machine.run(["login", "--finish", redirect, "--json"]);
  assert.equal(finished.code, 0, finished.stderr);
  return JSON.parse(finished.stdout).profile;
}

/** Sets a stored login's expiry (epoch ms), as time would move it (the expiry is a plain column). */
export async function setFleetExpires(
  cluster: PgCluster,
  fleet: Fleet,
  opts: { id: string; expires: number },
): Promise<void> {
  await cluster.psql(
    `UPDATE clawauth.profiles SET expires = ${opts.expires} WHERE id = '${opts.id}';`,
    fleet.url.replace(/^.*\//, ""),
  );
}
