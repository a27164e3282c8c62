/**
 * `deno task bench`, scale: `status --json`, `token --profile` and one
 * locked store write (`report --ok`) with 1, 100 and 1,000 profiles.
 *
 * @module
 */

import { expectLine, type Probe, roundRobin } from "./bench_runner.ts";
import {
  count,
  type Json,
  kb,
  log,
  markdownTable,
  median,
  ms,
  percentile,
  readJson,
  round,
  SCALE_TARGET,
  SCALE_TARGET_KEY,
  storePath,
  syntheticStore,
  times,
  writeStore,
} from "./bench_util.ts";
import { CLI_COMMAND } from "./cli_runner.ts";

/** The store sizes measured. */
const SCALE_SIZES = [1, 100, 1000];

/** The scale table: each command at each store size. */
export async function scale(
  root: string,
  runs: number,
  warmup: number,
): Promise<{ table: string; json: Json }> {
  const now = Date.now();
  const probes: Probe[] = [];
  const bytes: Record<number, number> = {};
  const kinds = [
    { key: "statusJson", label: "`status --json`", args: ["status", "--json"] },
    {
      key: "tokenProfile",
      label: `\`token --profile ${SCALE_TARGET}\``,
      args: ["token", "--profile", SCALE_TARGET],
    },
    {
      key: "reportOk",
      label: `\`report ${SCALE_TARGET} --ok\` (one store write under the lock)`,
      args: ["report", SCALE_TARGET, "--ok"],
    },
  ];
  for (const n of SCALE_SIZES) {
    const stateDir = `${root}/scale-${n}/state`;
    writeStore(stateDir, syntheticStore(n, now));
    bytes[n] = Deno.statSync(storePath(stateDir)).size;
    const env = { HOME: root, OPENCLAW_STATE_DIR: stateDir };
    const checks: Record<string, (out: string) => string | undefined> = {
      statusJson: (out) => {
        const profiles = JSON.parse(out).profiles as { state: string }[];
        if (profiles.length !== n) return `listed ${profiles.length} profiles, not ${n}`;
        const bad = profiles.filter((x) => x.state !== "ok").length;
        return bad ? `${bad} profiles are not ok` : undefined;
      },
      tokenProfile: expectLine(SCALE_TARGET_KEY),
      reportOk: () => {
        const data = readJson(storePath(stateDir));
        const used = ((data.usageStats as Json)[SCALE_TARGET] as Json).lastUsed as number;
        return used >= now ? undefined : "did not rewrite the store";
      },
    };
    for (const kind of kinds) {
      probes.push({
        key: `${kind.key}@${n}`,
        label: kind.label,
        cmd: [...CLI_COMMAND, ...kind.args],
        env,
        check: checks[kind.key],
      });
    }
  }
  log(`scale: ${probes.length} commands × ${runs} runs, round-robin`);
  const samples = await roundRobin(probes, runs, warmup);
  const first = SCALE_SIZES[0];
  const last = SCALE_SIZES[SCALE_SIZES.length - 1];
  const rows: string[][] = [];
  const json: Json = {
    sizes: SCALE_SIZES,
    storeBytes: bytes,
    target: SCALE_TARGET,
  };
  let worstGrowth = 0;
  for (const kind of kinds) {
    const med = SCALE_SIZES.map((n) => median(samples.get(`${kind.key}@${n}`)!));
    const p90 = SCALE_SIZES.map((n) => percentile(samples.get(`${kind.key}@${n}`)!, 90));
    const growth = med[med.length - 1] / med[0];
    worstGrowth = Math.max(worstGrowth, growth);
    const perProfileUs = ((med[med.length - 1] - med[0]) / (last - first)) * 1000;
    rows.push([kind.label, ...med.map(ms), times(growth), `${perProfileUs.toFixed(1)} µs`]);
    json[kind.key] = {
      medianMs: Object.fromEntries(SCALE_SIZES.map((n, i) => [n, round(med[i])])),
      p90Ms: Object.fromEntries(SCALE_SIZES.map((n, i) => [n, round(p90[i])])),
      growth: round(growth, 3),
      usPerExtraProfile: round(perProfileUs, 2),
    };
  }
  const linear = last / first;
  json.verdict = worstGrowth <= linear
    ? `sub-linear: ${first} → ${last} profiles multiplies time by at most ${
      worstGrowth.toFixed(2)
    }× (linear would be ${linear}×)`
    : `super-linear: ${worstGrowth.toFixed(0)}× for ${linear}× the profiles`;
  const table = markdownTable(
    [
      "Scale: profiles in the store (median ms)",
      ...SCALE_SIZES.map((n) => `${count(n)} (${kb(bytes[n])})`),
      `${count(first)} → ${count(last)}`,
      "per extra profile",
    ],
    rows,
    ["l", ...SCALE_SIZES.map(() => "r" as const), "r", "r"],
  );
  return { table: `${table}\n\n${String(json.verdict)}.`, json };
}
