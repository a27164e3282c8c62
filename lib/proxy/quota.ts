/**
 * Subscription quota, as providers report it on every answer:
 * Anthropic's `anthropic-ratelimit-unified-{5h,7d}-{utilization,reset}`
 * (a fraction, epoch seconds) and Codex's
 * `x-codex-{primary,secondary}-{used-percent,window-minutes,reset-at}`.
 * Kept per profile in the store's `usageStats[<id>].quota`, where `status`
 * and OpenClaw can see it: `{"5h": {"utilization": 0.62, "resetsAt": <ms>,
 * "seenAt": <ms>}, "7d": {…}}`.
 *
 * @module
 */

import { isObject, own } from "../json/json.ts";

/** One quota window of a profile. */
export interface QuotaWindow {
  /** How much of the window is used, 0–1. */
  utilization: number;
  /** When the window resets (epoch ms), when known. */
  resetsAt?: number;
  /** When the proxy read it (epoch ms). */
  seenAt: number;
}

/** A profile's quota windows by name (`5h`, `7d`, or a length such as `90m`). */
export type Quota = Record<string, QuotaWindow>;

function numberHeader(headers: ReadonlyMap<string, string>, name: string): number | undefined {
  const text = headers.get(name);
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The quota headers of an answer, in one pass over them (most answers carry none). */
function quotaHeaders(headers: Headers): ReadonlyMap<string, string> | undefined {
  let found: Map<string, string> | undefined;
  for (const [name, value] of headers) {
    if (name.startsWith("anthropic-ratelimit-unified-") || name.startsWith("x-codex-")) {
      (found ??= new Map()).set(name, value);
    }
  }
  return found;
}

const seconds = (value: number | undefined) => value === undefined ? undefined : value * 1000;

/** A window's name from its length: 300 min is `5h`, 10,080 min is `7d`. */
export function windowName(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

function window(utilization: number | undefined, resetsAt: number | undefined, now: number) {
  if (utilization === undefined || utilization < 0) return undefined;
  return {
    utilization: Math.min(utilization, 1),
    ...(resetsAt === undefined ? {} : { resetsAt }),
    seenAt: now,
  };
}

/** The quota an answer reports, or `undefined` when it carries none. */
export function parseQuota(answer: Headers, now: number): Quota | undefined {
  const headers = quotaHeaders(answer);
  if (!headers) return undefined;
  const quota: Quota = {};
  for (const name of ["5h", "7d"]) {
    const prefix = `anthropic-ratelimit-unified-${name}`;
    const found = window(
      numberHeader(headers, `${prefix}-utilization`),
      seconds(numberHeader(headers, `${prefix}-reset`)),
      now,
    );
    if (found) quota[name] = found;
  }
  for (const slot of ["primary", "secondary"]) {
    const prefix = `x-codex-${slot}`;
    const minutes = numberHeader(headers, `${prefix}-window-minutes`);
    const percent = numberHeader(headers, `${prefix}-used-percent`);
    const found = window(
      percent === undefined ? undefined : percent / 100,
      seconds(numberHeader(headers, `${prefix}-reset-at`)),
      now,
    );
    if (found && minutes !== undefined && minutes > 0) quota[windowName(minutes)] = found;
  }
  return Object.keys(quota).length > 0 ? quota : undefined;
}

/**
 * A profile's recorded quota from its `usageStats` entry (what `status`
 * shows); windows that do not parse are left out.
 */
export function readQuota(usageEntry: unknown): Quota {
  const stored = isObject(usageEntry) ? own(usageEntry, "quota") : undefined;
  if (!isObject(stored)) return {};
  const quota: Quota = {};
  for (const [name, value] of Object.entries(stored)) {
    if (!isObject(value)) continue;
    const { utilization, resetsAt, seenAt } = value;
    if (typeof utilization !== "number" || !Number.isFinite(utilization)) continue;
    quota[name] = {
      utilization,
      ...(typeof resetsAt === "number" && Number.isFinite(resetsAt) ? { resetsAt } : {}),
      seenAt: typeof seenAt === "number" ? seenAt : 0,
    };
  }
  return quota;
}

/** The most used window's utilization, 0 when none is known: what `least-used` compares. */
export function quotaUsed(quota: Quota, now: number): number {
  return Math.max(
    0,
    ...Object.values(quota)
      .filter((w) => w.resetsAt === undefined || w.resetsAt > now)
      .map((w) => w.utilization),
  );
}

function span(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * A quota in words, e.g. `5h: 62% (resets in 1h 10m), 7d: 18%`; a window
 * that has reset since it was seen is shown as reset.
 */
export function quotaText(quota: Quota, now: number): string {
  return Object.entries(quota).map(([name, w]) => {
    if (w.resetsAt !== undefined && w.resetsAt <= now) return `${name}: reset`;
    const percent = `${Math.round(w.utilization * 100)}%`;
    return w.resetsAt === undefined || w.utilization === 0
      ? `${name}: ${percent}`
      : `${name}: ${percent} (resets in ${span(w.resetsAt - now)})`;
  }).join(", ");
}

/**
 * Whether `next` differs enough from `before` to be written: a window
 * moved by a percentage point, a reset moved, or a window came or went.
 */
export function quotaChanged(before: Quota, next: Quota): boolean {
  const names = new Set([...Object.keys(before), ...Object.keys(next)]);
  for (const name of names) {
    const a = before[name];
    const b = next[name];
    if (!a || !b) return true;
    if (Math.abs(a.utilization - b.utilization) >= 0.01) return true;
    if (Math.abs((a.resetsAt ?? 0) - (b.resetsAt ?? 0)) >= 60_000) return true;
  }
  return false;
}
