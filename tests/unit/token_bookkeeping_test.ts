/**
 * What `token` writes: round robin's `lastUsed` only when the next choice
 * depends on it (or when the recorded value is a minute old), so a caller
 * that asks for the same profile again and again reads and never writes.
 */

import assert from "node:assert/strict";
import { apiKeyProfile, storeOf, tokenProfile } from "../builders.ts";
import { inProcessState } from "../fake_context.ts";

type Usage = Record<string, { lastUsed?: number }>;

Deno.test("a pinned profile asked for again within a minute is not written again; after a minute it is", async () => {
  await using state = await inProcessState();
  state.writeStore(storeOf({
    "anthropic:a": tokenProfile("sk-ant-oat01-aaaaaaaaaaaaaaaaaaaa"),
    "anthropic:b": tokenProfile("sk-ant-oat01-bbbbbbbbbbbbbbbbbbbb"),
  }));
  const first = await state.run(["token", "--profile", "anthropic:a"]);
  assert.equal(first.code, 0, first.stderr);
  const recorded = state.storeText();
  assert.equal((JSON.parse(recorded).usageStats as Usage)["anthropic:a"].lastUsed, state.now);

  state.now += 59_000;
  const again = await state.run(["token", "--profile", "anthropic:a"]);
  assert.equal(again.stdout, "sk-ant-oat01-aaaaaaaaaaaaaaaaaaaa\n");
  assert.equal(state.storeText(), recorded, "already the most recent of its provider: no write");

  state.now += 2_000;
  await state.run(["token", "--profile", "anthropic:a"]);
  assert.equal((state.store().usageStats as Usage)["anthropic:a"].lastUsed, state.now);
});

Deno.test("round robin still records every use, so successive calls alternate", async () => {
  await using state = await inProcessState();
  state.writeStore(storeOf({
    "openai:one": apiKeyProfile("sk-one-1111111111111111"),
    "openai:two": apiKeyProfile("sk-two-2222222222222222"),
  }));
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    state.now += 1_000;
    const result = await state.run(["token", "--provider", "openai"]);
    assert.equal(result.code, 0, result.stderr);
    seen.push(result.stdout.trim());
  }
  assert.deepEqual(seen, [
    "sk-one-1111111111111111",
    "sk-two-2222222222222222",
    "sk-one-1111111111111111",
    "sk-two-2222222222222222",
  ]);
});

Deno.test("a pinned use of a profile that is not the most recent is recorded at once", async () => {
  await using state = await inProcessState();
  state.writeStore(storeOf({
    "openai:one": apiKeyProfile("sk-one-1111111111111111"),
    "openai:two": apiKeyProfile("sk-two-2222222222222222"),
  }, {
    usageStats: {
      "openai:one": { lastUsed: state.now - 5_000 },
      "openai:two": { lastUsed: state.now - 1_000 },
    },
  }));
  await state.run(["token", "--profile", "openai:one"]);
  assert.equal((state.store().usageStats as Usage)["openai:one"].lastUsed, state.now);
  const next = await state.run(["token", "--provider", "openai"]);
  assert.equal(
    next.stdout,
    "sk-two-2222222222222222\n",
    "round robin moves on from the one just used",
  );
});

Deno.test("a provider with one profile is never written by token", async () => {
  await using state = await inProcessState();
  state.writeStore(storeOf({ "openai:only": apiKeyProfile("sk-only-333333333333333") }));
  const before = state.storeText();
  for (let i = 0; i < 2; i++) {
    state.now += 120_000;
    assert.equal((await state.run(["token", "--provider", "openai"])).code, 0);
  }
  assert.equal(state.storeText(), before);
});
