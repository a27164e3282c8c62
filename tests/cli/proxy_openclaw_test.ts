/**
 * `clawauth proxy` on OpenClaw 2026.9's SQLite store, black-box with the real
 * OpenClaw: an `anthropic` setup-token and a ChatGPT login (`openai:me`,
 * type oauth) served side by side (`/anthropic`, `/codex`); a 429 the proxy
 * records lands where OpenClaw keeps usage, and OpenClaw lists the profile
 * as cooling down until the same moment (`models status`: `unusableProfiles`); and a login OpenClaw is refreshing (its fence pending) is waited
 * for, then served with the token OpenClaw settled, never the fence; and
 * while OpenClaw holds its refresh lock on an expired login the proxy waits,
 * then refreshes it once. A ChatGPT login serves `/codex` and never
 * `/openai`, and the quota the proxy records sits in OpenClaw's state
 * document without upsetting OpenClaw.
 * Ignored, saying why, when OpenClaw is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { exists } from "../../lib/fs/files.ts";
import { fakeSecret } from "../helpers.ts";
import type { SandboxIdp } from "../../scripts/sandbox_idp.ts";
import { startFakeUpstream, type UpstreamRequest } from "../fake_upstream.ts";
import { openclawState, openclawTests } from "../openclaw_env.ts";
import {
  assertOpenclawOk,
  clawauth,
  CODEX_ID,
  codexLogin,
  editStoredProfile,
  expire,
  FENCE_PREFIX,
  fenced,
  openclawStatus,
  settleFence,
  setupToken,
  sleeper,
  storedProfiles,
  storedUsage,
  takeRefreshLock,
} from "../openclaw_store_support.ts";
import { keyed, routeTo, type RunningProxy, startProxy } from "../proxy_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

const TOKEN_ID = "anthropic:work";

type Json = Record<string, unknown>;

/** A request through `proxy`: the Messages API on `/anthropic`, the Responses API on `/codex`. */
function call(proxy: RunningProxy, route: "anthropic" | "codex"): Promise<Response> {
  const anthropic = route === "anthropic";
  return fetch(`${proxy.url}/${route}/${anthropic ? "v1/messages" : "responses"}`, {
    method: "POST",
    headers: anthropic
      ? { "x-api-key": proxy.key, "content-type": "application/json" }
      : { authorization: `Bearer ${proxy.key}`, "content-type": "application/json" },
    body: JSON.stringify(
      anthropic
        ? { model: "claude-fake", max_tokens: 5, messages: [{ role: "user", content: "ping" }] }
        : { model: "gpt-fake", input: "ping", stream: true },
    ),
  });
}

/** Token-endpoint requests for refresh grants the IdP answered, well or not. */
function refreshRequests(idp: SandboxIdp): number {
  const counts = idp.counts();
  return counts.refresh_token + counts.refreshErrors;
}

/** `count` concurrent `/codex` calls through `proxy`, and whether they have all been answered. */
function codexCalls(proxy: RunningProxy, count: number) {
  let answered = false;
  const all = Promise.all(Array.from({ length: count }, () => call(proxy, "codex")));
  all.then(() => answered = true, () => answered = true);
  return { all, answered: () => answered };
}

/**
 * Asserts for `forMs` that the calls stay unanswered and that nothing went
 * upstream or to the IdP: the proxy waits for OpenClaw.
 */
async function assertWaiting(
  calls: { answered(): boolean },
  seen: { upstream: UpstreamRequest[]; idp: SandboxIdp },
  forMs: number,
): Promise<void> {
  const deadline = Date.now() + forMs;
  while (Date.now() < deadline) {
    assert.equal(calls.answered(), false, "the proxy answered while OpenClaw was refreshing");
    assert.equal(seen.upstream.length, 0, "a request went upstream while OpenClaw refreshed");
    assert.equal(refreshRequests(seen.idp), 0, "the proxy asked the IdP while OpenClaw refreshed");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How long the tests watch the proxy wait (several times a request's own time here). */
const WAIT_MS = 1_500;

Deno.test({
  name:
    `proxy on the openclaw store: a setup-token on /anthropic and a ChatGPT login on /codex; a 429 it records is OpenClaw's cooldown, until the same moment, in models status${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const token = setupToken();
    await clawauth(state, ["paste-token", "--provider", "anthropic", "--profile", "work"], {
      stdin: token,
    });
    let limited = false;
    await using upstream = await startFakeUpstream((credential) =>
      limited && credential === token ? { status: 429, headers: { "retry-after": "30" } } : {}
    );
    routeTo(state, upstream, ["anthropic", "openai-codex"]);
    await using proxy = await startProxy(state);
    const login = storedProfiles(state)[CODEX_ID];

    for (const route of ["anthropic", "codex"] as const) {
      const response = await call(proxy, route);
      assert.equal(response.status, 200, route);
      await response.text();
    }
    const [anthropic, codex] = upstream.requests;
    assert.equal(anthropic.headers.authorization, `Bearer ${token}`);
    assert.match(anthropic.headers["anthropic-beta"], /oauth-2025-04-20/);
    assert.equal(anthropic.headers["x-api-key"], undefined, "the local key is not forwarded");
    assert.equal(codex.headers.authorization, `Bearer ${login.access}`);
    assert.equal(codex.headers["chatgpt-account-id"], login.accountId);
    assert.equal(idp.counts().refresh_token, 0, "a valid login is served as it is");

    limited = true;
    const before = Date.now();
    const refused = await call(proxy, "anthropic");
    const after = Date.now();
    assert.equal(refused.status, 429, "the only anthropic profile is rate limited");
    const wait = Number(refused.headers.get("retry-after"));
    assert.ok(wait > 0 && wait <= 30, `retry-after ${wait}`);
    await refused.text();

    const usage = storedUsage(state)[TOKEN_ID];
    assert.ok(usage, "the 429 is in OpenClaw's usageStats");
    const until = usage.cooldownUntil as number;
    assert.ok(
      until >= before + 30_000 && until <= after + 30_000,
      `the cooldown ends 30 s after the 429: ${until - before} ms`,
    );
    assert.equal(usage.errorCount, 1);
    assert.deepEqual(usage.failureCounts, { rate_limit: 1 });

    // OpenClaw reads it as its own cooldown: it lists the profile as unusable until then.
    const status = assertOpenclawOk(
      await state.openclaw(["models", "status", "--json"]),
      "openclaw models status --json",
    );
    const auth = JSON.parse(status.stdout).auth;
    const unusable = (auth.unusableProfiles as Json[]).find((p) => p.profileId === TOKEN_ID);
    assert.equal(unusable?.kind, "cooldown", `OpenClaw's view: ${JSON.stringify(auth)}`);
    assert.equal(unusable?.until, until);
    const listed = (auth.oauth.profiles as Json[]).map((p) => p.profileId);
    assert.deepEqual(listed.sort(), [TOKEN_ID, CODEX_ID].sort(), "OpenClaw lists both profiles");
    assert.equal((await proxy.stop()).code, 0);
  },
});

Deno.test({
  name:
    `proxy on the openclaw store: an expired ChatGPT login whose refresh OpenClaw has in flight (a pending fence) is waited for, then served with the token OpenClaw settled${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    await using upstream = await startFakeUpstream();
    routeTo(state, upstream, ["openai-codex"]);
    const original = storedProfiles(state)[CODEX_ID];
    expire(state);
    const pending = await fenced(storedProfiles(state)[CODEX_ID], CODEX_ID);
    editStoredProfile(state, CODEX_ID, () => pending);

    await using proxy = await startProxy(state, [], { CLAWAUTH_LOCK_TIMEOUT: "30" });
    const calls = codexCalls(proxy, 8);
    await assertWaiting(calls, { upstream: upstream.requests, idp }, WAIT_MS);
    const settled = settleFence(state, { pending, original, who: "the proxy" });
    const responses = await calls.all;
    for (const response of responses) {
      assert.equal(response.status, 200);
      await response.text();
    }
    assert.equal(upstream.requests.length, 8);
    for (const request of upstream.requests) {
      assert.equal(request.credential, settled, "the token OpenClaw settled");
      assert.ok(!JSON.stringify(request.headers).includes(FENCE_PREFIX), "never a fence value");
    }
    assert.equal(refreshRequests(idp), 0, "OpenClaw refreshed it: the proxy sent nothing");
    const stopped = await proxy.stop();
    assert.equal(stopped.code, 0);
    assert.ok(!`${stopped.stdout}${stopped.stderr}`.includes(FENCE_PREFIX));
  },
});

Deno.test({
  name:
    `proxy on the openclaw store: while OpenClaw holds its refresh lock on an expired ChatGPT login the proxy waits, then refreshes it once for every waiting request${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using holder = sleeper();
    await using idp = await codexLogin(state);
    await using upstream = await startFakeUpstream();
    routeTo(state, upstream, ["openai-codex"]);
    const old = storedProfiles(state)[CODEX_ID];
    expire(state);
    const lock = takeRefreshLock(state, "openai", CODEX_ID, holder.pid);

    await using proxy = await startProxy(state, [], { CLAWAUTH_LOCK_TIMEOUT: "30" });
    const calls = codexCalls(proxy, 8);
    await assertWaiting(calls, { upstream: upstream.requests, idp }, WAIT_MS);
    assert.equal(Deno.readTextFileSync(lock.path), lock.text, "the holder's lock is untouched");
    Deno.removeSync(lock.path);
    for (const response of await calls.all) {
      assert.equal(response.status, 200);
      await response.text();
    }
    assert.equal(idp.counts().refresh_token, 1, "one refresh once OpenClaw let go");
    const fresh = storedProfiles(state)[CODEX_ID];
    assert.notEqual(fresh.access, old.access);
    assert.deepEqual(
      [...new Set(upstream.requests.map((r) => r.credential))],
      [fresh.access],
      "every request went out with the refreshed token",
    );
    assert.equal((await proxy.stop()).code, 0);
    assert.ok(!exists(lock.path), "the proxy released the lock it took");
  },
});

Deno.test({
  name:
    `proxy on the openclaw store: /codex refreshes openai:me once and sends it, /openai sends the API key, quota lands where OpenClaw keeps usage${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const apiKey = fakeSecret("sk-proj-");
    await clawauth(state, ["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: apiKey,
    });
    expire(state);
    const reset = Math.floor(Date.now() / 1000) + 3600;
    await using upstream = await startFakeUpstream(() => ({
      headers: {
        "x-codex-primary-used-percent": "55",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": String(reset),
      },
    }));
    routeTo(state, upstream, ["openai-codex", "openai"]);
    const proxy = await startProxy(state);
    for (const path of ["/codex/responses", "/openai/v1/responses"]) {
      const response = await fetch(`${proxy.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${proxy.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-fake", input: "ping", stream: true }),
      });
      assert.equal(response.status, 200, path);
      await response.body?.cancel();
    }
    const pinned = await fetch(`${proxy.url}/codex:me/responses`, {
      method: "POST",
      headers: keyed(proxy.key),
      body: "{}",
    });
    assert.equal(pinned.status, 200, "/codex:me pins openai:me");
    await pinned.body?.cancel();
    assert.equal((await proxy.stop()).code, 0);

    assert.equal(idp.counts().refresh_token, 1);
    const login = storedProfiles(state)[CODEX_ID];
    const [codex, openai, again] = upstream.requests;
    assert.equal(codex.credential, login.access, "the refreshed token");
    assert.equal(codex.headers["chatgpt-account-id"], login.accountId);
    assert.equal(openai.credential, apiKey, "/openai never gets the ChatGPT login");
    assert.equal(again.credential, login.access);
    const quota = storedUsage(state)[CODEX_ID].quota as Record<
      string,
      { utilization: number }
    >;
    assert.equal(quota["5h"].utilization, 0.55);
    const view = await openclawStatus(state);
    assert.ok(view.profiles.has(CODEX_ID), "OpenClaw still reads its store");
  },
});
