/**
 * `token` (docs/commands.md) in-process on a fixed clock: what it prints, its exit
 * codes (64, 77), `--min-valid` against exact expiries, and round robin's
 * `lastUsed` bookkeeping as the clock moves.
 */

import assert from "node:assert/strict";
import { FAKE_NOW, inProcessState } from "../fake_context.ts";
import { writeLoopbackConfig } from "../helpers.ts";

const MIN = 60_000;
const DAY = 86_400_000;

const WORK = `sk-ant-oat01-${"w".repeat(40)}`;
const KEY = `sk-ant-api03-${"k".repeat(40)}`;
const ACCESS = `eyJ${"a".repeat(40)}`;

type Json = Record<string, unknown>;

Deno.test("token --provider, --profile and --model print the chosen secret, a newline and nothing else", async () => {
  await using state = await inProcessState();
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:work": { type: "token", provider: "anthropic", token: WORK },
      "anthropic:key": { type: "api_key", provider: "anthropic", key: KEY },
    },
  });
  const cases: [string[], string][] = [
    // Without an order, round robin puts tokens before API keys.
    [["token", "--provider", "anthropic"], WORK],
    [["token", "--profile", "anthropic:key"], KEY],
    [["token", "--model", "Opus@anthropic:key"], KEY],
    [["token", "--model", "opus@anthropic"], WORK],
  ];
  for (const [argv, secret] of cases) {
    const result = await state.run(argv);
    assert.deepEqual(
      [result.code, result.stdout, result.stderr],
      [0, `${secret}\n`, ""],
      argv.join(" "),
    );
  }
});

Deno.test("token --json prints profile, provider, type, token, expires and the model", async () => {
  await using state = await inProcessState();
  const expires = FAKE_NOW + 30 * DAY;
  state.writeStore({
    version: 1,
    profiles: { "anthropic:work": { type: "token", provider: "anthropic", token: WORK, expires } },
  });
  const result = await state.run(["token", "--model", "Opus@anthropic:work", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    profile: "anthropic:work",
    provider: "anthropic",
    type: "token",
    token: WORK,
    expires,
    model: "Opus",
  });
  const plain = await state.run(["token", "--provider", "anthropic", "--json"]);
  assert.equal(JSON.parse(plain.stdout).model, undefined, "no model without --model");
});

Deno.test("token exits 77 with the login command when no profile exists, the only one expired this very ms, or the pinned one is missing", async () => {
  await using state = await inProcessState();
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:old": { type: "token", provider: "anthropic", token: WORK, expires: FAKE_NOW },
    },
  });
  const [none, expired, missing] = [
    await state.run(["token", "--provider", "openai"]),
    await state.run(["token", "--provider", "anthropic"]),
    await state.run(["token", "--profile", "anthropic:nope"]),
  ];
  for (const result of [none, expired, missing]) {
    assert.equal(result.code, 77, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^clawauth: .+\n(Run: )?clawauth [a-z-]+ --provider/);
  }
  assert.match(none.stderr, /Run: clawauth paste-token --provider openai\n$/);
  assert.match(expired.stderr, /anthropic:old/);
  assert.match(missing.stderr, /No profile anthropic:nope/);
  state.now = FAKE_NOW - 1;
  const lastMs = await state.run(["token", "--provider", "anthropic"]);
  assert.deepEqual([lastMs.code, lastMs.stdout], [0, `${WORK}\n`], "still valid 1 ms before");
});

Deno.test("token refuses a profile of another provider, a model without a provider and a bad --min-valid (exit 64)", async () => {
  await using state = await inProcessState();
  const cases = [
    ["token", "--provider", "openai", "--profile", "anthropic:a"],
    ["token", "--model", "opus"],
    ["token", "--min-valid", "soon", "--provider", "anthropic"],
  ];
  for (const argv of cases) {
    const result = await state.run(argv);
    assert.equal(result.code, 64, `${argv.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^clawauth: .*\n.*clawauth token --help/);
  }
});

Deno.test("token --min-valid never refreshes a setup-token: one expiring in 10 min is printed as it is", async () => {
  await using state = await inProcessState();
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:work": {
        type: "token",
        provider: "anthropic",
        token: WORK,
        expires: FAKE_NOW + 10 * MIN,
      },
    },
  });
  const before = state.storeText();
  const result = await state.run(["token", "--provider", "anthropic", "--min-valid", "1h"]);
  assert.deepEqual([result.code, result.stdout, result.stderr], [0, `${WORK}\n`, ""]);
  assert.deepEqual(result.ctx.requests, []);
  assert.equal(state.storeText(), before);
});

Deno.test("token --min-valid decides on the fixed clock whether an OAuth token is refreshed first", async () => {
  await using state = await inProcessState();
  // Endpoints where nothing answers: a refresh attempt fails and says so.
  writeLoopbackConfig(state);
  state.writeStore({
    version: 1,
    profiles: {
      "openai-codex:default": {
        type: "oauth",
        provider: "openai-codex",
        access: ACCESS,
        refresh: `rt_${"r".repeat(40)}`,
        expires: FAKE_NOW + 10 * MIN,
      },
    },
  });
  const before = state.storeText();
  const fresh = await state.run(["token", "--provider", "openai-codex", "--min-valid", "10m"]);
  assert.deepEqual([fresh.code, fresh.stdout, fresh.stderr], [0, `${ACCESS}\n`, ""]);
  const due = await state.run(["token", "--provider", "openai-codex", "--min-valid", "601s"]);
  assert.equal(due.code, 0, due.stderr);
  assert.equal(due.stdout, `${ACCESS}\n`, "the still-valid token is handed out");
  assert.match(
    due.stderr,
    /^warning: Could not reach openai-codex for the token refresh .*valid for 600 s more\.\n$/,
  );
  assert.equal(state.storeText(), before, "a failed refresh changes nothing");
});

Deno.test("token --provider rotates round robin: successive calls alternate and record lastUsed at the clock's time", async () => {
  await using state = await inProcessState();
  const [k1, k2] = [`sk-${"1".repeat(40)}`, `sk-${"2".repeat(40)}`];
  state.writeStore({
    version: 1,
    profiles: {
      "openai:one": { type: "api_key", provider: "openai", key: k1 },
      "openai:two": { type: "api_key", provider: "openai", key: k2 },
    },
  });
  const seen: string[] = [];
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    state.now = FAKE_NOW + i * MIN;
    times.push(state.now);
    const result = await state.run(["token", "--provider", "openai"]);
    assert.equal(result.code, 0, result.stderr);
    seen.push(result.stdout.trim());
  }
  assert.notEqual(seen[0], seen[1], "the second call takes the other key");
  assert.deepEqual(new Set(seen.slice(0, 2)), new Set([k1, k2]));
  assert.equal(seen[2], seen[0], "the third call is back at the least recently used");
  const stats = state.store().usageStats as Record<string, Json>;
  const idOf = (key: string) => key === k1 ? "openai:one" : "openai:two";
  assert.equal(stats[idOf(seen[2])].lastUsed, times[2]);
  assert.equal(stats[idOf(seen[1])].lastUsed, times[1]);
});
