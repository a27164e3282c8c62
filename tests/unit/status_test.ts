/**
 * `status` and `list` (docs/commands.md) in-process on a fixed clock: exact
 * `expiresInMs`, the 24 h `expiring` boundary to the millisecond, the
 * `--check` exit codes as the clock moves, and failover sidelining windows.
 */

import assert from "node:assert/strict";
import { FAKE_NOW, inProcessState, type MainResult } from "../fake_context.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Json = Record<string, unknown>;

function token(expires?: unknown, provider = "anthropic"): Json {
  return {
    type: "token",
    provider,
    token: `sk-ant-oat01-${"t".repeat(40)}`,
    ...(expires === undefined ? {} : { expires }),
  };
}

function store(profiles: Json, extra: Json = {}): Json {
  return { version: 1, profiles, ...extra };
}

/** `status --json`'s profiles. */
function profilesOf(result: MainResult): Json[] {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).profiles;
}

Deno.test("status --json gives each profile's fields, with expiresInMs exact on the fixed clock and no secret", async () => {
  await using state = await inProcessState();
  const access = `eyJ${"a".repeat(40)}`;
  const refresh = `rt_${"r".repeat(40)}`;
  const key = `sk-${"k".repeat(40)}`;
  state.writeStore(store({
    "openai-codex:me@example.com": {
      type: "oauth",
      provider: "openai-codex",
      access,
      refresh,
      expires: FAKE_NOW + 10 * DAY,
      accountId: "acct-123",
      email: "me@example.com",
    },
    "openai:ci": { type: "api_key", provider: "openai", key },
  }, { order: { openai: ["openai:ci"] } }));
  const result = await state.run(["status", "--json"]);
  const json = JSON.parse(result.stdout);
  assert.equal(json.agent, "main");
  assert.equal(json.stateDir, state.dir);
  assert.deepEqual(json.order, { openai: ["openai:ci"] });
  const [oauth, apiKey] = profilesOf(result);
  const { lineage, ...rest } = oauth as { lineage: { id: string; copies: unknown } };
  assert.deepEqual(rest, {
    id: "openai-codex:me@example.com",
    provider: "openai-codex",
    type: "oauth",
    state: "ok",
    expires: FAKE_NOW + 10 * DAY,
    expiresInMs: 10 * DAY,
    accountId: "acct-123",
    email: "me@example.com",
  });
  assert.match(lineage.id, /^[0-9a-f]{24}$/);
  assert.deepEqual(lineage.copies, [{ agent: "main", profile: "openai-codex:me@example.com" }]);
  assert.deepEqual(apiKey, {
    id: "openai:ci",
    provider: "openai",
    type: "api_key",
    state: "ok",
    expires: null,
    expiresInMs: null,
  });
  for (const secret of [access, refresh, key]) {
    assert.ok(!result.stdout.includes(secret.slice(3, 20)), "no secret in status");
  }
});

Deno.test("expiring starts exactly 24 h before expiry and expired exactly at it", async () => {
  await using state = await inProcessState();
  state.writeStore(store({
    "anthropic:a-24h": token(FAKE_NOW + DAY),
    "anthropic:b-24h-less-1ms": token(FAKE_NOW + DAY - 1),
    "anthropic:c-in-1ms": token(FAKE_NOW + 1),
    "anthropic:d-now": token(FAKE_NOW),
  }));
  const states = profilesOf(await state.run(["status", "--json"])).map((p) => [p.id, p.state]);
  assert.deepEqual(states, [
    ["anthropic:a-24h", "ok"],
    ["anthropic:b-24h-less-1ms", "expiring"],
    ["anthropic:c-in-1ms", "expiring"],
    ["anthropic:d-now", "expired"],
  ]);
});

Deno.test("status --check on one token as the clock moves: 0 while ok, 2 in its last 24 h, 1 once expired", async () => {
  await using state = await inProcessState();
  const expires = FAKE_NOW + 3 * DAY;
  state.writeStore(store({ "anthropic:work": token(expires) }));
  const at = async (now: number) => {
    state.now = now;
    return (await state.run(["status", "--check"])).code;
  };
  assert.equal(await at(expires - DAY), 0, "24 h left is not yet expiring");
  assert.equal(await at(expires - DAY + 1), 2);
  assert.equal(await at(expires - 1), 2);
  assert.equal(await at(expires), 1);
  state.now = expires - 2 * DAY;
  const plain = await state.run(["status"]);
  assert.equal(plain.code, 0, "without --check status exits 0");
  assert.match(plain.stdout, /^anthropic:work\s+token\s+ok\s+in 2d\b/m);
});

Deno.test("status --check exits 1 for an expired token even when another is only expiring", async () => {
  await using state = await inProcessState();
  state.writeStore(store({
    "anthropic:old": token(FAKE_NOW - 1000),
    "anthropic:soon": token(FAKE_NOW + HOUR),
  }));
  const check = await state.run(["status", "--check"]);
  assert.equal(check.code, 1, check.stderr);
  assert.match(check.stdout, /^anthropic:old\s+token\s+expired\b/m);
  assert.match(check.stdout, /^anthropic:soon\s+token\s+expiring\s+in 1h\b/m);
});

Deno.test("status --check --provider judges only that provider, and exits 1 when it has no profile", async () => {
  await using state = await inProcessState();
  state.writeStore(store({
    "anthropic:work": token(FAKE_NOW + 30 * DAY),
    "openai:old": token(FAKE_NOW - DAY, "openai"),
  }));
  const [anthropic, openai, all, none] = [
    await state.run(["status", "--check", "--provider", "anthropic", "--json"]),
    await state.run(["status", "--check", "--provider", "openai"]),
    await state.run(["status", "--check"]),
    await state.run(["status", "--check", "--provider", "mistral"]),
  ];
  assert.equal(anthropic.code, 0, anthropic.stderr);
  assert.deepEqual(JSON.parse(anthropic.stdout).profiles.map((p: Json) => p.id), [
    "anthropic:work",
  ]);
  assert.equal(openai.code, 1);
  assert.equal(all.code, 1);
  assert.equal(none.code, 1);
});

Deno.test("malformed entries and impossible expiry values are invalid, and status --check exits 1 without crashing", async () => {
  await using state = await inProcessState();
  state.writeStore(store({
    "anthropic:soon-string": token("soon"),
    "anthropic:negative": token(-5),
    "anthropic:zero": token(0),
    "anthropic:huge": token(8.64e15 + 1),
    "anthropic:notype": { provider: "anthropic", token: "x" },
    "anthropic:nosecret": { type: "token", provider: "anthropic" },
    "anthropic:number": 5,
    "no-colon": { ...token(), provider: "no-colon" },
    "anthropic:good": token(),
  }));
  const json = await state.run(["status", "--json"]);
  const states = Object.fromEntries(profilesOf(json).map((p) => [p.id, p.state]));
  assert.deepEqual(states, {
    "anthropic:soon-string": "invalid",
    "anthropic:negative": "invalid",
    "anthropic:zero": "invalid",
    "anthropic:huge": "invalid",
    "anthropic:notype": "invalid",
    "anthropic:nosecret": "invalid",
    "anthropic:number": "invalid",
    "no-colon": "invalid",
    "anthropic:good": "ok",
  });
  const [check, human] = [
    await state.run(["status", "--check"]),
    await state.run(["status"]),
  ];
  assert.equal(check.code, 1);
  assert.equal(human.code, 0, human.stderr);
  assert.equal(human.stderr, "");
});

Deno.test("an OAuth profile is ok with an expired access token while it holds a refresh token, and expires like a token without one", async () => {
  await using state = await inProcessState();
  const oauth = (expires: number, refresh?: string) => ({
    type: "oauth",
    provider: "openai-codex",
    access: `eyJ${"a".repeat(40)}`,
    ...(refresh ? { refresh } : {}),
    expires,
  });
  state.writeStore(store({
    "openai-codex:refreshable": oauth(FAKE_NOW - DAY, `rt_${"r".repeat(40)}`),
    "openai-codex:gone": oauth(FAKE_NOW - DAY),
    "openai-codex:soon": oauth(FAKE_NOW + HOUR),
  }));
  const result = await state.run(["status", "--json"]);
  assert.deepEqual(profilesOf(result).map((p) => [p.state, p.expiresInMs]), [
    ["ok", -DAY],
    ["expired", -DAY],
    ["expiring", HOUR],
  ]);
  assert.equal((await state.run(["status", "--check", "--provider", "openai-codex"])).code, 1);
});

Deno.test("cooldownUntil and disabledUntil sideline a profile until exactly that moment; --check does not count it as failing", async () => {
  await using state = await inProcessState();
  state.writeStore(store({ "anthropic:cool": token(), "anthropic:off": token() }, {
    usageStats: {
      "anthropic:cool": { cooldownUntil: FAKE_NOW + HOUR, errorCount: 1 },
      "anthropic:off": { disabledUntil: FAKE_NOW + 5 * HOUR, disabledReason: "billing" },
    },
  }));
  const at = async (now: number) => {
    state.now = now;
    return profilesOf(await state.run(["status", "--json"]));
  };
  const [cool, off] = await at(FAKE_NOW);
  assert.equal(cool.state, "cooldown");
  assert.equal(cool.cooldownUntil, FAKE_NOW + HOUR);
  assert.equal(off.state, "disabled");
  assert.equal(off.disabledUntil, FAKE_NOW + 5 * HOUR);
  assert.equal((await state.run(["status", "--check"])).code, 0, "sidelined is not failing");
  assert.deepEqual((await at(FAKE_NOW + HOUR - 1)).map((p) => p.state), ["cooldown", "disabled"]);
  assert.deepEqual((await at(FAKE_NOW + HOUR)).map((p) => p.state), ["ok", "disabled"]);
  assert.deepEqual((await at(FAKE_NOW + 5 * HOUR)).map((p) => p.state), ["ok", "ok"]);
});

Deno.test("human status is a plain table when stdout is no TTY, and colours states only when colour is allowed", async () => {
  await using state = await inProcessState();
  state.writeStore(store({
    "anthropic:work": token(FAKE_NOW + 2 * HOUR),
    "anthropic:old": token(FAKE_NOW - HOUR),
  }));
  const plain = await state.run(["status"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!plain.stdout.includes("\x1b["), "no ANSI escapes");
  assert.match(plain.stdout, /^PROFILE\s+TYPE\s+STATE\s+EXPIRES\s+ACCOUNT$/m);
  assert.match(plain.stdout, /^anthropic:work\s+token\s+expiring\s+in 2h\s+-$/m);
  assert.match(plain.stdout, /^anthropic:old\s+token\s+expired\b/m);
  const colour = await state.run(["status"], { stdoutIsTTY: true, color: true });
  assert.ok(colour.stdout.includes("\x1b[33mexpiring\x1b[0m"), JSON.stringify(colour.stdout));
});

Deno.test("models status is status", async () => {
  await using state = await inProcessState();
  state.writeStore(store({ "anthropic:old": token(FAKE_NOW - HOUR) }));
  const [direct, alias] = [
    await state.run(["status", "--json"]),
    await state.run(["models", "status", "--json"]),
  ];
  assert.equal(alias.code, 0, alias.stderr);
  assert.equal(alias.stdout, direct.stdout);
  assert.equal((await state.run(["models", "status", "--check"])).code, 1);
});

Deno.test("status and list on an empty state dir say there are no profiles and write nothing", async () => {
  await using state = await inProcessState();
  const [human, json, list] = [
    await state.run(["status"]),
    await state.run(["status", "--json"]),
    await state.run(["list", "--json"]),
  ];
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /No profiles/);
  assert.deepEqual(JSON.parse(json.stdout).profiles, []);
  assert.deepEqual(JSON.parse(list.stdout).profiles, []);
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("list and list --json show every profile, filter by --provider, and print no secret", async () => {
  await using state = await inProcessState();
  const secret = `sk-ant-oat01-${"s".repeat(40)}`;
  const key = `sk-${"k".repeat(40)}`;
  state.writeStore(store({
    "anthropic:work": {
      type: "token",
      provider: "anthropic",
      token: secret,
      email: "w@example.com",
      expires: FAKE_NOW + 2 * DAY,
    },
    "openai:ci": { type: "api_key", provider: "openai", key },
  }));
  const [human, json, only] = [
    await state.run(["list"]),
    await state.run(["list", "--json"]),
    await state.run(["list", "--json", "--provider", "openai"]),
  ];
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^anthropic:work\s+token\s+in 2d\s+w@example\.com$/m);
  assert.match(human.stdout, /^openai:ci\s+api_key\b/m);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.agent, "main");
  assert.deepEqual(parsed.profiles.map((p: Json) => [p.id, p.type, p.expiresInMs]), [
    ["anthropic:work", "token", 2 * DAY],
    ["openai:ci", "api_key", null],
  ]);
  assert.equal(parsed.profiles[0].email, "w@example.com");
  assert.deepEqual(JSON.parse(only.stdout).profiles.map((p: Json) => p.id), ["openai:ci"]);
  for (const out of [human.stdout, json.stdout]) {
    assert.ok(!out.includes("s".repeat(20)) && !out.includes("k".repeat(20)), "no secret");
  }
});

Deno.test("status shows the quota the proxy recorded under each profile, and status --json gives it per window with no secret", async () => {
  await using state = await inProcessState();
  const MINUTE = 60_000;
  const secret = `sk-ant-oat01-${"q".repeat(40)}`;
  state.writeStore(store({
    "anthropic:work": { ...token(FAKE_NOW + 30 * DAY), token: secret },
    "anthropic:home": token(FAKE_NOW + 30 * DAY),
    "openai-codex:me": { ...token(FAKE_NOW + 30 * DAY, "openai-codex"), type: "oauth" },
  }, {
    usageStats: {
      "anthropic:work": {
        lastUsed: FAKE_NOW - MINUTE,
        quota: {
          "5h": {
            utilization: 0.62,
            resetsAt: FAKE_NOW + 70 * MINUTE,
            seenAt: FAKE_NOW - 3 * MINUTE,
          },
          "7d": { utilization: 0.18, seenAt: FAKE_NOW - 4 * MINUTE },
        },
      },
      // A window that reset since the proxy saw it reads as reset, not as 95% used.
      "openai-codex:me": {
        quota: {
          "5h": { utilization: 0.95, resetsAt: FAKE_NOW - MINUTE, seenAt: FAKE_NOW - HOUR },
        },
      },
      "anthropic:home": { lastUsed: FAKE_NOW - MINUTE },
    },
  }));
  const human = await state.run(["status"]);
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.split("\n");
  const work = lines.findIndex((line) => line.startsWith("anthropic:work "));
  assert.equal(lines[work + 1], "  quota 5h: 62% (resets in 1h 10m), 7d: 18% · seen 3m ago");
  const home = lines.findIndex((line) => line.startsWith("anthropic:home "));
  assert.doesNotMatch(lines[home + 1], /quota/, "no quota line for a profile the proxy never saw");
  const me = lines.findIndex((line) => line.startsWith("openai-codex:me "));
  assert.equal(lines[me + 1], "  quota 5h: reset · seen 1h ago");
  const tableLines = lines.slice(lines.findIndex((line) => line.startsWith("PROFILE")));
  assert.ok(tableLines.every((line) => line.length <= 100), "the table fits 100 columns");

  const json = await state.run(["status", "--json"]);
  const byId = Object.fromEntries(profilesOf(json).map((p) => [p.id, p]));
  assert.deepEqual(byId["anthropic:work"].quota, {
    "5h": {
      utilization: 0.62,
      resetsAt: FAKE_NOW + 70 * MINUTE,
      resetsInMs: 70 * MINUTE,
      seenAt: FAKE_NOW - 3 * MINUTE,
    },
    "7d": { utilization: 0.18, seenAt: FAKE_NOW - 4 * MINUTE },
  });
  assert.equal(byId["anthropic:home"].quota, undefined);
  assert.ok(!json.stdout.includes(secret.slice(13)) && !human.stdout.includes(secret.slice(13)));
});
