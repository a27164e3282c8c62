/**
 * `deno task bench`, fleet contention (issue 16): 1, 8, 32 and 64
 * concurrent `token` calls spread over 3 simulated machines (separate HOMEs
 * and state dirs) that share one fleet store on a loopback PostgreSQL, on one
 * expired OAuth login from the sandbox identity provider. Refreshes the IdP
 * saw (must be 1: one lineage lock in the database, fleet-wide), distinct
 * tokens (must be 1), and the wall time against one refresh. Skipped, with
 * the reason, when PostgreSQL is not installed (tests/postgres_env.ts).
 *
 * @module
 */

import { burst, type Trial, verdict } from "./bench_burst.ts";
import { clawauth } from "./bench_runner.ts";
import { BURST_COLUMNS, burstCells } from "./bench_contention.ts";
import { type Json, log, markdownTable, median, round } from "./bench_util.ts";
import { CLI_COMMAND } from "./cli_runner.ts";
import { providerOverride, type SandboxIdp } from "./sandbox_idp.ts";
// The throwaway cluster the fleet tests use (Debian's postgresql; skipped without it).
import { type PgCluster, startCluster } from "../tests/postgres_env.ts";

const LEVELS = [1, 8, 32, 64];
const MACHINES = 3;

/** Three machines on a fresh database, logged in once (on the first) at the sandbox IdP. */
async function fleetOf(root: string, cluster: PgCluster, idp: SandboxIdp) {
  const url = `${await cluster.database()}?sslmode=disable`;
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const provider = providerOverride(idp, "http://127.0.0.1:1455/auth/callback", true);
  const machines = Array.from({ length: MACHINES }, (_, i) => {
    const dir = `${root}/fleet-machine-${i}`;
    Deno.mkdirSync(`${dir}/state`, { recursive: true, mode: 0o700 });
    Deno.mkdirSync(`${dir}/home`, { mode: 0o700 });
    Deno.writeTextFileSync(
      `${dir}/state/clawauth.json`,
      JSON.stringify({ providers: { "openai-codex": provider } }),
    );
    return {
      HOME: `${dir}/home`,
      OPENCLAW_STATE_DIR: `${dir}/state`,
      CLAWAUTH_STORE: url,
      PGPASSWORD: cluster.password,
      CLAWAUTH_STORE_KEY: key,
    };
  });
  const [first] = machines;
  await clawauth(first, ["store", "init"]);
  const started = JSON.parse(
    await clawauth(first, ["login", "--provider", "openai-codex", "--start", "--json"]),
  );
  const redirect = await idp.approve(started.url);
  const id = String(
    JSON.parse(await clawauth(first, ["login", "--finish", redirect, "--json"])).profile,
  );
  const database = url.replace(/^.*\//, "").replace(/\?.*$/, "");
  /** Makes the login due, as time would (its expiry is a plain column); returns its access token. */
  const expire = async (): Promise<string> => {
    const current = (await clawauth(first, ["token", "--profile", id])).trim();
    await cluster.psql(
      `UPDATE clawauth.profiles SET expires = ${Date.now() - 1000} WHERE id = '${id}';`,
      database,
    );
    return current;
  };
  return { machines, id, expire };
}

/** The fleet contention table; `ok` is false when any burst made more than one refresh or token. */
export async function fleetContention(
  root: string,
  idp: SandboxIdp,
  repetitions: number,
): Promise<{ table: string; json: Json; ok: boolean }> {
  const title =
    `Fleet contention: N concurrent \`token\` over ${MACHINES} machines, one PostgreSQL ` +
    `store (loopback, no TLS), on one expired OAuth login (median of ${repetitions})`;
  const cluster = await startCluster();
  if (typeof cluster === "string") {
    log(`fleet contention: skipped (${cluster})`);
    const table = markdownTable([title, "result"], [["all levels", `skipped: ${cluster}`]]);
    return { table, json: { skipped: cluster }, ok: true };
  }
  const { machines, id, expire } = await fleetOf(root, cluster, idp);
  const run = async (n: number): Promise<Trial> =>
    burst({
      n,
      call: (i) => ({
        cmd: [...CLI_COMMAND, "token", "--profile", id],
        env: machines[i % MACHINES],
      }),
      stale: await expire(),
      refreshes: () => idp.counts().refresh_token,
    });
  log(`fleet contention: N = ${LEVELS.join(", ")} over ${MACHINES} machines; ${repetitions} reps`);
  await run(1); // warm-up: the refresh path loads modules the hot path does not
  const trials = new Map<number, Trial[]>(LEVELS.map((n) => [n, []]));
  for (let rep = 0; rep < repetitions; rep++) {
    for (const n of LEVELS) trials.get(n)!.push(await run(n));
  }
  const single = median(trials.get(1)!.map((t) => t.wallMs));
  const rows: string[][] = [];
  const json: Json = { machines: MACHINES, repetitions, singleRefreshMs: round(single) };
  let allOk = true;
  for (const [n, list] of trials) {
    const { cells, wallMs: wall, json: entry, ok } = verdict(n, list, single);
    allOk &&= ok;
    rows.push([
      n === 1 ? "1 (one refresh: the baseline)" : String(n),
      ...burstCells(cells, wall, n, single),
    ]);
    json[String(n)] = entry;
  }
  const table = markdownTable(
    [title, ...BURST_COLUMNS],
    rows,
    ["l", "r", "r", "r", "r", "r", "r"],
  );
  return { table, json, ok: allOk };
}
