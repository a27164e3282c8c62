/**
 * Editing a tool's JSON config (Claude Code's `settings.json`, pi's
 * `models.json`, which may hold comments) without disturbing anything else:
 * Microsoft's `jsonc-parser` (VS Code's settings editor) changes one value in
 * place and keeps every other byte, comments and key order included.
 * Re-serialising with `JSON.stringify` would reformat the user's file and
 * drop pi's comments.
 *
 * @module
 */

import {
  applyEdits,
  findNodeAtLocation,
  type FormattingOptions,
  getNodeValue,
  modify,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from "jsonc-parser";
import { ClawauthError, Exit } from "../errors.ts";

/** A path of object keys, e.g. `["providers", "anthropic", "apiKey"]`. */
export type JsonPath = readonly string[];

/** Line and column (1-based) of an offset, for messages that must not quote the file. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length} column ${before[before.length - 1].length + 1}`;
}

/**
 * Parses a config's text; one that does not parse, or whose top level is not
 * an object, is refused with exit 65 naming the file (the file is left as it
 * is: nothing has been written yet).
 */
export function parseJsonConfig(path: string, text: string): Node | undefined {
  if (text.trim() === "") return undefined;
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const problem = errors.length > 0
    ? `is not valid JSON (${printParseErrorCode(errors[0].error)} at ${
      position(text, errors[0].offset)
    })`
    : tree?.type !== "object"
    ? "does not hold a JSON object at the top level"
    : undefined;
  if (problem) {
    throw new ClawauthError(
      `${path} ${problem}; clawauth left it untouched.`,
      Exit.data,
      `Fix the file (or move it aside: mv ${path} ${path}.old), then run the command again.`,
    );
  }
  return tree;
}

/** The value at `path`, or `undefined` when there is none. */
export function valueAt(tree: Node | undefined, path: JsonPath): unknown {
  if (tree === undefined) return undefined;
  const node = findNodeAtLocation(tree, [...path]);
  return node === undefined ? undefined : getNodeValue(node);
}

/** Whether `path` holds a value (`null` counts). */
export function hasValueAt(tree: Node | undefined, path: JsonPath): boolean {
  return tree !== undefined && findNodeAtLocation(tree, [...path]) !== undefined;
}

/**
 * How to lay out inserted text: like the file's own indentation when the
 * object spans lines; nothing for a one-line file, which jsonc-parser would
 * otherwise re-indent as a whole.
 */
function formattingOf(text: string): FormattingOptions | undefined {
  if (!/\n\s*"/.test(text)) return undefined;
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  return indent.startsWith("\t")
    ? { insertSpaces: false, tabSize: 1, eol }
    : { insertSpaces: true, tabSize: indent.length, eol };
}

/** One value to set at a path; `undefined` removes what is there. */
export interface JsonChange {
  path: JsonPath;
  value: unknown;
}

/**
 * `text` with `change.value` set at `change.path` (parents created), or
 * removed when the value is `undefined`. A missing or empty file starts as
 * `{}` laid out with two spaces, as Claude Code and pi write theirs.
 */
export function withValue(text: string, change: JsonChange): string {
  const { path, value } = change;
  const base = text.trim() === "" ? "{\n}\n" : text;
  const formattingOptions = formattingOf(base) ??
    (text.trim() === "" ? { insertSpaces: true, tabSize: 2, eol: "\n" } : undefined);
  const edits = modify(base, [...path], value, formattingOptions ? { formattingOptions } : {});
  return applyEdits(base, edits);
}

/** JSON with sorted keys, to compare values however they were written. */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === "object" && v !== null && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
        : v,
  );
}

/** Whether two JSON values are equal, whatever the order of their keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** Whether a value is an object without keys (what is left of a container clawauth made). */
export function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 0;
}
