/**
 * Flag kinds: what a flag *is*, for the flag tables of lib/commands/. The
 * parser (lib/args.ts) checks each value against its kind and reports a bad
 * one in one wording, `--flag VALUE is not <what>.` (exit 64), so no command
 * checks a provider id, a duration or an enum itself.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * import { flag } from "./flags.ts";
 *
 * const args = parseArgs(["--provider", "anthropic", "--min-valid", "10m"], {
 *   provider: flag.provider(),
 *   "min-valid": flag.duration({ default: "5m" }),
 *   json: flag.boolean(),
 * }, "token");
 * args.provider; // "anthropic" (string | undefined)
 * args["min-valid"]; // 600000 (number: milliseconds)
 * args.json; // false
 * ```
 *
 * @module
 */

import { type BooleanFlag, type Kind, type ListFlag, TEXT, type ValueFlag } from "./args.ts";
import { MAX_TIMER_MS, parseDuration } from "./duration.ts";
import { PROFILE_NAME, PROVIDER_ID, splitProfileId } from "./profiles.ts";

/** A value flag with a default: its value is never `undefined`. */
export type DefaultedFlag<T> = ValueFlag<T> & { readonly default: T };

/** Bounds and default of a {@linkcode flag.duration} flag, as durations (`5m`, `365d`). */
export interface DurationOptions {
  /** The value when the flag is not given. */
  default?: string;
  /** The longest accepted. */
  max?: string;
  /** Whether 0 is refused. */
  positive?: boolean;
}

const EXAMPLES = "such as 90s, 5m, 12h or 30d";

function value<T>(kind: Kind<T>): ValueFlag<T> {
  return { type: "value", kind };
}

/** Reads a duration the table itself states; a bad one is a bug, caught by any test. */
function fixedMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`${text} is not a duration`);
  return ms;
}

function duration(options: DurationOptions & { default: string }): DefaultedFlag<number>;
function duration(options?: DurationOptions): ValueFlag<number>;
function duration(options: DurationOptions = {}): ValueFlag<number> {
  const max = options.max === undefined ? Infinity : fixedMs(options.max);
  const min = options.positive ? 1 : 0;
  const bounds = [
    ...(options.positive ? ["above 0"] : []),
    ...(options.max === undefined ? [] : [`at most ${options.max}`]),
  ];
  const kind: Kind<number> = {
    what: `a duration${bounds.length ? ` (${bounds.join(", ")})` : ""} ${EXAMPLES}`,
    read(text) {
      const ms = parseDuration(text);
      return ms !== undefined && ms >= min && ms <= max ? ms : undefined;
    },
  };
  return options.default === undefined
    ? { type: "value", kind }
    : { type: "value", kind, default: fixedMs(options.default) };
}

/**
 * Constructors for flag table entries, by what the flag is.
 *
 * - `boolean()`: no value; `true` when given.
 * - `string()`: any text (checked where it is used: a path, a URL).
 * - `provider()`: a provider id (`anthropic`, `openai-codex`).
 * - `profileId()`: a profile id, `PROVIDER:NAME`.
 * - `profileName()`: the NAME part of a profile id.
 * - `duration({default, max, positive})`: `90s`, `5m`, `12h`, `365d`, `2w` or
 *   bare seconds; the value is in milliseconds.
 * - `oneOf(values)`: one of the given words, typed as their union.
 * - `integer(min, max)`: a whole number in a range.
 * - `value(kind)`: any other {@linkcode Kind}.
 * - `list(flag)`: the flag may repeat; every value, in order.
 */
export const flag = {
  boolean: (): BooleanFlag => ({ type: "boolean" }),
  string: (): ValueFlag<string> => value(TEXT),
  provider: (): ValueFlag<string> =>
    value({
      what: "a provider id (a-z, 0-9, ., _ and -)",
      read: (text) => PROVIDER_ID.test(text) ? text : undefined,
    }),
  profileId: (): ValueFlag<string> =>
    value({
      what: "a profile id such as anthropic:work",
      read: (text) => splitProfileId(text) ? text : undefined,
    }),
  profileName: (): ValueFlag<string> =>
    value({
      what: "a profile name (1-128 characters of A-Z a-z 0-9 . _ @ + -)",
      read: (text) => PROFILE_NAME.test(text) ? text : undefined,
    }),
  duration,
  /** A timer's delay: positive, and no longer than a timer can hold (~24 days). */
  timeout: (): ValueFlag<number> =>
    duration({ positive: true, max: `${Math.floor(MAX_TIMER_MS / 86_400_000)}d` }),
  oneOf: <const V extends readonly string[]>(values: V): ValueFlag<V[number]> =>
    value({
      what: `one of ${values.join(", ")}`,
      read: (text) => values.includes(text) ? text as V[number] : undefined,
    }),
  integer: (min: number, max: number): ValueFlag<number> =>
    value({
      what: `a whole number from ${min} to ${max}`,
      read(text) {
        const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
        return n >= min && n <= max ? n : undefined;
      },
    }),
  value,
  list: <T>(of: ValueFlag<T>): ListFlag<T> => ({ type: "list", kind: of.kind }),
};
