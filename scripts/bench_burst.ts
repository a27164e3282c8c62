/**
 * One burst of concurrent `token` calls on an expired OAuth login, and the
 * verdict over repeated bursts: shared by the local and the fleet contention
 * sections of `deno task bench`.
 *
 * @module
 */

import { spawn } from "./bench_runner.ts";
import { type Json, median, round } from "./bench_util.ts";

/** One burst's outcome. */
export interface Trial {
  refreshes: number;
  distinctTokens: number;
  failures: number;
  staleTokens: number;
  wallMs: number;
  /** Wall time of as many Deno floors at once, where measured. */
  floorWallMs?: number;
  firstError?: string;
}

/** What one burst runs. */
export interface BurstSpec {
  /** Concurrent calls. */
  n: number;
  /** The command and environment of call `i`. */
  call(i: number): { cmd: readonly string[]; env: Record<string, string> };
  /** The access token the login held before (must never come back). */
  stale: string;
  /** Refresh grants the provider has answered so far. */
  refreshes(): number;
}

/** Runs `spec.n` calls at once and reports what the provider and the callers saw. */
export async function burst(spec: BurstSpec): Promise<Trial> {
  const before = spec.refreshes();
  const start = performance.now();
  const runs = await Promise.all(
    Array.from({ length: spec.n }, (_, i) => {
      const { cmd, env } = spec.call(i);
      return spawn(cmd, env, true);
    }),
  );
  const wallMs = performance.now() - start;
  const ok = runs.filter((r) => r.code === 0);
  const failed = runs.find((r) => r.code !== 0);
  return {
    refreshes: spec.refreshes() - before,
    distinctTokens: new Set(ok.map((r) => r.stdout)).size,
    failures: runs.length - ok.length,
    staleTokens: ok.filter((r) => r.stdout.trim() === spec.stale).length,
    wallMs,
    ...(failed ? { firstError: `exit ${failed.code}: ${failed.stderr.trim().slice(0, 300)}` } : {}),
  };
}

/** The verdict over repeated bursts of `n` calls: table cells, results.json entry, and ok. */
export function verdict(
  n: number,
  list: readonly Trial[],
  singleMs: number,
): {
  cells: { refreshes: string; distinct: string; failures: string };
  wallMs: number;
  json: Json;
  ok: boolean;
} {
  const refreshes = list.map((t) => t.refreshes);
  const distinct = list.map((t) => t.distinctTokens);
  const failures = list.reduce((a, t) => a + t.failures, 0);
  const stale = list.reduce((a, t) => a + t.staleTokens, 0);
  const ok = refreshes.every((x) => x === 1) && distinct.every((x) => x === 1) &&
    failures === 0 && stale === 0;
  const wallMs = median(list.map((t) => t.wallMs));
  const show = (xs: number[]): string => xs.every((x) => x === 1) ? "1" : `${xs.join(", ")} ✗`;
  const firstError = list.find((t) => t.firstError)?.firstError;
  return {
    cells: {
      refreshes: show(refreshes),
      distinct: show(distinct),
      failures: failures === 0 && stale === 0 ? "0" : `${failures + stale} ✗`,
    },
    wallMs,
    json: {
      refreshes,
      distinctTokens: distinct,
      failures,
      staleTokens: stale,
      wallMs: round(wallMs),
      wallMsPerCall: round(wallMs / n),
      ratioToSingleRefresh: round(wallMs / singleMs, 3),
      samplesWallMs: list.map((t) => round(t.wallMs)),
      ok,
      ...(firstError ? { firstError } : {}),
    },
    ok,
  };
}
