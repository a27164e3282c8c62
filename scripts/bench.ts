/**
 * `deno task bench`: start-up and contention figures as ratios against
 * baselines measured in the same run (never as timed tests).
 *
 * - hot path: `clawauth token` and `status --json` on a valid token vs a
 *   minimal Deno script reading the same file (the runtime floor) vs `cat`;
 * - contention: N concurrent `token` calls on one expired OAuth profile
 *   against the sandbox identity provider: refreshes seen (must be 1),
 *   distinct tokens (must be 1), wall time vs a single refresh.
 *
 * Writes a table to stdout and `bench/results.json`.
 *
 * @module
 */

import { CLI_COMMAND, cliEnv, ROOT, runCli } from "./cli_runner.ts";
import { startSandboxIdp } from "./sandbox_idp.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 30);

async function timeCommand(cmd: readonly string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const { code } = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    clearEnv: true,
    env: cliEnv(env),
    stdout: "null",
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}`);
  return performance.now() - start;
}

async function median(cmd: readonly string[], env: Record<string, string>): Promise<number> {
  await timeCommand(cmd, env); // warm the module cache
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timeCommand(cmd, env));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const root = await Deno.makeTempDir({ prefix: "clawauth-bench-" });
const env = { HOME: root, OPENCLAW_STATE_DIR: `${root}/state` };
const idp = await startSandboxIdp();
const rows: { name: string; ms: number; ratio: number }[] = [];
const results: Record<string, unknown> = { date: new Date().toISOString(), runs: RUNS };
try {
  await runCli(
    ["paste-token", "--provider", "openai", "--type", "api-key"],
    env,
    `sk-${"x".repeat(48)}\n`,
  );
  const store = `${root}/state/agents/main/agent/auth-profiles.json`;
  const floorScript = `${root}/floor.ts`;
  await Deno.writeTextFile(
    floorScript,
    `const s = JSON.parse(Deno.readTextFileSync(${
      JSON.stringify(store)
    })); console.log(s.profiles["openai:default"].key);\n`,
  );
  const floor = await median([Deno.execPath(), "run", "--quiet", "--allow-read", floorScript], env);
  const cat = await median(["cat", store], env);
  const token = await median([...CLI_COMMAND, "token", "--provider", "openai"], env);
  const status = await median([...CLI_COMMAND, "status", "--json"], env);
  for (
    const [name, ms] of [["cat (physical floor)", cat], ["deno script (runtime floor)", floor], [
      "clawauth token",
      token,
    ], ["clawauth status --json", status]] as const
  ) {
    rows.push({ name, ms, ratio: ms / floor });
  }
  results.hotPath = Object.fromEntries(
    rows.map((r) => [r.name, { ms: r.ms, ratioToDeno: r.ratio }]),
  );

  Deno.writeTextFileSync(
    `${root}/state/clawauth.json`,
    JSON.stringify({
      providers: {
        "openai-codex": {
          issuer: idp.issuer,
          authorizeUrl: idp.authorizeUrl,
          tokenUrl: idp.tokenUrl,
          clientId: idp.clientId,
          redirectUri: "http://127.0.0.1:1455/auth/callback",
        },
      },
    }),
  );
  const started = JSON.parse(
    (await runCli(["login", "--provider", "openai-codex", "--start", "--json"], env)).stdout,
  );
  await runCli(["login", "--finish", await idp.approve(started.url)], env);
  const contention: Record<string, unknown> = {};
  for (const n of [1, 8, 32, 64]) {
    const data = JSON.parse(Deno.readTextFileSync(store));
    for (const p of Object.values(data.profiles) as { type: string; expires: number }[]) {
      if (p.type === "oauth") p.expires = Date.now() - 1000;
    }
    Deno.writeTextFileSync(store, JSON.stringify(data));
    const before = idp.counts().refresh_token;
    const start = performance.now();
    const out = await Promise.all(
      Array.from({ length: n }, () => runCli(["token", "--provider", "openai-codex"], env)),
    );
    const wall = performance.now() - start;
    contention[n] = {
      refreshes: idp.counts().refresh_token - before,
      distinctTokens: new Set(out.map((o) => o.stdout)).size,
      failures: out.filter((o) => o.code !== 0).length,
      wallMs: Math.round(wall),
    };
  }
  results.contention = contention;
  results.machine = { os: Deno.build.os, arch: Deno.build.arch, deno: Deno.version.deno };

  console.log(`Hot path, median of ${RUNS} runs (ratio to the Deno floor):`);
  for (const row of rows) {
    console.log(
      `  ${row.name.padEnd(30)} ${row.ms.toFixed(1).padStart(7)} ms  ${row.ratio.toFixed(2)}×`,
    );
  }
  console.log("\nContention: N concurrent `token` on one expired OAuth profile:");
  for (const [n, c] of Object.entries(contention)) {
    console.log(`  N=${n.padEnd(3)} ${JSON.stringify(c)}`);
  }
  await Deno.mkdir(`${ROOT}/bench`, { recursive: true });
  await Deno.writeTextFile(`${ROOT}/bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await idp.close();
  await Deno.remove(root, { recursive: true });
}
