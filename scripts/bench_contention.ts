/**
 * `deno task bench`, contention: N concurrent `token` calls on one expired
 * OAuth login against the sandbox identity provider (refreshes it saw: must
 * be 1), also spread over 6 agents holding copies of it.
 *
 * @module
 */

import { burst, type Trial, verdict } from "./bench_burst.ts";
import { spawn } from "./bench_runner.ts";
import { backdate, type Json, log, markdownTable, median, ms, round, times } from "./bench_util.ts";
import { CLI_COMMAND } from "./cli_runner.ts";
import type { SandboxIdp } from "./sandbox_idp.ts";

/** Calls in the cross-agent burst: 3 per agent over 6 agents holding copies of one login. */
const LINEAGE_CALLS = 18;
const CONTENTION_LEVELS = [8, 32, 64];

/** A burst table's columns after its level (also bench_fleet.ts's), filled by burstCells. */
export const BURST_COLUMNS: readonly string[] = [
  "refreshes at IdP",
  "distinct tokens",
  "failures",
  "wall ms",
  "ms per call",
  "× one refresh",
];

/** A burst of `n` calls' cells under {@linkcode BURST_COLUMNS}; `single` is one refresh's wall ms. */
export function burstCells(
  cells: ReturnType<typeof verdict>["cells"],
  wall: number,
  n: number,
  single: number,
): string[] {
  return [
    cells.refreshes,
    cells.distinct,
    cells.failures,
    ms(wall),
    ms(wall / n),
    times(wall / single),
  ];
}

/** What a contention run needs of the bench's set-up. */
export interface ContentionSetup {
  stateDir: string;
  env: Record<string, string>;
  /** The OAuth profile to expire and ask for. */
  oauthId: string;
  /** The Deno floor, run N times at once for the comparison. */
  floorCmd: readonly string[];
  /** Repetitions of each level (the median is reported). */
  repetitions: number;
}

/** The contention table; `ok` is false when any burst made more than one refresh or token. */
export async function contention(
  s: ContentionSetup,
  idp: SandboxIdp,
): Promise<{ table: string; json: Json; ok: boolean }> {
  const tokenCmd = [...CLI_COMMAND, "token", "--profile", s.oauthId];
  const { floorCmd } = s;
  const trials = new Map<number, Trial[]>([1, ...CONTENTION_LEVELS].map((n) => [n, []]));
  // Calls are spread over `agents`, each holding a copy of the login (one lineage).
  const run = (n: number, agents = ["main"]): Promise<Trial> =>
    burst({
      n,
      call: (i) => ({ cmd: [...tokenCmd, "--agent", agents[i % agents.length]], env: s.env }),
      stale: agents.map((agent) => backdate(s.stateDir, s.oauthId, agent))[0],
      refreshes: () => idp.counts().refresh_token,
    });
  const floors = async (n: number): Promise<number> => {
    const start = performance.now();
    const runs = await Promise.all(Array.from({ length: n }, () => spawn(floorCmd, s.env, true)));
    const bad = runs.find((r) => r.code !== 0);
    if (bad) throw new Error(`Deno floor exited ${bad.code}: ${bad.stderr}`);
    return performance.now() - start;
  };
  log(`contention: N = 1, ${CONTENTION_LEVELS.join(", ")}; ${s.repetitions} repetitions`);
  await run(1); // warm-up: the refresh path loads modules the hot path does not
  for (let rep = 0; rep < s.repetitions; rep++) {
    trials.get(1)!.push(await run(1));
    for (const n of CONTENTION_LEVELS) {
      const floorWallMs = await floors(n);
      trials.get(n)!.push({ ...(await run(n)), floorWallMs });
    }
  }
  // Cross-agent: the same login copied into 6 agents, 3 calls per agent.
  const lineageAgents = ["main", "l1", "l2", "l3", "l4", "l5"];
  for (const agent of lineageAgents.slice(1)) {
    const added = await spawn(
      [...CLI_COMMAND, "agents", "add", agent, "--from", "main"],
      s.env,
      true,
    );
    if (added.code !== 0) throw new Error(`agents add ${agent}: ${added.stderr}`);
  }
  const lineageKey = -LINEAGE_CALLS; // a row of its own in `trials`
  trials.set(lineageKey, []);
  for (let rep = 0; rep < s.repetitions; rep++) {
    const floorWallMs = await floors(LINEAGE_CALLS);
    trials.get(lineageKey)!.push({ ...(await run(LINEAGE_CALLS, lineageAgents)), floorWallMs });
  }
  const single = median(trials.get(1)!.map((t) => t.wallMs));
  const rows: string[][] = [];
  const json: Json = { repetitions: s.repetitions, singleRefreshMs: round(single) };
  let allOk = true;
  for (const [key, list] of trials) {
    const n = Math.abs(key);
    const { cells, wallMs: wall, json: entry, ok } = verdict(n, list, single);
    allOk &&= ok;
    const floorWall = n === 1 ? NaN : median(list.map((t) => t.floorWallMs ?? NaN));
    rows.push([
      key === 1
        ? "1 (one refresh: the baseline)"
        : key < 0
        ? `${n} across ${lineageAgents.length} agents holding one login`
        : String(n),
      ...burstCells(cells, wall, n, single),
      times(wall / floorWall),
    ]);
    json[key < 0 ? `${n}AcrossAgents` : String(n)] = {
      ...entry,
      ...(n === 1 ? {} : {
        concurrentDenoFloorsMs: round(floorWall),
        ratioToConcurrentDenoFloors: round(wall / floorWall, 3),
      }),
    };
  }
  const table = markdownTable(
    [
      `Contention: N concurrent \`token\` on one expired OAuth login (median of ${s.repetitions})`,
      ...BURST_COLUMNS,
      "× N Deno floors",
    ],
    rows,
    ["l", "r", "r", "r", "r", "r", "r", "r"],
  );
  return { table, json, ok: allOk };
}
