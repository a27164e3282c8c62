/**
 * Durations as users type them: `90s`, `5m`, `12h`, `365d`, `2w`, or plain
 * seconds.
 *
 * @module
 */

import { ClawauthError, Exit } from "./errors.ts";
import { safeText } from "./output/output.ts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration into milliseconds, or returns `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,12})(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] ?? "s"];
}

/** The longest delay a timer (`setTimeout`, `AbortSignal.timeout`) holds; more fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The bounds of a duration setting, for {@linkcode durationSettingMs}. */
export interface DurationBounds {
  /** Used when the setting is unset or empty. */
  defaultMs: number;
  /** Larger values are capped to this (and it never exceeds {@linkcode MAX_TIMER_MS}). */
  maxMs: number;
  /** Smaller values are refused; default 1 ms (0 would time out at once). */
  minMs?: number;
}

/**
 * Reads a duration setting from the environment, e.g. `CLAWAUTH_HTTP_TIMEOUT`:
 * seconds (`20`, `1.5`) or a duration (`500ms`, `90s`, `2m`). Unset or empty
 * gives the default; text that is not a duration, or a value below the
 * minimum, is a usage error (exit 64) naming the variable and the fix; a
 * value above the maximum is capped to it, since a timer longer than
 * 2^31-1 ms overflows and fires immediately.
 */
export function durationSettingMs(
  name: string,
  raw: string | undefined,
  bounds: DurationBounds,
): number {
  const text = raw?.trim() ?? "";
  if (text === "") return bounds.defaultMs;
  const max = Math.min(bounds.maxMs, MAX_TIMER_MS);
  const min = bounds.minMs ?? 1;
  const ms = /^\d{1,12}\.\d{1,3}$/.test(text)
    ? Math.round(Number(text) * 1000)
    : parseDuration(text);
  if (ms === undefined || !Number.isFinite(ms) || ms < min) {
    throw new ClawauthError(
      `${name}=${safeText(text, 20)} is not a usable duration.`,
      Exit.usage,
      `Use seconds, e.g. ${name}=${
        Math.round(bounds.defaultMs / 1000)
      }, or a duration such as 90s ` +
        `(at most ${formatSpan(max)}; larger values are capped to that).`,
    );
  }
  return Math.min(ms, max);
}

/** Formats a span as its two largest units, e.g. `3d 4h` or `12m`. */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms);
  const parts: string[] = [];
  let rest = Math.floor(abs / 1000);
  for (
    const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], [
      "s",
      1,
    ]] as const
  ) {
    if (rest >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}
