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

Deno.test("global flags may come before the command: clawauth --agent ID COMMAND", async () => {
  await using state = await tempState();
  const secret = "sk-proj-" + "z".repeat(40);
  const stored = await state.run(["--agent", "ci", "paste-token", "--provider", "openai"], {
    stdin: secret,
  });
  assert.equal(stored.code, 0, stored.stderr);
  assert.match(stored.stdout, /agent ci/);
  const token = await state.run([
    `--state-dir=${state.dir}`,
    "--agent",
    "ci",
    "token",
    "--provider",
    "openai",
  ]);
  assert.equal(token.stdout, `${secret}\n`);
});
