/**
 * `deno task bench`: clawauth's speed claims as ratios against baselines
 * measured in the same run (never as timed tests).
 *
 * 1. Hot path: `token` (api_key and valid OAuth) and `status --json` vs a
 *    minimal Deno script that reads the same store and prints the key (the
 *    runtime floor, placed inside the repository so Deno's config discovery
 *    costs the same), `cat` (the physical floor) and `gh auth token` when
 *    `gh` is on PATH. Median and p90 of BENCH_RUNS (default 30) runs after
 *    warm-up, all commands interleaved round-robin. Target: `token` ≤ 1.3×
 *    the Deno floor (PASS/MISS is reported, a MISS is not an error).
 * 2. Contention: 8, 32 and 64 concurrent `token` calls on one expired OAuth
 *    profile against the sandbox identity provider: refreshes it saw (must
 *    be 1), distinct tokens (must be 1), failures, wall time vs one refresh
 *    and vs N concurrent runs of the Deno floor.
 * 3. Scale: `status --json`, `token --profile` and one locked store write
 *    (`report --ok`) with 1, 100 and 1,000 profiles.
 * 4. Memory: peak RSS (and CPU time) under GNU `/usr/bin/time` vs the floor.
 * 5. Layouts users have (scripts/bench_layouts.ts): the OpenClaw SQLite store,
 *    a JSON5 `openclaw.json`, round robin among several profiles, 1,000
 *    profiles, a fleet store; and the refresh window only SIGKILL can hit.
 * 6. Proxy (scripts/bench_proxy.ts): the latency, throughput and memory
 *    `clawauth proxy` adds over a fake Anthropic upstream, against a bare
 *    Deno pass-through and claude-code-router in the same run.
 *    `deno task bench proxy` runs this section alone and replaces only its
 *    entry in `bench/results.json`. BENCH_PROXY_ROUNDS (3), BENCH_PROXY_MS
 *    (1000 per phase), BENCH_PROXY_WARMUP_MS (200), BENCH_PROXY_CLIENTS (64)
 *    and BENCH_PROXY_STREAMS (256) size it; BENCH_CLAWAUTH_MAIN runs the
 *    proxy from another checkout's main.ts.
 *
 * BENCH_RUNS (30), BENCH_WARMUP (2), BENCH_MEM_RUNS, BENCH_CONTENTION_REPS
 * (3) and BENCH_REFRESH_WINDOW_RUNS (20) size the other sections;
 * BENCH_RESULTS names another results file.
 *
 * Prints Markdown tables on stdout (progress on stderr) and writes
 * `bench/results.json`. Exits 1 only when a correctness claim fails
 * (a second refresh, differing tokens, a failed call). Only 127.0.0.1 is
 * contacted.
 *
 * @module
 */

import { CLI_COMMAND, ROOT } from "./cli_runner.ts";
import { clawauth, expectLine, onPath, type Probe, roundRobin, spawn } from "./bench_runner.ts";
import { layouts, refreshWindow } from "./bench_layouts.ts";
import { contention } from "./bench_contention.ts";
import { fleetContention } from "./bench_fleet.ts";
import { scale } from "./bench_scale.ts";
import { proxyBench, type ProxyBenchOptions } from "./bench_proxy.ts";
import { killAll } from "./bench_proxy_targets.ts";
import { providerOverride, type SandboxIdp, startSandboxIdp } from "./sandbox_idp.ts";
import {
  envInt,
  type Json,
  jsonFloorScript,
  log,
  markdownTable,
  mean,
  median,
  ms,
  percentile,
  readJson,
  round,
  storePath,
  times,
} from "./bench_util.ts";

const RUNS = envInt("BENCH_RUNS", 30, 1);
const WARMUP = envInt("BENCH_WARMUP", 2, 1);
const MEM_RUNS = envInt("BENCH_MEM_RUNS", Math.min(RUNS, 10), 1);
const CONTENTION_REPS = envInt("BENCH_CONTENTION_REPS", 3, 1);
const REFRESH_WINDOW_RUNS = envInt("BENCH_REFRESH_WINDOW_RUNS", 20, 1);
const PROXY: Omit<ProxyBenchOptions, "root"> = {
  rounds: envInt("BENCH_PROXY_ROUNDS", 3, 1),
  phaseMs: envInt("BENCH_PROXY_MS", 1000, 10),
  warmupMs: envInt("BENCH_PROXY_WARMUP_MS", 200, 0),
  clients: envInt("BENCH_PROXY_CLIENTS", 64, 1),
  streams: envInt("BENCH_PROXY_STREAMS", 256, 1),
  clawauthMain: Deno.env.get("BENCH_CLAWAUTH_MAIN") || undefined,
};
/** BENCH_RESULTS writes elsewhere (the smoke test in tests/cli/bench_test.ts does). */
const RESULTS_PATH = Deno.env.get("BENCH_RESULTS") || `${ROOT}/bench/results.json`;
/** How messages name it. */
const RESULTS_NAME = RESULTS_PATH.replace(`${ROOT}/`, "");
const TARGET_RATIO = 1.3;
const GNU_TIME = "/usr/bin/time";
const DENO = Deno.execPath();
const FLOOR_PATH = `${ROOT}/bench/.floor.ts`;
const GRAPH_FLOOR_PATH = `${ROOT}/bench/.floor_graph.ts`;

// ---------------------------------------------------------------------------
// Sections

interface Stat {
  medianMs: number;
  p90Ms: number;
}

function stat(samples: readonly number[]): Stat {
  return { medianMs: median(samples), p90Ms: percentile(samples, 90) };
}

interface Setup {
  root: string;
  stateDir: string;
  env: Record<string, string>;
  apiKey: string;
  oauthId: string;
  oauthAccess: string;
  probes: Record<"cat" | "floor" | "graphFloor" | "tokenApi" | "tokenOauth" | "status", Probe>;
}

async function setUp(root: string, idp: SandboxIdp): Promise<Setup> {
  const stateDir = `${root}/state`;
  const env = { HOME: root, OPENCLAW_STATE_DIR: stateDir };
  const apiKey = `sk-bench-${crypto.randomUUID().replaceAll("-", "")}`;
  const cli = (args: string[], stdin?: string) => clawauth(env, args, stdin);
  await cli(["paste-token", "--provider", "openai", "--type", "api-key"], `${apiKey}\n`);
  Deno.writeTextFileSync(
    `${stateDir}/clawauth.json`,
    JSON.stringify({
      providers: {
        "openai-codex": providerOverride(idp, "http://127.0.0.1:1455/auth/callback", true),
      },
    }),
  );
  const started = JSON.parse(
    await cli(["login", "--provider", "openai-codex", "--start", "--json"]),
  );
  await cli(["login", "--finish", await idp.approve(started.url)]);
  const store = readJson(storePath(stateDir));
  const oauth = Object.entries(store.profiles as Record<string, Json>).find(([, p]) =>
    p.type === "oauth"
  );
  if (!oauth) throw new Error("the login stored no OAuth profile");
  const [oauthId, oauthProfile] = oauth;

  const path = storePath(stateDir);
  const floorCode = jsonFloorScript("scripts/bench.ts (the runtime floor)", path, "openai:default");
  Deno.writeTextFileSync(FLOOR_PATH, floorCode);
  Deno.writeTextFileSync(
    GRAPH_FLOOR_PATH,
    `${floorCode}// Makes Deno prepare clawauth's whole module graph without running any of it.
if (Deno.args[0] === "--never") await import("../main.ts");
`,
  );
  const cli2 = (args: string[]) => [...CLI_COMMAND, ...args];
  const probes: Setup["probes"] = {
    cat: {
      key: "cat",
      label: "`cat` of the store (physical floor)",
      cmd: ["cat", path],
      env,
      check: (out) => out.includes(apiKey) ? undefined : "did not print the store",
    },
    floor: {
      key: "denoFloor",
      label: "Deno script reading the store (runtime floor)",
      cmd: [DENO, "run", "--quiet", "--allow-read", FLOOR_PATH],
      env,
      check: expectLine(apiKey),
    },
    tokenApi: {
      key: "tokenApiKey",
      label: "`clawauth token --provider openai` (api_key)",
      cmd: cli2(["token", "--provider", "openai"]),
      env,
      check: expectLine(apiKey),
    },
    tokenOauth: {
      key: "tokenOauth",
      label: `\`clawauth token --profile ${oauthId}\` (valid OAuth)`,
      cmd: cli2(["token", "--profile", oauthId]),
      env,
      check: expectLine(String(oauthProfile.access)),
    },
    status: {
      key: "statusJson",
      label: "`clawauth status --json`",
      cmd: cli2(["status", "--json"]),
      env,
      check: (out) => JSON.parse(out).profiles.length === 2 ? undefined : "wrong profile count",
    },
    graphFloor: {
      key: "denoFloorPlusGraph",
      label: "↳ runtime floor + clawauth's module graph (prepared, never run)",
      cmd: [DENO, "run", "--quiet", "--allow-read", GRAPH_FLOOR_PATH],
      env,
      check: expectLine(apiKey),
    },
  };
  return {
    root,
    stateDir,
    env,
    apiKey,
    oauthId,
    oauthAccess: String(oauthProfile.access),
    probes,
  };
}

async function hotPath(s: Setup): Promise<{ table: string; json: Json; misses: number }> {
  const p = s.probes;
  const version: Probe = {
    key: "version",
    label: "↳ `clawauth --version` (graph + main.ts's static imports run)",
    cmd: [...CLI_COMMAND, "--version"],
    env: s.env,
    check: (out) => out.startsWith("clawauth ") ? undefined : "no version line",
  };
  const probes: Probe[] = [
    p.cat,
    p.floor,
    p.tokenApi,
    p.tokenOauth,
    p.status,
    p.graphFloor,
    version,
  ];
  const ghPath = onPath("gh");
  let gh: Probe | undefined;
  if (ghPath) {
    gh = {
      key: "ghAuthToken",
      label: "`gh auth token` (GitHub CLI, for comparison)",
      cmd: [ghPath, "auth", "token"],
      env: {
        ...s.env,
        GH_CONFIG_DIR: `${s.root}/gh`,
        GH_TOKEN: `ghp_${"b".repeat(36)}`,
        GH_NO_UPDATE_NOTIFIER: "1",
        GH_PROMPT_DISABLED: "1",
      },
      okCodes: [0, 1],
    };
    probes.push(gh);
  }
  log(`hot path: ${probes.length} commands × ${RUNS} runs, round-robin`);
  const samples = await roundRobin(probes, RUNS, WARMUP);
  const floor = stat(samples.get(p.floor.key)!).medianMs;
  const rows: string[][] = [];
  const json: Json = {};
  let misses = 0;
  const gated = new Set([p.tokenApi.key, p.tokenOauth.key]);
  const order = [
    p.cat,
    p.floor,
    p.tokenApi,
    p.tokenOauth,
    p.status,
    ...(gh ? [gh] : []),
    p.graphFloor,
    version,
  ];
  for (const probe of order) {
    const st = stat(samples.get(probe.key)!);
    const ratio = st.medianMs / floor;
    const verdict = gated.has(probe.key) ? (ratio <= TARGET_RATIO ? "PASS" : "MISS") : "";
    if (verdict === "MISS") misses++;
    rows.push([probe.label, ms(st.medianMs), ms(st.p90Ms), times(ratio), verdict]);
    json[probe.key] = {
      label: probe.label,
      command: probe.cmd.map((a) =>
        a.replace(DENO, "deno").replace(s.root, "$TMP").replace(ROOT, ".")
      ).join(" "),
      medianMs: round(st.medianMs),
      p90Ms: round(st.p90Ms),
      ratioToDenoFloor: round(ratio, 3),
      ...(verdict ? { targetRatio: TARGET_RATIO, verdict } : {}),
      samplesMs: samples.get(probe.key)!.map((x) => round(x)),
    };
  }
  if (!gh) {
    rows.splice(5, 0, ["`gh auth token`", "skipped: `gh` is not on PATH", "", "", ""]);
    json.ghAuthToken = { skipped: "gh is not on PATH" };
  }
  const table = markdownTable(
    [
      "Hot path (valid credential)",
      "median ms",
      "p90 ms",
      "× Deno floor",
      `token ≤ ${TARGET_RATIO}×`,
    ],
    rows,
    ["l", "r", "r", "r", "l"],
  );
  return { table, json, misses };
}

async function memory(s: Setup): Promise<{ table: string; json: Json }> {
  const note = `${GNU_TIME} -f %M`;
  const out = `${s.root}/time.out`;
  const parse = (): { rssKb: number; cpuMs: number } => {
    const lines = Deno.readTextFileSync(out).trim().split("\n");
    const [rss, user, sys] = lines[lines.length - 1].trim().split(/\s+/).map(Number);
    if (![rss, user, sys].every(Number.isFinite) || rss <= 0) {
      throw new Error(`unexpected ${GNU_TIME} output: ${lines.join(" / ")}`);
    }
    return { rssKb: rss, cpuMs: (user + sys) * 1000 };
  };
  const timed = async (cmd: readonly string[], env: Record<string, string>) => {
    const run = await spawn([GNU_TIME, "-f", "%M %U %S", "-o", out, ...cmd], env, false);
    if (run.code !== 0) throw new Error(`${cmd.join(" ")} exited ${run.code}: ${run.stderr}`);
    return parse();
  };
  let unavailable: string | undefined;
  try {
    if (!Deno.statSync(GNU_TIME).isFile) throw new Error("not a file");
    await timed(["true"], s.env);
  } catch (error) {
    unavailable = `${GNU_TIME} (GNU time) is not usable here: ${
      error instanceof Error ? error.message : String(error)
    }; nothing was installed`;
  }
  const p = s.probes;
  const probes = [p.cat, p.floor, p.tokenApi, p.tokenOauth, p.status];
  if (unavailable) {
    log(`memory: n/a (${unavailable})`);
    return {
      table: markdownTable(["Memory (peak RSS)", "result"], [[
        "all commands",
        `n/a: ${unavailable}`,
      ]]),
      json: { unavailable },
    };
  }
  log(`memory: ${probes.length} commands × ${MEM_RUNS} runs under ${note}`);
  const rss = new Map(probes.map((x) => [x.key, [] as number[]]));
  const cpu = new Map(probes.map((x) => [x.key, [] as number[]]));
  for (let r = 0; r < MEM_RUNS; r++) {
    for (let j = 0; j < probes.length; j++) {
      const probe = probes[(r + j) % probes.length];
      const m = await timed(probe.cmd, probe.env);
      rss.get(probe.key)!.push(m.rssKb);
      cpu.get(probe.key)!.push(m.cpuMs);
    }
  }
  const floorRss = median(rss.get(p.floor.key)!);
  const floorCpu = mean(cpu.get(p.floor.key)!);
  const rows: string[][] = [];
  const json: Json = {
    tool: `${GNU_TIME} -f "%M %U %S"`,
    runs: MEM_RUNS,
    note: "peak RSS: median; CPU: mean, as GNU time reports CPU in 10 ms steps",
  };
  for (const probe of probes) {
    const kb = median(rss.get(probe.key)!);
    const cpuMs = mean(cpu.get(probe.key)!);
    rows.push([
      probe.label,
      (kb / 1024).toFixed(1),
      times(kb / floorRss),
      ms(cpuMs),
      times(cpuMs / floorCpu),
    ]);
    json[probe.key] = {
      peakRssKb: kb,
      ratioToDenoFloor: round(kb / floorRss, 3),
      cpuMsMean: round(cpuMs),
      cpuRatioToDenoFloor: round(cpuMs / floorCpu, 3),
    };
  }
  return {
    table: markdownTable(
      [
        `Memory & CPU (GNU time, ${MEM_RUNS} runs each)`,
        "peak RSS MB (median)",
        "× Deno floor",
        "CPU ms user+sys (mean)",
        "× Deno floor",
      ],
      rows,
      ["l", "r", "r", "r", "r"],
    ),
    json,
  };
}

// ---------------------------------------------------------------------------
// Main

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) log(`could not remove ${path}: ${error}`);
  }
}

interface Machine {
  os: string;
  arch: string;
  cores: number;
  deno: string;
  v8: string;
  loadAvg: number[];
}

function machineInfo(): Machine {
  return {
    os: Deno.build.os,
    arch: Deno.build.arch,
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    loadAvg: Deno.loadavg().map((x) => round(x)),
  };
}

/** `deno task bench proxy`: the proxy section alone; the other entries of results.json stay. */
async function proxyOnly(root: string): Promise<number> {
  const proxy = await proxyBench({ root, ...PROXY });
  let results: Json = {};
  try {
    results = readJson(RESULTS_PATH);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  results.proxy = { ...proxy.json, machine: machineInfo() };
  await Deno.mkdir(`${ROOT}/bench`, { recursive: true });
  await Deno.writeTextFile(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
  console.log(proxy.table);
  log(`wrote the proxy entry of ${RESULTS_NAME}`);
  if (!proxy.ok) log("FAIL: requests through the upstream, the pass-through or clawauth failed");
  return proxy.ok ? 0 : 1;
}

const SECTIONS: Record<string, (root: string) => Promise<number>> = { proxy: proxyOnly };

async function main(): Promise<number> {
  const [only, ...extra] = Deno.args;
  if (extra.length || (only !== undefined && !SECTIONS[only])) {
    log(
      `usage: deno task bench [${Object.keys(SECTIONS).join("|")}]  (no argument: every section)`,
    );
    return 64;
  }
  const began = performance.now();
  const date = new Date();
  const root = await Deno.makeTempDir({ prefix: "clawauth-bench-" });
  const cleanUp = (): void => {
    removeQuietly(FLOOR_PATH);
    removeQuietly(GRAPH_FLOOR_PATH);
    removeQuietly(root);
  };
  const onSignal = (): void => {
    killAll();
    cleanUp();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let idp: SandboxIdp | undefined;
  try {
    if (only) return await SECTIONS[only](root);
    log("starting the sandbox IdP on 127.0.0.1 and logging in");
    idp = await startSandboxIdp();
    const setup = await setUp(root, idp);
    const hot = await hotPath(setup);
    const lay = await layouts(root, RUNS, WARMUP);
    const window = await refreshWindow(root, REFRESH_WINDOW_RUNS);
    const mem = await memory(setup);
    const sc = await scale(root, RUNS, WARMUP);
    const con = await contention({
      stateDir: setup.stateDir,
      env: setup.env,
      oauthId: setup.oauthId,
      floorCmd: setup.probes.floor.cmd,
      repetitions: CONTENTION_REPS,
    }, idp);
    const fleet = await fleetContention(root, idp, CONTENTION_REPS);
    const proxy = await proxyBench({ root, ...PROXY });

    const machine = machineInfo();
    const durationSec = round((performance.now() - began) / 1000, 1);
    const results = {
      date: date.toISOString(),
      machine,
      settings: {
        runs: RUNS,
        warmup: WARMUP,
        memoryRuns: MEM_RUNS,
        contentionRepetitions: CONTENTION_REPS,
        tokenTargetRatio: TARGET_RATIO,
      },
      hotPath: hot.json,
      layouts: lay.json,
      refreshWindow: window.json,
      contention: con.json,
      fleetContention: fleet.json,
      scale: sc.json,
      memory: mem.json,
      proxy: proxy.json,
      durationSec,
    };
    await Deno.mkdir(`${ROOT}/bench`, { recursive: true });
    await Deno.writeTextFile(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);

    const header =
      `**clawauth bench** — ${machine.os}/${machine.arch}, ${machine.cores} cores, Deno ${machine.deno}, ${
        date.toISOString().slice(0, 16).replace("T", " ")
      } UTC (load ${
        machine.loadAvg.join(" ")
      }). Wall-clock per process; ${RUNS} runs per command after ${WARMUP} warm-up round(s), ` +
      `interleaved round-robin; every ratio is against a baseline measured in the same run.`;
    console.log(
      [
        header,
        hot.table,
        lay.table,
        window.table,
        con.table,
        fleet.table,
        sc.table,
        mem.table,
        proxy.table,
      ].join("\n\n"),
    );
    log(
      `token target ≤ ${TARGET_RATIO}× the Deno floor: ${
        hot.misses + lay.misses
          ? `${hot.misses + lay.misses} MISS (reported, not an error)`
          : "PASS"
      }; wrote ${RESULTS_NAME} in ${durationSec} s`,
    );
    if (!con.ok || !fleet.ok) {
      log("FAIL: concurrent token calls did not make exactly one refresh with one token");
      return 1;
    }
    if (!proxy.ok) {
      log("FAIL: requests through the upstream, the pass-through or clawauth failed");
      return 1;
    }
    return 0;
  } finally {
    await idp?.close();
    cleanUp();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main();
  } catch (error) {
    // Caught, so the process ends normally and "unload" stops the throwaway PostgreSQL cluster.
    console.error(error);
    Deno.exitCode = 1;
  }
}
