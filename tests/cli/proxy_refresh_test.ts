/**
 * `clawauth proxy` keeps OAuth logins fresh with one refresh per login,
 * however many requests wait for it, through the same locked refresh as
 * `token` (the sandbox IdP counts the grants).
 */

import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";
import { startFakeUpstream } from "../fake_upstream.ts";
import { keyed, routeTo, startProxy } from "../proxy_support.ts";

const RESPONSES_BODY = JSON.stringify({ model: "gpt-fake", input: "ping", stream: true });

/** 64 requests at once on /codex; every status. */
async function sixtyFour(url: string, key: string): Promise<number[]> {
  return await Promise.all(Array.from({ length: 64 }, async () => {
    const response = await fetch(`${url}/codex/responses`, {
      method: "POST",
      headers: keyed(key, { authorization: `Bearer ${key}` }),
      body: RESPONSES_BODY,
    });
    await response.text();
    return response.status;
  }));
}

Deno.test("proxy: 64 concurrent requests on an expired OAuth login make exactly one refresh, and all 64 succeed with the fresh token", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const old = profilesOf(state)[id].access;
  setExpires(state, id, Date.now() - 1000);
  await using upstream = await startFakeUpstream((credential) =>
    credential === old ? { status: 401 } : {}
  );
  routeTo(state, upstream, ["openai-codex"]);
  await using proxy = await startProxy(state);
  const statuses = await sixtyFour(proxy.url, proxy.key);
  assert.deepEqual(statuses, Array(64).fill(200));
  assert.equal(idp.counts().refresh_token, 1);
  const fresh = profilesOf(state)[id];
  assert.notEqual(fresh.access, old);
  assert.ok(Number(fresh.expires) > Date.now());
  assert.equal(upstream.requests.length, 64, "no request went out with the expired token");
  assert.ok(upstream.requests.every((r) => r.credential === fresh.access));
});

Deno.test("proxy: an access token the provider revoked early (401) is refreshed once for 64 waiting requests, which then succeed", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const revoked = profilesOf(state)[id].access;
  await using upstream = await startFakeUpstream((credential) =>
    credential === revoked ? { status: 401 } : {}
  );
  routeTo(state, upstream, ["openai-codex"]);
  await using proxy = await startProxy(state);
  const statuses = await sixtyFour(proxy.url, proxy.key);
  assert.deepEqual(statuses, Array(64).fill(200));
  assert.equal(idp.counts().refresh_token, 1);
  const fresh = profilesOf(state)[id];
  assert.notEqual(fresh.access, revoked);
  const retried = upstream.requests.filter((r) => r.credential === fresh.access);
  assert.equal(retried.length, 64);
  const status = JSON.parse((await state.run(["status", "--json"])).stdout);
  assert.equal(status.profiles[0].state, "ok", "a refresh that cured the 401 is no failure");
});
