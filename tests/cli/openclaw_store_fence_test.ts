/**
 * The `openclaw` store backend, black-box, against OpenClaw's refresh
 * protocol written by hand as OpenClaw would write it: its refresh fences
 * (pending, failed, never settled) are waited for and never handed out, and
 * its per-profile refresh lock is honoured while its holder lives and taken
 * over once it died (docs/locking.md; docs/openclaw.md). The real
 * clawauth CLI on copies of a state dir OpenClaw prepared
 * (tests/openclaw_env.ts), with the sandbox identity provider behind a Codex
 * login.
 *
 * Ignored, saying why, when OpenClaw is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { exists } from "../../lib/fs/files.ts";
import type { SandboxIdp } from "../../scripts/sandbox_idp.ts";
import type { RunResult } from "../helpers.ts";
import { type OpenclawState, openclawState, openclawTests } from "../openclaw_env.ts";
import {
  clawauth,
  type ClawauthProfile,
  CODEX_ID,
  codexLogin,
  editStoredProfile,
  expire,
  FENCE_PREFIX,
  fenced,
  retiredFilesIn,
  settleFence,
  sleeper,
  storedProfiles,
  takeRefreshLock,
} from "../openclaw_store_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

/** A clawauth process started in the background; killed when disposed while it still runs. */
interface Running extends AsyncDisposable {
  /** Whether it has exited. */
  exited(): boolean;
  /** Its result; killed (and the test failed) when it runs longer than `timeoutMs`. */
  result(timeoutMs: number): Promise<RunResult>;
}

/** Starts clawauth without waiting for it (stdin closed). */
function startClawauth(
  state: OpenclawState,
  args: string[],
  env: Record<string, string> = {},
): Running {
  const child = state.spawn(args, { env, stdin: "null" });
  let done = false;
  const kill = (): void => {
    try {
      child.kill("SIGKILL");
    } catch { /* it exited meanwhile */ }
  };
  const output = child.output().then((out): RunResult => {
    done = true;
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  });
  return {
    exited: () => done,
    async result(timeoutMs: number): Promise<RunResult> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), timeoutMs);
      });
      try {
        const first = await Promise.race([output, late]);
        if (first !== "late") return first;
        kill();
        const killed = await output;
        assert.fail(
          `clawauth ${args.join(" ")} still ran after ${timeoutMs} ms (killed): ${killed.stderr}`,
        );
      } finally {
        clearTimeout(timer);
      }
    },
    async [Symbol.asyncDispose](): Promise<void> {
      if (!done) kill();
      await output;
    },
  };
}

/** Polls `condition` every 25 ms until it holds or `timeoutMs` passed; returns whether it held. */
async function pollUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** Token-endpoint requests for refresh grants the IdP answered, well or not. */
function refreshRequests(idp: SandboxIdp): number {
  const counts = idp.counts();
  return counts.refresh_token + counts.refreshErrors;
}

/**
 * Asserts that `run` is blocked: it is still running `forMs` after it
 * started (several times as long as a plain `token` run takes here) and
 * has sent nothing to the IdP meanwhile.
 */
async function assertBlocked(
  run: Running,
  idp: SandboxIdp,
  forMs: number,
  what: string,
): Promise<void> {
  const quit = await pollUntil(() => run.exited() || refreshRequests(idp) > 0, forMs);
  if (quit && run.exited()) {
    const result = await run.result(1_000);
    assert.fail(
      `${what}: clawauth exited ${result.code} instead of waiting: ${result.stderr.trim()}`,
    );
  }
  assert.equal(refreshRequests(idp), 0, `${what}: clawauth asked the IdP for a refresh`);
}

/** How long a plain `clawauth token` takes here, for telling a blocked run from a slow one. */
async function tokenRunMs(state: OpenclawState): Promise<number> {
  const started = Date.now();
  await clawauth(state, ["token", "--provider", "openai-codex"]);
  return Date.now() - started;
}

function assertNoFencePrinted(result: RunResult, what: string): void {
  assert.ok(
    !`${result.stdout}\n${result.stderr}`.includes(FENCE_PREFIX),
    `${what} printed a fence value: ${result.stdout}${result.stderr}`,
  );
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

Deno.test({
  name:
    `openclaw store: OpenClaw's refresh fences are waited for (settled, failed, never settled) and never handed out${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const plain = await tokenRunMs(state);
    const blockedFor = Math.max(1_000, 4 * plain);
    const original = storedProfiles(state)[CODEX_ID];

    // A pending fence: clawauth waits, then takes what OpenClaw settles.
    const pending = await fenced(original, CODEX_ID);
    editStoredProfile(state, CODEX_ID, () => pending);
    await using waiting = startClawauth(state, ["token", "--provider", "openai-codex"], {
      CLAWAUTH_LOCK_TIMEOUT: "30",
    });
    await assertBlocked(waiting, idp, blockedFor, "a pending fence");
    const settled = settleFence(state, { pending, original, who: "clawauth" });
    const got = await waiting.result(15_000);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, `${settled}\n`, "the settled token, as OpenClaw wrote it");
    assertNoFencePrinted(got, "token on a pending fence");
    assert.equal(refreshRequests(idp), 0, "OpenClaw refreshed it: clawauth sent nothing");

    // A pending fence that never settles: exit 75 within the lock timeout.
    const stuck = await fenced(original, CODEX_ID);
    editStoredProfile(state, CODEX_ID, () => stuck);
    const started = Date.now();
    const timedOut = await startClawauth(state, ["token", "--provider", "openai-codex"], {
      CLAWAUTH_LOCK_TIMEOUT: "2",
    }).result(15_000);
    const took = Date.now() - started;
    assert.equal(timedOut.code, 75, `a fence that never settles: ${timedOut.stderr}`);
    assert.ok(took >= 1_900 && took < 10_000, `exit 75 after ${took} ms, not about 2 s`);
    assert.equal(timedOut.stdout, "");
    assertNoFencePrinted(timedOut, "token on a fence that never settles");
    assert.deepEqual(storedProfiles(state)[CODEX_ID], stuck, "the fence is OpenClaw's to settle");

    // A failed fence: the login is spent; exit 77 naming the login command.
    const failed = await fenced(original, CODEX_ID, true);
    editStoredProfile(state, CODEX_ID, () => failed);
    const spent = await startClawauth(state, ["token", "--provider", "openai-codex"], {
      CLAWAUTH_LOCK_TIMEOUT: "30",
    }).result(15_000);
    assert.equal(spent.code, 77, `a failed fence: ${spent.stderr}`);
    assert.equal(spent.stdout, "");
    assert.match(spent.stderr, /clawauth login --provider openai-codex/);
    assertNoFencePrinted(spent, "token on a failed fence");

    assert.equal(refreshRequests(idp), 0, "no fence value was ever sent as a refresh token");
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: status shows a login whose OpenClaw refresh failed (a failed fence) as needs_login, and --check fails${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const original = storedProfiles(state)[CODEX_ID];
    const failed = await fenced(original, CODEX_ID, true);
    editStoredProfile(state, CODEX_ID, () => failed);
    const status = await clawauth(state, ["status", "--json"]);
    const list = await clawauth(state, ["list", "--json"]);
    const check = await state.run(["status", "--check"]);
    const runs = [["status --json", status], ["list --json", list], ["status --check", check]];
    for (const [what, result] of runs as [string, RunResult][]) {
      assertNoFencePrinted(result, `${what} on a failed fence`);
    }
    const listed = (JSON.parse(status.stdout) as { profiles: ClawauthProfile[] }).profiles;
    assert.equal(
      listed.find((p) => p.id === CODEX_ID)?.state,
      "needs_login",
      "status agrees with token (exit 77): a failed fence is needs_login",
    );
    assert.equal(check.code, 1, `status --check on a failed fence: ${check.stdout}`);
    assert.equal(refreshRequests(idp), 0);
  },
});

Deno.test({
  name:
    `openclaw store: a live holder of OpenClaw's refresh lock makes clawauth wait, then refresh once; held too long, exit 75${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using holder = sleeper();
    await using idp = await codexLogin(state);
    const plain = await tokenRunMs(state);
    const blockedFor = Math.max(1_000, 4 * plain);
    const old = storedProfiles(state)[CODEX_ID];
    expire(state);

    const lock = takeRefreshLock(state, "openai", CODEX_ID, holder.pid);
    await using waiting = startClawauth(state, ["token", "--provider", "openai-codex"], {
      CLAWAUTH_LOCK_TIMEOUT: "30",
    });
    await assertBlocked(waiting, idp, blockedFor, "OpenClaw's refresh lock held");
    assert.equal(Deno.readTextFileSync(lock.path), lock.text, "the holder's lock is untouched");
    Deno.removeSync(lock.path);
    const got = await waiting.result(15_000);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(idp.counts().refresh_token, 1, "one refresh once the lock was released");
    const now = storedProfiles(state)[CODEX_ID];
    assert.notEqual(now.access, old.access);
    assert.equal(got.stdout, `${now.access}\n`);
    assert.ok(!exists(lock.path), "clawauth released the lock it took");

    // Expired again, and the lock is never released.
    expire(state);
    const again = takeRefreshLock(state, "openai", CODEX_ID, holder.pid);
    const started = Date.now();
    const timedOut = await startClawauth(state, ["token", "--provider", "openai-codex"], {
      CLAWAUTH_LOCK_TIMEOUT: "2",
    }).result(15_000);
    const took = Date.now() - started;
    assert.equal(timedOut.code, 75, `the lock never released: ${timedOut.stderr}`);
    assert.ok(took >= 1_900 && took < 10_000, `exit 75 after ${took} ms, not about 2 s`);
    assert.equal(timedOut.stdout, "");
    assert.equal(idp.counts().refresh_token, 1, "no refresh while OpenClaw holds the lock");
    assert.equal(idp.counts().refreshErrors, 0);
    assert.equal(Deno.readTextFileSync(again.path), again.text, "a live holder's lock stays");
    assert.equal(storedProfiles(state)[CODEX_ID].refresh, now.refresh);
  },
});

Deno.test({
  name:
    `openclaw store: a refresh lock whose holder died is stale: clawauth refreshes once at once${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const dead = sleeper();
    const lock = takeRefreshLock(state, "openai", CODEX_ID, dead.pid);
    dead.kill("SIGKILL");
    await dead.status;
    expire(state);
    const got = await startClawauth(state, ["token", "--provider", "openai-codex"], {
      CLAWAUTH_LOCK_TIMEOUT: "5",
    }).result(15_000);
    assert.equal(got.code, 0, `a dead holder's lock: ${got.stderr}`);
    assert.equal(idp.counts().refresh_token, 1);
    assert.equal(got.stdout, `${storedProfiles(state)[CODEX_ID].access}\n`);
    assert.ok(
      !exists(lock.path) || Deno.readTextFileSync(lock.path) !== lock.text,
      "the stale lock was taken over",
    );
  },
});
