/**
 * The JSON5 people actually write in `openclaw.json` (comments, unquoted
 * keys, single-quoted strings, trailing commas), rewritten as JSON so
 * `JSON.parse` reads it. Loading the json5 package costs ~3 ms on the
 * `token` hot path (measured with `deno run`, Deno floor 14.5 ms, the
 * package 17.4 ms); this rewrite costs ≈ 0.15 ms per KB. Anything else JSON5
 * allows (hex, `Infinity`, `\x` escapes, line continuations, Unicode
 * identifiers) is not rewritten: the caller falls back to the package, which
 * also words every error. tests/unit/json5_fast_test.ts checks the
 * rewrite against the package on generated documents. Regular expressions
 * walk the text, not a loop per character, which took twice as long.
 *
 * @module
 */

/** JSON5's line terminators, which no string or `//` comment may span. */
const EOL = "\\n\\r\\u2028\\u2029";
/** JSON5's whitespace that JSON lacks (ES5 WhiteSpace and LineTerminator, minus other Zs). */
const EXTRA_SPACE = "\\v\\f\\u00a0\\ufeff\\u2028\\u2029";
/** A string's characters and escapes up to its closing `quote`; no line terminator. */
const stringBody = (quote: string): string => `((?:[^${quote}\\\\${EOL}]|\\\\[^${EOL}])*)`;
/** A block comment: its body never contains `*` + `/`, however a match backtracks. */
const BLOCK_COMMENT = "/\\*(?:[^*]|\\*(?!/))*\\*/";
/** Space and comments between tokens; a `//` comment runs to its line's end, never less. */
const GAP = `(?:[ \\t\\n\\r${EXTRA_SPACE}]|//[^${EOL}]*(?=[${EOL}]|$)|${BLOCK_COMMENT})*`;

/**
 * The first pass, by alternative: a double-quoted string, a single-quoted
 * one, a comment, a quote or slash that starts none of these (the text is
 * then outside the subset), whitespace JSON lacks, and a bare key (an
 * identifier that a `:` follows). Everything else is left as it is, and
 * `JSON.parse` refuses what JSON does not allow (`+1`, `0x1F`, `Infinity`).
 */
const TOKEN = new RegExp(
  [
    `"${stringBody('"')}"`,
    `'${stringBody("'")}'`,
    `//[^${EOL}]*`,
    BLOCK_COMMENT,
    `(["'/])`,
    `([${EXTRA_SPACE}])`,
    `([A-Za-z_$][A-Za-z0-9_$]*)(?=${GAP}:)`,
  ].join("|"),
  "g",
);
/** The second pass, on JSON strings and no comments: a string, or a comma a `}` or `]` follows. */
const TRAILING_COMMA = /"(?:[^"\\]|\\.)*"|,(?=\s*[}\]])/g;
/** Inside a string: an escape, a double quote, or a control character JSON wants escaped. */
// deno-lint-ignore no-control-regex -- control characters are what it looks for
const STRING_PART = /\\(.)|"|[\x00-\x1f]/g;
/** Escapes JSON shares with JSON5; any other is left to the package. */
const JSON_ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t", "u"]);

/**
 * `text` as JSON text with the same meaning, or `undefined` when it uses
 * JSON5 this rewrite does not handle. Invalid input may come back as
 * invalid JSON: `JSON.parse` then throws and the caller falls back.
 */
export function json5AsJson(text: string): string | undefined {
  let unsupported = false;
  const rewritten = text.replace(
    TOKEN,
    (match, double?: string, single?: string, stray?: string, space?: string, key?: string) => {
      if (double !== undefined || single !== undefined) {
        const json = jsonString(double ?? single!);
        if (json === undefined) unsupported = true;
        return json ?? match;
      }
      if (stray !== undefined) unsupported = true;
      if (key !== undefined) return `"${key}"`;
      // A block comment or JSON5-only space keeps tokens apart, as the source did:
      // `1/**/2` must not read as 12. A line comment leaves its line end behind.
      return space !== undefined || match.startsWith("/*") ? " " : "";
    },
  );
  if (unsupported) return undefined;
  return rewritten.replace(TRAILING_COMMA, (match, offset: number, all: string) => {
    if (match !== ",") return match;
    // Only a comma after a value goes: `[,]` and `[1,,]` stay, and JSON.parse refuses them.
    let before = offset - 1;
    while (before >= 0 && /\s/.test(all[before])) before--;
    return before < 0 || "{[,:".includes(all[before]) ? match : "";
  });
}

/** A string literal's content as a JSON string, or `undefined` for an escape JSON lacks. */
function jsonString(content: string): string | undefined {
  let unsupported = false;
  const json = content.replace(STRING_PART, (part, escaped?: string) => {
    if (escaped === undefined) {
      return part === '"' ? '\\"' : `\\u${part.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
    if (escaped === "'") return "'";
    if (JSON_ESCAPES.has(escaped)) return part;
    unsupported = true;
    return part;
  });
  return unsupported ? undefined : `"${json}"`;
}
