import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";

Deno.test("paste-token then token prints exactly the secret", async () => {
  await using state = await tempState();
  const secret = "sk-ant-oat01-" + "a".repeat(40);
  const stored = await state.run([
    "paste-token",
    "--provider",
    "anthropic",
    "--profile",
    "work",
  ], {
    stdin: `${secret}\n`,
  });
  assert.equal(stored.code, 0, stored.stderr);
  assert.ok(!stored.stdout.includes(secret));
  const token = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${secret}\n`);
});
