/**
 * What the tests of lib/store/openclaw/db.ts and openclaw_layers.ts share
 * (tests/cli/openclaw_db_*_test.ts, tests/unit/openclaw_layers_test.ts):
 * the module's options for a copy's agent, SQL run on a copy as a fixture
 * would, and the one shape of a refusal.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ClawauthError } from "../lib/errors.ts";
import type { AuthDocuments, OpenclawDbOptions } from "../lib/store/openclaw/db.ts";
import type { OpenclawState } from "./openclaw_env.ts";

/** The module's options for `agent` (default main) of a copy, waiting at most 10 s. */
export function opts(
  state: OpenclawState,
  agent = "main",
): OpenclawDbOptions & { timeoutMs: number } {
  return { stateDir: state.dir, agentDir: state.agentDir(agent), agent, timeoutMs: 10_000 };
}

/** Runs SQL on a copy's database as a test fixture would (not through the module). */
export function alter(path: string, sql: string, ...params: string[]): void {
  const db = new DatabaseSync(path);
  try {
    if (params.length > 0) db.prepare(sql).run(...params);
    else db.exec(sql);
  } finally {
    db.close();
  }
}

/** Asserts `fn` throws a ClawauthError with `code` whose message matches `pattern`. */
export function assertRefused(fn: () => unknown, code: number, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ClawauthError, `not a ClawauthError: ${error}`);
    assert.equal(error.exitCode, code, error.message);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n|sk-secret/, "one sentence, no secret");
    return true;
  });
}

/** An update that stores setup-token `token` as profile `id` (its provider from the id). */
export function addToken(id: string, token: string): (docs: AuthDocuments) => void {
  return (docs) => {
    docs.store.profiles[id] = { type: "token", provider: id.split(":")[0], token };
  };
}
