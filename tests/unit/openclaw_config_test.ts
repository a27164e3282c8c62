/**
 * Routing reads `auth.order` from OpenClaw's `openclaw.json` whatever JSON5
 * it is written in: the common subset through the quick rewrite, the rest
 * through the json5 package; a file neither reads is a warning.
 */

import assert from "node:assert/strict";
import { storeOf, tokenProfile } from "../builders.ts";
import { inProcessState } from "../fake_context.ts";

const A = "sk-ant-oat01-aaaaaaaaaaaaaaaaaaaa";
const B = "sk-ant-oat01-bbbbbbbbbbbbbbbbbbbb";

async function routedWith(config: string) {
  await using state = await inProcessState();
  state.writeStore(storeOf({ "anthropic:a": tokenProfile(A), "anthropic:b": tokenProfile(B) }));
  state.writeFile("openclaw.json", config);
  return await state.run(["token", "--provider", "anthropic"]);
}

Deno.test("openclaw.json in everyday JSON5 orders the profiles", async () => {
  const result = await routedWith(`// mine
{ auth: { order: { anthropic: ['anthropic:b', "anthropic:a",], }, }, /* end */ }`);
  assert.equal(result.stdout, `${B}\n`, result.stderr);
  assert.equal(result.stderr, "");
});

Deno.test("openclaw.json with JSON5 beyond the everyday subset still orders the profiles", async () => {
  const result = await routedWith(`{
  gateway: { port: 0x4A3B, retries: +3, backoff: .5, max: Infinity },
  auth: { order: { anthropic: ['anthropic:b', 'anthropic:a'] } },
}`);
  assert.equal(result.stdout, `${B}\n`, result.stderr);
  assert.equal(result.stderr, "");
});

Deno.test("an openclaw.json that is not JSON5 is a warning and routing goes on", async () => {
  const result = await routedWith(`{ auth: { order: { anthropic: ['anthropic:b',, }`);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `${A}\n`, "round robin, as if there were no order");
  assert.match(
    result.stderr,
    /openclaw\.json cannot be read: .*Going on without its auth\.order\./,
  );
});
