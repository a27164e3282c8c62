/**
 * Narrowing helpers for JSON read from files other tools also write.
 *
 * @module
 */

/** A JSON object whose keys we do not all know. */
export type JsonObject = Record<string, unknown>;

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `obj[key]` only when it is the object's own property, so that ids such as
 * `__proto__` or `constructor` never reach the prototype.
 */
export function own(obj: JsonObject | undefined, key: string): unknown {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** `obj[key]` as an object, creating an empty one in place when absent or malformed. */
export function child(obj: JsonObject, key: string): JsonObject {
  const value = own(obj, key);
  if (isObject(value)) return value;
  const fresh: JsonObject = {};
  obj[key] = fresh;
  return fresh;
}

/** `obj[key]` as a finite number, else `undefined`. */
export function numberAt(
  obj: JsonObject | undefined,
  key: string,
): number | undefined {
  const value = own(obj, key);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** `obj[key]` as a non-empty string, else `undefined`. */
export function stringAt(
  obj: JsonObject | undefined,
  key: string,
): string | undefined {
  const value = own(obj, key);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Why JSON did not parse, without the excerpt of the text that engines quote
 * (it may be part of a secret): the position, or the kind of error.
 */
export function jsonErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const where = /(at position \d+(?: \(line \d+ column \d+\))?|at \d+:\d+)/.exec(message)?.[1];
  if (where) return `invalid JSON ${where}`;
  return /end of (JSON|input)/i.test(message) ? "invalid JSON: it ends too early" : "invalid JSON";
}

/**
 * Parses JSON text, or throws what `bad` makes of the reason it does not
 * parse ({@linkcode jsonErrorText}: never an excerpt of the text). Callers
 * reading a store or another tool's file pass an exit-65 error naming it.
 *
 * @example
 * ```ts
 * import { parseJson } from "./json.ts";
 * parseJson('{"version":1}', (reason) => new Error(reason)); // { version: 1 }
 * ```
 */
export function parseJson(text: string, bad: (reason: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw bad(jsonErrorText(error));
  }
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length &&
    ka.every((k) =>
      Object.hasOwn(b, k) &&
      jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
}
