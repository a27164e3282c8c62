/**
 * `clawauth proxy` failover and quota: a rate-limited or overloaded profile
 * is recorded (with the provider's reset time) and the request is replayed
 * on the next profile before the client sees a byte; when every profile is
 * cooling down the client gets the provider's answer with `retry-after`;
 * quota headers end up in the store where `status` reads them.
 */

import assert from "node:assert/strict";
import { fakeSecret, tempState } from "../helpers.ts";
import { startFakeUpstream } from "../fake_upstream.ts";
import { MESSAGES_BODY, routeTo, startProxy } from "../proxy_support.ts";

type Json = Record<string, unknown>;

/** Two Anthropic API keys, `anthropic:a` first in the order. */
function twoKeys(state: Awaited<ReturnType<typeof tempState>>): { a: string; b: string } {
  const a = fakeSecret("sk-ant-api03-");
  const b = fakeSecret("sk-ant-api03-");
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:a": { type: "api_key", provider: "anthropic", key: a },
      "anthropic:b": { type: "api_key", provider: "anthropic", key: b },
    },
    order: { anthropic: ["anthropic:a", "anthropic:b"] },
  });
  return { a, b };
}

async function statusById(
  state: Awaited<ReturnType<typeof tempState>>,
): Promise<Record<string, Json>> {
  const result = await state.run(["status", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return Object.fromEntries(
    (JSON.parse(result.stdout).profiles as Json[]).map((p) => [p.id as string, p]),
  );
}

Deno.test("proxy fails over on 429: the client gets 200 from the second profile, the first cools down until retry-after", async () => {
  await using state = await tempState();
  const { a, b } = twoKeys(state);
  await using upstream = await startFakeUpstream((credential) =>
    credential === a ? { status: 429, headers: { "retry-after": "30" } } : {}
  );
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const before = Date.now();
  const response = await proxy.post();
  const after = Date.now();
  assert.equal(response.status, 200);
  assert.match(await response.text(), /event: message_stop/);
  assert.deepEqual(upstream.requests.map((r) => r.credential), [a, b]);
  assert.equal(upstream.requests[1].body, MESSAGES_BODY, "the body is replayed whole");

  const status = await statusById(state);
  assert.equal(status["anthropic:a"].state, "cooldown");
  const until = status["anthropic:a"].cooldownUntil as number;
  assert.ok(
    until >= before + 30_000 && until <= after + 30_000,
    `cooldown ends 30 s out: ${until - before}`,
  );
  assert.equal(status["anthropic:b"].state, "ok");

  // The next request goes straight to b: a is cooling down.
  assert.equal(await proxy.status(), 200);
  assert.deepEqual(upstream.requests.map((r) => r.credential), [a, b, b]);
  const { code } = await proxy.stop();
  assert.equal(code, 0);
  assert.deepEqual(
    proxy.lines().map((l) => [l.profile, l.status, l.retries]),
    [["anthropic:b", 200, 1], ["anthropic:b", 200, 0]],
  );
});

Deno.test("proxy: when every profile is cooling down the client gets the provider's answer with retry-after = the soonest end", async () => {
  await using state = await tempState();
  const { a } = twoKeys(state);
  await using upstream = await startFakeUpstream((credential) =>
    credential === a
      ? { status: 529 }
      : { status: 429, headers: { "retry-after": "20", "x-fake": "kept" } }
  );
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const response = await proxy.post();
  assert.equal(response.status, 429, "the last upstream answer");
  assert.equal(response.headers.get("x-fake"), "kept");
  const wait = Number(response.headers.get("retry-after"));
  assert.ok(wait > 0 && wait <= 20, `b's 20 s come before a's 60 s cooldown: ${wait}`);
  assert.equal((await response.json()).error.type, "rate_limit_error");
  assert.equal(upstream.requests.length, 2, "each profile once");

  // Both sidelined: answered at once, from the last answer, without an upstream call.
  const again = await proxy.post();
  assert.equal(again.status, 429);
  assert.ok(Number(again.headers.get("retry-after")) <= 20);
  await again.body?.cancel();
  assert.equal(upstream.requests.length, 2);

  const status = await statusById(state);
  assert.equal(status["anthropic:a"].state, "cooldown");
  assert.equal(status["anthropic:b"].state, "cooldown");
});

Deno.test("proxy fails over on 401 of a setup-token and pins never rotate away", async () => {
  await using state = await tempState();
  const token = fakeSecret("sk-ant-oat01-");
  const key = fakeSecret("sk-ant-api03-");
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:sub": { type: "token", provider: "anthropic", token },
      "anthropic:key": { type: "api_key", provider: "anthropic", key },
    },
    order: { anthropic: ["anthropic:sub", "anthropic:key"] },
  });
  await using upstream = await startFakeUpstream((credential) =>
    credential === token ? { status: 401 } : {}
  );
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  assert.equal(await proxy.status(), 200);
  assert.equal(
    await proxy.status("/anthropic:sub/v1/messages"),
    401,
    "a pinned profile's answer is passed on",
  );
  assert.deepEqual(upstream.requests.map((r) => r.credential), [token, key, token]);
  assert.equal((await statusById(state))["anthropic:sub"].state, "cooldown");
});

Deno.test("proxy records quota headers per profile (Anthropic's unified and Codex's windows) where status reads them", async () => {
  await using state = await tempState();
  const key = fakeSecret("sk-ant-api03-");
  const access = fakeSecret("eyJ-");
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:k": { type: "api_key", provider: "anthropic", key },
      "openai-codex:me": {
        type: "oauth",
        provider: "openai-codex",
        access,
        refresh: fakeSecret("rt-"),
        expires: Date.now() + 86_400_000,
        accountId: "acct-1",
      },
    },
    usageStats: { "anthropic:k": { lastUsed: 1, keptByAnotherTool: true } },
  });
  const reset = Math.floor(Date.now() / 1000) + 4200;
  const anthropicQuota: Record<string, string> = {
    "anthropic-ratelimit-unified-5h-utilization": "0.62",
    "anthropic-ratelimit-unified-5h-reset": String(reset),
    "anthropic-ratelimit-unified-7d-utilization": "0.18",
    "anthropic-ratelimit-unified-7d-reset": String(reset + 86_400),
  };
  const codexQuota: Record<string, string> = {
    "x-codex-primary-used-percent": "40",
    "x-codex-primary-window-minutes": "300",
    "x-codex-primary-reset-at": String(reset),
    "x-codex-secondary-used-percent": "7",
    "x-codex-secondary-window-minutes": "10080",
    "x-codex-secondary-reset-at": String(reset + 86_400),
  };
  await using upstream = await startFakeUpstream((credential) => ({
    headers: credential === key ? anthropicQuota : codexQuota,
  }));
  routeTo(state, upstream);
  const proxy = await startProxy(state);
  for (const path of ["/anthropic/v1/messages", "/codex/responses"]) {
    assert.equal(await proxy.status(path), 200);
  }
  // Quota is written batched; a stop flushes it.
  assert.equal((await proxy.stop()).code, 0);
  const usage = state.store().usageStats as Record<string, Json>;
  const anthropic = usage["anthropic:k"];
  assert.equal(anthropic.keptByAnotherTool, true, "unknown keys are kept");
  const quota = anthropic.quota as Record<string, Json>;
  assert.equal(quota["5h"].utilization, 0.62);
  assert.equal(quota["5h"].resetsAt, reset * 1000);
  assert.equal(quota["7d"].utilization, 0.18);
  const codex = usage["openai-codex:me"].quota as Record<string, Json>;
  assert.equal(codex["5h"].utilization, 0.4);
  assert.equal(codex["7d"].utilization, 0.07);
  assert.equal(codex["7d"].resetsAt, (reset + 86_400) * 1000);
  assert.equal((state.store().lastGood as Json).anthropic, "anthropic:k");
});

Deno.test("proxy fails over when an upstream sends no headers within --header-timeout", async () => {
  await using state = await tempState();
  const { a, b } = twoKeys(state);
  const unstall = Promise.withResolvers<void>();
  await using upstream = await startFakeUpstream((credential) =>
    credential === a ? { stall: unstall.promise } : {}
  );
  routeTo(state, upstream);
  try {
    await using proxy = await startProxy(state, ["--header-timeout", "1s"]);
    assert.equal(await proxy.status(), 200);
    assert.deepEqual(upstream.requests.map((r) => r.credential), [a, b]);
    const status = await statusById(state);
    assert.equal(status["anthropic:a"].state, "cooldown");
  } finally {
    unstall.resolve();
  }
});

Deno.test("proxy --strategy least-used prefers the profile with the most quota left; the default stays on the first", async () => {
  await using state = await tempState();
  const { a, b } = twoKeys(state);
  const store = state.store();
  const resetsAt = Date.now() + 3_600_000;
  store.usageStats = {
    "anthropic:a": { quota: { "5h": { utilization: 0.9, resetsAt, seenAt: 1 } } },
    "anthropic:b": { quota: { "5h": { utilization: 0.2, resetsAt, seenAt: 1 } } },
  };
  state.writeStore(store);
  await using upstream = await startFakeUpstream();
  routeTo(state, upstream);
  for (const [args, expected] of [[[], a], [["--strategy", "least-used"], b]] as const) {
    await using proxy = await startProxy(state, [...args]);
    assert.equal(await proxy.status(), 200);
    assert.equal(upstream.requests.at(-1)?.credential, expected, args.join(" ") || "default");
  }
});

Deno.test("proxy: 16 requests that meet the same 429 together count as one failure of the profile", async () => {
  await using state = await tempState();
  const { a, b } = twoKeys(state);
  const gate = Promise.withResolvers<void>();
  await using upstream = await startFakeUpstream((credential) =>
    credential === a ? { status: 429, stall: gate.promise } : {}
  );
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const statuses = Array.from({ length: 16 }, () => proxy.status());
  // Every request holds a's answer before any 429 is let out.
  for (let i = 0; i < 400 && upstream.requests.length < 16; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.equal(upstream.requests.length, 16);
  gate.resolve();
  assert.deepEqual(await Promise.all(statuses), Array(16).fill(200));
  assert.equal(upstream.requests.filter((r) => r.credential === b).length, 16);
  const status = await statusById(state);
  assert.equal(status["anthropic:a"].errorCount, 1, "one failure, so the shortest cooldown");
});
