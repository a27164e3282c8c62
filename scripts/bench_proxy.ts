/**
 * `deno task bench proxy` (also part of the full `deno task bench`): what
 * `clawauth proxy` adds in front of an Anthropic Messages upstream, against
 * the same fake upstream on loopback (scripts/bench_proxy_upstream.ts) in
 * the same run: the upstream alone (the baseline), a bare Deno pass-through
 * (what the runtime costs), `clawauth proxy`, and claude-code-router.
 *
 * Per target, `rounds` rounds, targets interleaved with a rotating start;
 * each round runs the load generator (scripts/bench_proxy_load.ts, closed
 * loop, keep-alive `fetch`) for four phases: a small non-streaming request
 * and the time to first byte of a stream, with one client and with
 * `clients` concurrent clients. Latency percentiles pool every round's
 * samples; requests per second are the median of the rounds. Then `streams`
 * streams are held open through each target and its memory is read from
 * /proc (VmRSS now, VmHWM the peak over the whole run). LiteLLM cannot be
 * installed here: its figures, measured elsewhere, are quoted in a table of
 * their own and never enter a ratio.
 *
 * @module
 */

import { type LoadSpec, messagesBody, type Phase, type PhaseResult } from "./bench_proxy_load.ts";
import {
  spawnTracked,
  startCcr,
  startClawauth,
  startPassThrough,
  startUpstream,
  STREAM_GAP_MS,
  type Target,
  type Unavailable,
} from "./bench_proxy_targets.ts";
import { type Json, log, markdownTable, median, ms, percentile, round } from "./bench_util.ts";
import { ROOT } from "./cli_runner.ts";

/** How much the section measures. */
export interface ProxyBenchOptions {
  /** A private scratch directory. */
  root: string;
  rounds: number;
  /** Measured time per phase and round, after `warmupMs`. */
  phaseMs: number;
  warmupMs: number;
  /** Concurrent clients of the loaded phases (64 in the issue). */
  clients: number;
  /** Streams held open for the memory probe (256 in the issue). */
  streams: number;
  /** Another checkout's main.ts to run `clawauth proxy` from. */
  clawauthMain?: string;
}

/** The issue's targets for `clawauth proxy`. */
export const PROXY_TARGETS = { addedP50Ms: 1, addedP99Ms: 3, rssMb: 100 } as const;

type PhaseKey = "small1" | "ttfb1" | "smallN" | "ttfbN";
const PHASE_KEYS: readonly PhaseKey[] = ["small1", "ttfb1", "smallN", "ttfbN"];

interface Summary {
  p50Ms: number;
  p99Ms: number;
  samples: number;
  rps: number;
  rpsRounds: number[];
  errors: number;
  firstError?: string;
}

interface Memory {
  rssKb: number;
  peakKb: number;
}

interface Measured {
  target: Target;
  phases: Record<PhaseKey, Summary>;
  memory: Memory | string;
}

/**
 * LiteLLM 1.82.1's proxy, measured on 2026-12-07 on a machine of this kind
 * (2 cores) against the same fake upstream, with a closed-loop load generator,
 * 16 clients, medians of 3 rounds; it is a PyPI package, not installable here.
 */
const LITELLM_REFERENCE = {
  how: "measured elsewhere (2026-12-07, same kind of machine: 2 cores), not in this run: " +
    "the same fake upstream, a closed-loop load generator, medians of 3 rounds; " +
    "16 clients, not 64. Quoted only, never in a ratio.",
  rows: [
    {
      label: "the upstream alone, in that measurement",
      one: { p50Ms: 0.43, p99Ms: 2.3, rps: 1637 },
      sixteen: { p50Ms: 4.4, p99Ms: 13.3, rps: 3060 },
    },
    {
      label: "LiteLLM 1.82.1, `/anthropic/v1/messages` pass-through",
      one: { p50Ms: 10.3, p99Ms: 19.5, rps: 92 },
      sixteen: { p50Ms: 132, p99Ms: 223, rps: 108 },
      rss: "270–300 MB",
      startUp: "≈ 10 s",
    },
  ],
};

function phasesOf(o: ProxyBenchOptions): Phase[] {
  const at = (clients: number, stream: boolean): Phase => ({
    clients,
    stream,
    durationMs: o.phaseMs,
    warmupMs: o.warmupMs,
  });
  return [at(1, false), at(1, true), at(o.clients, false), at(o.clients, true)];
}

async function load(spec: LoadSpec): Promise<PhaseResult[]> {
  const out = await spawnTracked(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net",
        `${ROOT}/scripts/bench_proxy_load.ts`,
        JSON.stringify(spec),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }),
  ).output();
  const text = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(
      `the load generator exited ${out.code}: ${text.decode(out.stderr).slice(0, 400)}`,
    );
  }
  return JSON.parse(text.decode(out.stdout));
}

function summarise(rounds: readonly PhaseResult[]): Summary {
  const samples = rounds.flatMap((r) => r.samplesMs);
  const firstError = rounds.find((r) => r.firstError)?.firstError;
  return {
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    samples: samples.length,
    rps: median(rounds.map((r) => r.rps)),
    rpsRounds: rounds.map((r) => round(r.rps, 0)),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    ...(firstError ? { firstError } : {}),
  };
}

/** VmRSS and VmHWM of a process, in kB. */
function procMemory(pid: number): Memory {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (name: string): number =>
    Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))?.[1]);
  return { rssKb: kb("VmRSS"), peakKb: kb("VmHWM") };
}

/** Holds `n` streams open through `target` (the upstream stops after the first event), reads its memory. */
async function openStreams(target: Target, upstream: string, n: number): Promise<Memory | string> {
  const control = (what: string) =>
    fetch(`${upstream}/_bench/${what}`, { method: "POST" }).then((r) => r.body?.cancel());
  const client = Deno.createHttpClient({});
  // A proxy that buffers streams never shows their first event while the upstream holds them.
  const signal = AbortSignal.timeout(20_000);
  const body = messagesBody(true);
  await control("hold");
  const opened: ReadableStreamDefaultReader<Uint8Array>[] = [];
  try {
    await Promise.all(Array.from({ length: n }, async () => {
      const answer = await fetch(target.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...target.headers },
        body,
        client,
        signal,
      });
      const reader = answer.body!.getReader();
      opened.push(reader);
      const first = await reader.read();
      if (answer.status !== 200 || first.done) throw new Error(`HTTP ${answer.status}`);
    }));
    return procMemory(target.pid);
  } catch (error) {
    return `the ${n} streams did not open: ${(error as Error).message}`;
  } finally {
    await control("release");
    await Promise.all(opened.map(async (reader) => {
      while (!(await reader.read().catch(() => ({ done: true }))).done) {
        // drain what the upstream sends once released
      }
    }));
    client.close();
  }
}

// ---------------------------------------------------------------------------
// Report

const fine = (x: number): string => Number.isFinite(x) && x < 10 ? x.toFixed(2) : ms(x);
const signed = (x: number): string =>
  Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${fine(Math.abs(x))}` : "–";
const pair = (a: string, b: string): string => `${a} / ${b}`;
const mb = (kb: number): string => (kb / 1024).toFixed(0);
const verdictOf = (ok: boolean | undefined): string =>
  ok === undefined ? "n/a" : ok ? "PASS" : "MISS";

function added(m: Measured, base: Measured, key: PhaseKey): { p50: number; p99: number } {
  return {
    p50: m.phases[key].p50Ms - base.phases[key].p50Ms,
    p99: m.phases[key].p99Ms - base.phases[key].p99Ms,
  };
}

function targetJson(m: Measured, base: Measured): Json {
  const phases: Json = {};
  for (const key of PHASE_KEYS) {
    const s = m.phases[key];
    const a = added(m, base, key);
    phases[key] = {
      p50Ms: round(s.p50Ms, 3),
      p99Ms: round(s.p99Ms, 3),
      ...(m === base ? {} : { addedP50Ms: round(a.p50, 3), addedP99Ms: round(a.p99, 3) }),
      samples: s.samples,
      rps: round(s.rps, 0),
      rpsRounds: s.rpsRounds,
      errors: s.errors,
      ...(s.firstError ? { firstError: s.firstError } : {}),
    };
  }
  return {
    label: m.target.label,
    startMs: round(m.target.startMs, 0),
    phases,
    rpsRatioToUpstream: round(m.phases.smallN.rps / base.phases.smallN.rps, 3),
    memory: typeof m.memory === "string"
      ? { unavailable: m.memory }
      : { rssWithOpenStreamsKb: m.memory.rssKb, peakRssKb: m.memory.peakKb },
  };
}

interface Verdicts {
  oneClientLatency?: boolean;
  rss?: boolean;
  lessLatencyThanEachPeer?: boolean;
  moreRpsThanEveryPeer?: boolean;
}

function verdicts(clawauth: Measured | undefined, base: Measured, peers: Measured[]): Verdicts {
  if (!clawauth) return {};
  const within = (key: PhaseKey) => {
    const a = added(clawauth, base, key);
    return a.p50 <= PROXY_TARGETS.addedP50Ms && a.p99 <= PROXY_TARGETS.addedP99Ms;
  };
  const mem = clawauth.memory;
  const beats = (peer: Measured) =>
    PHASE_KEYS.every((k) =>
      clawauth.phases[k].p50Ms < peer.phases[k].p50Ms &&
      clawauth.phases[k].p99Ms < peer.phases[k].p99Ms
    );
  return {
    oneClientLatency: within("small1") && within("ttfb1"),
    rss: typeof mem === "string" ? undefined : mem.peakKb / 1024 <= PROXY_TARGETS.rssMb,
    ...(peers.length
      ? {
        lessLatencyThanEachPeer: peers.every(beats),
        moreRpsThanEveryPeer: peers.every((p) => clawauth.phases.smallN.rps > p.phases.smallN.rps),
      }
      : {}),
  };
}

/** A row of the report: a measured target, or one that did not run and why. */
type Row = Measured | Unavailable;

function tables(o: ProxyBenchOptions, rows: readonly Row[], v: Verdicts): string {
  const measured = rows.filter((r): r is Measured => "phases" in r);
  const base = measured[0];
  const n = o.clients;
  const memCells = (m: Measured): string[] =>
    typeof m.memory === "string" ? [m.memory, ""] : [mb(m.memory.peakKb), mb(m.memory.rssKb)];
  const absolute = rows.map((m) => {
    if ("unavailable" in m) return [m.label, m.unavailable, "", "", "", "", "", "", ""];
    const p = m.phases;
    return [
      m.target.label,
      pair(fine(p.small1.p50Ms), fine(p.small1.p99Ms)),
      pair(fine(p.ttfb1.p50Ms), fine(p.ttfb1.p99Ms)),
      pair(fine(p.smallN.p50Ms), fine(p.smallN.p99Ms)),
      pair(fine(p.ttfbN.p50Ms), fine(p.ttfbN.p99Ms)),
      p.smallN.rps.toFixed(0),
      ...memCells(m),
      ms(m.target.startMs),
    ];
  });
  const first = markdownTable(
    [
      `Proxy (ms; ${o.rounds} round(s) × ${o.phaseMs / 1000} s per phase, closed loop)`,
      "1 client p50 / p99",
      "TTFB, 1 client",
      `${n} clients p50 / p99`,
      `TTFB, ${n} clients`,
      `req/s, ${n} clients`,
      "peak RSS MB",
      `RSS MB, ${o.streams} streams`,
      "start-up ms",
    ],
    absolute,
    ["l", "r", "r", "r", "r", "r", "r", "r", "r"],
  );
  const errors = (m: Measured): string => {
    const total = PHASE_KEYS.reduce((a, k) => a + m.phases[k].errors, 0);
    const firstError = PHASE_KEYS.map((k) => m.phases[k].firstError).find(Boolean);
    return total ? `${total} ✗ (${firstError})` : "0";
  };
  const delta = measured.slice(1).map((m) => {
    const cell = (k: PhaseKey) => {
      const a = added(m, base, k);
      return pair(signed(a.p50), signed(a.p99));
    };
    return [
      m.target.label,
      cell("small1"),
      cell("ttfb1"),
      cell("smallN"),
      cell("ttfbN"),
      `${(m.phases.smallN.rps / base.phases.smallN.rps).toFixed(2)}×`,
      errors(m),
    ];
  });
  const second = markdownTable(
    [
      "Added over the upstream alone (same run)",
      "1 client +p50 / +p99",
      "TTFB, 1 client",
      `${n} clients +p50 / +p99`,
      `TTFB, ${n} clients`,
      `req/s × upstream`,
      "errors",
    ],
    delta,
    ["l", "r", "r", "r", "r", "r", "l"],
  );
  const t = PROXY_TARGETS;
  const goals = [
    `one client, small requests and TTFB: ≤ ${t.addedP50Ms} ms added at p50, ≤ ${t.addedP99Ms} ms at p99: ${
      verdictOf(v.oneClientLatency)
    }`,
    `peak RSS ≤ ${t.rssMb} MB: ${verdictOf(v.rss)}`,
    `less added latency than each peer (p50 and p99, every phase): ${
      verdictOf(v.lessLatencyThanEachPeer)
    }`,
    `${n} clients: more req/s than every peer: ${verdictOf(v.moreRpsThanEveryPeer)}; ` +
    "as close to the upstream alone as 2 cores allow (the load generator, the proxy and the " +
    "upstream share them; the bare pass-through shows what a Deno proxy can reach)",
  ];
  const targets =
    `Targets for \`clawauth proxy\` (reported, not an error; n/a when it did not run):\n${
      goals.map((g) => `- ${g}`).join("\n")
    }`;
  const ref = markdownTable(
    [
      "Reference, measured elsewhere (not this run)",
      "1 client p50 / p99",
      "req/s, 1 client",
      "16 clients p50 / p99",
      "req/s, 16 clients",
      "RSS",
      "start-up",
    ],
    LITELLM_REFERENCE.rows.map((r) => [
      r.label,
      pair(fine(r.one.p50Ms), fine(r.one.p99Ms)),
      String(r.one.rps),
      pair(fine(r.sixteen.p50Ms), fine(r.sixteen.p99Ms)),
      String(r.sixteen.rps),
      r.rss ?? "",
      r.startUp ?? "",
    ]),
    ["l", "r", "r", "r", "r", "r", "r"],
  );
  return [first, second, targets, `${ref}\n\nLiteLLM: ${LITELLM_REFERENCE.how}`].join("\n\n");
}

// ---------------------------------------------------------------------------
// Section

/** Runs the proxy section: its Markdown, its results.json entry, and `ok` (no failed request). */
export async function proxyBench(
  o: ProxyBenchOptions,
): Promise<{ table: string; json: Json; ok: boolean }> {
  const began = new Date();
  const upstreamKey = `sk-ant-api03-bench-${crypto.randomUUID()}`;
  const started: (Target | Unavailable)[] = [];
  try {
    log("proxy: starting the fake upstream, the pass-through, clawauth proxy, claude-code-router");
    const upstream = await startUpstream(upstreamKey);
    started.push(upstream);
    started.push(await startPassThrough(upstream.base, upstreamKey));
    started.push(
      await startClawauth({
        dir: `${o.root}/proxy-clawauth`,
        upstream: upstream.base,
        key: upstreamKey,
        main: o.clawauthMain,
      }),
    );
    started.push(
      await startCcr({ dir: `${o.root}/proxy-ccr`, upstream: upstream.base, key: upstreamKey }),
    );
    const targets = started.filter((t): t is Target => "url" in t);
    for (const t of started) if ("unavailable" in t) log(`proxy: ${t.label}: ${t.unavailable}`);

    const phases = phasesOf(o);
    const results = new Map(targets.map((t) => [t.key, [] as PhaseResult[][]]));
    log(
      `proxy: ${targets.length} targets × ${o.rounds} rounds × ${phases.length} phases of ${o.phaseMs} ms`,
    );
    for (let r = 0; r < o.rounds; r++) {
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(r + j) % targets.length];
        results.get(t.key)!.push(await load({ url: t.url, headers: t.headers, phases }));
      }
    }
    log(`proxy: ${o.streams} open streams through each target`);
    const rows: Row[] = [];
    for (const t of started) {
      if ("unavailable" in t) {
        rows.push(t);
        continue;
      }
      const perPhase = Object.fromEntries(
        PHASE_KEYS.map((k, i) => [k, summarise(results.get(t.key)!.map((round) => round[i]))]),
      ) as Record<PhaseKey, Summary>;
      rows.push({
        target: t,
        phases: perPhase,
        memory: await openStreams(t, upstream.base, o.streams),
      });
    }
    const measured = rows.filter((r): r is Measured => "phases" in r);
    const base = measured[0];
    const clawauth = measured.find((m) => m.target.key === "clawauth");
    const peers = measured.filter((m) => m.target.key === "claudeCodeRouter");
    const v = verdicts(clawauth, base, peers);
    const ok = measured.filter((m) => m.target.key !== "claudeCodeRouter").every((m) =>
      PHASE_KEYS.every((k) => m.phases[k].errors === 0)
    );
    const json: Json = {
      date: began.toISOString(),
      loadAvg: Deno.loadavg().map((x) => round(x)),
      settings: {
        rounds: o.rounds,
        phaseMs: o.phaseMs,
        warmupMs: o.warmupMs,
        clients: o.clients,
        openStreams: o.streams,
        ...(o.clawauthMain ? { clawauthMain: o.clawauthMain } : {}),
        loadGenerator: "scripts/bench_proxy_load.ts: closed loop, keep-alive fetch, own process",
        upstream: "scripts/bench_proxy_upstream.ts: a JSON message; SSE with the rest " +
          `${STREAM_GAP_MS} ms after message_start`,
        statistics: "percentiles pool all rounds' samples; req/s is the median of the rounds",
      },
      targets: PROXY_TARGETS,
      ...Object.fromEntries(
        rows.map((r) =>
          "unavailable" in r
            ? [r.key, { label: r.label, unavailable: r.unavailable }]
            : [r.target.key, targetJson(r, base)]
        ),
      ),
      verdicts: v,
      reference: { liteLLM: LITELLM_REFERENCE },
      ok,
    };
    return { table: tables(o, rows, v), json, ok };
  } finally {
    await Promise.all(started.map((t) => "stop" in t ? t.stop() : undefined));
  }
}
