/**
 * Human and JSON output: masked secrets, plain tables when stdout is not a
 * terminal, colour only when allowed (SPEC §2).
 *
 * @module
 */

import type { Context } from "./context.ts";

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

/** Wraps text in an ANSI colour when the context allows colour. */
export function paint(
  ctx: Context,
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

/** Prints a warning line on stderr. */
export function warn(ctx: Context, message: string): void {
  ctx.err(`${paint(ctx, "yellow", "warning:")} ${message}\n`);
}
