/**
 * The JSON5 people actually write in `openclaw.json` (comments, unquoted
 * keys, single-quoted strings, trailing commas), rewritten as JSON so
 * `JSON.parse` reads it. Loading the json5 package costs ~3 ms on the
 * `token` hot path (measured with `deno run`, Deno floor 14.5 ms, the
 * package 17.4 ms); this rewrite costs microseconds. Anything else JSON5
 * allows (hex, `Infinity`, `\x` escapes, line continuations, Unicode
 * identifiers) is not rewritten: the caller falls back to the package, which
 * also words every error. tests/unit/json5_fast_unit_test.ts checks the
 * rewrite against the package on generated documents.
 *
 * @module
 */

/** JSON5's whitespace outside strings (ES5 WhiteSpace and LineTerminator, minus other Zs). */
const SPACE = new Set([" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\ufeff", "\u2028", "\u2029"]);
const PUNCTUATION = new Set(["{", "}", "[", "]", ":", ","]);
/** Escapes JSON shares with JSON5; any other is left to the package. */
const JSON_ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t", "u"]);
const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![A-Za-z0-9_$.])/y;

/**
 * `text` as JSON text with the same meaning, or `undefined` when it uses
 * JSON5 this rewrite does not handle. Invalid input may come back as
 * invalid JSON: `JSON.parse` then throws and the caller falls back.
 */
export function json5AsJson(text: string): string | undefined {
  const out: string[] = [];
  /** The open brackets, innermost last. */
  const open: string[] = [];
  let expectKey = false;
  let afterValue = false;
  /** Index in `out` of a `,` after a value, dropped if `}` or `]` comes next. */
  let pendingComma = -1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (SPACE.has(c)) {
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      const end = text.slice(i).search(/[\n\r\u2028\u2029]/);
      i = end < 0 ? text.length : i + end;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) return undefined;
      i = end + 2;
      continue;
    }
    if (PUNCTUATION.has(c)) {
      if ((c === "}" || c === "]") && pendingComma >= 0) out[pendingComma] = "";
      pendingComma = c === "," && afterValue ? out.length : -1;
      if (c === "{" || c === "[") open.push(c);
      if (c === "}" || c === "]") open.pop();
      expectKey = c === "{" || (c === "," && open.at(-1) === "{");
      afterValue = c === "}" || c === "]";
      out.push(c);
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const string = readString(text, i);
      if (!string) return undefined;
      out.push(string.json);
      i = string.end;
    } else {
      IDENTIFIER.lastIndex = i;
      NUMBER.lastIndex = i;
      const word = IDENTIFIER.exec(text)?.[0];
      const number = word === undefined ? NUMBER.exec(text)?.[0] : undefined;
      if (word !== undefined) {
        // A bare key is quoted; in value position only JSON's literals pass, and
        // anything else (`Infinity`, `NaN`) fails JSON.parse, so the package decides.
        out.push(expectKey ? JSON.stringify(word) : word);
        i += word.length;
      } else if (number !== undefined) {
        out.push(number);
        i += number.length;
      } else {
        return undefined;
      }
    }
    expectKey = false;
    afterValue = true;
    pendingComma = -1;
  }
  // Spaces keep adjacent tokens apart, as the source did: `1 2` must not read as 12.
  return out.join(" ");
}

/** The string literal starting at `start`, as a JSON string, and where it ends. */
function readString(text: string, start: number): { json: string; end: number } | undefined {
  const quote = text[start];
  let json = '"';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === quote) return { json: `${json}"`, end: i + 1 };
    if (c === "\\") {
      const next = text[i + 1];
      if (next === "'") json += "'";
      else if (JSON_ESCAPES.has(next)) json += `\\${next}`;
      else return undefined;
      i++;
    } else if (c === '"') {
      json += '\\"';
    } else if (c === "\n" || c === "\r" || c === "\u2028" || c === "\u2029") {
      return undefined;
    } else if (c < " ") {
      json += `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    } else {
      json += c;
    }
  }
  return undefined;
}
