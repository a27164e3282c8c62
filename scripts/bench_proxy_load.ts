/**
 * The load generator of the proxy section of `deno task bench`: closed-loop
 * clients (each sends its next request when the last one is done) over
 * keep-alive `fetch`, in a process of its own so its work is not the
 * bench's. Per phase it records, for requests started after the warm-up,
 * the latency of a small non-streaming Messages request (until the whole
 * body is read) or the time to the first body byte of a streaming one (the
 * rest is read, untimed), and the requests completed per second.
 *
 * Run: `deno run --allow-net scripts/bench_proxy_load.ts SPEC_JSON` (a
 * {@linkcode LoadSpec}); prints one JSON line, a {@linkcode PhaseResult} per phase.
 *
 * @module
 */

/** One measured phase. */
export interface Phase {
  /** Concurrent closed-loop clients. */
  clients: number;
  /** Streaming (`"stream":true`, time to first byte) or not (whole answer). */
  stream: boolean;
  /** Measured time, after `warmupMs`. */
  durationMs: number;
  warmupMs: number;
}

/** What the load generator runs against one target. */
export interface LoadSpec {
  /** The Messages endpoint, e.g. `http://127.0.0.1:PORT/anthropic/v1/messages`. */
  url: string;
  headers: Record<string, string>;
  phases: Phase[];
}

/** The outcome of one phase. */
export interface PhaseResult {
  /** Latencies (ms) of the requests started after the warm-up. */
  samplesMs: number[];
  /** Requests completed per second after the warm-up. */
  rps: number;
  /** Answers that were not a complete 200 (or failed fetches), warm-up included. */
  errors: number;
  firstError?: string;
}

/** The small Messages request every phase sends. */
export function messagesBody(stream: boolean): string {
  return JSON.stringify({
    model: "claude-bench",
    max_tokens: 5,
    messages: [{ role: "user", content: "ping" }],
    stream,
  });
}

/** Runs one phase: `clients` loops until the deadline. */
export async function runPhase(spec: LoadSpec, phase: Phase): Promise<PhaseResult> {
  const payload = messagesBody(phase.stream);
  const headers = { "content-type": "application/json", ...spec.headers };
  const start = performance.now();
  const measureFrom = start + phase.warmupMs;
  const end = measureFrom + phase.durationMs;
  const samplesMs: number[] = [];
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const fail = (what: string): void => {
    errors++;
    firstError ??= what;
  };
  const once = async (): Promise<void> => {
    const t0 = performance.now();
    const answer = await fetch(spec.url, { method: "POST", headers, body: payload });
    let latency: number;
    let text: string;
    if (phase.stream) {
      const reader = answer.body!.getReader();
      const first = await reader.read();
      latency = performance.now() - t0;
      const decoder = new TextDecoder();
      text = first.done ? "" : decoder.decode(first.value, { stream: true });
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        text += decoder.decode(r.value, { stream: true });
      }
    } else {
      text = await answer.text();
      latency = performance.now() - t0;
    }
    const complete = phase.stream ? text.includes("message_stop") : text.includes('"pong"');
    if (answer.status !== 200 || !complete) {
      return fail(`HTTP ${answer.status}: ${text.slice(0, 200)}`);
    }
    if (t0 >= measureFrom) samplesMs.push(latency);
    const done = performance.now();
    if (done >= measureFrom && done <= end) completed++;
  };
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      await once().catch((error) => fail(error instanceof Error ? error.message : String(error)));
    }
  };
  await Promise.all(Array.from({ length: phase.clients }, client));
  return {
    samplesMs,
    rps: completed / (phase.durationMs / 1000),
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

if (import.meta.main) {
  const spec: LoadSpec = JSON.parse(Deno.args[0]);
  const results: PhaseResult[] = [];
  for (const phase of spec.phases) results.push(await runPhase(spec, phase));
  console.log(JSON.stringify(results));
}
