/**
 * JSON5 parsing (OpenClaw's `openclaw.json`), kept in its own module so the
 * npm package loads only for files that are not plain JSON.
 *
 * @module
 */

import JSON5 from "json5";

/** Parses JSON5 text. */
export function parseJson5(text: string): unknown {
  return JSON5.parse(text);
}
