/**
 * `paste-token` (SPEC §2): what it stores for each type, how it infers the
 * type, when it warns, and which pasted input it refuses.
 */

import assert from "node:assert/strict";
import { fakeSecret, type RunResult, tempState } from "../helpers.ts";

const DAY = 86_400_000;

type Entry = Record<string, unknown>;
const profile = (store: Record<string, unknown>, id: string): Entry =>
  (store.profiles as Record<string, Entry>)[id];

/** One clear sentence plus the next step, and no stack trace (SPEC §2). */
function assertCleanError(result: RunResult, code: number): void {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.ok(lines.length <= 2, result.stderr);
  assert.match(lines[0], /^clawauth: \S/);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
  assert.doesNotMatch(result.stderr, /Error:|\.ts:\d+/);
}

Deno.test("paste-token stores a setup-token as a token profile and token prints it", async () => {
  await using state = await tempState();
  const secret = fakeSecret("sk-ant-oat01-");
  const stored = await state.run(
    ["paste-token", "--provider", "anthropic", "--profile", "work"],
    { stdin: `${secret}\n` },
  );
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal(stored.stderr, "", "a matching prefix draws no warning");
  assert.deepEqual(profile(state.store(), "anthropic:work"), {
    type: "token",
    provider: "anthropic",
    token: secret,
  });
  const token = await state.run(["token", "--profile", "anthropic:work"]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${secret}\n`);
});

Deno.test("paste-token infers api_key from anthropic's sk-ant-api03- prefix", async () => {
  await using state = await tempState();
  const key = fakeSecret("sk-ant-api03-");
  const stored = await state.run(["paste-token", "--provider", "anthropic"], {
    stdin: key,
  });
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal(stored.stderr, "");
  assert.deepEqual(profile(state.store(), "anthropic:default"), {
    type: "api_key",
    provider: "anthropic",
    key,
  });
});

Deno.test("paste-token --type api-key stores a key for openai and --json describes it without the key", async () => {
  await using state = await tempState();
  const key = fakeSecret("sk-proj-");
  const stored = await state.run(
    [
      "paste-token",
      "--provider",
      "openai",
      "--profile",
      "ci",
      "--type",
      "api-key",
      "--json",
    ],
    { stdin: `${key}\n` },
  );
  assert.equal(stored.code, 0, stored.stderr);
  assert.deepEqual(JSON.parse(stored.stdout), {
    profile: "openai:ci",
    provider: "openai",
    type: "api_key",
    expires: null,
    replaced: false,
  });
  assert.deepEqual(profile(state.store(), "openai:ci"), {
    type: "api_key",
    provider: "openai",
    key,
  });
});

Deno.test("paste-token --expires-in 365d stores expires as epoch ms a year ahead", async () => {
  await using state = await tempState();
  const before = Date.now();
  const stored = await state.run(
    ["paste-token", "--provider", "anthropic", "--expires-in", "365d"],
    { stdin: fakeSecret() },
  );
  const after = Date.now();
  assert.equal(stored.code, 0, stored.stderr);
  const expires = profile(state.store(), "anthropic:default").expires;
  assert.equal(typeof expires, "number");
  assert.ok(
    (expires as number) >= before + 365 * DAY &&
      (expires as number) <= after + 365 * DAY,
    `expires ${expires} not a year after the run`,
  );
  const status = await state.run(["status", "--json"]);
  const [view] = JSON.parse(status.stdout).profiles;
  assert.equal(view.expires, expires);
  assert.equal(view.state, "ok");
});

Deno.test("paste-token --expires-in with an API key, or not a duration a Date can hold, is a usage error", async () => {
  await using state = await tempState();
  const results = await Promise.all([
    state.run(
      [
        "paste-token",
        "--provider",
        "openai",
        "--type",
        "api-key",
        "--expires-in",
        "30d",
      ],
      { stdin: fakeSecret("sk-") },
    ),
    // The type is inferred from the secret: an anthropic API key.
    state.run(
      ["paste-token", "--provider", "anthropic", "--expires-in", "30d"],
      { stdin: fakeSecret("sk-ant-api03-") },
    ),
    state.run(
      ["paste-token", "--provider", "anthropic", "--expires-in", "soon"],
      { stdin: fakeSecret() },
    ),
    // Beyond 8.64e15 ms the stored profile would be invalid at once.
    state.run(
      ["paste-token", "--provider", "anthropic", "--expires-in", "999999999999d"],
      { stdin: fakeSecret() },
    ),
  ]);
  for (const result of results) assertCleanError(result, 64);
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("paste-token warns on stderr, without the secret, when the prefix does not fit the type, and stores anyway", async () => {
  await using state = await tempState();
  const oddToken = fakeSecret("xyz-");
  const oatAsKey = fakeSecret("sk-ant-oat01-");
  const [odd, asKey, openai] = await Promise.all([
    state.run(["paste-token", "--provider", "anthropic", "--profile", "odd"], {
      stdin: oddToken,
    }),
    state.run(
      [
        "paste-token",
        "--provider",
        "anthropic",
        "--profile",
        "askey",
        "--type",
        "api-key",
      ],
      { stdin: oatAsKey },
    ),
    state.run(["paste-token", "--provider", "openai"], {
      stdin: fakeSecret("key-"),
    }),
  ]);
  for (const result of [odd, asKey, openai]) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^warning: .*/);
    assert.equal(result.stderr.trimEnd().split("\n").length, 1);
  }
  assert.match(odd.stderr, /sk-ant-oat01-/);
  assert.ok(!odd.stderr.includes(oddToken.slice(4, 20)));
  assert.match(asKey.stderr, /sk-ant-api03-/);
  assert.ok(!asKey.stderr.includes(oatAsKey.slice(13, 30)));
  assert.match(openai.stderr, /sk-/);
  const store = state.store();
  assert.equal(profile(store, "anthropic:odd").type, "token");
  assert.equal(profile(store, "anthropic:askey").type, "api_key");
  assert.equal(profile(store, "anthropic:askey").key, oatAsKey);
  assert.equal(profile(store, "openai:default").type, "api_key");
});

Deno.test("paste-token replaces a profile and says so", async () => {
  await using state = await tempState();
  const first = fakeSecret();
  const second = fakeSecret();
  const a = await state.run(
    ["paste-token", "--provider", "anthropic", "--json"],
    { stdin: first },
  );
  const b = await state.run(
    ["paste-token", "--provider", "anthropic", "--json"],
    { stdin: second },
  );
  assert.equal(JSON.parse(a.stdout).replaced, false);
  assert.equal(JSON.parse(b.stdout).replaced, true);
  assert.equal(profile(state.store(), "anthropic:default").token, second);
});

Deno.test("models auth paste-token is paste-token", async () => {
  await using state = await tempState();
  const secret = fakeSecret();
  const stored = await state.run(
    [
      "models",
      "auth",
      "paste-token",
      "--provider",
      "anthropic",
      "--profile",
      "me",
    ],
    { stdin: secret },
  );
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal(profile(state.store(), "anthropic:me").token, secret);
});

Deno.test("paste-token refuses empty, two-line, control-character and over-16-KiB input with exit 65 and stores nothing", async () => {
  await using state = await tempState();
  const inputs: Record<string, string> = {
    empty: "",
    blank: " \n",
    "two lines": `${fakeSecret()}\n${fakeSecret()}\n`,
    "control character": `${fakeSecret()}\x01rest`,
    escape: `${fakeSecret()}\x1b[2J`,
    "17 KiB": "a".repeat(17 * 1024),
    "16 KiB + 1": "a".repeat(16 * 1024 + 1),
  };
  const results = await Promise.all(
    Object.values(inputs).map((stdin) =>
      state.run(["paste-token", "--provider", "anthropic"], { stdin })
    ),
  );
  Object.keys(inputs).forEach((name, i) => {
    assertCleanError(results[i], 65);
    assert.match(results[i].stderr, /secret/, name);
  });
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("paste-token accepts a secret of exactly 16 KiB with a trailing newline", async () => {
  await using state = await tempState();
  const secret = "b".repeat(16 * 1024);
  const stored = await state.run(["paste-token", "--provider", "anthropic"], {
    stdin: `${secret}\r\n`,
  });
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal(profile(state.store(), "anthropic:default").token, secret);
});

Deno.test("paste-token refuses a secret given as an argument (exit 64, not echoed, nothing stored)", async () => {
  await using state = await tempState();
  const secret = fakeSecret();
  const results = await Promise.all([
    state.run(["paste-token", "--provider", "anthropic", secret], {
      stdin: fakeSecret(),
    }),
    state.run(["paste-token", secret, "--provider", "anthropic"]),
    state.run(["paste-token", "--provider", "anthropic", `--token=${secret}`]),
  ]);
  for (const result of results) {
    assertCleanError(result, 64);
    assert.ok(!result.stderr.includes(secret.slice(13)), result.stderr);
  }
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});

Deno.test("paste-token without --provider, or with a malformed provider or profile name, is a usage error", async () => {
  await using state = await tempState();
  const results = await Promise.all([
    state.run(["paste-token"], { stdin: fakeSecret() }),
    state.run(["paste-token", "--provider", "Anthropic!"], {
      stdin: fakeSecret(),
    }),
    state.run(["paste-token", "--provider", "anthropic", "--profile", "a b"], {
      stdin: fakeSecret(),
    }),
    state.run(
      ["paste-token", "--provider", "anthropic", "--profile", "x".repeat(129)],
      { stdin: fakeSecret() },
    ),
    state.run(["paste-token", "--provider", "anthropic", "--type", "oauth"], {
      stdin: fakeSecret(),
    }),
  ]);
  for (const result of results) assertCleanError(result, 64);
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
});
