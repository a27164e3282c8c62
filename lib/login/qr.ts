/**
 * A QR code of a login URL for the terminal, so it can be scanned from another device. The
 * encoding (ISO/IEC 18004) is `npm:uqr`'s; this module draws it in half blocks with a quiet zone
 * and decides whether it fits. Only login imports it, so the package never loads for `token`.
 *
 * @module
 */

import { encode } from "uqr";

// Index = (top light ? 2 : 0) + (bottom light ? 1 : 0).
const GLYPHS = [" ", "▄", "▀", "█"];

/**
 * Encodes the UTF-8 bytes of `text` as a QR code in byte mode, in the smallest version 1–40 that
 * holds it at error-correction level L (raised to M, Q or H when that version has room).
 *
 * @example
 * ```ts
 * import { qrMatrix } from "./qr.ts";
 * console.assert(qrMatrix("HELLO")?.length === 21); // version 1
 * ```
 *
 * @param text The text to encode.
 * @returns The module matrix, `matrix[row][col]`, true = dark, without quiet zone; undefined when
 *   the text is longer than version 40-L holds (2953 bytes).
 */
export function qrMatrix(text: string): boolean[][] | undefined {
  const bytes = Array.from(new TextEncoder().encode(text));
  try {
    return encode(bytes, { ecc: "L", boostEcc: true, border: 0 }).data;
  } catch (error) {
    if (error instanceof RangeError) return undefined; // "Data too long"
    throw error;
  }
}

/**
 * Renders a QR matrix for a terminal, two module rows per character cell using half blocks
 * ("█", "▀", "▄", " "). Terminals are mostly light-on-dark, so LIGHT modules and the quiet zone
 * are drawn with block glyphs and DARK modules are spaces (like `qrencode -t UTF8`).
 *
 * @example
 * ```ts
 * import { renderQr } from "./qr.ts";
 * console.assert(renderQr([[true, false], [false, true]], 1).join("\n") === "█▀██\n██▄█");
 * ```
 *
 * @param matrix Module matrix from {@linkcode qrMatrix}, true = dark.
 * @param quiet Quiet-zone width in modules on every side (a non-negative integer).
 * @returns The lines, each `matrix.length + 2 * quiet` characters long.
 */
export function renderQr(matrix: boolean[][], quiet = 2): string[] {
  const size = matrix.length + 2 * quiet;
  // Past the last row (odd height) stays terminal background, which reads as dark.
  const light = (r: number, c: number): boolean =>
    r < size && !(matrix[r - quiet]?.[c - quiet] ?? false);
  const glyph = (r: number, c: number): string =>
    GLYPHS[(light(r, c) ? 2 : 0) + (light(r + 1, c) ? 1 : 0)];
  return Array.from(
    { length: Math.ceil(size / 2) },
    (_, line) => Array.from({ length: size }, (_, c) => glyph(line * 2, c)).join(""),
  );
}

/** The terminal cells a QR code may take: character columns and lines. */
export interface QrSpace {
  columns: number;
  rows: number;
}

/**
 * The QR code of `text` rendered by {@linkcode renderQr} with its default quiet zone, or nothing
 * when it would not fit in `space`.
 *
 * @example
 * ```ts
 * import { fitQr } from "./qr.ts";
 * console.assert(fitQr("HELLO", { columns: 25, rows: 13 }).length === 13);
 * console.assert(fitQr("HELLO", { columns: 24, rows: 13 }).length === 0);
 * ```
 *
 * @param text The text to encode.
 * @param space Where the code must fit.
 * @returns The lines, or none when the code is wider or taller than `space` or the text too long.
 */
export function fitQr(text: string, space: QrSpace): string[] {
  const matrix = qrMatrix(text);
  const lines = matrix ? renderQr(matrix) : [];
  const fits = lines.length > 0 && lines[0].length <= space.columns && lines.length <= space.rows;
  return fits ? lines : [];
}
