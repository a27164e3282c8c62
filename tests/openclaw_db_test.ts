/**
 * lib/store/openclaw_db.ts against the real OpenClaw (2026.9.6): every test
 * works on a copy of one state dir that `openclaw doctor --fix` prepared
 * (tests/openclaw_env.ts), and what clawauth writes is read back by OpenClaw's
 * own CLI. Ignored, saying why, when OpenClaw is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ClawauthError, Exit } from "../lib/errors.ts";
import {
  AGENT_SCHEMA_VERSION,
  type AuthDocuments,
  hasOpenclawStateDb,
  openclawAgentDb,
  type OpenclawDbOptions,
  readAuthDocuments,
  retiredAuthFiles,
  STATE_SCHEMA_VERSION,
  updateAuthDocuments,
} from "../lib/store/openclaw_db.ts";
import { oauthRefreshLockTarget, parseRefreshFence } from "../lib/store/openclaw_fence.ts";
import {
  effectiveDocuments,
  emptyState,
  type Layer,
  placeChanges,
} from "../lib/store/openclaw_layers.ts";
import type { JsonObject } from "../lib/json.ts";
import { ROOT } from "../scripts/cli_runner.ts";
import { fakeSecret, ignoredSuffix } from "./helpers.ts";
import {
  openclawAvailable,
  type OpenclawResult,
  type OpenclawState,
  openclawState,
  skipReason,
} from "./openclaw_env.ts";

const ignore = !openclawAvailable;
const SUFFIX = ignoredSuffix(ignore ? skipReason : undefined);

function opts(state: OpenclawState, agent = "main"): OpenclawDbOptions & { timeoutMs: number } {
  return { stateDir: state.dir, agentDir: state.agentDir(agent), agent, timeoutMs: 10_000 };
}

function ok(result: OpenclawResult, what: string): OpenclawResult {
  assert.equal(result.code, 0, `${what}:\n${result.stdout}\n${result.stderr}`);
  assert.doesNotMatch(`${result.stdout}\n${result.stderr}`, /AUTH_PROFILE_MIGRATION_REQUIRED/);
  return result;
}

/** Runs SQL on a copy's database as a test fixture would (not through the module). */
function alter(path: string, sql: string, ...params: string[]): void {
  const db = new DatabaseSync(path);
  try {
    if (params.length > 0) db.prepare(sql).run(...params);
    else db.exec(sql);
  } finally {
    db.close();
  }
}

/** A setup-token long enough for OpenClaw's check (80+ characters). */
function setupToken(): string {
  return fakeSecret("sk-ant-oat01-") + fakeSecret("");
}

/** The SHA-256 of a file, hex: compared instead of the bytes (a failed byte diff is huge). */
async function digest(path: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The shared auth rows with their timestamps: what a write to the shared documents changes. */
function sharedAuthRows(state: OpenclawState): unknown[] {
  const db = new DatabaseSync(state.stateDb, { readOnly: true });
  try {
    return db.prepare(
      "SELECT * FROM config_machine_state WHERE state_key LIKE 'auth%' ORDER BY state_key",
    ).all();
  } finally {
    db.close();
  }
}

/** Asserts `fn` throws a ClawauthError with `code` whose message matches `pattern`. */
function assertRefused(fn: () => unknown, code: number, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ClawauthError, `not a ClawauthError: ${error}`);
    assert.equal(error.exitCode, code, error.message);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n|sk-secret/, "one sentence, no secret");
    return true;
  });
}

function addToken(id: string, token: string): (docs: AuthDocuments) => void {
  return (docs) => {
    docs.store.profiles[id] = { type: "token", provider: id.split(":")[0], token };
  };
}

interface StatusProfile {
  profileId: string;
  provider: string;
  type: string;
}

async function statusJson(
  state: OpenclawState,
  agent = "main",
): Promise<{ profiles: StatusProfile[]; effective: Record<string, string[]> }> {
  const out = ok(
    await state.openclaw(["models", "status", "--agent", agent, "--json"]),
    "openclaw models status --json",
  );
  const auth = JSON.parse(out.stdout).auth;
  const effective: Record<string, string[]> = {};
  for (const p of auth.oauth.providers) {
    effective[p.provider] = p.effectiveProfiles.map((e: StatusProfile) => e.profileId);
  }
  return { profiles: auth.oauth.profiles, effective };
}

Deno.test({
  name: `openclaw db: reads the token \`openclaw models auth paste-token\` stored${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    assert.ok(hasOpenclawStateDb(state.dir));
    const empty = readAuthDocuments(opts(state));
    assert.deepEqual(empty.store, { version: 1, profiles: {} });
    assert.deepEqual(empty.state, {});
    assert.equal(empty.source.agentDb, undefined);

    const token = setupToken();
    ok(
      await state.openclaw(
        [
          "models",
          "auth",
          "paste-token",
          "--provider",
          "anthropic",
          "--profile-id",
          "anthropic:oc",
        ],
        { stdin: `${token}\n` },
      ),
      "openclaw models auth paste-token",
    );
    const docs = readAuthDocuments(opts(state));
    assert.deepEqual(docs.store.profiles["anthropic:oc"], {
      type: "token",
      provider: "anthropic",
      token,
    });
    assert.deepEqual(retiredAuthFiles(opts(state)), []);
  },
});

Deno.test({
  name:
    `openclaw db: profiles and order written by clawauth are what \`openclaw models status --json\` lists, with no AUTH_PROFILE_MIGRATION_REQUIRED${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const apiKey = fakeSecret("sk-proj-");
    const setup = fakeSecret("sk-ant-oat01-");
    const expires = Date.now() + 30 * 86_400_000;
    const returned = updateAuthDocuments(opts(state), (docs) => {
      docs.store.profiles["openai:ci"] = { type: "api_key", provider: "openai", key: apiKey };
      docs.store.profiles["anthropic:work"] = {
        type: "token",
        provider: "anthropic",
        token: setup,
        expires,
      };
      docs.store.profiles["anthropic:home"] = {
        type: "token",
        provider: "anthropic",
        token: fakeSecret("sk-ant-oat01-"),
      };
      docs.state.order = { anthropic: ["anthropic:work", "anthropic:home"] };
      return "done";
    });
    assert.equal(returned, "done");
    // No agent DB for main: everything went to the shared rows, nothing else was created.
    assert.equal(readAuthDocuments(opts(state)).source.agentDb, undefined);
    assert.deepEqual(retiredAuthFiles(opts(state)), []);

    const status = await statusJson(state);
    const listed = Object.fromEntries(status.profiles.map((p) => [p.profileId, p]));
    assert.equal(listed["openai:ci"]?.type, "api_key");
    assert.equal(listed["anthropic:work"]?.type, "token");
    assert.deepEqual(status.effective.anthropic, ["anthropic:work", "anthropic:home"]);

    updateAuthDocuments(opts(state), (docs) => {
      docs.state.order = { anthropic: ["anthropic:home", "anthropic:work"] };
    });
    assert.deepEqual((await statusJson(state)).effective.anthropic, [
      "anthropic:home",
      "anthropic:work",
    ]);
  },
});

Deno.test({
  name:
    `openclaw db: an agent sees the shared profiles under its own, and its writes stay in its agent DB, as OpenClaw layers them${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const mainToken = fakeSecret("sk-ant-oat01-");
    updateAuthDocuments(opts(state), addToken("anthropic:shared", mainToken));
    ok(
      await state.openclaw([
        "agents",
        "add",
        "work",
        "--non-interactive",
        "--workspace",
        `${state.dir}/workspace-work`,
      ]),
      "openclaw agents add work",
    );
    const work = opts(state, "work");
    // No agent DB yet: a new profile needs it, and clawauth never creates it.
    const shared = sharedAuthRows(state);
    assertRefused(
      () => updateAuthDocuments(work, addToken("anthropic:w0", "x")),
      Exit.data,
      /no database for agent "work"/,
    );
    assert.deepEqual(sharedAuthRows(state), shared);
    assert.ok(!hasFile(openclawAgentDb(work.agentDir)));

    ok(
      await state.openclaw(
        [
          "models",
          "auth",
          "paste-token",
          "--agent",
          "work",
          "--provider",
          "anthropic",
          "--profile-id",
          "anthropic:w1",
        ],
        { stdin: `${setupToken()}\n` },
      ),
      "openclaw models auth paste-token --agent work",
    );
    const seen = readAuthDocuments(work);
    assert.equal(seen.source.agentDb, openclawAgentDb(work.agentDir));
    assert.deepEqual(Object.keys(seen.store.profiles).sort(), [
      "anthropic:shared",
      "anthropic:w1",
    ]);

    const w2 = fakeSecret("sk-ant-oat01-");
    updateAuthDocuments(work, (docs) => {
      addToken("anthropic:w2", w2)(docs);
      docs.state.order = { anthropic: ["anthropic:w2", "anthropic:shared", "anthropic:w1"] };
      docs.state.usageStats = { "anthropic:shared": { errorCount: 1, cooldownUntil: 1 } };
    });
    // The new profile and the state live in work's DB; the shared rows are as they were.
    assert.deepEqual(sharedAuthRows(state), shared);
    const main = readAuthDocuments(opts(state));
    assert.deepEqual(Object.keys(main.store.profiles), ["anthropic:shared"]);
    assert.deepEqual(main.state, {});

    // A change to an inherited profile goes back to its owner, the shared store.
    updateAuthDocuments(work, (docs) => {
      (docs.store.profiles["anthropic:shared"] as Record<string, unknown>).email = "a@b.c";
    });
    assert.equal(
      (readAuthDocuments(opts(state)).store.profiles["anthropic:shared"] as { email?: string })
        .email,
      "a@b.c",
    );
    assertRefused(
      () =>
        updateAuthDocuments(work, (docs) => {
          delete docs.store.profiles["anthropic:shared"];
        }),
      Exit.data,
      /shared by every agent/,
    );

    const [asWork, asMain] = await Promise.all([statusJson(state, "work"), statusJson(state)]);
    assert.deepEqual(asWork.profiles.map((p) => p.profileId).sort(), [
      "anthropic:shared",
      "anthropic:w1",
      "anthropic:w2",
    ]);
    assert.deepEqual(asWork.effective.anthropic, [
      "anthropic:w2",
      "anthropic:shared",
      "anthropic:w1",
    ]);
    assert.deepEqual(asMain.profiles.map((p) => p.profileId), ["anthropic:shared"]);
    assert.deepEqual(readAuthDocuments(work).state.order, {
      anthropic: ["anthropic:w2", "anthropic:shared", "anthropic:w1"],
    });
  },
});

function hasFile(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
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
        if (hasFile(`${s.stateDb}${side}`)) Deno.removeSync(`${s.stateDb}${side}`);
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
    spoil: (s) => Deno.chmodSync(s.stateDb, 0o444),
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
        const files = [state.stateDb, openclawAgentDb(state.agentDir())].filter(hasFile);
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
      if (hasFile(`${state.stateDb}${side}`)) Deno.removeSync(`${state.stateDb}${side}`);
    }
    assert.ok(!hasOpenclawStateDb(state.dir));
    assertRefused(() => readAuthDocuments(opts(state)), Exit.data, /does not exist/);
    assertRefused(
      () => updateAuthDocuments(opts(state), addToken("anthropic:x", "t")),
      Exit.data,
      /does not exist/,
    );
    assert.ok(!hasFile(state.stateDb));
  },
});

Deno.test({
  name: `openclaw db: keys it does not know are kept, in the documents and in profiles${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    alter(
      state.stateDb,
      "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES ('authProfiles.store', ?, 1)",
      JSON.stringify({
        version: 1,
        profiles: { "openai:x": { type: "api_key", provider: "openai", key: "k", extra: [1] } },
        futureKey: { a: 1 },
      }),
    );
    alter(
      state.stateDb,
      "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES ('authProfiles.state', ?, 1)",
      JSON.stringify({ version: 1, order: { openai: ["openai:x"] }, futureState: true }),
    );
    updateAuthDocuments(opts(state), (docs) => {
      addToken("anthropic:new", "t")(docs);
      docs.state.lastGood = { openai: "openai:x" };
    });
    const db = new DatabaseSync(state.stateDb, { readOnly: true });
    const row = (key: string) =>
      JSON.parse(
        String(
          db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = ?").get(key)
            ?.value_json,
        ),
      );
    const store = row("authProfiles.store");
    const st = row("authProfiles.state");
    db.close();
    assert.deepEqual(store.futureKey, { a: 1 });
    assert.deepEqual(store.profiles["openai:x"].extra, [1]);
    assert.ok(store.profiles["anthropic:new"]);
    assert.equal(st.futureState, true);
    assert.deepEqual(st.lastGood, { openai: "openai:x" });
    assert.deepEqual(st.order, { openai: ["openai:x"] });
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

Deno.test({
  name:
    `openclaw db: concurrent updates from several processes, and OpenClaw writing at the same time, lose nothing${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    updateAuthDocuments(opts(state), addToken("anthropic:counter", "c"));
    const worker = `${state.dir}/../worker.ts`;
    Deno.writeTextFileSync(
      worker,
      `import { updateAuthDocuments } from ${JSON.stringify(`${ROOT}/lib/store/openclaw_db.ts`)};
const [stateDir, name, count] = Deno.args;
for (let i = 0; i < Number(count); i++) {
  updateAuthDocuments({ stateDir, agentDir: stateDir + "/agents/main/agent", agent: "main", timeoutMs: 30000 }, (docs) => {
    docs.store.profiles["anthropic:" + name + "-" + i] = { type: "token", provider: "anthropic", token: name + i };
    const stats = (docs.state.usageStats ??= {});
    const counter = (stats["anthropic:counter"] ??= { errorCount: 0 }) as { errorCount: number };
    counter.errorCount += 1;
  });
}
`,
    );
    const workers = 6;
    const each = 15;
    const children = Array.from({ length: workers }, (_, n) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-all", worker, state.dir, `w${n}`, String(each)],
        stdout: "piped",
        stderr: "piped",
      }).output());
    const openclawToken = setupToken();
    const [openclaw, ...outs] = await Promise.all([
      state.openclaw(
        [
          "models",
          "auth",
          "paste-token",
          "--provider",
          "anthropic",
          "--profile-id",
          "anthropic:oc",
        ],
        { stdin: `${openclawToken}\n` },
      ),
      ...children,
    ]);
    for (const out of outs) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    ok(openclaw, "openclaw models auth paste-token (concurrent)");
    const docs = readAuthDocuments(opts(state));
    for (let n = 0; n < workers; n++) {
      for (let i = 0; i < each; i++) assert.ok(docs.store.profiles[`anthropic:w${n}-${i}`]);
    }
    assert.equal((docs.store.profiles["anthropic:oc"] as { token: string }).token, openclawToken);
    assert.deepEqual(docs.state.usageStats?.["anthropic:counter"], { errorCount: workers * each });
  },
});

/** OpenClaw's own chunk exporting `name` (content-hashed file names differ by release). */
function openclawChunk(name: string): { file: string; alias: string } | undefined {
  const bin = Deno.env.get("CLAWAUTH_OPENCLAW_BIN") ??
    `${ROOT}/.ci/.tools/openclaw/node_modules/openclaw/openclaw.mjs`;
  const dist = `${bin.replace(/\/[^/]*$/, "")}/dist`;
  for (const entry of Deno.readDirSync(dist)) {
    if (!entry.isFile || !entry.name.endsWith(".mjs")) continue;
    const text = Deno.readTextFileSync(`${dist}/${entry.name}`);
    if (!text.includes(`function ${name}(`)) continue;
    const alias = new RegExp(`\\b${name} as (\\w+)`).exec(text)?.[1];
    if (alias) return { file: `${dist}/${entry.name}`, alias };
  }
  return undefined;
}

Deno.test({
  name: `openclaw fence: lock path and fence parsing agree with OpenClaw's own functions${SUFFIX}`,
  ignore,
  async fn() {
    const lock = openclawChunk("resolveOAuthRefreshLockPath");
    const fence = openclawChunk("createOAuthRefreshFence");
    const failed = openclawChunk("createFailedOAuthRefreshFence");
    assert.ok(lock && fence && failed, "OpenClaw's chunks are found");
    const node = Deno.env.get("CLAWAUTH_NODE24_BIN") ??
      `${ROOT}/.ci/.tools/openclaw/node_modules/node-linux-${
        Deno.build.arch === "aarch64" ? "arm64" : "x64"
      }/bin/node`;
    const keys: [string, string][] = [
      ["anthropic", "anthropic:work"],
      ["openai", 'openai:ü\u0000"x'],
      ["openai-codex", "openai-codex:a@b.c"],
    ];
    const script = `
const lock = await import(${JSON.stringify(lock.file)});
const fence = await import(${JSON.stringify(fence.file)});
const failed = await import(${JSON.stringify(failed.file)});
const keys = ${JSON.stringify(keys)};
const credential = { type: "oauth", provider: "openai", access: "A", refresh: "R", expires: 5, accountId: "acc" };
const pending = fence.${fence.alias}({ profileId: "openai:x", credential });
console.log(JSON.stringify({
  paths: keys.map(([p, id]) => lock.${lock.alias}(p, id)),
  pending,
  failed: failed.${failed.alias}(pending),
}));`;
    const out = await new Deno.Command(node, {
      args: ["--input-type=module", "-e", script],
      env: { OPENCLAW_STATE_DIR: "/state" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const theirs = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert.deepEqual(theirs.paths, keys.map(([p, id]) => oauthRefreshLockTarget("/state", p, id)));
    const pending = parseRefreshFence(theirs.pending);
    assert.equal(pending?.state, "pending");
    assert.deepEqual(parseRefreshFence(theirs.failed), { ...pending, state: "failed" });
    assert.equal(parseRefreshFence({ ...theirs.pending, expires: 2 }), undefined);
    assert.equal(parseRefreshFence({ ...theirs.failed, access: theirs.pending.access }), undefined);
  },
});

// --- layering rules, without OpenClaw -----------------------------------------

function layer(store?: JsonObject, state?: JsonObject): Layer {
  return {
    store: store ? { text: JSON.stringify(store), doc: store } : {},
    state: state ? { text: JSON.stringify(state), doc: state } : {},
  };
}

const tok = (provider: string) => ({ type: "token", provider, token: "t" });

Deno.test("openclaw layers: the agent's profiles win by id, its order per provider; where it has profiles but no order they go first", () => {
  const shared = layer(
    { version: 1, profiles: { "a:s1": tok("a"), "a:s2": tok("a"), "b:s": tok("b") } },
    { version: 1, order: { a: ["a:s2", "a:s1"], b: ["b:s"] }, lastGood: { a: "a:gone" } },
  );
  const local = layer(
    { version: 1, profiles: { "a:l": tok("a"), "b:s": { ...tok("b"), token: "mine" } } },
    { version: 1, order: { b: ["b:s"] }, usageStats: { "a:l": { errorCount: 1 }, "x:y": {} } },
  );
  const docs = effectiveDocuments(shared, local);
  assert.deepEqual(Object.keys(docs.store.profiles).sort(), ["a:l", "a:s1", "a:s2", "b:s"]);
  assert.equal((docs.store.profiles["b:s"] as { token: string }).token, "mine");
  assert.deepEqual(docs.state.order, { a: ["a:l", "a:s2", "a:s1"], b: ["b:s"] });
  assert.deepEqual(docs.state.lastGood, {}, "lastGood naming a missing profile is dropped");
  assert.deepEqual(docs.state.usageStats, { "a:l": { errorCount: 1 } });
  assert.deepEqual(effectiveDocuments(shared, layer()).state.lastGood, { a: "a:gone" });
});

Deno.test("openclaw layers: each change goes where OpenClaw keeps it", () => {
  const shared = layer({ version: 1, profiles: { "a:s": tok("a") } }, undefined);
  const local = layer({ version: 1, profiles: { "a:l": tok("a") } }, undefined);
  const place = (agent: string, loc: Layer | undefined, edit: (d: AuthDocuments) => void) => {
    const before = effectiveDocuments(shared, loc);
    const after = structuredClone(before);
    edit(after);
    return placeChanges(before, after, shared, loc, { agent, agentDb: "/x/openclaw-agent.sqlite" });
  };
  // main: new profiles and (without an agent DB) state go to the shared documents.
  let plan = place("main", undefined, (d) => {
    d.store.profiles["a:new"] = tok("a");
    d.state.order = { a: ["a:new"] };
  });
  assert.ok(plan.shared.store?.profiles && "a:new" in (plan.shared.store.profiles as JsonObject));
  assert.deepEqual(plan.shared.state, { version: 1, order: { a: ["a:new"] } });
  // another agent with a DB: new profiles and state stay local; an inherited profile goes home.
  plan = place("work", local, (d) => {
    d.store.profiles["a:new"] = tok("a");
    (d.store.profiles["a:s"] as JsonObject).email = "e";
    d.state.usageStats = { "a:s": { errorCount: 2 } };
  });
  assert.deepEqual(Object.keys(plan.local.store?.profiles as JsonObject).sort(), ["a:l", "a:new"]);
  assert.equal(((plan.shared.store?.profiles as JsonObject)["a:s"] as JsonObject).email, "e");
  assert.deepEqual(plan.local.state, { version: 1, usageStats: { "a:s": { errorCount: 2 } } });
  assert.equal(plan.shared.state, undefined);
  // another agent without a DB: a new profile or order needs one; usage stats are shared.
  assertRefused(
    () =>
      place("work", undefined, (d) => {
        d.store.profiles["a:new"] = tok("a");
      }),
    Exit.data,
    /no database for agent "work"/,
  );
  assertRefused(
    () =>
      place("work", undefined, (d) => {
        d.state.order = { a: ["a:s"] };
      }),
    Exit.data,
    /its order for a/,
  );
  plan = place("work", undefined, (d) => {
    d.state.usageStats = { "a:s": { errorCount: 1 } };
  });
  assert.deepEqual(plan.shared.state, { version: 1, usageStats: { "a:s": { errorCount: 1 } } });
  assert.ok(emptyState({ version: 1, order: {} }) && !emptyState({ version: 1, other: 1 }));
});
