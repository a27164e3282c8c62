/**
 * What `token` on a valid credential loads and writes (the hot path):
 * no npm package for the layouts users have (the JSON store, OpenClaw's
 * everyday JSON5 `openclaw.json`), and no store write when the same profile
 * is asked for again.
 */

import assert from "node:assert/strict";
import { storeOf, tokenProfile } from "../builders.ts";
import { fakeSecret, NO_NPM, tempState } from "../helpers.ts";

const EVERYDAY_JSON5 = `// OpenClaw's config, as its docs write it
{
  auth: { order: { anthropic: ['anthropic:b', "anthropic:a",], }, },
  agents: { defaults: { model: "anthropic/claude-opus-4" } }, /* the rest */
}
`;

Deno.test("token loads no npm package with a JSON5 openclaw.json, pinned or routed, and does not write again", async () => {
  await using state = await tempState();
  const [a, b] = [fakeSecret(), fakeSecret()];
  state.writeStore(storeOf({ "anthropic:a": tokenProfile(a), "anthropic:b": tokenProfile(b) }));
  state.writeFile("openclaw.json", EVERYDAY_JSON5);
  const routed = ["token", "--provider", "anthropic"];
  const first = await state.run(routed, { wrap: NO_NPM });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `${b}\n`, "openclaw.json's order was read");
  const written = Deno.statSync(`${state.agentDir()}/auth-profiles.json`);
  for (const args of [routed, ["token", "--profile", "anthropic:b"]]) {
    const again = await state.run(args, { wrap: NO_NPM });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `${b}\n`);
  }
  const after = Deno.statSync(`${state.agentDir()}/auth-profiles.json`);
  assert.deepEqual([after.ino, after.mtime], [written.ino, written.mtime], "no rewrite");
});

Deno.test("the no-npm run does catch a package: JSON5 beyond the everyday subset needs json5", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({ "anthropic:a": tokenProfile(), "anthropic:b": tokenProfile() }));
  state.writeFile(
    "openclaw.json",
    "{ auth: { order: { anthropic: ['anthropic:b'] } }, port: 0x1F }",
  );
  const blocked = await state.run(["token", "--provider", "anthropic"], { wrap: NO_NPM });
  assert.notEqual(blocked.code, 0, "loading json5 under --no-npm fails the run");
  assert.match(blocked.stderr, /--no-npm/);
  const allowed = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(allowed.code, 0, allowed.stderr);
});
