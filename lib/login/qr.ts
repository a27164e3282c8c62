/**
 * Dependency-free QR code encoder (byte mode, error-correction level L) and a terminal renderer,
 * so a login URL can be scanned from another device. Follows ISO/IEC 18004.
 *
 * @module
 */

// Level L only, indexed by version - 1 (ISO/IEC 18004 Table 9): ECC codewords per block, and
// how many blocks the codewords are split into.
// deno-fmt-ignore
const ECC_PER_BLOCK = [
  7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
  28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
];
// deno-fmt-ignore
const BLOCKS = [
  1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
  8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
];

// Format info for level L uses the EC bits 01; masked so a format area is never all zero.
const FORMAT_EC_L = 0b01;
const FORMAT_XOR = 0x5412;

// Index = (top light ? 2 : 0) + (bottom light ? 1 : 0).
const GLYPHS = [" ", "▄", "▀", "█"];

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1; EXP is doubled to skip a modulo.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++, x = (x << 1) ^ (x & 0x80 ? 0x11d : 0)) {
  EXP[i] = EXP[i + 255] = x;
  LOG[x] = i;
}
const gfMul = (a: number, b: number): number => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

/** Codewords in a symbol: modules minus function patterns; the leftover 0–7 are remainder bits. */
function rawCodewords(ver: number): number {
  let modules = (16 * ver + 128) * ver + 64; // size² minus finders, separators, timing, format
  if (ver >= 2) {
    const align = Math.floor(ver / 7) + 2;
    modules -= (25 * align - 10) * align - 55; // alignment patterns, less their timing overlap
    if (ver >= 7) modules -= 36; // two 6×3 version blocks
  }
  return Math.floor(modules / 8);
}

const dataCodewordCount = (ver: number): number =>
  rawCodewords(ver) - ECC_PER_BLOCK[ver - 1] * BLOCKS[ver - 1];

/** Smallest version whose level-L data capacity holds `length` bytes in byte mode. */
function versionFor(length: number): number | undefined {
  for (let ver = 1; ver <= 40; ver++) {
    if (4 + (ver < 10 ? 8 : 16) + 8 * length <= dataCodewordCount(ver) * 8) return ver;
  }
  return undefined;
}

/** Mode indicator, length, payload, terminator and pad codewords, filling the data capacity. */
function dataCodewords(bytes: Uint8Array, ver: number): number[] {
  const capacity = dataCodewordCount(ver) * 8;
  const bits: number[] = [];
  const push = (value: number, length: number): void => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  push(0b0100, 4);
  push(bytes.length, ver < 10 ? 8 : 16);
  for (const byte of bytes) push(byte, 8);
  push(0, Math.min(4, capacity - bits.length));
  push(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) push(pad, 8);
  return Array.from(
    { length: bits.length / 8 },
    (_, i) => bits.slice(i * 8, i * 8 + 8).reduce((a, b) => a * 2 + b),
  );
}

/** Reed–Solomon ECC: remainder of data·x^n divided by ∏(x - α^i), i < n. */
function reedSolomon(data: number[], n: number): number[] {
  let gen = [1];
  for (let i = 0; i < n; i++) {
    const next = new Array<number>(gen.length + 1).fill(0);
    gen.forEach((c, j) => {
      next[j] ^= c;
      next[j + 1] ^= gfMul(c, EXP[i]);
    });
    gen = next;
  }
  const rem = new Array<number>(n).fill(0);
  for (const byte of data) {
    const factor = byte ^ rem[0];
    rem.copyWithin(0, 1);
    rem[n - 1] = 0;
    for (let j = 0; j < n; j++) rem[j] ^= gfMul(gen[j + 1], factor);
  }
  return rem;
}

/** Splits data into blocks (later ones a codeword longer), adds ECC, interleaves column-wise. */
function interleave(data: number[], ver: number): number[] {
  const blocks = BLOCKS[ver - 1];
  const ecc = ECC_PER_BLOCK[ver - 1];
  const shortLength = Math.floor(rawCodewords(ver) / blocks) - ecc;
  const longBlocks = rawCodewords(ver) % blocks;
  const dataBlocks: number[][] = [];
  for (let b = 0, offset = 0; b < blocks; b++) {
    const length = shortLength + (b >= blocks - longBlocks ? 1 : 0);
    dataBlocks.push(data.slice(offset, offset += length));
  }
  const eccBlocks = dataBlocks.map((block) => reedSolomon(block, ecc));
  const out: number[] = [];
  for (let i = 0; i <= shortLength; i++) {
    for (const block of dataBlocks) if (i < block.length) out.push(block[i]);
  }
  for (let i = 0; i < ecc; i++) for (const block of eccBlocks) out.push(block[i]);
  return out;
}

/** Alignment pattern centres on each axis: 6, then evenly spaced (even step) ending at size - 7. */
function alignmentPositions(ver: number): number[] {
  if (ver === 1) return [];
  const count = Math.floor(ver / 7) + 2;
  const step = ver === 32 ? 26 : Math.ceil((ver * 4 + 4) / (count * 2 - 2)) * 2;
  const positions = [6];
  for (let pos = ver * 4 + 10; positions.length < count; pos -= step) positions.splice(1, 0, pos);
  return positions;
}

/** A symbol being drawn; `reserved` marks function modules that data and masks must skip. */
interface Draft {
  dark: boolean[][];
  reserved: boolean[][];
}

function setFixed({ dark, reserved }: Draft, row: number, col: number, on: boolean): void {
  dark[row][col] = on;
  reserved[row][col] = true;
}

/** Writes the format bits (BCH(15,5) of EC level and mask) in both copies and the dark module. */
function drawFormat(draft: Draft, mask: number): void {
  const size = draft.dark.length;
  const data = (FORMAT_EC_L << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  const bits = ((data << 10) | rem) ^ FORMAT_XOR;
  const set = (row: number, col: number, on: boolean): void => setFixed(draft, row, col, on);
  for (let i = 0; i < 15; i++) {
    const on = ((bits >>> i) & 1) === 1;
    // Top-left copy runs down column 8 then left along row 8, hopping over the timing patterns.
    if (i < 8) set(i < 6 ? i : i + 1, 8, on);
    else set(8, i === 8 ? 7 : 14 - i, on);
    // Second copy is split between the bottom-left (column 8) and top-right (row 8) finders.
    if (i < 8) set(8, size - 1 - i, on);
    else set(size - 15 + i, 8, on);
  }
  set(size - 8, 8, true);
}

/** Finders with separators, timing, alignment, version info; format areas reserved. */
function functionPatterns(ver: number): Draft {
  const size = ver * 4 + 17;
  const grid = (): boolean[][] => Array.from({ length: size }, () => new Array(size).fill(false));
  const symbol: Draft = { dark: grid(), reserved: grid() };
  const set = (row: number, col: number, on: boolean): void => setFixed(symbol, row, col, on);
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  // Finders (with their light separator) and alignment patterns are concentric squares:
  // `rings[d]` is the colour at Chebyshev distance d from the centre, clipped at the edges.
  const square = (r: number, c: number, rings: boolean[]): void => {
    for (let dr = 1 - rings.length; dr < rings.length; dr++) {
      for (let dc = 1 - rings.length; dc < rings.length; dc++) {
        const on = rings[Math.max(Math.abs(dr), Math.abs(dc))];
        if (symbol.dark[r + dr]?.[c + dc] !== undefined) set(r + dr, c + dc, on);
      }
    }
  };
  for (const [r, c] of [[3, 3], [3, size - 4], [size - 4, 3]]) {
    square(r, c, [true, true, false, true, false]);
  }
  const positions = alignmentPositions(ver);
  const last = positions.length - 1;
  positions.forEach((r, i) =>
    positions.forEach((c, j) => {
      const underFinder = (i === 0 && (j === 0 || j === last)) || (i === last && j === 0);
      if (!underFinder) square(r, c, [true, false, true]);
    })
  );
  drawFormat(symbol, 0);
  if (ver >= 7) {
    let rem = ver;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const bits = (ver << 12) | rem; // BCH(18,6)
    for (let i = 0; i < 18; i++) {
      const on = ((bits >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      set(b, a, on);
      set(a, b, on);
    }
  }
  return symbol;
}

/** Places codewords MSB-first in two-column strips from the bottom right, zigzagging up/down. */
function placeCodewords({ dark, reserved }: Draft, codewords: number[]): void {
  const size = dark.length;
  let bit = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5; // the vertical timing pattern takes a whole column
    const upward = ((right + 1) & 2) === 0;
    for (let v = 0; v < size; v++) {
      const row = upward ? size - 1 - v : v;
      for (const col of [right, right - 1]) {
        if (reserved[row][col] || bit >= codewords.length * 8) continue; // rest = remainder bits
        dark[row][col] = ((codewords[bit >>> 3] >>> (7 - (bit & 7))) & 1) === 1;
        bit++;
      }
    }
  }
}

const MASKS: ((row: number, col: number) => boolean)[] = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (_, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

/** ISO penalty score; lower means fewer patterns that confuse a scanner. */
function penalty(dark: boolean[][]): number {
  const size = dark.length;
  let score = 0;
  const columns = dark.map((_, c) => dark.map((row) => row[c]));
  for (const line of [...dark, ...columns]) {
    const bits = line.map((on) => (on ? "1" : "0")).join("");
    for (const [run] of bits.matchAll(/0{5,}|1{5,}/g)) score += run.length - 2; // N1
    // N3: a 1:1:3:1:1 finder look-alike with 4 light modules on either side; outside the symbol
    // is light. Counted once per look-alike, as ZXing does.
    const padded = `0000${bits}0000`;
    for (let i = padded.indexOf("1011101"); i >= 0; i = padded.indexOf("1011101", i + 1)) {
      if (padded.startsWith("0000", i - 4) || padded.startsWith("0000", i + 7)) score += 40;
    }
  }
  // N2: every 2×2 block of one colour.
  for (let r = 0; r + 1 < size; r++) {
    for (let c = 0; c + 1 < size; c++) {
      const on = dark[r][c];
      if (dark[r][c + 1] === on && dark[r + 1][c] === on && dark[r + 1][c + 1] === on) score += 3;
    }
  }
  const darkCount = dark.flat().filter(Boolean).length;
  return score + Math.floor(Math.abs((darkCount * 100) / (size * size) - 50) / 5) * 10; // N4
}

/**
 * Encodes the UTF-8 bytes of `text` as a QR code (byte mode, error-correction level L) in the
 * smallest version 1–40 that fits, using the mask with the lowest penalty score.
 *
 * @param text The text to encode.
 * @returns The module matrix, `matrix[row][col]`, true = dark, without quiet zone; undefined when
 *   the text is longer than version 40-L holds (2953 bytes).
 */
export function qrMatrix(text: string): boolean[][] | undefined {
  const bytes = new TextEncoder().encode(text);
  const ver = versionFor(bytes.length);
  if (ver === undefined) return undefined;
  const base = functionPatterns(ver);
  placeCodewords(base, interleave(dataCodewords(bytes, ver), ver));
  let best: boolean[][] = [];
  let bestScore = Infinity;
  MASKS.forEach((mask, index) => {
    const symbol: Draft = {
      dark: base.dark.map((row, r) =>
        row.map((on, c) => on !== (!base.reserved[r][c] && mask(r, c)))
      ),
      reserved: base.reserved,
    };
    drawFormat(symbol, index);
    const score = penalty(symbol.dark);
    if (score < bestScore) [best, bestScore] = [symbol.dark, score];
  });
  return best;
}

/**
 * Renders a QR matrix for a terminal, two module rows per character cell using half blocks
 * ("█", "▀", "▄", " "). Terminals are mostly light-on-dark, so LIGHT modules and the quiet zone
 * are drawn with block glyphs and DARK modules are spaces (like `qrencode -t UTF8`).
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

/**
 * Terminal columns {@linkcode renderQr} needs for `text`, computed without encoding it.
 *
 * @param text The text that would be encoded.
 * @param quiet Quiet-zone width in modules on every side.
 * @returns The width in columns, or undefined when the text does not fit version 40-L.
 */
export function qrWidth(text: string, quiet = 2): number | undefined {
  const ver = versionFor(new TextEncoder().encode(text).length);
  return ver === undefined ? undefined : ver * 4 + 17 + 2 * quiet;
}
