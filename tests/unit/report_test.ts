/**
 * `report` and failover windows (docs/routing.md) in-process on a fixed clock: the
 * exact cooldown and billing windows, routing around a sidelined profile
 * and back once its window ends, the 24 h counter reset, and usage errors.
 */

import assert from "node:assert/strict";
import { FAKE_NOW, type InProcessState, inProcessState } from "../fake_context.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

type Json = Record<string, unknown>;

const A = `sk-ant-oat01-${"a".repeat(40)}`;
const B = `sk-ant-oat01-${"b".repeat(40)}`;

/** Two usable anthropic setup-tokens, `anthropic:a` then `anthropic:b` in the order. */
function twoTokens(state: InProcessState, extra: Json = {}): void {
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:a": { type: "token", provider: "anthropic", token: A },
      "anthropic:b": { type: "token", provider: "anthropic", token: B },
    },
    order: { anthropic: ["anthropic:a", "anthropic:b"] },
    ...extra,
  });
}

/** `status --json`'s profiles by id. */
async function statusById(state: InProcessState): Promise<Record<string, Json>> {
  const result = await state.run(["status", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return Object.fromEntries((JSON.parse(result.stdout).profiles as Json[]).map((p) => [p.id, p]));
}

/** The stored usageStats entry of a profile. */
function usage(state: InProcessState, id: string): Json {
  return (state.store().usageStats as Record<string, Json>)[id];
}

Deno.test("report --reason rate_limit: a 1 min cooldown, then 5 min, then 25 min, from the moment of each report", async () => {
  await using state = await inProcessState();
  twoTokens(state);
  const first = await state.run(["report", "anthropic:a", "--reason", "rate_limit"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(
    first.stdout,
    "anthropic:a: in cooldown until 2026-01-01T00:01:00.000Z (errors: 1).\n",
  );
  let status = await statusById(state);
  assert.equal(status["anthropic:a"].state, "cooldown");
  assert.equal(status["anthropic:a"].cooldownUntil, FAKE_NOW + MIN);
  assert.equal(status["anthropic:a"].errorCount, 1);
  assert.equal(status["anthropic:b"].state, "ok", "only the reported profile is sidelined");

  state.now = FAKE_NOW + 30_000;
  assert.equal((await state.run(["report", "anthropic:a", "--reason", "timeout"])).code, 0);
  status = await statusById(state);
  assert.equal(status["anthropic:a"].cooldownUntil, FAKE_NOW + 30_000 + 5 * MIN);
  assert.equal(status["anthropic:a"].errorCount, 2);

  assert.equal((await state.run(["report", "anthropic:a", "--reason", "auth"])).code, 0);
  assert.equal(usage(state, "anthropic:a").cooldownUntil, FAKE_NOW + 30_000 + 25 * MIN);
});

Deno.test("routing skips a profile in cooldown, a pinned one is refused with exit 77, and both work again when the window ends", async () => {
  await using state = await inProcessState();
  twoTokens(state);
  assert.equal((await state.run(["report", "anthropic:a", "--reason", "rate_limit"])).code, 0);

  state.now = FAKE_NOW + MIN - 1;
  const [routed, pinned] = [
    await state.run(["token", "--provider", "anthropic"]),
    await state.run(["token", "--profile", "anthropic:a"]),
  ];
  assert.equal(routed.stdout, `${B}\n`, "the cooled-down profile is rotated away from");
  assert.equal(pinned.code, 77, "a pinned profile in cooldown is refused, not rotated");
  assert.equal(pinned.stdout, "");
  assert.match(
    pinned.stderr,
    /^clawauth: Profile anthropic:a is in cooldown until 2026-01-01T00:01:00\.000Z;.*\n.*clawauth report anthropic:a --ok\n$/,
  );

  state.now = FAKE_NOW + MIN;
  const [back, pinnedBack] = [
    await state.run(["token", "--provider", "anthropic"]),
    await state.run(["token", "--profile", "anthropic:a"]),
  ];
  assert.equal(back.stdout, `${A}\n`, "the order's first profile is back");
  assert.deepEqual([pinnedBack.code, pinnedBack.stdout], [0, `${A}\n`]);
});

Deno.test("when every profile is sidelined, routing still answers with the one free soonest and warns on stderr", async () => {
  await using state = await inProcessState();
  twoTokens(state);
  assert.equal((await state.run(["report", "anthropic:a", "--reason", "billing"])).code, 0);
  assert.equal((await state.run(["report", "anthropic:b", "--reason", "rate_limit"])).code, 0);
  const result = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${B}\n`);
  assert.equal(
    result.stderr,
    "warning: every anthropic profile is sidelined; using anthropic:b (cooldown until 2026-01-01T00:01:00.000Z).\n",
  );
});

Deno.test("report --reason billing disables for 5 h, then 10 h; status shows disabled until that exact time", async () => {
  await using state = await inProcessState();
  twoTokens(state);
  const first = await state.run(["report", "anthropic:b", "--reason", "billing"]);
  assert.equal(first.code, 0, first.stderr);
  let status = await statusById(state);
  assert.equal(status["anthropic:b"].state, "disabled");
  assert.equal(status["anthropic:b"].disabledReason, "billing");
  assert.equal(status["anthropic:b"].disabledUntil, FAKE_NOW + 5 * HOUR);
  assert.equal(status["anthropic:b"].cooldownUntil, undefined);

  state.now = FAKE_NOW + HOUR;
  assert.equal((await state.run(["report", "anthropic:b", "--reason", "billing"])).code, 0);
  assert.equal(usage(state, "anthropic:b").disabledUntil, FAKE_NOW + HOUR + 10 * HOUR);
  state.now = FAKE_NOW + 11 * HOUR;
  status = await statusById(state);
  assert.equal(status["anthropic:b"].state, "ok");
});

Deno.test("after 24 h without a failure the error count starts over: the next cooldown is 1 min again", async () => {
  await using state = await inProcessState();
  twoTokens(state);
  for (let i = 0; i < 3; i++) {
    assert.equal((await state.run(["report", "anthropic:a", "--reason", "rate_limit"])).code, 0);
  }
  assert.equal(usage(state, "anthropic:a").errorCount, 3);
  state.now = FAKE_NOW + 24 * HOUR;
  assert.equal((await state.run(["report", "anthropic:a", "--reason", "rate_limit"])).code, 0);
  assert.equal(usage(state, "anthropic:a").errorCount, 4, "exactly 24 h later still counts");
  state.now = FAKE_NOW + 48 * HOUR + 1;
  const late = await state.run(["report", "anthropic:a", "--reason", "rate_limit"]);
  assert.equal(late.code, 0, late.stderr);
  assert.equal(usage(state, "anthropic:a").errorCount, 1);
  assert.equal(usage(state, "anthropic:a").cooldownUntil, state.now + MIN);
});

Deno.test("report --ok clears the counters, records lastUsed at the clock's time and writes lastGood[provider]", async () => {
  await using state = await inProcessState();
  twoTokens(state, {
    lastGood: { anthropic: "anthropic:b", openai: "openai:x" },
    usageStats: { "anthropic:a": { extra: "kept" } },
  });
  assert.equal((await state.run(["report", "anthropic:a", "--reason", "auth"])).code, 0);
  assert.equal((await state.run(["report", "anthropic:a", "--reason", "billing"])).code, 0);
  state.now = FAKE_NOW + 7_000;
  const ok = await state.run(["report", "anthropic:a", "--ok"]);
  assert.equal(ok.code, 0, ok.stderr);
  const status = await statusById(state);
  assert.equal(status["anthropic:a"].state, "ok");
  for (const key of ["cooldownUntil", "disabledUntil", "disabledReason", "errorCount"]) {
    assert.equal(status["anthropic:a"][key], undefined, key);
  }
  const saved = state.store();
  assert.deepEqual(saved.lastGood, { anthropic: "anthropic:a", openai: "openai:x" });
  assert.equal(usage(state, "anthropic:a").lastUsed, FAKE_NOW + 7_000);
  assert.equal(usage(state, "anthropic:a").extra, "kept");
});

Deno.test("report on an unknown profile exits 1 naming it and leaves the store byte for byte", async () => {
  await using state = await inProcessState();
  twoTokens(state);
  const before = state.storeText();
  const result = await state.run(["report", "anthropic:ghost", "--reason", "rate_limit"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^clawauth: .*anthropic:ghost/);
  assert.equal(result.stdout, "");
  assert.equal(state.storeText(), before);
});

Deno.test("report usage errors exit 64: bad --reason, both --reason and --ok, neither, no profile, two profiles", async () => {
  await using state = await inProcessState();
  twoTokens(state);
  const before = state.storeText();
  const cases = [
    ["report", "anthropic:a", "--reason", "overloaded"],
    ["report", "anthropic:a", "--reason", "rate_limit", "--ok"],
    ["report", "anthropic:a"],
    ["report", "--ok"],
    ["report", "anthropic:a", "anthropic:b", "--ok"],
  ];
  const results = [];
  for (const argv of cases) results.push(await state.run(argv));
  results.forEach((result, i) => {
    assert.equal(result.code, 64, `${cases[i].join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, /^clawauth: /);
    assert.equal(result.stdout, "");
  });
  assert.match(results[0].stderr, /rate_limit/, "the accepted reasons are listed");
  assert.equal(state.storeText(), before);
});
