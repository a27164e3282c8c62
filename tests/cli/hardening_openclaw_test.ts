/**
 * The `openclaw` store keeps secrets only where no other user can read or
 * change them: OpenClaw's `state/` dir (0700, as OpenClaw makes it), its
 * state database and the agent databases with their `-wal`/`-shm` files
 * (0600). Anything looser is refused (exit 65, with the command that fixes
 * it), `doctor` calls it an error and `doctor --fix` repairs it. Black-box,
 * on copies of a state dir the real OpenClaw (2026.9.6) prepared
 * (tests/openclaw_env.ts); ignored, saying why, when OpenClaw is not
 * installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openclawAgentDb } from "../../lib/store/openclaw/db.ts";
import { fakeSecret } from "../helpers.ts";
import { type OpenclawState, openclawState, openclawTests } from "../openclaw_env.ts";
import {
  assertOpenclawOk,
  clawauth,
  openclawPasteToken,
  setupToken,
  storedProfiles,
} from "../openclaw_store_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;
const POSIX = Deno.build.os !== "windows";

/**
 * Writes a page into the state DB's WAL and keeps the connection open, so
 * `-wal` and `-shm` stay, non-empty, until disposed.
 */
function walHolder(state: OpenclawState): Disposable {
  const db = new DatabaseSync(state.stateDb);
  db.exec("PRAGMA wal_autocheckpoint = 0");
  db.prepare(
    "INSERT OR REPLACE INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?, ?, ?)",
  ).run("clawauth.test", "{}", Date.now());
  assert.ok(Deno.statSync(`${state.stateDb}-wal`).size > 0);
  return { [Symbol.dispose]: () => db.close() };
}

const mode = (path: string): number => Deno.statSync(path).mode! & 0o777;

interface Finding {
  check: string;
  severity: string;
  message: string;
  path?: string;
  fix?: string;
}

/** Pastes a token as `anthropic:a` (main, shared store) and returns it. */
async function withToken(state: OpenclawState): Promise<string> {
  const token = setupToken();
  await clawauth(state, ["paste-token", "--provider", "anthropic", "--profile", "a"], {
    stdin: token,
  });
  return token;
}

const PASTE = ["paste-token", "--provider", "anthropic", "--profile", "b"];
const TOKEN = ["token", "--profile", "anthropic:a"];

/** One place made too open, the fix clawauth must print, and which commands refuse. */
interface Unsafe {
  name: string;
  /** The path made too open, relative to the state dir. */
  path: string;
  mode: number;
  fix: RegExp;
  /** Reads refuse too (else only writes: a read trusts -wal/-shm inside a private state/). */
  read: boolean;
  /** The mode `doctor --fix` gives it back. */
  repaired: number;
}

const UNSAFE: Unsafe[] = [
  {
    name: "a world-writable state/ dir",
    path: "state",
    mode: 0o777,
    fix: /chmod 700 \S+\/state\b/,
    read: true,
    repaired: 0o700,
  },
  {
    name: "a 0666 state database",
    path: "state/openclaw.sqlite",
    mode: 0o666,
    fix: /chmod 600 \S+\/state\/openclaw\.sqlite\b/,
    read: true,
    repaired: 0o600,
  },
  {
    name: "a group-readable state database",
    path: "state/openclaw.sqlite",
    mode: 0o640,
    fix: /chmod 600 /,
    read: true,
    repaired: 0o600,
  },
  {
    name: "a 0666 -wal file",
    path: "state/openclaw.sqlite-wal",
    mode: 0o666,
    fix: /chmod 600 \S+\/state\/openclaw\.sqlite-wal\b/,
    read: false,
    repaired: 0o600,
  },
  {
    name: "a 0644 -shm file",
    path: "state/openclaw.sqlite-shm",
    mode: 0o644,
    fix: /chmod 600 \S+\/state\/openclaw\.sqlite-shm\b/,
    read: false,
    repaired: 0o600,
  },
];

for (const unsafe of UNSAFE) {
  Deno.test({
    name:
      `openclaw store: ${unsafe.name} is refused (exit 65, with the fix), doctor calls it an error, doctor --fix repairs it${SUFFIX}`,
    ignore: ignore || !POSIX,
    async fn() {
      await using state = await openclawState();
      const token = await withToken(state);
      const path = `${state.dir}/${unsafe.path}`;
      // SQLite deletes -wal and -shm when its last connection closes, and gives
      // an empty one the database's mode: keep a connection open with pages in
      // the WAL, as a running OpenClaw gateway does.
      using _gateway = unsafe.path.includes("-") ? walHolder(state) : undefined;
      assert.equal(mode(path) & 0o077, 0, `OpenClaw made ${unsafe.path} private`);
      Deno.chmodSync(path, unsafe.mode);
      const before = storedProfiles(state);

      const refusing = unsafe.read ? [PASTE, TOKEN] : [PASTE];
      for (const args of refusing) {
        const result = await state.run(args, { stdin: setupToken() });
        assert.equal(result.code, 65, `${args[0]}: ${result.stderr}`);
        assert.ok(result.stderr.includes(path), result.stderr);
        assert.match(result.stderr, unsafe.fix);
        assert.match(result.stderr, /clawauth will not/);
        assert.equal(result.stdout, "", "no secret comes out of an unsafe place");
      }
      assert.deepEqual(storedProfiles(state), before, "nothing was written");

      const doctor = await state.run(["doctor", "--json"]);
      assert.equal(doctor.code, 1, doctor.stdout);
      const findings: Finding[] = JSON.parse(doctor.stdout).findings;
      const flagged = findings.find((f) => f.check === "permissions" && f.path === path);
      assert.equal(flagged?.severity, "error", doctor.stdout);
      assert.equal(flagged?.fix, "clawauth doctor --fix");
      assert.ok(
        !findings.some((f) => f.message.startsWith("OpenClaw's state database files are 0600")),
        `doctor still says the files are private: ${doctor.stdout}`,
      );

      const fixed = await state.run(["doctor", "--fix", "--json"]);
      assert.ok(
        JSON.parse(fixed.stdout).fixed.some((f: { path: string }) => f.path === path),
        fixed.stdout,
      );
      assert.equal(mode(path), unsafe.repaired);
      const again = await state.run(["doctor", "--json"]);
      assert.equal(again.code, 0, again.stdout);
      assert.equal((await clawauth(state, TOKEN)).stdout.trim(), token);
      await clawauth(state, PASTE, { stdin: setupToken() });
    },
  });
}

Deno.test({
  name:
    `openclaw store: a 0666 agent database (OpenClaw's own, --agent work) is refused, flagged and repaired${SUFFIX}`,
  ignore: ignore || !POSIX,
  async fn() {
    await using state = await openclawState();
    const token = setupToken();
    assertOpenclawOk(
      await state.openclaw(
        ["agents", "add", "work", "--non-interactive", "--workspace", `${state.dir}/workspace`],
      ),
      "openclaw agents add work",
    );
    assertOpenclawOk(
      await openclawPasteToken(state, { id: "anthropic:w", token, extra: ["--agent", "work"] }),
      "openclaw models auth paste-token --agent work",
    );
    const agentDb = openclawAgentDb(state.agentDir("work"));
    const args = ["token", "--agent", "work", "--profile", "anthropic:w"];
    assert.equal((await clawauth(state, args)).stdout.trim(), token);
    Deno.chmodSync(agentDb, 0o666);

    const refused = await state.run(args);
    assert.equal(refused.code, 65, refused.stderr);
    assert.ok(refused.stderr.includes(`${agentDb} is 0666: writable by group or others`));
    assert.match(refused.stderr, /chmod 600 /);
    assert.equal(refused.stdout, "");

    const doctor = await state.run(["doctor", "--agent", "work", "--json"]);
    assert.equal(doctor.code, 1);
    const findings: Finding[] = JSON.parse(doctor.stdout).findings;
    assert.equal(
      findings.find((f) => f.check === "permissions" && f.path === agentDb)?.severity,
      "error",
      doctor.stdout,
    );
    assert.ok(
      !findings.some((f) => f.message === "files are 0600 and directories 0700"),
      doctor.stdout,
    );
    await state.run(["doctor", "--agent", "work", "--fix"]);
    assert.equal(mode(agentDb), 0o600);
    assert.equal((await clawauth(state, args)).stdout.trim(), token);
  },
});

Deno.test({
  name:
    `openclaw store: a private state dir passes doctor's permission checks with the database files named${SUFFIX}`,
  ignore: ignore || !POSIX,
  async fn() {
    await using state = await openclawState();
    await clawauth(state, ["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: fakeSecret("sk-proj-"),
    });
    const doctor = await state.run(["doctor", "--json"]);
    assert.equal(doctor.code, 0, doctor.stdout);
    const findings: Finding[] = JSON.parse(doctor.stdout).findings;
    assert.ok(
      findings.some((f) =>
        f.severity === "ok" && f.message.startsWith("OpenClaw's state database files are 0600")
      ),
      doctor.stdout,
    );
  },
});
