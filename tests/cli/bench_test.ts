/**
 * `deno task bench` end to end at its smallest sizes: every section must
 * still run against the current CLI and stores (its probes and floors are
 * scripts of their own that nothing else runs). Speed is not judged here;
 * only that each section produced its figures and no correctness claim
 * failed. The results go to a temp file, never bench/results.json.
 */

import assert from "node:assert/strict";
import { outputOf, ROOT, tempState } from "../helpers.ts";

const SMALLEST: Record<string, string> = {
  BENCH_RUNS: "1",
  BENCH_WARMUP: "1",
  BENCH_MEM_RUNS: "1",
  BENCH_CONTENTION_REPS: "1",
  BENCH_REFRESH_WINDOW_RUNS: "1",
  BENCH_PROXY_ROUNDS: "1",
  BENCH_PROXY_MS: "100",
  BENCH_PROXY_WARMUP_MS: "0",
  BENCH_PROXY_CLIENTS: "4",
  BENCH_PROXY_STREAMS: "8",
};

Deno.test("deno task bench runs every section at its smallest sizes and writes each one's figures", async () => {
  // Only for its disposable temp dir: the bench makes its own state dirs.
  await using temp = await tempState();
  const results = `${temp.home}/results.json`;
  const out = await outputOf(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${ROOT}/scripts/bench.ts`],
      cwd: ROOT,
      env: { ...SMALLEST, BENCH_RESULTS: results },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  assert.equal(out.code, 0, out.stderr.slice(-2000));
  const json = JSON.parse(Deno.readTextFileSync(results));
  for (
    const section of [
      "hotPath",
      "layouts",
      "refreshWindow",
      "contention",
      "fleetContention",
      "scale",
      "memory",
      "proxy",
    ]
  ) {
    assert.ok(json[section], `results.json has no ${section}`);
  }
  const proxy = json.proxy as Record<string, { phases?: Record<string, { errors: number }> }>;
  assert.ok(proxy.clawauth?.phases, "the proxy section measured clawauth proxy");
  for (const [phase, result] of Object.entries(proxy.clawauth.phases)) {
    assert.equal(result.errors, 0, `clawauth proxy answered every request of ${phase}`);
  }
  assert.doesNotMatch(out.stdout, / exited \d/, "no probe failed");
});
