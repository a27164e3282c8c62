/**
 * `paste-token` (docs/commands.md) in-process: the secret comes from the fake stdin,
 * `--expires-in` lands at an exact time on the fixed clock, and unusable
 * input is exit 65 (bad data) or 64 (usage), storing nothing.
 */

import assert from "node:assert/strict";
import { FAKE_NOW, inProcessState, type MainResult } from "../fake_context.ts";

const DAY = 86_400_000;
const SETUP_TOKEN = `sk-ant-oat01-${"s".repeat(48)}`;

type Json = Record<string, unknown>;

/** One clear sentence plus the next step, nothing on stdout, no stack trace (docs/commands.md). */
function assertCleanError(result: MainResult, code: number, what = ""): void {
  assert.equal(result.code, code, `${what}: ${result.stderr}`);
  assert.equal(result.stdout, "", what);
  const lines = result.stderr.trimEnd().split("\n");
  assert.ok(lines.length <= 2, result.stderr);
  assert.match(lines[0], /^clawauth: \S/, what);
  assert.doesNotMatch(result.stderr, /^\s+at |Error:|\.ts:\d+/m, what);
}

Deno.test("paste-token reads the secret from stdin, stores a token profile and never prints it; token then prints it", async () => {
  await using state = await inProcessState();
  const stored = await state.run(["paste-token", "--provider", "anthropic", "--profile", "work"], {
    stdin: `${SETUP_TOKEN}\n`,
  });
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal(stored.stdout, "Stored anthropic:work (token) in agent main.\n");
  assert.equal(stored.stderr, "", "a matching prefix draws no warning");
  assert.deepEqual((state.store().profiles as Json)["anthropic:work"], {
    type: "token",
    provider: "anthropic",
    token: SETUP_TOKEN,
  });
  const token = await state.run(["token", "--profile", "anthropic:work"]);
  assert.deepEqual([token.code, token.stdout, token.stderr], [0, `${SETUP_TOKEN}\n`, ""]);
});

Deno.test("paste-token --expires-in 365d stores expires exactly a year after the clock's now", async () => {
  await using state = await inProcessState();
  const stored = await state.run(
    ["paste-token", "--provider", "anthropic", "--expires-in", "365d"],
    {
      stdin: SETUP_TOKEN,
    },
  );
  assert.equal(stored.code, 0, stored.stderr);
  const expires = (state.store().profiles as Record<string, Json>)["anthropic:default"].expires;
  assert.equal(expires, FAKE_NOW + 365 * DAY);
  const status = await state.run(["status", "--json"]);
  const [view] = JSON.parse(status.stdout).profiles;
  assert.deepEqual([view.state, view.expiresInMs], ["ok", 365 * DAY]);
});

Deno.test("paste-token --json describes the stored profile without the secret and says when it replaced one", async () => {
  await using state = await inProcessState();
  const key = `sk-proj-${"k".repeat(48)}`;
  const argv = [
    "paste-token",
    "--provider",
    "openai",
    "--profile",
    "ci",
    "--type",
    "api-key",
    "--json",
  ];
  const first = await state.run(argv, { stdin: `${key}\n` });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), {
    profile: "openai:ci",
    provider: "openai",
    type: "api_key",
    expires: null,
    replaced: false,
  });
  assert.ok(!first.stdout.includes("k".repeat(20)), "no secret on stdout");
  const second = await state.run(argv, { stdin: `sk-proj-${"n".repeat(48)}` });
  assert.equal(JSON.parse(second.stdout).replaced, true);
  assert.equal(
    (state.store().profiles as Record<string, Json>)["openai:ci"].key,
    `sk-proj-${"n".repeat(48)}`,
  );
});

Deno.test("paste-token infers api_key from anthropic's sk-ant-api03- prefix", async () => {
  await using state = await inProcessState();
  const key = `sk-ant-api03-${"k".repeat(48)}`;
  const stored = await state.run(["paste-token", "--provider", "anthropic"], { stdin: key });
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal(stored.stderr, "");
  assert.deepEqual((state.store().profiles as Json)["anthropic:default"], {
    type: "api_key",
    provider: "anthropic",
    key,
  });
});

Deno.test("paste-token refuses empty, blank, two-line, control-character and over-16-KiB stdin with exit 65 and stores nothing", async () => {
  await using state = await inProcessState();
  const inputs: Record<string, string> = {
    empty: "",
    blank: " \n",
    "two lines": `${SETUP_TOKEN}\n${SETUP_TOKEN}\n`,
    "control character": `${SETUP_TOKEN}\x01rest`,
    escape: `${SETUP_TOKEN}\x1b[2J`,
    "16 KiB + 1": "a".repeat(16 * 1024 + 1),
  };
  for (const [name, stdin] of Object.entries(inputs)) {
    const result = await state.run(["paste-token", "--provider", "anthropic"], { stdin });
    assertCleanError(result, 65, name);
    assert.match(result.stderr, /secret/, name);
  }
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("paste-token accepts a secret of exactly 16 KiB ending in CRLF", async () => {
  await using state = await inProcessState();
  const secret = "b".repeat(16 * 1024);
  const stored = await state.run(["paste-token", "--provider", "anthropic"], {
    stdin: `${secret}\r\n`,
  });
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal((state.store().profiles as Record<string, Json>)["anthropic:default"].token, secret);
});

Deno.test("paste-token refuses a secret given as an argument (exit 64) without echoing it, and stores nothing", async () => {
  await using state = await inProcessState();
  const cases = [
    ["paste-token", "--provider", "anthropic", SETUP_TOKEN],
    ["paste-token", SETUP_TOKEN, "--provider", "anthropic"],
    ["paste-token", "--provider", "anthropic", `--token=${SETUP_TOKEN}`],
  ];
  for (const argv of cases) {
    const result = await state.run(argv, { stdin: `sk-ant-oat01-${"x".repeat(48)}` });
    assertCleanError(result, 64, argv[1]);
    assert.ok(!result.stderr.includes("s".repeat(9)), result.stderr);
  }
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("paste-token usage errors exit 64: no --provider, malformed names, --type oauth, --expires-in on an API key", async () => {
  await using state = await inProcessState();
  const cases: [string[], string][] = [
    [["paste-token"], SETUP_TOKEN],
    [["paste-token", "--provider", "Anthropic!"], SETUP_TOKEN],
    [["paste-token", "--provider", "anthropic", "--profile", "a b"], SETUP_TOKEN],
    [["paste-token", "--provider", "anthropic", "--profile", "x".repeat(129)], SETUP_TOKEN],
    [["paste-token", "--provider", "anthropic", "--type", "oauth"], SETUP_TOKEN],
    [["paste-token", "--provider", "openai", "--type", "api-key", "--expires-in", "30d"], "sk-x"],
    [
      ["paste-token", "--provider", "anthropic", "--expires-in", "30d"],
      `sk-ant-api03-${"k".repeat(48)}`,
    ],
    [["paste-token", "--provider", "anthropic", "--expires-in", "soon"], SETUP_TOKEN],
    // Beyond 8.64e15 ms the stored profile would be invalid at once.
    [["paste-token", "--provider", "anthropic", "--expires-in", "999999999999d"], SETUP_TOKEN],
  ];
  for (const [argv, stdin] of cases) {
    assertCleanError(await state.run(argv, { stdin }), 64, argv.join(" "));
  }
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("paste-token warns on stderr in one line, without the secret, when the prefix does not fit the type, and stores anyway", async () => {
  await using state = await inProcessState();
  const odd = `xyz-${"o".repeat(48)}`;
  const result = await state.run(["paste-token", "--provider", "anthropic", "--profile", "odd"], {
    stdin: odd,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^warning: .*sk-ant-oat01-.*\n$/);
  assert.ok(!result.stderr.includes("o".repeat(9)), result.stderr);
  const asKey = await state.run(
    ["paste-token", "--provider", "anthropic", "--profile", "askey", "--type", "api-key"],
    { stdin: SETUP_TOKEN },
  );
  assert.match(asKey.stderr, /^warning: .*sk-ant-api03-.*\n$/);
  const profiles = state.store().profiles as Record<string, Json>;
  assert.deepEqual([profiles["anthropic:odd"].type, profiles["anthropic:odd"].token], [
    "token",
    odd,
  ]);
  assert.deepEqual([profiles["anthropic:askey"].type, profiles["anthropic:askey"].key], [
    "api_key",
    SETUP_TOKEN,
  ]);
});

Deno.test("models auth paste-token is paste-token", async () => {
  await using state = await inProcessState();
  const stored = await state.run(
    ["models", "auth", "paste-token", "--provider", "anthropic", "--profile", "me"],
    { stdin: SETUP_TOKEN },
  );
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal((state.store().profiles as Record<string, Json>)["anthropic:me"].token, SETUP_TOKEN);
});
