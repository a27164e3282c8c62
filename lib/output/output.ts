/**
 * Human and JSON output: masked secrets, plain tables when stdout is not a
 * terminal, colour only when allowed (docs/commands.md).
 *
 * @module
 */

import type { Context } from "../context.ts";

/** Shows a secret as `sk-ant-o…ijklmnop`; short secrets reveal at most 4 characters. */
export function mask(secret: string): string {
  if (secret.length >= 24) return `${secret.slice(0, 8)}…${secret.slice(-8)}`;
  return `…${secret.slice(-Math.min(4, Math.floor(secret.length / 4)))}`;
}

/** Prints a value as indented JSON with a trailing newline. */
export function printJson(ctx: Context, value: unknown): void {
  ctx.out(`${JSON.stringify(value, null, 2)}\n`);
}

const COLORS = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/** Wraps text in an ANSI colour when the context allows colour (on stdout). */
export function paint(
  ctx: Pick<Context, "color">,
  color: keyof typeof COLORS,
  text: string,
): string {
  return ctx.color ? `\x1b[${COLORS[color]}m${text}\x1b[0m` : text;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** Formats rows as aligned columns; callers make store-derived cells printable. */
export function table(header: string[], rows: string[][]): string {
  const width = (cell: string) => cell.replace(ANSI, "").length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => width(r[i]))));
  const line = (cells: string[]) =>
    cells.map((cell, i) =>
      i === cells.length - 1 ? cell : cell + " ".repeat(widths[i] - width(cell))
    ).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/**
 * Characters that change how a terminal shows the text around them: C0 and
 * C1 controls (ESC starts colour, cursor and OSC sequences), DEL, the bidi
 * embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069,
 * U+200E/U+200F, U+061C), the zero-width joiners and spaces, the line and
 * paragraph separators and the BOM.
 */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** Whether `text` holds a character {@linkcode safeText} would replace. */
export function hasUnsafeText(text: string): boolean {
  return new RegExp(UNSAFE.source).test(text);
}

/**
 * Makes text a provider (or anyone but the user) controls safe to print in
 * one terminal line: every control, bidi or invisible formatting character
 * becomes U+FFFD, so "evil\u202Egpj.exe" cannot pose as something else, and
 * the result is cut at `max` characters.
 */
export function safeText(text: string, max = 200): string {
  const clean = text.replace(UNSAFE, "\ufffd");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Removes every character {@linkcode safeText} would replace (for values that are stored). */
export function stripUnsafe(text: string): string {
  return text.replace(UNSAFE, "");
}

/** Prints a warning line on stderr, coloured only when stderr itself may be. */
export function warn(ctx: Context, message: string): void {
  ctx.err(`${paint({ color: ctx.stderrColor }, "yellow", "warning:")} ${message}\n`);
}
