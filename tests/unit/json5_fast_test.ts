/**
 * lib/json/json5_fast.ts against the json5 package: whatever the rewrite reads
 * must read the same with the package, and whatever the package refuses the
 * rewrite must not read (the caller then asks the package, which words the
 * error).
 */

import assert from "node:assert/strict";
import { json5AsJson } from "../../lib/json/json5_fast.ts";
import { parseJson5 } from "../../lib/json/json5.ts";

type Outcome = { value: unknown } | { fallback: true };

/** What readOpenclawOrder gets from the rewrite alone. */
function viaRewrite(text: string): Outcome {
  const json = json5AsJson(text);
  if (json === undefined) return { fallback: true };
  try {
    return { value: JSON.parse(json) };
  } catch {
    return { fallback: true };
  }
}

function viaPackage(text: string): Outcome | { error: true } {
  try {
    return { value: parseJson5(text) };
  } catch {
    return { error: true };
  }
}

/** The property: the rewrite yields the package's value, or leaves the text to the package. */
function assertAgrees(text: string): Outcome {
  const ours = viaRewrite(text);
  if ("value" in ours) {
    const theirs = viaPackage(text);
    assert.ok("value" in theirs, `the rewrite read what JSON5 refuses: ${JSON.stringify(text)}`);
    assert.deepEqual(ours.value, theirs.value, `different values for ${JSON.stringify(text)}`);
  }
  return ours;
}

Deno.test("json5 rewrite: OpenClaw's documented config style reads without the package", () => {
  const text = `// OpenClaw's config
{
  auth: {
    /* profiles, best first */
    order: { anthropic: ["anthropic:b", 'anthropic:a',], 'openai': [], },
  },
  agents: { defaults: { model: "anthropic/claude-opus-4", temp: -0.5e-2, n: 0, ok: true, no: null } },
  "quoted \\"key\\"": 'it\\'s "fine"\\ttab',
}
`;
  const outcome = assertAgrees(text);
  assert.ok("value" in outcome, "the common subset must not need the package");
  assert.deepEqual((outcome.value as { auth: unknown }).auth, {
    order: { anthropic: ["anthropic:b", "anthropic:a"], openai: [] },
  });
});

Deno.test("json5 rewrite: JSON5 beyond the common subset is left to the package", () => {
  for (
    const text of [
      "{a: 0x1F}",
      "{a: Infinity}",
      "{a: -Infinity}",
      "{a: NaN}",
      "{a: +1}",
      "{a: .5}",
      "{a: 5.}",
      "{a: 'line\\\ncontinued'}",
      "{a: '\\x41'}",
      "{a: '\\0'}",
      "{café: 1}",
      "{\\u0061: 1}",
      "{a: 1}\u2003",
    ]
  ) {
    assert.ok("fallback" in assertAgrees(text), `should fall back: ${JSON.stringify(text)}`);
    assert.ok("value" in viaPackage(text), `the package reads ${JSON.stringify(text)}`);
  }
});

Deno.test("json5 rewrite: what JSON5 refuses is never read", () => {
  for (
    const text of [
      "[,]",
      "{,}",
      "[1,,]",
      "{a: 1,,}",
      "{a: foo}",
      "[1, b]",
      "{a: 1",
      "{a: 1}}",
      "{'a' 1}",
      "{a: 'unterminated}",
      "{a: /* open comment }",
      "{true: 1",
      "{1: 2}",
      "{a: 01}",
      "{a: 1a}",
      "",
      "// only a comment",
      "{a: 'x\ny'}",
    ]
  ) {
    assertAgrees(text);
    assert.ok("fallback" in viaRewrite(text), `should not read: ${JSON.stringify(text)}`);
  }
});

// A small deterministic PRNG, so a failure names a seed that reproduces it.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = ["a", "Z", "_", "$", "1", " ", "'", '"', "\\", "/", "é", "\t", ":", ",", "{"];

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 2 ? 4 : 6));
  switch (pick) {
    case 0:
      return Math.round((next() - 0.5) * 1e6) / (next() < 0.5 ? 1 : 1000);
    case 1:
      return Array.from(
        { length: Math.floor(next() * 4) },
        () => CHARS[Math.floor(next() * CHARS.length)],
      ).join("");
    case 2:
      return [true, false, null][Math.floor(next() * 3)];
    case 3:
      return next() < 0.5 ? "anthropic:work" : 0;
    case 4:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, (_, i) => [
          next() < 0.5 ? `k${i}` : randomValue(next, 9) as string,
          randomValue(next, depth + 1),
        ]).filter(([key]) => typeof key === "string"),
      );
  }
}

/** `value` written the way people write JSON5: comments, bare keys, either quote, trailing commas. */
function writeJson5(value: unknown, next: () => number): string {
  const gap = () => [" ", "\n  ", "", " // note\n", " /* c */ ", "\t"][Math.floor(next() * 6)];
  const str = (s: string) => {
    if (next() < 0.5) return JSON.stringify(s);
    return `'${JSON.stringify(s).slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'")}'`;
  };
  const trailing = () => (next() < 0.5 ? `,${gap()}` : "");
  if (Array.isArray(value)) {
    const items = value.map((v) => `${gap()}${writeJson5(v, next)}${gap()}`);
    return `[${items.join(",")}${items.length ? trailing() : ""}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => {
      const key = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) && next() < 0.7 ? k : str(k);
      return `${gap()}${key}${gap()}:${gap()}${writeJson5(v, next)}`;
    });
    return `{${entries.join(",")}${entries.length ? trailing() : ""}${gap()}}`;
  }
  return typeof value === "string" ? str(value) : JSON.stringify(value);
}

Deno.test("json5 rewrite: 2,000 generated documents read as the package reads them", () => {
  for (let seed = 1; seed <= 2000; seed++) {
    const next = rng(seed);
    const value = randomValue(next, 0);
    const text = `${next() < 0.3 ? "// config\n" : ""}${writeJson5(value, next)}\n`;
    const outcome = assertAgrees(text);
    assert.ok("value" in outcome, `seed ${seed} fell back: ${JSON.stringify(text)}`);
    assert.deepEqual(outcome.value, value, `seed ${seed}`);
  }
});

Deno.test("json5 rewrite: 5,000 damaged documents never read differently from the package", () => {
  const damage = ["", ",", "'", '"', "/", "*", "\\", "{", "}", "[", "]", ":", "x", "0x", "\n"];
  for (let seed = 1; seed <= 5000; seed++) {
    const next = rng(seed * 7919);
    let text = writeJson5(randomValue(next, 0), next);
    for (let cuts = 1 + Math.floor(next() * 3); cuts > 0; cuts--) {
      const at = Math.floor(next() * (text.length + 1));
      const drop = Math.floor(next() * 3);
      text = text.slice(0, at) + damage[Math.floor(next() * damage.length)] +
        text.slice(at + drop);
    }
    assertAgrees(text);
  }
});
