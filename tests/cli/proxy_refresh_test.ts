/**
 * `clawauth proxy` keeps OAuth logins fresh with one refresh per login,
 * however many requests wait for it, through the same locked refresh as
 * `token` (the sandbox IdP counts the grants).
 */

import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";
import { startFakeUpstream } from "../fake_upstream.ts";
import { routeTo, type RunningProxy, startProxy } from "../proxy_support.ts";

const RESPONSES_BODY = JSON.stringify({ model: "gpt-fake", input: "ping", stream: true });

/** 64 requests at once on /codex; every status. */
async function sixtyFour(proxy: RunningProxy): Promise<number[]> {
  return await Promise.all(Array.from({ length: 64 }, () =>
    proxy.status("/codex/responses", {
      headers: { authorization: `Bearer ${proxy.key}`, "content-type": "application/json" },
      body: RESPONSES_BODY,
    })));
}

/**
 * A Codex login (its token `expired`, or revoked: the upstream answers 401
 * to it), 64 requests through the proxy, all 200 and one refresh; the login
 * before and after.
 */
async function sixtyFourOn(opts: { expired: boolean }) {
  const state = await tempState();
  const idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const old = profilesOf(state)[id].access;
  if (opts.expired) setExpires(state, id, Date.now() - 1000);
  const upstream = await startFakeUpstream((credential) =>
    credential === old ? { status: 401 } : {}
  );
  routeTo(state, upstream, ["openai-codex"]);
  {
    await using proxy = await startProxy(state);
    assert.deepEqual(await sixtyFour(proxy), Array(64).fill(200));
  }
  assert.equal(idp.counts().refresh_token, 1);
  return { state, idp, upstream, old, fresh: profilesOf(state)[id] };
}

/** Disposes what {@linkcode sixtyFourOn} started, at the end of the test. */
function disposing(...things: AsyncDisposable[]): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      for (const thing of things.reverse()) await thing[Symbol.asyncDispose]();
    },
  };
}

Deno.test("proxy: 64 concurrent requests on an expired OAuth login make exactly one refresh, and all 64 succeed with the fresh token", async () => {
  const { state, idp, upstream, old, fresh } = await sixtyFourOn({ expired: true });
  await using _ = disposing(state, idp, upstream);
  assert.notEqual(fresh.access, old);
  assert.ok(Number(fresh.expires) > Date.now());
  assert.equal(upstream.requests.length, 64, "no request went out with the expired token");
  assert.ok(upstream.requests.every((r) => r.credential === fresh.access));
});

Deno.test("proxy: an access token the provider revoked early (401) is refreshed once for 64 waiting requests, which then succeed", async () => {
  const { state, idp, upstream, old, fresh } = await sixtyFourOn({ expired: false });
  await using _ = disposing(state, idp, upstream);
  assert.notEqual(fresh.access, old);
  const retried = upstream.requests.filter((r) => r.credential === fresh.access);
  assert.equal(retried.length, 64);
  const status = JSON.parse((await state.run(["status", "--json"])).stdout);
  assert.equal(status.profiles[0].state, "ok", "a refresh that cured the 401 is no failure");
});

Deno.test("proxy refreshes a login it serves ahead of expiry, with no request waiting", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  setExpires(state, id, Date.now() + 2 * 60_000);
  await using upstream = await startFakeUpstream();
  routeTo(state, upstream, ["openai-codex"]);
  await using _proxy = await startProxy(state);
  // The timer looks at start, then every 30 s: wait for the new expiry, not for a time.
  const renewed = () => Number(profilesOf(state)[id].expires) > Date.now() + 10 * 60_000;
  for (let i = 0; i < 400 && !renewed(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(renewed(), "the stored login was renewed");
  assert.equal(idp.counts().refresh_token, 1);
  assert.equal(upstream.requests.length, 0);
});
