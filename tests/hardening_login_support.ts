/**
 * What the hardening tests of the login and refresh paths share
 * (tests/cli/hardening_login_*_test.ts): the check that nothing a provider
 * sent drives the terminal, the hostile texts it is tried with, a provider
 * entry merged into clawauth.json, and whether a store was written at all.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { RunResult, TempState } from "./helpers.ts";

/** Characters that must never reach a terminal from a provider (newline and tab excepted). */
export const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

/** Asserts neither stdout nor stderr holds an {@linkcode UNSAFE} character. */
export function assertTerminalSafe(result: RunResult, label: string): void {
  for (const [stream, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
    const bad = UNSAFE.exec(text);
    assert.equal(
      bad,
      null,
      `${label}: ${stream} holds U+${bad?.[0].codePointAt(0)?.toString(16).padStart(4, "0")}: ${
        JSON.stringify(text)
      }`,
    );
  }
}

/** Texts a provider could send to drive a terminal (tests/fixtures/hardening_login/terminal_text.json). */
export const HOSTILE_TEXT: string[] = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/hardening_login/terminal_text.json", import.meta.url)),
).hostile;

/** Merges `fields` into a provider's entry in the state dir's clawauth.json. */
export function setProvider(state: TempState, id: string, fields: Record<string, string>): void {
  const path = `${state.dir}/clawauth.json`;
  let config: { providers: Record<string, Record<string, string>> } = { providers: {} };
  try {
    config = JSON.parse(Deno.readTextFileSync(path));
  } catch { /* no config yet */ }
  config.providers[id] = { ...config.providers[id], ...fields };
  state.writeFile("clawauth.json", JSON.stringify(config));
}

/** Whether the main agent's store was never written. */
export function storeMissing(state: TempState): boolean {
  try {
    state.storeText();
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}
