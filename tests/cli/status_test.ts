/**
 * `status` (SPEC §2): the JSON view, the states, and the `--check` exit codes.
 * Stores are written directly, with times relative to now and wide margins.
 */

import assert from "node:assert/strict";
import { apiKeyProfile, oauthProfile, storeOf, tokenProfile } from "../builders.ts";
import { fakeSecret, tempState } from "../helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A setup-token of anthropic, expiring at `expires` when given. */
const token = (expires?: unknown) => tokenProfile(fakeSecret(), { expires });

Deno.test("status --json lists agent, stateDir, order and each profile's id, provider, type, state, expires, expiresInMs, accountId, email", async () => {
  await using state = await tempState();
  const now = Date.now();
  const expires = now + 10 * DAY;
  state.writeStore(storeOf({
    "openai-codex:me@example.com": oauthProfile({
      expires,
      accountId: "acct-123",
      email: "me@example.com",
    }),
    "openai:ci": apiKeyProfile(),
  }, { order: { openai: ["openai:ci"] } }));
  const before = Date.now();
  const result = await state.run(["status", "--json"]);
  const after = Date.now();
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.equal(json.agent, "main");
  assert.equal(json.stateDir, state.dir);
  assert.deepEqual(json.order, { openai: ["openai:ci"] });
  assert.equal(json.profiles.length, 2);
  const [oauth, key] = json.profiles;
  const { expiresInMs, lineage, ...rest } = oauth;
  assert.match(lineage.id, /^[0-9a-f]{24}$/);
  assert.deepEqual(lineage.copies, [{ agent: "main", profile: "openai-codex:me@example.com" }]);
  assert.deepEqual(rest, {
    id: "openai-codex:me@example.com",
    provider: "openai-codex",
    type: "oauth",
    state: "ok",
    expires,
    accountId: "acct-123",
    email: "me@example.com",
  });
  assert.ok(
    expiresInMs <= expires - before && expiresInMs >= expires - after,
    `expiresInMs ${expiresInMs}`,
  );
  assert.deepEqual(key, {
    id: "openai:ci",
    provider: "openai",
    type: "api_key",
    state: "ok",
    expires: null,
    expiresInMs: null,
  });
});

Deno.test("status prints a human table with each profile and its state, plain when stdout is not a TTY", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:work": token(Date.now() + 2 * HOUR),
    "anthropic:old": token(Date.now() - HOUR),
  }));
  // NO_COLOR unset: only the pipe keeps the output plain.
  const result = await state.run(["status"], {
    env: { NO_COLOR: "", TERM: "xterm-256color" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stdout.includes("\x1b["), "no ANSI escapes");
  assert.match(result.stdout, /^anthropic:work\s+token\s+expiring\b/m);
  assert.match(result.stdout, /^anthropic:old\s+token\s+expired\b/m);
});

Deno.test("status --check exits 0 when every profile is ok", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:work": token(Date.now() + 30 * DAY),
    "anthropic:forever": token(),
    "openai:ci": apiKeyProfile(),
  }));
  const result = await state.run(["status", "--check"]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

Deno.test("status --check exits 2 when a token expires within 24 h", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:work": token(Date.now() + 23 * HOUR),
    "anthropic:other": token(Date.now() + 30 * DAY),
  }));
  const [check, json] = await Promise.all([
    state.run(["status", "--check"]),
    state.run(["status", "--json"]),
  ]);
  assert.equal(check.code, 2, check.stderr);
  assert.equal(json.code, 0, "without --check status exits 0");
  assert.deepEqual(
    JSON.parse(json.stdout).profiles.map((p: { state: string }) => p.state),
    ["expiring", "ok"],
  );
});

Deno.test("status --check exits 0, not 2, for a token expiring in 25 h", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({ "anthropic:work": token(Date.now() + 25 * HOUR) }));
  const result = await state.run(["status", "--check"]);
  assert.equal(result.code, 0);
});

Deno.test("status --check exits 1 when a token has expired, even if another is expiring", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:old": token(Date.now() - 1000),
    "anthropic:soon": token(Date.now() + HOUR),
  }));
  const [check, json] = await Promise.all([
    state.run(["status", "--check"]),
    state.run(["status", "--json"]),
  ]);
  assert.equal(check.code, 1);
  assert.equal(JSON.parse(json.stdout).profiles[0].state, "expired");
});

Deno.test("status --check --provider exits 1 when that provider has no profile", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({ "anthropic:work": token() }));
  const [missing, present] = await Promise.all([
    state.run(["status", "--check", "--provider", "openai"]),
    state.run(["status", "--check", "--provider", "anthropic"]),
  ]);
  assert.equal(missing.code, 1);
  assert.equal(present.code, 0);
});

Deno.test("status --check --provider only judges that provider's profiles", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:work": token(Date.now() + 30 * DAY),
    "openai:old": tokenProfile(fakeSecret("sk-"), {
      provider: "openai",
      expires: Date.now() - DAY,
    }),
  }));
  const [anthropic, openai, all] = await Promise.all([
    state.run(["status", "--check", "--provider", "anthropic", "--json"]),
    state.run(["status", "--check", "--provider", "openai"]),
    state.run(["status", "--check"]),
  ]);
  assert.equal(anthropic.code, 0);
  assert.deepEqual(
    JSON.parse(anthropic.stdout).profiles.map((p: { id: string }) => p.id),
    ["anthropic:work"],
  );
  assert.equal(openai.code, 1);
  assert.equal(all.code, 1);
});

for (
  const [label, expires] of [
    ['"soon"', "soon"],
    ["-5", -5],
    ["0", 0],
    ["1e300", 1e300],
    ["8.64e15 + 1", 8.64e15 + 1],
  ] as const
) {
  Deno.test(`status --check exits 1 and shows invalid, without crashing, for expires: ${label}`, async () => {
    await using state = await tempState();
    state.writeStore(storeOf({
      "anthropic:bad": token(expires),
      "anthropic:good": token(),
    }));
    const [check, json] = await Promise.all([
      state.run(["status", "--check"]),
      state.run(["status", "--json"]),
    ]);
    assert.equal(check.code, 1, check.stderr);
    assert.equal(json.code, 0, json.stderr);
    const [bad, good] = JSON.parse(json.stdout).profiles;
    assert.equal(bad.state, "invalid");
    assert.equal(good.state, "ok");
  });
}

Deno.test("status shows malformed entries as invalid instead of failing", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:notype": { provider: "anthropic", token: fakeSecret() },
    "anthropic:nosecret": { type: "token", provider: "anthropic" },
    "anthropic:number": 5,
    "no-colon": { ...token(), provider: "no-colon" },
    "anthropic:ok": token(),
  }));
  const [check, json, human] = await Promise.all([
    state.run(["status", "--check"]),
    state.run(["status", "--json"]),
    state.run(["status"]),
  ]);
  assert.equal(check.code, 1);
  assert.equal(human.code, 0, human.stderr);
  const states = Object.fromEntries(
    JSON.parse(json.stdout).profiles.map((
      p: { id: string; state: string },
    ) => [p.id, p.state]),
  );
  assert.deepEqual(states, {
    "anthropic:notype": "invalid",
    "anthropic:nosecret": "invalid",
    "anthropic:number": "invalid",
    "no-colon": "invalid",
    "anthropic:ok": "ok",
  });
});

Deno.test("an OAuth profile with a refresh token and an expired access token is ok", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "openai-codex:default": oauthProfile({ expires: Date.now() - DAY }),
  }));
  const [check, json] = await Promise.all([
    state.run(["status", "--check"]),
    state.run(["status", "--json"]),
  ]);
  assert.equal(check.code, 0);
  assert.equal(JSON.parse(json.stdout).profiles[0].state, "ok");
});

Deno.test("an OAuth profile without a refresh token expires like a token", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "openai-codex:gone": oauthProfile({ expires: Date.now() - DAY, refresh: undefined }),
    "openai-codex:soon": oauthProfile({ expires: Date.now() + HOUR, refresh: undefined }),
  }));
  const json = await state.run(["status", "--json"]);
  assert.deepEqual(
    JSON.parse(json.stdout).profiles.map((p: { state: string }) => p.state),
    ["expired", "expiring"],
  );
});

Deno.test("usageStats cooldownUntil and disabledUntil in the future make a profile cooldown and disabled; past ones do not", async () => {
  await using state = await tempState();
  const now = Date.now();
  state.writeStore(storeOf({
    "anthropic:cool": token(),
    "anthropic:off": token(),
    "anthropic:was": token(),
  }, {
    usageStats: {
      "anthropic:cool": { cooldownUntil: now + HOUR, errorCount: 1 },
      "anthropic:off": {
        disabledUntil: now + 5 * HOUR,
        disabledReason: "billing",
      },
      "anthropic:was": { cooldownUntil: now - HOUR, disabledUntil: now - 1 },
    },
  }));
  const [json, check] = await Promise.all([
    state.run(["status", "--json"]),
    state.run(["status", "--check"]),
  ]);
  const [cool, off, was] = JSON.parse(json.stdout).profiles;
  assert.equal(cool.state, "cooldown");
  assert.equal(cool.cooldownUntil, now + HOUR);
  assert.equal(off.state, "disabled");
  assert.equal(off.disabledUntil, now + 5 * HOUR);
  assert.equal(was.state, "ok");
  assert.equal(check.code, 0, "sidelined profiles are not failures");
});

Deno.test("models status is status", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({ "anthropic:old": token(Date.now() - HOUR) }));
  const [json, check] = await Promise.all([
    state.run(["models", "status", "--json"]),
    state.run(["models", "status", "--check"]),
  ]);
  assert.equal(JSON.parse(json.stdout).profiles[0].id, "anthropic:old");
  assert.equal(check.code, 1);
});

Deno.test("status on an empty state dir says there are no profiles and writes nothing", async () => {
  await using state = await tempState();
  const [human, json] = await Promise.all([
    state.run(["status"]),
    state.run(["status", "--json"]),
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /No profiles/);
  assert.deepEqual(JSON.parse(json.stdout).profiles, []);
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("status --agent and $CLAWAUTH_AGENT read that agent's store; --state-dir beats $OPENCLAW_STATE_DIR", async () => {
  await using state = await tempState();
  await using other = await tempState();
  state.writeStore(storeOf({ "anthropic:w": token() }), "work");
  other.writeStore(storeOf({ "openai:o": tokenProfile(fakeSecret(), { provider: "openai" }) }));
  const [flag, env, dir] = await Promise.all([
    state.run(["status", "--json", "--agent", "work"]),
    state.run(["status", "--json"], { env: { CLAWAUTH_AGENT: "work" } }),
    state.run(["status", "--json", "--state-dir", other.dir]),
  ]);
  for (const result of [flag, env]) {
    const json = JSON.parse(result.stdout);
    assert.equal(json.agent, "work");
    assert.deepEqual(json.profiles.map((p: { id: string }) => p.id), [
      "anthropic:w",
    ]);
  }
  const json = JSON.parse(dir.stdout);
  assert.equal(json.stateDir, other.dir);
  assert.deepEqual(json.profiles.map((p: { id: string }) => p.id), [
    "openai:o",
  ]);
});

Deno.test("a malformed agent id is a usage error", async () => {
  await using state = await tempState();
  const results = await Promise.all(
    ["Main", "-x", "a/b", "a".repeat(65)].map((agent) => state.run(["status", "--agent", agent])),
  );
  for (const result of results) assert.equal(result.code, 64, result.stderr);
});
