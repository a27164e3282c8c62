/**
 * A small flag parser. `node:util`'s `parseArgs` costs ~5 ms of start-up on
 * the `token` hot path, so clawauth parses its few flag shapes itself.
 *
 * @module
 */

import { usageError } from "./errors.ts";
import { safeText } from "./output/output.ts";

/** How one flag is written. */
export interface FlagSpec {
  /** `string` takes a value (`--x v` or `--x=v`); `boolean` takes none. */
  type: "string" | "boolean";
  /** One-letter alias, e.g. `h` for `-h`. */
  short?: string;
  /** A string flag that may repeat; its values are collected in order. */
  multiple?: boolean;
}

/** Flag name (without dashes) to its spec. */
export type FlagSpecs = Record<string, FlagSpec>;

/** Flags every command accepts (SPEC §2). */
export const GLOBAL_FLAGS: FlagSpecs = {
  "state-dir": { type: "string" },
  store: { type: "string" },
  agent: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** The parsed command line of one command. */
export class Args {
  readonly #values: Map<string, string[] | boolean>;
  /** Arguments that are not flags, in order. */
  readonly positionals: readonly string[];
  /** Everything after a bare `--`, untouched (for `exec`). */
  readonly rest: readonly string[] | undefined;

  /** Use {@linkcode parseArgs}. */
  constructor(
    values: Map<string, string[] | boolean>,
    positionals: string[],
    rest: string[] | undefined,
  ) {
    this.#values = values;
    this.positionals = positionals;
    this.rest = rest;
  }

  /** The last value of a string flag. */
  string(name: string): string | undefined {
    const value = this.#values.get(name);
    return Array.isArray(value) ? value[value.length - 1] : undefined;
  }

  /** Every value of a repeatable string flag. */
  list(name: string): string[] {
    const value = this.#values.get(name);
    return Array.isArray(value) ? [...value] : [];
  }

  /** Whether a boolean flag was given. */
  bool(name: string): boolean {
    return this.#values.get(name) === true;
  }

  /** Whether a flag of either kind was given. */
  has(name: string): boolean {
    return this.#values.has(name);
  }
}

/**
 * Parses `argv` against `specs` (plus {@linkcode GLOBAL_FLAGS}); an unknown
 * flag or a missing value is a usage error naming `command`.
 */
export function parseArgs(
  argv: readonly string[],
  specs: FlagSpecs,
  command: string,
): Args {
  const all: FlagSpecs = { ...GLOBAL_FLAGS, ...specs };
  const shorts = new Map(
    Object.entries(all).flatMap(([name, spec]) => spec.short ? [[spec.short, name]] : []),
  );
  const values = new Map<string, string[] | boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") return new Args(values, positionals, argv.slice(i + 1));
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const raw = arg.startsWith("--") ? arg.slice(2, eq > 0 ? eq : undefined) : arg.slice(1);
    const name = arg.startsWith("--") ? raw : shorts.get(raw);
    const spec = name === undefined ? undefined : all[name];
    if (name === undefined || spec === undefined || !Object.hasOwn(all, name)) {
      throw usageError(
        `Unknown flag ${safeText(arg.split("=")[0])}.`,
        command,
      );
    }
    if (spec.type === "boolean") {
      if (eq > 0) throw usageError(`Flag --${name} takes no value.`, command);
      values.set(name, true);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      throw usageError(`Flag --${name} needs a value.`, command);
    }
    const previous = values.get(name);
    values.set(
      name,
      spec.multiple && Array.isArray(previous) ? [...previous, value] : [value],
    );
  }
  return new Args(values, positionals, undefined);
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
    const spec = name && Object.hasOwn(GLOBAL_FLAGS, name[1]) ? GLOBAL_FLAGS[name[1]] : undefined;
    if (!spec || spec.type !== "string") break;
    leading.push(argv[i]);
    if (name![2] === "" && i + 1 < argv.length) leading.push(argv[++i]);
  }
  if (leading.length === 0) return [...argv];
  const rest = argv.slice(i);
  const dashes = rest.indexOf("--");
  return dashes < 0
    ? [...rest, ...leading]
    : [...rest.slice(0, dashes), ...leading, ...rest.slice(dashes)];
}
