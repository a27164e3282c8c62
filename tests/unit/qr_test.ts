/**
 * Unit tests of lib/login/qr.ts: the rendered half-block text is parsed back into modules and decoded
 * with an independent decoder (jsQR), so both the encoding (npm:uqr, as clawauth calls it) and the
 * renderer are checked, and the fit checks are pinned at their boundaries.
 */

import assert from "node:assert/strict";
import jsQRModule from "jsqr";
import { fitQr, qrMatrix, renderQr } from "../../lib/login/qr.ts";

// jsQR is CommonJS: Deno types its default import as the module object, whose typed `default` is
// the decoder (at runtime the function also carries itself as `.default`).
const jsQR = jsQRModule.default;

/** Half-block glyph → [top light, bottom light]; anything else is a rendering bug. */
const GLYPH_LIGHT: Record<string, [boolean, boolean]> = {
  "█": [true, true],
  "▀": [true, false],
  "▄": [false, true],
  " ": [false, false],
};

/** Parses renderQr output back into a square module grid (true = dark), quiet zone included. */
function parseRendering(lines: string[]): boolean[][] {
  const width = lines[0].length;
  const rows: boolean[][] = [];
  for (const line of lines) {
    assert.equal(line.length, width);
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const glyph of line) {
      const light = GLYPH_LIGHT[glyph];
      assert.ok(light, `unexpected glyph ${JSON.stringify(glyph)}`);
      top.push(!light[0]);
      bottom.push(!light[1]);
    }
    rows.push(top, bottom);
  }
  // An odd height leaves a phantom bottom half row on the last line: it must be background.
  assert.ok(rows.length === width || rows.length === width + 1);
  if (rows.length > width) assert.ok(rows[width].every((dark) => dark));
  return rows.slice(0, width);
}

/** Decodes a module grid with jsQR at 4 px per module (light = 255, dark = 0). */
function decode(grid: boolean[][]): { data: string; version: number } | null {
  const scale = 4;
  const size = grid.length * scale;
  const pixels = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const value = grid[Math.floor(y / scale)][Math.floor(x / scale)] ? 0 : 255;
      pixels.fill(value, (y * size + x) * 4, (y * size + x) * 4 + 3);
      pixels[(y * size + x) * 4 + 3] = 255;
    }
  }
  const result = jsQR(pixels, size, size);
  return result && { data: result.data, version: result.version };
}

/** Deterministic OAuth-authorize-like URL of exactly `length` characters. */
function urlOfLength(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/?&=%-._~";
  let url = "https://auth.example.com/oauth/authorize?response_type=code&client_id=";
  for (let seed = length; url.length < length;) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    url += alphabet[seed % alphabet.length];
  }
  return url.slice(0, length);
}

/** Encodes, renders, parses the rendering back, checks it against the matrix, decodes it. */
function roundTrip(text: string, quiet = 2): boolean[][] {
  const matrix = qrMatrix(text);
  assert.ok(matrix, `no QR code for ${text.length} chars`);
  const lines = renderQr(matrix, quiet);
  const width = matrix.length + 2 * quiet;
  for (const line of lines) assert.equal(line.length, width);
  const grid = parseRendering(lines);
  assert.equal(grid.length, width);
  grid.forEach((row, r) =>
    row.forEach((dark, c) => {
      const inside = r >= quiet && c >= quiet && r < width - quiet && c < width - quiet;
      assert.equal(dark, inside && matrix[r - quiet][c - quiet], `module ${r},${c}`);
    })
  );
  const decoded = decode(grid);
  assert.ok(decoded, `jsQR could not decode ${text.length} chars`);
  assert.equal(decoded.data, text);
  assert.equal(decoded.version, (matrix.length - 17) / 4);
  return matrix;
}

Deno.test("qr codes round-trip through renderQr and jsQR: short, 1-char and UTF-8 text", () => {
  roundTrip("clawauth login");
  roundTrip("x");
  roundTrip("héllo ✓");
  roundTrip("HELLO", 4);
  roundTrip("quiet zone 1", 1);
});

// jsQR 1.4.0 cannot decode version 23 (its alignment table says 74 where ISO says 78), so no length
// here may land in 1004–1091 bytes.
for (const length of [50, 150, 300, 500, 800, 1200, 2000]) {
  Deno.test(`qr codes round-trip through renderQr and jsQR: ${length}-char authorize URL`, () => {
    const text = urlOfLength(length);
    assert.equal(text.length, length);
    roundTrip(text);
  });
}

Deno.test("qrMatrix picks the smallest version that holds the UTF-8 bytes at level L", () => {
  assert.equal(qrMatrix("HELLO")?.length, 21);
  assert.equal(qrMatrix("a".repeat(17))?.length, 21); // 17 bytes: version 1-L capacity
  assert.equal(qrMatrix("a".repeat(18))?.length, 25);
  assert.equal(qrMatrix("é".repeat(9))?.length, 25); // 18 UTF-8 bytes, 9 characters
  assert.equal(qrMatrix("1".repeat(18))?.length, 25); // digits too: byte mode, not numeric
  assert.equal(qrMatrix("a".repeat(2953))?.length, 177); // version 40-L capacity
});

Deno.test("qrMatrix returns undefined beyond version 40-L byte capacity", () => {
  assert.equal(qrMatrix("a".repeat(2954)), undefined);
  assert.equal(qrMatrix("✓".repeat(985)), undefined); // 2955 bytes
  assert.deepEqual(fitQr("a".repeat(2954), { columns: 1000, rows: 1000 }), []);
});

Deno.test("fitQr renders with a 2-module quiet zone only when both dimensions fit", () => {
  const hello = renderQr(qrMatrix("HELLO")!);
  assert.equal(hello.length, 13); // 25 modules: 21 + 2 × 2 quiet, two rows a line
  assert.equal(hello[0].length, 25);
  assert.deepEqual(fitQr("HELLO", { columns: 25, rows: 13 }), hello);
  assert.deepEqual(fitQr("HELLO", { columns: 24, rows: 13 }), []);
  assert.deepEqual(fitQr("HELLO", { columns: 25, rows: 12 }), []);
  const url = urlOfLength(300); // version 11-L (271 < 300 ≤ 321 bytes): 61 modules + 4 quiet
  assert.equal(qrMatrix(url)?.length, 61);
  assert.equal(fitQr(url, { columns: 65, rows: 33 }).length, 33);
  assert.deepEqual(fitQr(url, { columns: 64, rows: 33 }), []);
  assert.deepEqual(fitQr(url, { columns: 65, rows: 32 }), []);
});

Deno.test("qrMatrix puts the three finder patterns in the corners", () => {
  for (const text of ["HELLO", urlOfLength(300), urlOfLength(2000)]) {
    const matrix = qrMatrix(text);
    assert.ok(matrix);
    const size = matrix.length;
    assert.ok(matrix.every((row) => row.length === size));
    for (const [top, left] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
      for (let r = -1; r <= 7; r++) {
        for (let c = -1; c <= 7; c++) {
          const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
          const row: boolean[] | undefined = matrix[top + r];
          if (row === undefined || row[left + c] === undefined) continue; // beyond the edge
          assert.equal(
            row[left + c],
            ring !== 2 && ring !== 4,
            `finder ${top},${left} at ${r},${c}`,
          );
        }
      }
    }
    // The bottom-right corner has no finder: its 7×7 outer ring is not all dark.
    const ring: boolean[] = [];
    for (let i = size - 7; i < size; i++) ring.push(matrix[size - 7][i], matrix[i][size - 7]);
    assert.ok(ring.some((dark) => !dark));
  }
});

Deno.test("renderQr draws light modules as blocks and dark modules as spaces", () => {
  const lines = renderQr([[true, false], [false, true]], 1);
  assert.deepEqual(lines, ["█▀██", "██▄█"]);
  assert.deepEqual(renderQr([[true]], 0), [" "]);
  assert.deepEqual(renderQr([[false]], 0), ["▀"]);
});
