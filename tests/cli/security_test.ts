/**
 * Secrets appear only on the stdout of `token` (docs/commands.md): never in the
 * output, human or `--json`, of any other command, nor in any error.
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks, type RunResult, setOrder, tempState } from "../helpers.ts";
import { oauthProfile, storeOf } from "../builders.ts";

function assertNoLeak(
  label: string,
  result: RunResult,
  secrets: [string, string][],
): void {
  for (const [secret, prefix] of secrets) {
    for (const [stream, text] of Object.entries(result)) {
      if (typeof text !== "string") continue;
      assert.ok(
        !leaks(text, secret, prefix),
        `${label}: ${stream} shows part of ${prefix}…:\n${text}`,
      );
    }
  }
}

Deno.test("a secret given on stdin never appears in the output of paste-token, status, list, order or agents list", async () => {
  await using state = await tempState();
  const token = fakeSecret("sk-ant-oat01-");
  const key = fakeSecret("sk-");
  const odd = fakeSecret("odd-");
  const secrets: [string, string][] = [
    [token, "sk-ant-oat01-"],
    [key, "sk-"],
    [odd, "odd-"],
  ];
  const pasted = await Promise.all([
    state.run(
      ["paste-token", "--provider", "anthropic", "--profile", "work"],
      { stdin: `${token}\n` },
    ),
    state.run(
      ["paste-token", "--provider", "openai", "--type", "api-key", "--json"],
      { stdin: key },
    ),
    // A prefix warning talks about the secret: it must not quote it.
    state.run(
      [
        "paste-token",
        "--provider",
        "anthropic",
        "--profile",
        "odd",
        "--expires-in",
        "2h",
        "--json",
      ],
      { stdin: odd },
    ),
  ]);
  pasted.forEach((result, i) => {
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(`paste-token #${i}`, result, secrets);
  });
  const set = await setOrder(state, "anthropic", "anthropic:odd", "anthropic:work");
  assertNoLeak("order set", set, secrets);
  const commands = [
    ["status"],
    ["status", "--json"],
    ["status", "--check"],
    ["models", "status", "--json"],
    ["list"],
    ["list", "--json"],
    ["order", "get"],
    ["order", "get", "--json"],
    ["agents", "list"],
    ["agents", "list", "--json"],
  ];
  const results = await Promise.all(commands.map((args) => state.run(args)));
  results.forEach((result, i) => {
    assert.ok(result.code === 0 || result.code === 2, result.stderr);
    assert.notEqual(result.stdout, "");
    assertNoLeak(commands[i].join(" "), result, secrets);
  });
  const removed = await state.run(["remove", "anthropic:work"]);
  assertNoLeak("remove", removed, secrets);
});

Deno.test("OAuth access and refresh tokens never appear in status, list or their --json", async () => {
  await using state = await tempState();
  const access = fakeSecret("eyJ");
  const refresh = fakeSecret("rt_");
  state.writeStore(storeOf({
    "openai-codex:me@example.com": oauthProfile({
      access,
      refresh,
      expires: Date.now() - 1000,
      accountId: "acct-1",
      email: "me@example.com",
    }),
  }, {
    usageStats: {
      "openai-codex:me@example.com": { cooldownUntil: Date.now() + 60_000 },
    },
  }));
  const commands = [
    ["status"],
    ["status", "--json"],
    ["list"],
    ["list", "--json"],
  ];
  const results = await Promise.all(commands.map((args) => state.run(args)));
  results.forEach((result, i) => {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /me@example\.com/);
    assertNoLeak(commands[i].join(" "), result, [
      [access, "eyJ"],
      [refresh, "rt_"],
    ]);
  });
});

Deno.test("refused pasted input is never echoed in the error", async () => {
  await using state = await tempState();
  const first = fakeSecret();
  const second = fakeSecret();
  const inputs = [
    `${first}\n${second}\n`,
    `${first}\x07${second}`,
    `${first}${"x".repeat(17 * 1024)}`,
  ];
  const results = await Promise.all(
    inputs.map((stdin) => state.run(["paste-token", "--provider", "anthropic"], { stdin })),
  );
  results.forEach((result, i) => {
    assert.equal(result.code, 65, result.stderr);
    assertNoLeak(`input #${i}`, result, [
      [first, "sk-ant-oat01-"],
      [second, "sk-ant-oat01-"],
    ]);
  });
});

Deno.test("a store that does not parse is reported without quoting the secrets in it", async () => {
  await using state = await tempState();
  const token = fakeSecret();
  // V8 quotes the text around an unexpected token in its parse error.
  const text =
    `{"version": 1, "profiles": {"anthropic:a": {"type": "token", "token": "${token}" x}}}`;
  state.writeStore(text);
  const results = await Promise.all([
    state.run(["status"]),
    state.run(["paste-token", "--provider", "anthropic"], {
      stdin: fakeSecret(),
    }),
  ]);
  for (const result of results) {
    assert.equal(result.code, 65, result.stderr);
    assertNoLeak("malformed store", result, [[token, "sk-ant-oat01-"]]);
  }
});
