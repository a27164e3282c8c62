/**
 * lib/store/openclaw/db.ts against the real OpenClaw (2026.9.6), refusing:
 * a state DB or agent DB it was not tested with (newer schema, shared store
 * elsewhere, missing rows or tables, not JSON, not SQLite, corrupt,
 * read-only), a missing state DB, and OpenClaw's write lock held past the
 * wait. Each refusal is one sentence and writes nothing. Every test works on
 * a copy of one state dir that `openclaw doctor --fix` prepared
 * (tests/openclaw_env.ts). Ignored, saying why, when OpenClaw is not
 * installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Exit } from "../../lib/errors.ts";
import { exists } from "../../lib/fs/files.ts";
import {
  AGENT_SCHEMA_VERSION,
  hasOpenclawStateDb,
  openclawAgentDb,
  readAuthDocuments,
  retiredAuthFiles,
  STATE_SCHEMA_VERSION,
  updateAuthDocuments,
} from "../../lib/store/openclaw/db.ts";
import {} from "../helpers.ts";
import { addToken, alter, assertRefused, opts } from "../openclaw_db_support.ts";
import { type OpenclawState, openclawState, openclawTests } from "../openclaw_env.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

/** The SHA-256 of a file, hex: compared instead of the bytes (a failed byte diff is huge). */
async function digest(path: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A refusal case: how to spoil the copy, and what the module must say. */
interface Spoiled {
  name: string;
  spoil(state: OpenclawState): void;
  pattern: RegExp;
  /** Reads are refused too (else only writes). */
  read: boolean;
  code?: number;
}

const spoiled: Spoiled[] = [
  {
    name: "a newer state schema",
    spoil: (s) => alter(s.stateDb, `PRAGMA user_version = ${STATE_SCHEMA_VERSION + 1}`),
    pattern: /schema version 19, newer than 18.*OpenClaw 2026\.9\.6/,
    read: true,
  },
  {
    name: "a shared store in another location",
    spoil: (s) =>
      alter(
        s.stateDb,
        "UPDATE config_machine_state SET value_json = ? WHERE state_key = 'auth.sharedStore'",
        '{"location":"legacy-main"}',
      ),
    pattern: /"legacy-main", not in the state database/,
    read: true,
  },
  {
    name: "no auth.sharedStore row",
    spoil: (s) =>
      alter(s.stateDb, "DELETE FROM config_machine_state WHERE state_key = 'auth.sharedStore'"),
    pattern: /no "auth\.sharedStore" row/,
    read: true,
  },
  {
    name: "no config_machine_state table",
    spoil: (s) => alter(s.stateDb, "DROP TABLE config_machine_state"),
    pattern: /no table config_machine_state/,
    read: true,
  },
  {
    name: "a credentials row that is not JSON",
    spoil: (s) =>
      alter(
        s.stateDb,
        "UPDATE config_machine_state SET value_json = ? WHERE state_key = 'authProfiles.store'",
        '{"version":1,"profiles":{"a:b":{"type":"token","token":"sk-secret-abc',
      ),
    pattern: /authProfiles\.store .* is not JSON \(invalid JSON/,
    read: true,
  },
  {
    name: "garbage bytes instead of a database",
    spoil: (s) => {
      Deno.writeFileSync(s.stateDb, crypto.getRandomValues(new Uint8Array(8192)));
      for (const side of ["-wal", "-shm"]) {
        if (exists(`${s.stateDb}${side}`)) Deno.removeSync(`${s.stateDb}${side}`);
      }
    },
    pattern: /not an SQLite database/,
    read: true,
  },
  {
    name: "a truncated database",
    spoil: (s) => {
      const data = Deno.readFileSync(s.stateDb);
      Deno.writeFileSync(s.stateDb, data.slice(0, Math.floor(data.length / 3)));
    },
    pattern: /is corrupt/,
    read: true,
  },
  {
    name: "a read-only database (for a write)",
    // Owner-read-only: anything for group or others is refused before the mode is looked at.
    spoil: (s) => Deno.chmodSync(s.stateDb, 0o400),
    pattern: /is read-only/,
    read: false,
  },
  {
    name: "an agent database without the auth tables",
    spoil: (s) => {
      Deno.mkdirSync(s.agentDir(), { recursive: true });
      const db = new DatabaseSync(openclawAgentDb(s.agentDir()));
      db.exec(`CREATE TABLE schema_meta (meta_key TEXT PRIMARY KEY, agent_id TEXT);
        PRAGMA user_version = ${AGENT_SCHEMA_VERSION}`);
      db.close();
      Deno.chmodSync(openclawAgentDb(s.agentDir()), 0o600); // as OpenClaw makes it
    },
    pattern: /no table auth_profile_store/,
    read: true,
  },
];

Deno.test({
  name:
    `openclaw db: refuses, in one sentence and writing nothing, what it was not tested with${SUFFIX}`,
  ignore,
  async fn(t) {
    for (const c of spoiled) {
      await t.step(c.name, async () => {
        await using state = await openclawState();
        updateAuthDocuments(opts(state), addToken("anthropic:before", "t0"));
        c.spoil(state);
        const files = [state.stateDb, openclawAgentDb(state.agentDir())].filter(exists);
        const before = await Promise.all(files.map(digest));
        const code = c.code ?? Exit.data;
        if (c.read) assertRefused(() => readAuthDocuments(opts(state)), code, c.pattern);
        else readAuthDocuments(opts(state));
        assertRefused(
          () => updateAuthDocuments(opts(state), addToken("anthropic:after", "t1")),
          code,
          c.pattern,
        );
        assert.deepEqual(
          await Promise.all(files.map(digest)),
          before,
          "the databases are byte-identical",
        );
        assert.deepEqual(retiredAuthFiles(opts(state)), []);
        Deno.chmodSync(state.stateDb, 0o600);
      });
    }
  },
});

Deno.test({
  name: `openclaw db: a missing state DB is refused and never created${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    for (const side of ["", "-wal", "-shm"]) {
      if (exists(`${state.stateDb}${side}`)) Deno.removeSync(`${state.stateDb}${side}`);
    }
    assert.ok(!hasOpenclawStateDb(state.dir));
    assertRefused(() => readAuthDocuments(opts(state)), Exit.data, /does not exist/);
    assertRefused(
      () => updateAuthDocuments(opts(state), addToken("anthropic:x", "t")),
      Exit.data,
      /does not exist/,
    );
    assert.ok(!exists(state.stateDb));
  },
});

Deno.test({
  name:
    `openclaw db: waits for OpenClaw's write lock, then gives up with exit 75, writing nothing${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const holder = new DatabaseSync(state.stateDb);
    holder.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      assertRefused(
        () =>
          updateAuthDocuments(
            { ...opts(state), timeoutMs: 300 },
            addToken("anthropic:late", "t"),
          ),
        Exit.lockTimeout,
        /stayed locked/,
      );
      const waited = Date.now() - started;
      assert.ok(waited >= 250 && waited < 5_000, `waited ${waited} ms`);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    assert.deepEqual(readAuthDocuments(opts(state)).store.profiles, {});
  },
});
