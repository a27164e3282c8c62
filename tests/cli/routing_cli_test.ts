/**
 * Black-box tests of routing and failover (docs/routing.md) through the CLI:
 * concurrent `report`s, `resolve`, openclaw.json's auth.order, `channels list`
 * and `status` at scale. Single reports and round robin, on a fixed clock, are
 * in tests/unit/report_test.ts and token_test.ts.
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks, type TempState, tempState } from "../helpers.ts";
import { apiKeyProfile, oauthProfile, storeOf, tokenProfile } from "../builders.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const TOKEN_PREFIX = "sk-ant-oat01-";

type Json = Record<string, unknown>;

/** Two usable anthropic setup-tokens, `anthropic:a` and `anthropic:b`. */
function twoTokens(extra: Json = {}) {
  const a = fakeSecret(TOKEN_PREFIX);
  const b = fakeSecret(TOKEN_PREFIX);
  return {
    a,
    b,
    store: storeOf({ "anthropic:a": tokenProfile(a), "anthropic:b": tokenProfile(b) }, extra),
  };
}

/** `status --json`'s profiles, by id. */
async function statusById(state: TempState): Promise<Record<string, Json>> {
  const result = await state.run(["status", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const profiles = JSON.parse(result.stdout).profiles as Json[];
  return Object.fromEntries(profiles.map((p) => [p.id as string, p]));
}

function assertWithin(value: unknown, low: number, high: number, what: string) {
  assert.equal(typeof value, "number", `${what} is a number`);
  assert.ok(
    (value as number) >= low && (value as number) <= high,
    `${what} = ${value} is not within [${low}, ${high}]`,
  );
}

// --- report -------------------------------------------------------------------

Deno.test("20 concurrent reports on one profile lose no update: errorCount 20, cooldown at the 1 h cap", async () => {
  await using state = await tempState();
  state.writeStore(twoTokens().store);
  const before = Date.now();
  const results = await Promise.all(
    Array.from({ length: 20 }, () => state.run(["report", "anthropic:a", "--reason", "timeout"])),
  );
  const after = Date.now();
  assert.deepEqual(results.map((r) => r.code), Array(20).fill(0), results[0].stderr);
  const status = (await statusById(state))["anthropic:a"];
  assert.equal(status.errorCount, 20);
  assert.equal(status.state, "cooldown");
  assertWithin(status.cooldownUntil, before + HOUR, after + HOUR, "cooldownUntil");
});

Deno.test("concurrent reports on 10 different profiles are all recorded", async () => {
  await using state = await tempState();
  const ids = Array.from({ length: 10 }, (_, i) => `anthropic:p${i}`);
  state.writeStore(
    storeOf(Object.fromEntries(ids.map((id) => [id, tokenProfile()]))),
  );
  const results = await Promise.all(
    ids.map((id, i) => state.run(["report", id, "--reason", i % 2 ? "billing" : "rate_limit"])),
  );
  assert.deepEqual(results.map((r) => r.code), Array(10).fill(0), results[0].stderr);
  const status = await statusById(state);
  ids.forEach((id, i) => {
    assert.equal(status[id].state, i % 2 ? "disabled" : "cooldown", id);
    assert.equal(status[id].errorCount, 1, id);
  });
});

// --- resolve ------------------------------------------------------------------

/** A store exercising every reason code, with the agent order naming all but `spare`. */
function mixedStore() {
  const now = Date.now();
  return storeOf({
    "anthropic:spare": tokenProfile(),
    "anthropic:cool": tokenProfile(),
    "anthropic:work": tokenProfile(),
    "anthropic:next": tokenProfile(),
    "anthropic:old": tokenProfile(fakeSecret(TOKEN_PREFIX), { expires: now - HOUR }),
    "anthropic:bad": tokenProfile(fakeSecret(TOKEN_PREFIX), { expires: "tomorrow" }),
    "anthropic:nokey": { type: "api_key", provider: "anthropic" },
    "anthropic:relogin": oauthProfile({
      provider: "anthropic",
      access: "x",
      refresh: "y",
      expires: now + HOUR,
    }),
    "openai:k": apiKeyProfile(),
  }, {
    order: {
      anthropic: [
        "anthropic:cool",
        "anthropic:old",
        "anthropic:work",
        "anthropic:bad",
        "anthropic:nokey",
        "anthropic:relogin",
        "anthropic:next",
      ],
    },
    usageStats: {
      "anthropic:cool": { cooldownUntil: now + HOUR, errorCount: 4 },
      "anthropic:relogin": { needsLogin: now - MIN },
    },
  });
}

interface ResolveJson {
  request: Json;
  profile: string | null;
  source: string;
  candidates: { id: string; state: string; rank: number | null; reason: string | null }[];
}

const reasons = (out: ResolveJson) =>
  Object.fromEntries(out.candidates.map((c) => [c.id, c.reason]));

Deno.test("resolve PROVIDER --json: the chosen profile, the order's source and every other candidate's reason code", async () => {
  await using state = await tempState();
  state.writeStore(mixedStore());
  const result = await state.run(["resolve", "anthropic", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout) as ResolveJson;
  assert.equal(out.profile, "anthropic:work");
  assert.equal(out.source, "store");
  assert.deepEqual(reasons(out), {
    "anthropic:work": null,
    "anthropic:next": null,
    "anthropic:cool": "cooldown",
    "anthropic:old": "expired",
    "anthropic:bad": "invalid_expires",
    "anthropic:nokey": "missing_credential",
    "anthropic:relogin": "needs_login",
    "anthropic:spare": "excluded_by_auth_order",
  });
  const ranked = out.candidates.filter((c) => c.rank !== null).sort((x, y) => x.rank! - y.rank!);
  assert.deepEqual(ranked.map((c) => c.id), ["anthropic:work", "anthropic:next", "anthropic:cool"]);
  assert.ok(
    !out.candidates.some((c) => c.id.startsWith("openai:")),
    "other providers are not candidates",
  );
  for (const [id, profile] of Object.entries(mixedStore().profiles)) {
    const secret = (profile as Json).token ?? (profile as Json).key;
    if (typeof secret === "string") assert.ok(!result.stdout.includes(secret), id);
  }
});

Deno.test("resolve: a profile id or Model@provider:profile is explicit; Model@provider routes; no order is round robin", async () => {
  await using state = await tempState();
  state.writeStore(mixedStore());
  const [byId, byModelPin, byModel] = await Promise.all([
    state.run(["resolve", "anthropic:next", "--json"]),
    state.run(["resolve", "opus@anthropic:next", "--json"]),
    state.run(["resolve", "opus@anthropic", "--json"]),
  ]);
  for (const result of [byId, byModelPin]) {
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as ResolveJson;
    assert.equal(out.profile, "anthropic:next");
    assert.equal(out.source, "explicit");
    assert.notEqual(reasons(out)["anthropic:work"], null, "the pin wins over the order's first");
  }
  assert.equal(JSON.parse(byModelPin.stdout).request.model, "opus");
  const routed = JSON.parse(byModel.stdout) as ResolveJson;
  assert.equal(routed.profile, "anthropic:work");
  assert.equal(routed.source, "store");

  const robin = await state.run(["resolve", "openai", "--json"]);
  assert.equal(robin.code, 0, robin.stderr);
  assert.deepEqual(
    { profile: JSON.parse(robin.stdout).profile, source: JSON.parse(robin.stdout).source },
    { profile: "openai:k", source: "round_robin" },
  );
});

Deno.test("resolve of a pinned profile the order excludes: it is chosen, and not reported as passed over", async () => {
  await using state = await tempState();
  state.writeStore(mixedStore());
  const result = await state.run(["resolve", "anthropic:spare", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout) as ResolveJson;
  assert.equal(out.profile, "anthropic:spare");
  assert.equal(out.source, "explicit");
  assert.equal(reasons(out)["anthropic:spare"], null, "the chosen profile has no reason");
  assert.equal(reasons(out)["anthropic:old"], "expired", "the others keep their codes");
});

Deno.test("resolve exits 77 naming the login command when nothing is usable, and when a pinned profile is sidelined", async () => {
  await using state = await tempState();
  state.writeStore(mixedStore());
  const [nothing, pinned, unknown] = await Promise.all([
    state.run(["resolve", "anthropic:old", "--json"]),
    state.run(["resolve", "anthropic:cool", "--json"]),
    state.run(["resolve", "github-copilot", "--json"]),
  ]);
  assert.equal(nothing.code, 77, nothing.stderr);
  assert.equal(JSON.parse(nothing.stdout).profile, null);
  assert.match(nothing.stderr, /clawauth setup-token --provider anthropic --profile old/);
  assert.equal(pinned.code, 77, pinned.stderr);
  assert.match(pinned.stderr, /anthropic:cool.*cooldown/);
  assert.equal(unknown.code, 77, unknown.stderr);
  assert.match(unknown.stderr, /clawauth login --provider github-copilot/);

  // A provider whose every profile is unusable.
  state.writeStore(storeOf({
    "anthropic:old": tokenProfile(fakeSecret(TOKEN_PREFIX), { expires: Date.now() - MIN }),
    "anthropic:nokey": { type: "api_key", provider: "anthropic" },
  }));
  const none = await state.run(["resolve", "anthropic", "--json"]);
  assert.equal(none.code, 77, none.stderr);
  const out = JSON.parse(none.stdout) as ResolveJson;
  assert.equal(out.profile, null);
  assert.deepEqual(reasons(out), {
    "anthropic:old": "expired",
    "anthropic:nokey": "missing_credential",
  });
});

Deno.test("resolve without --json names the chosen profile and mentions every candidate with its reason", async () => {
  await using state = await tempState();
  state.writeStore(mixedStore());
  const result = await state.run(["resolve", "anthropic"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.split("\n")[0], /anthropic:work/);
  for (
    const [id, reason] of [
      ["anthropic:cool", "cooldown"],
      ["anthropic:old", "expired"],
      ["anthropic:bad", "invalid_expires"],
      ["anthropic:nokey", "missing_credential"],
      ["anthropic:relogin", "needs_login"],
      ["anthropic:spare", "excluded_by_auth_order"],
      ["anthropic:next", ""],
    ]
  ) {
    const line = result.stdout.split("\n").find((l) => l.startsWith(id));
    assert.ok(line, `${id} is listed`);
    assert.ok(line.includes(reason), `${id}: ${reason}`);
  }
});

Deno.test("resolve usage errors exit 64: no SPEC, two SPECs, a SPEC that is no provider, profile or model spec", async () => {
  await using state = await tempState();
  state.writeStore(mixedStore());
  const results = await Promise.all([
    ["resolve"],
    ["resolve", "anthropic", "openai"],
    ["resolve", "Not A Provider"],
  ].map((args) => state.run(args)));
  assert.deepEqual(results.map((r) => r.code), [64, 64, 64]);
});

// --- round robin, openclaw.json -------------------------------------------------

const OPENCLAW_JSON5 = `// OpenClaw's own config: JSON5
{
  agents: { defaults: { model: 'anthropic/claude-opus-4', }, },
  /* clawauth reads auth.order only */
  auth: {
    order: {
      anthropic: ['anthropic:b', "anthropic:a",], // trailing commas too
    },
  },
}
`;

Deno.test("openclaw.json (JSON5) auth.order is used when the store has no order; the store's order wins over it", async () => {
  await using state = await tempState();
  const { a, b, store } = twoTokens();
  state.writeStore(store);
  state.writeFile("openclaw.json", OPENCLAW_JSON5);
  const [resolved, first] = await Promise.all([
    state.run(["resolve", "anthropic", "--json"]),
    state.run(["token", "--provider", "anthropic"]),
  ]);
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.deepEqual(
    { ...JSON.parse(resolved.stdout), candidates: undefined },
    {
      request: { provider: "anthropic" },
      profile: "anthropic:b",
      source: "openclaw",
      candidates: undefined,
    },
  );
  assert.equal(first.stdout, `${b}\n`, "b first, though a sorts first by id");
  assert.equal(
    (await state.run(["token", "--provider", "anthropic"])).stdout,
    `${b}\n`,
    "an explicit order is not rotated by lastUsed",
  );

  const set = await state.run(["order", "set", "--provider", "anthropic", "anthropic:a"]);
  assert.equal(set.code, 0, set.stderr);
  const [after, token2] = await Promise.all([
    state.run(["resolve", "anthropic", "--json"]),
    state.run(["token", "--provider", "anthropic"]),
  ]);
  const out = JSON.parse(after.stdout) as ResolveJson;
  assert.equal(out.source, "store");
  assert.equal(out.profile, "anthropic:a");
  assert.equal(reasons(out)["anthropic:b"], "excluded_by_auth_order");
  assert.equal(token2.stdout, `${a}\n`);
  assert.equal(Deno.readTextFileSync(`${state.dir}/openclaw.json`), OPENCLAW_JSON5, "read-only");
});

// --- channels, status at scale ------------------------------------------------

Deno.test('channels list --json prints {"chat": {}, "auth": [...]} with one entry per profile and no secret', async () => {
  await using state = await tempState();
  const anthropicToken = fakeSecret(TOKEN_PREFIX);
  const openaiKey = fakeSecret("sk-");
  const access = fakeSecret("eyJ");
  const refresh = fakeSecret("rt_");
  state.writeStore(storeOf({
    "anthropic:work": tokenProfile(anthropicToken),
    "openai:ci": apiKeyProfile(openaiKey),
    "openai-codex:me@example.com": oauthProfile({
      access,
      refresh,
      expires: Date.now() + HOUR,
      email: "me@example.com",
    }),
  }));
  const result = await state.run(["channels", "list", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(out).sort(), ["auth", "chat"]);
  assert.deepEqual(out.chat, {});
  assert.ok(Array.isArray(out.auth));
  assert.deepEqual(
    out.auth.map((e: Json) => [e.id, e.provider, e.type, e.state]).sort(),
    [
      ["anthropic:work", "anthropic", "token", "ok"],
      ["openai-codex:me@example.com", "openai-codex", "oauth", "ok"],
      ["openai:ci", "openai", "api_key", "ok"],
    ],
  );
  for (
    const [secret, prefix] of [
      [anthropicToken, TOKEN_PREFIX],
      [openaiKey, "sk-"],
      [access, "eyJ"],
      [refresh, "rt_"],
    ]
  ) {
    assert.ok(!leaks(result.stdout + result.stderr, secret, prefix), prefix);
  }
  const alias = await state.run(["channels", "list"]);
  assert.equal(alias.code, 0, alias.stderr);
  assert.match(alias.stdout, /anthropic:work/);
});

Deno.test("status --json reports all 1,000 profiles of a large store with the right states", async () => {
  await using state = await tempState();
  const now = Date.now();
  const STATES = ["ok", "cooldown", "disabled", "expired", "expiring", "needs_login", "invalid"];
  const profiles: Json = {};
  const usageStats: Json = {};
  const expected: Record<string, string> = {};
  for (let i = 0; i < 1_000; i++) {
    const want = STATES[i % STATES.length];
    const id = `${i % 2 ? "openai" : "anthropic"}:p${i}`;
    const provider = id.split(":")[0];
    profiles[id] = want === "invalid"
      ? { type: "api_key", provider }
      : want === "expired"
      ? tokenProfile(`t${i}`, { provider, expires: now - HOUR })
      : want === "expiring"
      ? tokenProfile(`t${i}`, { provider, expires: now + HOUR })
      : want === "needs_login"
      ? oauthProfile({ provider, access: `a${i}`, refresh: `r${i}`, expires: now - HOUR })
      : apiKeyProfile(`k${i}`, { provider });
    if (want === "cooldown") usageStats[id] = { cooldownUntil: now + HOUR, errorCount: 1 };
    if (want === "disabled") usageStats[id] = { disabledUntil: now + 5 * HOUR };
    if (want === "needs_login") usageStats[id] = { needsLogin: now - MIN };
    expected[id] = want;
  }
  state.writeStore({ version: 1, profiles, usageStats });
  const status = await statusById(state);
  assert.equal(Object.keys(status).length, 1_000);
  assert.deepEqual(
    Object.fromEntries(Object.entries(status).map(([id, p]) => [id, p.state])),
    expected,
  );
  assert.equal(status["anthropic:p0"].provider, "anthropic");
  assert.equal(status["openai:p1"].cooldownUntil, now + HOUR);
});
