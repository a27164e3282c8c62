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
 * samples; requests per second are the median of the rounds. Then each
 * target's peak memory over the load is read from /proc (VmHWM), and
 * `streams` streams are held open through a fresh process of each proxy
 * (VmRSS then, and VmHWM: its peak since it started). LiteLLM cannot be
 * installed here: its figures, measured elsewhere, are quoted in a table of
 * their own and never enter a ratio (scripts/bench_proxy_report.ts).
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
import {
  LITELLM_REFERENCE,
  type Measured,
  type Memory,
  PHASE_KEYS,
  type PhaseKey,
  PROXY_TARGETS,
  type Row,
  type Summary,
  tables,
  targetJson,
  verdicts,
} from "./bench_proxy_report.ts";
import { type Json, log, median, percentile, round } from "./bench_util.ts";
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
function procMemory(pid: number): Omit<Memory, "loadPeakKb"> {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (name: string): number =>
    Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))?.[1]);
  return { rssKb: kb("VmRSS"), peakKb: kb("VmHWM") };
}

/** Holds `n` streams open through `target` (the upstream stops after the first event), reads its memory. */
async function openStreams(
  target: Target,
  upstream: string,
  n: number,
): Promise<Omit<Memory, "loadPeakKb"> | string> {
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
    const { rssKb, peakKb } = procMemory(target.pid);
    return { rssKb, peakKb };
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

/**
 * `probe` on a fresh process of `target` (stopped before the proxy section
 * goes on, so two instances never share the cores); the upstream itself,
 * which every proxy needs, is probed as it is.
 */
async function freshMemory<T>(
  target: Target,
  start: (() => Promise<Target | Unavailable>) | undefined,
  probe: (target: Target) => Promise<T | string>,
): Promise<T | string> {
  if (!start) return await probe(target);
  await target.stop();
  const fresh = await start();
  if ("unavailable" in fresh) return fresh.unavailable;
  try {
    return await probe(fresh);
  } finally {
    await fresh.stop();
  }
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
    // Each proxy starts twice: once for the load phases, once fresh for the memory probe.
    const starters: Record<string, () => Promise<Target | Unavailable>> = {
      passThrough: () => startPassThrough(upstream.base, upstreamKey),
      clawauth: () =>
        startClawauth({
          dir: `${o.root}/proxy-clawauth`,
          upstream: upstream.base,
          key: upstreamKey,
          main: o.clawauthMain,
        }),
      claudeCodeRouter: () =>
        startCcr({ dir: `${o.root}/proxy-ccr`, upstream: upstream.base, key: upstreamKey }),
    };
    for (const start of Object.values(starters)) started.push(await start());
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
      const { peakKb: loadPeakKb } = procMemory(t.pid);
      rows.push({
        target: t,
        phases: perPhase,
        memory: await freshMemory(
          t,
          starters[t.key],
          (fresh) => openStreams(fresh, upstream.base, o.streams),
        ).then((m) => typeof m === "string" ? m : { loadPeakKb, ...m }),
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
