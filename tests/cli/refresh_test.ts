import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";

Deno.test("token: 24 concurrent calls on an expired OAuth profile make exactly one refresh and agree", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const old = profilesOf(state)[id];
  setExpires(state, id, Date.now() - 1000);
  const results = await Promise.all(
    Array.from({ length: 24 }, () => state.run(["token", "--provider", "openai-codex"])),
  );
  assert.deepEqual(results.map((r) => r.code), Array(24).fill(0), results[0].stderr);
  assert.equal(new Set(results.map((r) => r.stdout)).size, 1);
  assert.equal(idp.counts().refresh_token, 1);
  const now = profilesOf(state)[id];
  assert.notEqual(now.access, old.access);
  assert.notEqual(now.refresh, old.refresh, "the rotated refresh token is stored");
  assert.equal(results[0].stdout, `${now.access}\n`);
  assert.ok(Number(now.expires) > Date.now() + 50 * 60_000);
});

Deno.test("token --min-valid refreshes a token that is still valid but too short-lived", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  setExpires(state, id, Date.now() + 10 * 60_000);
  const keep = await state.run(["token", "--profile", id]);
  assert.equal(keep.code, 0);
  assert.equal(idp.counts().refresh_token, 0, "10 min left is above the default 5m");
  const fresh = await state.run(["token", "--profile", id, "--min-valid", "30m"]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(idp.counts().refresh_token, 1);
  assert.notEqual(fresh.stdout, keep.stdout);
});

Deno.test("token: a rejected refresh token marks the profile needs_login, keeps its data, exits 77 with the login command", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state, ["--profile", "work"]);
  const stale = structuredClone(profilesOf(state)[id]);
  setExpires(state, id, Date.now() - 1000);
  assert.equal((await state.run(["token", "--profile", id])).code, 0);
  // A copy of the login that another tool kept: its refresh token was rotated away.
  const store = state.store() as { profiles: Record<string, unknown> };
  store.profiles[id] = { ...stale, expires: Date.now() - 1000 };
  state.writeStore(store);
  const before = state.storeText();
  const result = await state.run(["token", "--profile", id]);
  assert.equal(result.code, 77);
  assert.match(result.stderr, /clawauth login --provider openai-codex --profile work/);
  assert.equal(result.stderr.trim().split("\n").length, 2, "one sentence and the next step");
  assert.equal(profilesOf(state)[id].refresh, stale.refresh, "data kept");
  assert.notEqual(state.storeText(), before);
  const status = JSON.parse((await state.run(["status", "--json"])).stdout);
  assert.equal(status.profiles[0].state, "needs_login");
  assert.equal((await state.run(["status", "--check"])).code, 1);
  const again = await state.run(["token", "--profile", id]);
  assert.equal(again.code, 77);
  assert.equal(idp.counts().refreshErrors, 1, "a dead refresh token is not retried");
  // A new login clears the verdict.
  await loginVia(idp, state, ["--profile", "work"]);
  assert.equal((await state.run(["token", "--profile", id])).code, 0);
});

for (const fault of ["500", "html", "truncated"] as const) {
  Deno.test(`token: a provider answering ${fault} exits 69 and keeps the old tokens`, async () => {
    await using state = await tempState();
    await using idp = await idpFor(state);
    const id = await loginVia(idp, state);
    setExpires(state, id, Date.now() - 1000);
    const before = state.storeText();
    idp.setTokenFault(fault);
    const result = await state.run(["token", "--profile", id]);
    assert.equal(result.code, 69, result.stderr);
    assert.equal(result.stdout, "");
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    assert.equal(state.storeText(), before, "store unchanged");
  });
}

Deno.test("token: while the provider is down, a still-valid access token is handed out with a warning", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  setExpires(state, id, Date.now() + 2 * 60_000);
  idp.setTokenFault("500");
  const result = await state.run(["token", "--profile", id]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${profilesOf(state)[id].access}\n`);
  assert.match(result.stderr, /warning:/);
});

Deno.test("token: a provider that never answers times out with exit 69", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  setExpires(state, id, Date.now() - 1000);
  idp.setTokenFault("hang");
  const result = await state.run(["token", "--profile", id], {
    env: { CLAWAUTH_HTTP_TIMEOUT: "1" },
  });
  assert.equal(result.code, 69, result.stderr);
  assert.match(result.stderr, /in time/);
});

Deno.test("status --refresh refreshes due OAuth logins first; a rejected one shows as needs_login with a warning", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const fresh = await loginVia(idp, state, ["--profile", "due"]);
  const dead = await loginVia(idp, state, ["--profile", "dead"], "other");
  const deadCopy = structuredClone(profilesOf(state)[dead]);
  setExpires(state, dead, Date.now() - 1000);
  assert.equal((await state.run(["token", "--profile", dead])).code, 0); // rotates deadCopy's token away
  const store = state.store() as { profiles: Record<string, unknown> };
  store.profiles[dead] = { ...deadCopy, expires: Date.now() - 1000 };
  state.writeStore(store);
  setExpires(state, fresh, Date.now() + 60_000);
  const before = idp.counts().refresh_token;
  const result = await state.run(["status", "--refresh", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(idp.counts().refresh_token, before + 1, "only the due, live login was refreshed");
  assert.match(result.stderr, /warning: .*needs a new login/);
  const states = Object.fromEntries(
    JSON.parse(result.stdout).profiles.map((
      p: { id: string; state: string; expiresInMs: number },
    ) => [
      p.id,
      p,
    ]),
  );
  assert.equal(states[fresh].state, "ok");
  assert.ok(states[fresh].expiresInMs > 50 * 60_000);
  assert.equal(states[dead].state, "needs_login");
});
