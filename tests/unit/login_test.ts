/**
 * Login deadlines (docs/login.md) in-process on the fake clock: the 15-minute
 * life of a `--start` pending login to the millisecond, and an interactive
 * wait that ends at `--timeout` without waiting in real time. The provider's
 * endpoints are on a loopback port where nothing answers.
 */

import assert from "node:assert/strict";
import {
  FAKE_NOW,
  type InProcessRunOptions,
  type InProcessState,
  inProcessState,
  type MainResult,
} from "../fake_context.ts";
import { freePort, writeLoopbackConfig } from "../helpers.ts";

const MIN = 60_000;

/**
 * An interactive `login --provider openai-codex --timeout 30` on a free
 * callback port, against endpoints where nothing answers.
 */
function interactiveLogin(state: InProcessState, opts?: InProcessRunOptions): Promise<MainResult> {
  writeLoopbackConfig(state);
  const port = String(freePort());
  return state.run(
    ["login", "--provider", "openai-codex", "--port", port, "--timeout", "30"],
    opts,
  );
}

/** A sleep that lasts until the wait it times is over (the answer, not the deadline, ends it). */
function untilAborted(_ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

async function start(state: InProcessState): Promise<{ state: string; expiresAt: number }> {
  const result = await state.run(["login", "--provider", "openai-codex", "--start", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

Deno.test("login --start --json: a PKCE authorize URL whose pending login expires exactly 15 min later", async () => {
  await using state = await inProcessState();
  writeLoopbackConfig(state); // endpoints where nothing answers
  const result = await state.run(["login", "--provider", "openai-codex", "--start", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const started = JSON.parse(result.stdout);
  assert.equal(started.expiresAt, FAKE_NOW + 15 * MIN);
  const url = new URL(started.url);
  assert.equal(`${url.origin}${url.pathname}`, "http://127.0.0.1:9/authorize");
  assert.equal(url.searchParams.get("state"), started.state);
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.equal(url.searchParams.get("redirect_uri"), started.redirectUri);
  const pending = [...Deno.readDirSync(`${state.agentDir()}/pending`)];
  assert.equal(pending.length, 1);
  assert.equal(
    Deno.statSync(`${state.agentDir()}/pending/${pending[0].name}`).mode! & 0o777,
    0o600,
  );
  assert.deepEqual(result.ctx.requests, [], "--start contacts nobody");
});

Deno.test("login --finish is refused with exit 65 from the moment the pending login expires, and accepted 1 ms before", async () => {
  await using state = await inProcessState();
  writeLoopbackConfig(state); // endpoints where nothing answers
  const late = await start(state);
  state.now = late.expiresAt;
  const expired = await state.run(["login", "--finish", `code123#${late.state}`]);
  assert.equal(expired.code, 65, expired.stderr);
  assert.match(expired.stderr, /^clawauth: No pending login matches this answer: it expired/);
  assert.equal(expired.stdout, "");

  const inTime = await start(state);
  state.now = inTime.expiresAt - 1;
  const accepted = await state.run(["login", "--finish", `code123#${inTime.state}`]);
  // Accepted, so it went on to the code exchange, which nothing answers.
  assert.equal(accepted.code, 69, accepted.stderr);
  assert.match(accepted.stderr, /^clawauth: Could not reach openai-codex for the code exchange/);
  assert.throws(() => state.storeText(), Deno.errors.NotFound, "nothing stored");
});

Deno.test("an interactive login nobody answers is abandoned at --timeout (exit 1), on the fake clock", async () => {
  await using state = await inProcessState();
  const result = await interactiveLogin(state);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /^Open this URL to sign in to OpenAI Codex/);
  assert.match(
    result.stderr,
    /\nclawauth: No answer within 30 s; the login was abandoned\.\nRun it again \(--timeout SEC gives more time\), or use login --start \/ --finish\.\n$/,
  );
  assert.deepEqual(result.ctx.sleeps, [30_000], "one wait, of the whole timeout");
  assert.throws(() => state.storeText(), Deno.errors.NotFound, "nothing stored");
});

Deno.test("a pasted answer with another login's state is refused with exit 65 and nothing is stored", async () => {
  await using state = await inProcessState();
  const result = await interactiveLogin(state, {
    stdin: "code=abc&state=not-this-login\n",
    sleep: untilAborted,
  });
  assert.equal(result.code, 65, result.stderr);
  assert.match(
    result.stderr,
    /\nclawauth: The state in the answer does not match this login; nothing was stored\.\n/,
  );
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("a pasted bare code is exchanged at once: here nothing answers, so exit 69 and nothing stored", async () => {
  await using state = await inProcessState();
  const result = await interactiveLogin(state, { stdin: "abc\n", sleep: untilAborted });
  assert.equal(result.code, 69, result.stderr);
  assert.match(result.stderr, /\nclawauth: Could not reach openai-codex for the code exchange/);
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("login in CI (CI set, stdin not a terminal) fails fast with exit 64 and the --start/--finish recipe", async () => {
  await using state = await inProcessState();
  writeLoopbackConfig(state); // endpoints where nothing answers
  const result = await state.run(["login", "--provider", "openai-codex"], { env: { CI: "true" } });
  assert.equal(result.code, 64, result.stderr);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /^clawauth: Nobody can finish a browser login here: CI is set/);
  assert.match(result.stderr, /clawauth login --provider openai-codex --start --json/);
  assert.match(result.stderr, /clawauth paste-token --provider openai-codex/);
  assert.deepEqual(result.ctx.sleeps, [], "no wait at all");
});
