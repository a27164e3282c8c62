/**
 * Editing Codex's `config.toml` by a minimal block insertion. `smol-toml`
 * (a maintained TOML 1.0 library) parses the file and writes our tables, but
 * a parse-and-stringify round trip drops every comment and reorders the
 * user's file, so it is never used to rewrite it. Instead clawauth owns:
 *
 * - one block of tables at the end of the file, between two marker lines;
 * - top-level keys, each one line tagged `# clawauth connect`, inserted at
 *   the top (TOML top-level keys must come before the first table); a line
 *   that set the same key before is kept, commented out with a marker, and
 *   comes back on removal.
 *
 * Both are found again by their markers, so removal takes out exactly those
 * lines. Every result is parsed again before it is written.
 *
 * @module
 */

import { parse, stringify, type TomlTable } from "smol-toml";
import { ClawauthError, Exit } from "../errors.ts";

const BEGIN = "# >>> clawauth connect: managed by clawauth; `clawauth disconnect codex` removes it";
const END = "# <<< clawauth connect";
const KEY_TAG = " # clawauth connect";
const REPLACED = "# clawauth connect replaced: ";

/** Parses TOML; text that is not TOML is refused with exit 65 naming the file. */
export function parseToml(path: string, text: string): TomlTable {
  try {
    return parse(text);
  } catch (error) {
    // smol-toml's message names line and column; its excerpt of the file is dropped.
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ClawauthError(
      `${path} is not valid TOML (${message.slice(0, 200)}); clawauth left it untouched.`,
      Exit.data,
      `Fix the file (or move it aside: mv ${path} ${path}.old), then run the command again.`,
    );
  }
}

/** Whether `text` holds clawauth's block. */
export function hasBlock(text: string): boolean {
  return text.split("\n").some((line) => line.trimEnd() === BEGIN);
}

/** The lines of `text` and whether it ended with a newline. */
function linesOf(text: string): { lines: string[]; eol: string } {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return { lines, eol };
}

/** `text` without clawauth's block, and without the blank line that set it apart. */
export function withoutBlock(text: string): string {
  const { lines, eol } = linesOf(text);
  const begin = lines.findIndex((line) => line.trimEnd() === BEGIN);
  if (begin < 0) return text;
  const end = lines.findIndex((line, i) => i > begin && line.trimEnd() === END);
  const last = end < 0 ? lines.length - 1 : end;
  const from = begin > 0 && lines[begin - 1] === "" ? begin - 1 : begin;
  const kept = [...lines.slice(0, from), ...lines.slice(last + 1)];
  return kept.length === 0 ? "" : `${kept.join(eol)}${eol}`;
}

/**
 * `text` with clawauth's block holding `tables` (replacing an earlier block),
 * set apart from the user's lines by one blank line.
 */
export function withBlock(text: string, tables: TomlTable): string {
  const base = withoutBlock(text);
  const eol = base.includes("\r\n") ? "\r\n" : "\n";
  const body = stringify(tables).trim().split("\n").join(eol);
  const separator = base === "" ? "" : base.endsWith(eol) ? eol : `${eol}${eol}`;
  return `${base}${separator}${BEGIN}${eol}${body}${eol}${END}${eol}`;
}

/** The clawauth block's tables as TOML text (for `--dry-run` and reports). */
export function blockText(tables: TomlTable): string {
  return stringify(tables).trim();
}

function isTopLevelKeyLine(line: string, key: string): boolean {
  return new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*=`).test(line);
}

/** The index of the first table header (`[x]`, `[[x]]`), or the line count. */
function firstTable(lines: string[]): number {
  const at = lines.findIndex((line) => /^\s*\[/.test(line));
  return at < 0 ? lines.length : at;
}

/** A top-level key and its value as TOML text, e.g. `"clawauth"`. */
export interface TopLevelKey {
  key: string;
  value: string;
}

/**
 * `text` with a top-level key set by one tagged line at the top; a line of
 * the user's that set it is commented out with a marker.
 */
export function withTopLevelKey(text: string, setting: TopLevelKey): string {
  const { key, value } = setting;
  const { lines, eol } = linesOf(withoutTopLevelKey(text, key));
  const top = firstTable(lines);
  const out = lines.map((line, i) =>
    i < top && isTopLevelKeyLine(line, key) ? `${REPLACED}${line}` : line
  );
  return `${[`${key} = ${value}${KEY_TAG}`, ...out].join(eol)}${eol}`;
}

/** `text` without clawauth's line for `key`, with the user's own line restored. */
export function withoutTopLevelKey(text: string, key: string): string {
  const { lines, eol } = linesOf(text);
  const ours = (line: string) => isTopLevelKeyLine(line, key) && line.endsWith(KEY_TAG);
  if (!lines.some(ours)) return text;
  const out = lines.filter((line) => !ours(line)).map((line) =>
    line.startsWith(REPLACED) && isTopLevelKeyLine(line.slice(REPLACED.length), key)
      ? line.slice(REPLACED.length)
      : line
  );
  return out.length === 0 ? "" : `${out.join(eol)}${eol}`;
}

/** Whether clawauth set the top-level `key`. */
export function hasTopLevelKey(text: string, key: string): boolean {
  return linesOf(text).lines.some((line) => isTopLevelKeyLine(line, key) && line.endsWith(KEY_TAG));
}
