/**
 * A small, typed flag parser. `node:util`'s `parseArgs` costs ~5 ms of
 * start-up on the `token` hot path, so clawauth parses its command lines
 * itself.
 *
 * A command declares what each flag *is* (a {@linkcode Kind}: a provider id,
 * a duration, one of some values, …) and which positionals it takes; the
 * parser refuses anything else in one wording (exit 64, naming the flag, with
 * the `clawauth CMD --help` pointer) and returns the values typed from that
 * table ({@linkcode Args}), so no command re-validates a flag and
 * `deno check` refuses one that reads a flag it did not declare. The kinds
 * that need domain rules (provider ids, durations) live in lib/flags.ts.
 *
 * @module
 */

import { usageError } from "./errors.ts";
import { safeText } from "./output/output.ts";

/** What a flag's value is: how to read its text, and what to call it when the text is not one. */
export interface Kind<T> {
  /** Completes "--flag VALUE is not …", e.g. `a provider id`. */
  readonly what: string;
  /** The value, or `undefined` when the text is not one. */
  read(text: string): T | undefined;
}

/** A flag without a value: `true` when given. */
export interface BooleanFlag {
  readonly type: "boolean";
  /** One-letter alias, e.g. `h` for `-h`. */
  readonly short?: string;
}

/** A flag with one value (`--x v` or `--x=v`); the last one given wins. */
export interface ValueFlag<T> {
  readonly type: "value";
  /** What the value is. */
  readonly kind: Kind<T>;
  /** The value when the flag is not given (it is then never `undefined`). */
  readonly default?: T;
}

/** A flag that may repeat; its values are collected in order. */
export interface ListFlag<T> {
  readonly type: "list";
  /** What each value is. */
  readonly kind: Kind<T>;
}

/** How one flag is written and what its value is. */
export type FlagSpec = BooleanFlag | ValueFlag<unknown> | ListFlag<unknown>;

/**
 * Flag name (without dashes) to its spec. The names `positionals`, `action`
 * and `rest` are taken by {@linkcode Args}.
 */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** The parsed value of one flag spec. */
export type FlagValue<S> = S extends BooleanFlag ? boolean
  : S extends ListFlag<infer T> ? readonly T[]
  : S extends ValueFlag<infer T> ? S extends { readonly default: unknown } ? T : T | undefined
  : never;

/** The parsed values of a flag table, by flag name. */
export type FlagValues<F extends FlagTable> = { readonly [K in keyof F]: FlagValue<F[K]> };

/** Any text: for flags whose value is checked where it is used (a path, a URL). */
export const TEXT: Kind<string> = { what: "text", read: (text) => text };

/** Flags every command accepts (docs/commands.md). */
export const GLOBAL_FLAGS = {
  "state-dir": { type: "value", kind: TEXT },
  store: { type: "value", kind: TEXT },
  agent: { type: "value", kind: TEXT },
  help: { type: "boolean", short: "h" },
} as const satisfies FlagTable;

/**
 * The positionals a command takes, as words: `NAME` (exactly one), `NAME?`
 * (optional, last), `NAME…` (one or more, last). `[]` takes none.
 */
export type Words = readonly string[];

/** Subcommands: the first positional is one of `from`'s keys, each with its own {@linkcode Words}. */
export interface Choice {
  /** What the first word is called in errors, e.g. `action` or `tool`. */
  readonly choose: string;
  /** Each accepted first word, with the words that follow it. */
  readonly from: Readonly<Record<string, Words>>;
}

/** What a command takes besides flags. */
export type Positionals = Words | Choice;

type WordValues<W extends Words> = W extends readonly [] ? []
  : W extends readonly [infer H extends string, ...infer T extends Words]
    ? H extends `${string}…` ? [string, ...string[]]
    : H extends `${string}?` ? [string?]
    : [string, ...WordValues<T>]
  : string[];

/** The positionals of a parse result, typed from their spec. */
export type PositionalArgs<P extends Positionals> = P extends Choice ? {
    [A in keyof P["from"] & string]: {
      /** The first positional, one of the choices. */
      readonly action: A;
      /** The positionals after it. */
      readonly positionals: Readonly<WordValues<P["from"][A]>>;
    };
  }[keyof P["from"] & string]
  : P extends Words ? {
      readonly action?: undefined;
      /** Arguments that are not flags, in order. */
      readonly positionals: Readonly<WordValues<P>>;
    }
  : never;

/**
 * One parsed command line, typed from its flag table `F` (plus
 * {@linkcode GLOBAL_FLAGS}) and positional spec `P`: a boolean flag is a
 * `boolean`, a value flag its kind's type (or `undefined` when not given and
 * without default), a list flag an array.
 */
export type Args<F extends FlagTable = FlagTable, P extends Positionals = Positionals> =
  & FlagValues<typeof GLOBAL_FLAGS>
  & FlagValues<F>
  & PositionalArgs<P>
  & {
    /** Everything after a bare `--`, untouched (for `exec`). */
    readonly rest?: readonly string[];
  };

/** How {@linkcode parseArgs} reads positionals. */
export interface ParseOptions {
  /** The positionals accepted; default none. */
  positionals?: Positionals;
  /** Added to the error when an argument is given that the command does not take. */
  argumentNote?: string;
}

/** Shows a flag's value in an error: one safe line, cut short (it may be pasted by mistake). */
function shown(text: string): string {
  return safeText(text, 64);
}

function required(words: Words): number {
  return words.filter((w) => !w.endsWith("?") && !w.endsWith("…")).length +
    (words.some((w) => w.endsWith("…")) ? 1 : 0);
}

/** What `words` asks for, after "takes": `exactly one PROFILE_ID`, `one or more PROFILE_ID`. */
function takesText(words: Words): string {
  if (words.length === 0) return "no arguments besides its flags";
  if (words.length === 1 && !/[?…]$/.test(words[0])) return `exactly one ${words[0]}`;
  if (words.length === 1 && words[0].endsWith("…")) return `one or more ${words[0].slice(0, -1)}`;
  return words.map((w) => w.endsWith("?") ? `[${w.slice(0, -1)}]` : w).join(" ");
}

function checkWords(
  words: Words,
  got: readonly string[],
  what: string,
  command: string,
  note: string | undefined,
): void {
  const variadic = words.length > 0 && words[words.length - 1].endsWith("…");
  if (got.length < required(words) || (!variadic && got.length > words.length)) {
    // Never echoed: a stray argument may be a secret pasted in the wrong place.
    throw usageError(`${what} takes ${takesText(words)}${note ? `: ${note}` : ""}.`, command);
  }
}

/**
 * Parses `argv` for `command` against its flag table (plus
 * {@linkcode GLOBAL_FLAGS}) and positional spec. An unknown flag, a missing
 * value, a value that is not of its flag's kind, or positionals the spec does
 * not take are usage errors naming `command`.
 */
export function parseArgs<const F extends FlagTable, const P extends Positionals = readonly []>(
  argv: readonly string[],
  flags: F,
  command: string,
  options: ParseOptions & { positionals?: P } = {},
): Args<F, P> {
  const all: FlagTable = { ...GLOBAL_FLAGS, ...flags };
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  let rest: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const long = arg.startsWith("--");
    const raw = long ? arg.slice(2, eq > 0 ? eq : undefined) : arg.slice(1);
    const name = long ? raw : Object.keys(all).find((n) => {
      const spec = all[n];
      return spec.type === "boolean" && spec.short === raw;
    });
    const spec = name !== undefined && Object.hasOwn(all, name) ? all[name] : undefined;
    if (name === undefined || spec === undefined) {
      throw usageError(`Unknown flag ${safeText(arg.split("=")[0])}.`, command);
    }
    if (spec.type === "boolean") {
      if (eq > 0) throw usageError(`Flag --${name} takes no value.`, command);
      values[name] = true;
      continue;
    }
    const text = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (text === undefined) throw usageError(`Flag --${name} needs a value.`, command);
    const value = spec.kind.read(text);
    if (value === undefined) {
      throw usageError(`--${name} ${shown(text)} is not ${spec.kind.what}.`, command);
    }
    const previous = values[name];
    values[name] = spec.type === "list"
      ? [...(Array.isArray(previous) ? previous : []), value]
      : value;
  }
  for (const [name, spec] of Object.entries(all)) {
    if (Object.hasOwn(values, name)) continue;
    values[name] = spec.type === "boolean" ? false : spec.type === "list" ? [] : spec.default;
  }
  const spec = options.positionals ?? [];
  if ("choose" in spec) {
    const [action, ...after] = positionals;
    const choices = Object.keys(spec.from).join(", ");
    if (action === undefined) {
      const article = /^[aeiou]/.test(spec.choose) ? "an" : "a";
      throw usageError(`${command} needs ${article} ${spec.choose}: ${choices}.`, command);
    }
    if (!Object.hasOwn(spec.from, action)) {
      throw usageError(
        `Unknown ${command} ${spec.choose} ${safeText(action, 40)}; use one of: ${choices}.`,
        command,
      );
    }
    checkWords(spec.from[action], after, `${command} ${action}`, command, options.argumentNote);
    values.action = action;
    values.positionals = after;
  } else {
    checkWords(spec, positionals, command, command, options.argumentNote);
    values.positionals = positionals;
  }
  if (rest !== undefined) values.rest = rest;
  return values as Args<F, P>;
}

/**
 * Moves global flags written before the command (`clawauth --agent ci token`)
 * behind it, ahead of any `--`, where the command's parser reads them.
 */
export function hoistGlobalFlags(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const name = /^--([a-z-]+)(=|$)/.exec(argv[i]);
    const table: FlagTable = GLOBAL_FLAGS;
    const spec = name && Object.hasOwn(table, name[1]) ? table[name[1]] : undefined;
    if (!spec || spec.type !== "value") break;
    leading.push(argv[i]);
    if (name![2] === "" && i + 1 < argv.length) leading.push(argv[++i]);
  }
  if (leading.length === 0) return [...argv];
  const rest = argv.slice(i);
  // Global flags and no command: there is no command to place them after.
  if (rest.length === 0) return [];
  const dashes = rest.indexOf("--");
  return dashes < 0
    ? [...rest, ...leading]
    : [...rest.slice(0, dashes), ...leading, ...rest.slice(dashes)];
}
