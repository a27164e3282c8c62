/**
 * `clawauth proxy` on a fleet store (real PostgreSQL): two proxies on two
 * "machines" (separate state dirs, one store) share cooldowns, refreshes and
 * quota through the store, with no restart. A third machine reads what they
 * recorded with `status --json`. Fake upstream and sandbox IdP on 127.0.0.1.
 *
 * A proxy routes from a snapshot of the store that is at most a second old
 * when a request uses it (lib/proxy/snapshot.ts), so a change made by one
 * proxy reaches the other's routing within that second.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret, setOrder } from "../helpers.ts";
import { type Behaviour, startFakeUpstream, type UpstreamRequest } from "../fake_upstream.ts";
import {
  fleetIdp,
  fleetLogin,
  fleetOf,
  type Machine,
  setFleetExpires,
  testCluster,
} from "../postgres_env.ts";
import { routeTo, type RunningProxy, startProxy } from "../proxy_support.ts";

const { pg, ignore, suffix: SUFFIX } = await testCluster("proxy fleet tests");

/** How old a proxy's store snapshot may be when a request uses it (MAX_AGE_MS in snapshot.ts). */
const STALE_MS = 1_000;
/** The header a test request carries to say which proxy it went through (forwarded upstream). */
const VIA = "x-test-via";

type Json = Record<string, unknown>;

/** A small non-streaming Messages API call through `proxy`, tagged with `via`. */
async function message(proxy: RunningProxy, via: string): Promise<{ status: number; at: number }> {
  const at = Date.now();
  const response = await fetch(`${proxy.url}/anthropic/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": proxy.key, "content-type": "application/json", [VIA]: via },
    body: JSON.stringify({
      model: "claude-fake",
      max_tokens: 5,
      messages: [{ role: "user", content: "ping" }],
    }),
  });
  await response.text();
  return { status: response.status, at };
}

/** A streamed Responses API call on `/codex` through `proxy`, tagged with `via`; its status. */
async function codexCall(proxy: RunningProxy, via: string): Promise<number> {
  const response = await fetch(`${proxy.url}/codex/responses`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${proxy.key}`,
      "content-type": "application/json",
      [VIA]: via,
    },
    body: JSON.stringify({ model: "gpt-fake", input: "ping", stream: true }),
  });
  const text = await response.text();
  if (response.status === 200) assert.match(text, /response\.completed/);
  return response.status;
}

/** The credentials of the upstream requests that came through `via`, from index `from` on. */
function sentVia(requests: UpstreamRequest[], via: string, from = 0): (string | undefined)[] {
  return requests.slice(from).filter((r) => r.headers[VIA] === via).map((r) => r.credential);
}

/** `status --json` on `machine`: the profiles by id. */
async function statusOn(machine: Machine): Promise<Record<string, Json>> {
  const result = await machine.run(["status", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return Object.fromEntries(
    (JSON.parse(result.stdout).profiles as Json[]).map((p) => [p.id as string, p]),
  );
}

/** Polls `check` (async) every `everyMs` until it returns a value or `timeoutMs` passed. */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { everyMs: number; timeoutMs: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    assert.ok(Date.now() < deadline, `${what}: not within ${opts.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, opts.everyMs));
  }
}

/** Starts a proxy on each machine (its own state dir, key and clawauth.json; the fleet's store). */
function proxiesOn(machines: Machine[]): Promise<RunningProxy[]> {
  return Promise.all(machines.map((m) => startProxy(m.state, [], m.env)));
}

/** Stops every proxy; each must exit 0. */
async function stopAll(proxies: RunningProxy[]): Promise<void> {
  for (const result of await Promise.all(proxies.map((p) => p.stop()))) {
    assert.equal(result.code, 0, result.stderr);
  }
}

Deno.test({
  name:
    `proxy fleet: a 429 on one proxy fails over there, the other proxy stops choosing the profile within a second without a restart, and a third machine sees the cooldown${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    const [a, b, c] = fleet.machines;
    const one = fakeSecret();
    const two = fakeSecret();
    for (const [name, secret] of [["one", one], ["two", two]]) {
      const pasted = await a.run(["paste-token", "--provider", "anthropic", "--profile", name], {
        stdin: secret,
      });
      assert.equal(pasted.code, 0, pasted.stderr);
    }
    const order = await setOrder(a, "anthropic", "anthropic:one", "anthropic:two");
    assert.equal(order.code, 0, order.stderr);
    // Profile one is rate limited for everyone once `limited` is set, as a provider would.
    let limited = false;
    await using upstream = await startFakeUpstream((credential) =>
      limited && credential === one ? { status: 429, headers: { "retry-after": "30" } } : {}
    );
    for (const machine of [a, b]) routeTo(machine.state, upstream, ["anthropic"]);
    const proxies = await proxiesOn([a, b]);
    try {
      const [proxyA, proxyB] = proxies;
      assert.equal((await message(proxyB, "b")).status, 200);
      assert.equal((await message(proxyA, "a")).status, 200);
      assert.deepEqual(sentVia(upstream.requests, "b"), [one], "B chose profile one");
      assert.deepEqual(sentVia(upstream.requests, "a"), [one], "A chose profile one");

      limited = true;
      const seen = upstream.requests.length;
      let polls = 0;
      const failedOver = await message(proxyA, "a");
      const recorded = Date.now();
      assert.equal(failedOver.status, 200, "A's client got the answer of profile two");
      assert.deepEqual(sentVia(upstream.requests, "a", seen), [one, two]);

      // B, without a restart: a request sent once B's snapshot can no longer
      // predate A's record (it is at most STALE_MS old when used) goes straight
      // to profile two. Nothing earlier is sent through B, so B cannot have
      // learned it from a 429 of its own.
      const bound = recorded + STALE_MS + 100;
      await new Promise((resolve) => setTimeout(resolve, bound - Date.now()));
      const switched = await waitFor("B routes to profile two", async () => {
        const from = upstream.requests.length;
        const sent = await message(proxyB, "b");
        assert.equal(sent.status, 200);
        const tried = sentVia(upstream.requests, "b", from);
        return tried[0] === two ? { tried, polls: ++polls } : (++polls, undefined);
      }, { everyMs: 100, timeoutMs: 10_000 });
      assert.deepEqual(switched, { tried: [two], polls: 1 }, "B's first request went to two");
      assert.deepEqual(
        sentVia(upstream.requests, "b", seen).filter((s) => s === one),
        [],
        "B never sent profile one's secret after A recorded the 429",
      );

      const status = await statusOn(c);
      assert.equal(status["anthropic:one"].state, "cooldown");
      assert.equal(status["anthropic:one"].errorCount, 1, "one 429, counted once fleet-wide");
      const until = status["anthropic:one"].cooldownUntil as number;
      assert.ok(
        until >= failedOver.at + 30_000 && until <= recorded + 30_000,
        `the cooldown ends 30 s after the 429: ${until - failedOver.at} ms`,
      );
      assert.equal(status["anthropic:two"].state, "ok");
    } finally {
      await stopAll(proxies);
    }
  },
});

/** The access token a machine is handed for `id` (`token --profile`). */
async function accessOn(machine: Machine, id: string): Promise<string> {
  const result = await machine.run(["token", "--profile", id]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

Deno.test({
  name:
    `proxy fleet: a login about to expire, served by two proxies at once, is refreshed once at the IdP; every request succeeds with the new token; quota one proxy saw shows on another machine${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    await using idp = await fleetIdp(fleet);
    const [a, b, c] = fleet.machines;
    const id = await fleetLogin(idp, c);
    const old = await accessOn(c, id);
    // Still valid, but within the minute before expiry in which the proxy refreshes first.
    const soon = Date.now() + 20_000;
    await setFleetExpires(pg, fleet, { id, expires: soon });
    const reset = Math.floor(Date.now() / 1000) + 3_600;
    // Only answers through A carry quota headers: B's machine can only learn them from the store.
    await using upstream = await startFakeUpstream((_credential, request) =>
      request.headers[VIA] === "a"
        ? {
          headers: {
            "x-codex-primary-used-percent": "62",
            "x-codex-primary-window-minutes": "300",
            "x-codex-primary-reset-at": String(reset),
          },
        }
        : {}
    );
    for (const machine of [a, b]) routeTo(machine.state, upstream, ["openai-codex"]);
    const proxies = await proxiesOn([a, b]);
    try {
      const statuses = await Promise.all(
        Array.from({ length: 48 }, (_, i) => codexCall(proxies[i % 2], i % 2 ? "b" : "a")),
      );
      assert.deepEqual(statuses, Array(48).fill(200));
      assert.equal(idp.counts().refresh_token, 1, "one refresh at the IdP, fleet-wide");
      assert.equal(idp.counts().refreshErrors, 0);
      const fresh = await accessOn(c, id);
      assert.notEqual(fresh, old);
      const credentials = new Set(upstream.requests.map((r) => r.credential));
      assert.deepEqual([...credentials], [fresh], "the upstream saw only the new token");
      assert.equal(upstream.requests.filter((r) => r.headers[VIA] === "b").length, 24);
      assert.ok(
        upstream.requests.every((r) => r.headers["chatgpt-account-id"]),
        "each request carries the ChatGPT account",
      );

      // A's quota reaches the store (batched, within a few seconds) and another machine.
      const quota = await waitFor("the quota A saw, in status on machine B", async () => {
        const profile = (await statusOn(b))[id];
        return profile.quota as Record<string, Json> | undefined;
      }, { everyMs: 250, timeoutMs: 15_000 });
      assert.equal(quota["5h"].utilization, 0.62);
      assert.equal(quota["5h"].resetsAt, reset * 1000);
    } finally {
      await stopAll(proxies);
    }
    assert.equal(idp.counts().refresh_token, 1, "no second refresh before the proxies stopped");
  },
});

Deno.test({
  name:
    `proxy fleet: with the database gone the proxy serves from its last snapshot and says so once; back, it records a 429 again, and it exits 0${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    const [a, , c] = fleet.machines;
    const one = fakeSecret();
    const two = fakeSecret();
    for (const [name, secret] of [["one", one], ["two", two]]) {
      const pasted = await a.run(["paste-token", "--provider", "anthropic", "--profile", name], {
        stdin: secret,
      });
      assert.equal(pasted.code, 0, pasted.stderr);
    }
    assert.equal((await setOrder(a, "anthropic", "anthropic:one", "anthropic:two")).code, 0);
    let limited = false;
    await using upstream = await startFakeUpstream((credential) =>
      limited && credential === one ? { status: 429, headers: { "retry-after": "30" } } : {}
    );
    routeTo(a.state, upstream, ["anthropic"]);
    const [proxy] = await proxiesOn([a]);
    let down = false;
    try {
      assert.equal((await message(proxy, "a")).status, 200);
      await pg.stop();
      down = true;
      // Each request comes when the snapshot is old enough to be re-read; the
      // success bookkeeping (written within 2 s) fails too.
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, STALE_MS + 100));
        assert.equal((await message(proxy, "a")).status, 200, "served from the last snapshot");
      }
      await pg.start();
      down = false;
      // Back: a 429 is recorded (the request waits for that write) and fails over.
      limited = true;
      const failedOver = await message(proxy, "a");
      assert.equal(failedOver.status, 200);
      const status = await statusOn(c);
      assert.equal(status["anthropic:one"].state, "cooldown", "the 429 reached the store");
      assert.deepEqual(sentVia(upstream.requests, "a"), [one, one, one, one, one, two]);
    } finally {
      if (down) await pg.start();
      const result = await proxy.stop();
      assert.equal(result.code, 0, result.stderr);
      const warnings = result.stderr.match(/could not re-read the store/g) ?? [];
      assert.equal(warnings.length, 1, result.stderr);
      assert.match(result.stderr, /127\.0\.0\.1/, "the warning names the database host");
      assert.ok(!result.stderr.includes(pg.password));
    }
  },
});

Deno.test({
  name:
    `proxy on a fleet store: a 429 recorded by one machine's proxy sends the next machine's proxy straight to the other profile${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 2);
    const [one, two] = fleet.machines;
    const a = fakeSecret("sk-ant-api03-");
    const b = fakeSecret("sk-ant-api03-");
    for (const [name, secret] of [["a", a], ["b", b]]) {
      const pasted = await one.run(
        ["paste-token", "--provider", "anthropic", "--profile", name, "--type", "api-key"],
        { stdin: secret },
      );
      assert.equal(pasted.code, 0, pasted.stderr);
    }
    assert.equal(
      (await one.run(["order", "set", "--provider", "anthropic", "anthropic:a", "anthropic:b"]))
        .code,
      0,
    );
    await using upstream = await startFakeUpstream((credential): Behaviour =>
      credential === a
        ? { status: 429, headers: { "retry-after": "30" } }
        : { headers: { "anthropic-ratelimit-unified-5h-utilization": "0.25" } }
    );
    for (const machine of [one, two]) routeTo(machine.state, upstream, ["anthropic"]);
    const first = await startProxy(one.state, [], one.env);
    assert.equal(await first.status(), 200);
    assert.equal((await first.stop()).code, 0);
    assert.deepEqual(upstream.requests.map((r) => r.credential), [a, b]);

    await using second = await startProxy(two.state, [], two.env);
    assert.equal(await second.status(), 200);
    assert.deepEqual(
      upstream.requests.map((r) => r.credential),
      [a, b, b],
      "the other machine's proxy skips the cooling profile",
    );
    const status = JSON.parse((await two.run(["status", "--json"])).stdout);
    const cooled = status.profiles.find((p: { id: string }) => p.id === "anthropic:a");
    assert.equal(cooled.state, "cooldown");
    assert.match(await pg.dump(fleet.url), /"quota"/, "quota is kept in the shared store");
  },
});
