/**
 * Durations as users type them: `90s`, `5m`, `12h`, `365d`, `2w`, or plain
 * seconds.
 *
 * @module
 */

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
