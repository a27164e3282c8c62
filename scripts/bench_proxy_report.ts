/**
 * The report of the proxy section of `deno task bench` (scripts/bench_proxy.ts):
 * the issue's targets and their verdicts, the results.json entry of each
 * target, and the Markdown tables — absolute figures, what each target adds
 * over the upstream alone in the same run, and LiteLLM's figures measured
 * elsewhere, quoted apart and never in a ratio.
 *
 * @module
 */

import type { Target, Unavailable } from "./bench_proxy_targets.ts";
import { type Json, markdownTable, ms, round } from "./bench_util.ts";

/** What the tables say about the run. */
export interface ReportSettings {
  rounds: number;
  phaseMs: number;
  clients: number;
  streams: number;
}
/** The issue's targets for `clawauth proxy`. */
export const PROXY_TARGETS = { addedP50Ms: 1, addedP99Ms: 3, rssMb: 100 } as const;

/** The four phases: small requests and TTFB, with one client and with many. */
export type PhaseKey = "small1" | "ttfb1" | "smallN" | "ttfbN";
/** The phases in the order the load generator runs them. */
export const PHASE_KEYS: readonly PhaseKey[] = ["small1", "ttfb1", "smallN", "ttfbN"];

/** One phase of one target over every round. */
export interface Summary {
  p50Ms: number;
  p99Ms: number;
  samples: number;
  rps: number;
  rpsRounds: number[];
  errors: number;
  firstError?: string;
}

/**
 * A target's memory, in kB: its peak over the load phases, and a fresh
 * process's RSS and peak with the streams open (what the ≤ 100 MB target
 * is about: the load phases' peak is mostly V8's young generation growing
 * under thousands of requests a second, the upstream's own included).
 */
export interface Memory {
  /** VmHWM of the process that served the load phases. */
  loadPeakKb: number;
  /** VmRSS of a fresh process holding the streams open. */
  rssKb: number;
  /** VmHWM of that fresh process: start-up plus the open streams. */
  peakKb: number;
}

/** A target's phases and memory (or why its memory could not be read). */
export interface Measured {
  target: Target;
  phases: Record<PhaseKey, Summary>;
  memory: Memory | string;
}

/**
 * LiteLLM 1.82.1's proxy, measured on 2026-12-07 on a machine of this kind
 * (2 cores) against the same fake upstream, with a closed-loop load generator,
 * 16 clients, medians of 3 rounds; it is a PyPI package, not installable here.
 */
export const LITELLM_REFERENCE = {
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

/** The results.json entry of a measured target; `base` is the upstream alone. */
export function targetJson(m: Measured, base: Measured): Json {
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
    memory: typeof m.memory === "string" ? { unavailable: m.memory } : {
      rssWithOpenStreamsKb: m.memory.rssKb,
      peakRssWithOpenStreamsKb: m.memory.peakKb,
      peakRssUnderLoadKb: m.memory.loadPeakKb,
    },
  };
}

/** The issue's targets for `clawauth proxy`, each met or not; absent when not measurable. */
export interface Verdicts {
  /** One client: ≤ 1 ms added at p50, small requests and time to first byte. */
  oneClientP50?: boolean;
  /** One client: ≤ 3 ms added at p99, small requests and time to first byte. */
  oneClientP99?: boolean;
  rss?: boolean;
  lessLatencyThanEachPeer?: boolean;
  moreRpsThanEveryPeer?: boolean;
}

/** Judges `clawauth` against the upstream alone (`base`) and the peers measured in the same run. */
export function verdicts(
  clawauth: Measured | undefined,
  base: Measured,
  peers: readonly Measured[],
): Verdicts {
  if (!clawauth) return {};
  const within = (pct: "p50" | "p99", limit: number) =>
    (["small1", "ttfb1"] as const).every((key) => added(clawauth, base, key)[pct] <= limit);
  const mem = clawauth.memory;
  const beats = (peer: Measured) =>
    PHASE_KEYS.every((k) =>
      clawauth.phases[k].p50Ms < peer.phases[k].p50Ms &&
      clawauth.phases[k].p99Ms < peer.phases[k].p99Ms
    );
  return {
    oneClientP50: within("p50", PROXY_TARGETS.addedP50Ms),
    oneClientP99: within("p99", PROXY_TARGETS.addedP99Ms),
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
export type Row = Measured | Unavailable;

/** The Markdown of the section; the first measured row is the upstream alone. */
export function tables(o: ReportSettings, rows: readonly Row[], v: Verdicts): string {
  const measured = rows.filter((r): r is Measured => "phases" in r);
  const base = measured[0];
  const n = o.clients;
  const memCells = (m: Measured): string[] =>
    typeof m.memory === "string"
      ? [m.memory, ""]
      : [mb(m.memory.loadPeakKb), `${mb(m.memory.rssKb)} / ${mb(m.memory.peakKb)}`];
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
      "peak RSS MB, load phases",
      `RSS / peak MB, ${o.streams} streams (fresh process)`,
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
    `one client, small requests and TTFB: ≤ ${t.addedP50Ms} ms added at p50: ${
      verdictOf(v.oneClientP50)
    }; ≤ ${t.addedP99Ms} ms at p99: ${verdictOf(v.oneClientP99)}`,
    `peak RSS with ${o.streams} open streams ≤ ${t.rssMb} MB (a fresh proxy): ${verdictOf(v.rss)}`,
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
