/**
 * Round trips of `token`, `list`, `remove`/`logout`, and the command line
 * itself: `--help` everywhere, `--version`, and usage errors (SPEC §2).
 */

import assert from "node:assert/strict";
import { COMMANDS } from "../../lib/commands/index.ts";
import { VERSION } from "../../lib/version.ts";
import { fakeSecret, tempState } from "../helpers.ts";
import { apiKeyProfile, storeOf, tokenProfile } from "../builders.ts";

const DAY = 86_400_000;

Deno.test("token --provider, --profile and --model Model@provider:profile print the chosen secret and nothing else", async () => {
  await using state = await tempState();
  const work = fakeSecret();
  const key = fakeSecret("sk-ant-api03-");
  state.writeStore(storeOf({
    "anthropic:work": tokenProfile(work),
    "anthropic:key": apiKeyProfile(key, { provider: "anthropic" }),
  }));
  const [provider, pinned, model, modelProvider] = await Promise.all([
    state.run(["token", "--provider", "anthropic"]),
    state.run(["token", "--profile", "anthropic:key"]),
    state.run(["token", "--model", "Opus@anthropic:key"]),
    state.run(["token", "--model", "opus@anthropic"]),
  ]);
  // Round robin puts tokens before API keys.
  assert.deepEqual(provider, { code: 0, stdout: `${work}\n`, stderr: "" });
  assert.deepEqual(pinned, { code: 0, stdout: `${key}\n`, stderr: "" });
  assert.deepEqual(model, { code: 0, stdout: `${key}\n`, stderr: "" });
  assert.deepEqual(modelProvider, { code: 0, stdout: `${work}\n`, stderr: "" });
});

Deno.test("token --json prints profile, provider, type, token, expires and the model", async () => {
  await using state = await tempState();
  const secret = fakeSecret();
  const expires = Date.now() + 30 * DAY;
  state.writeStore(storeOf({
    "anthropic:work": tokenProfile(secret, { expires }),
  }));
  const result = await state.run([
    "token",
    "--model",
    "Opus@anthropic:work",
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    profile: "anthropic:work",
    provider: "anthropic",
    type: "token",
    token: secret,
    expires,
    model: "Opus",
  });
});

Deno.test("token with no credential exits 77 naming the command to run", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:old": tokenProfile(fakeSecret(), { expires: Date.now() - DAY }),
  }));
  const [none, expired, missing] = await Promise.all([
    state.run(["token", "--provider", "openai"]),
    state.run(["token", "--provider", "anthropic"]),
    state.run(["token", "--profile", "anthropic:nope"]),
  ]);
  for (const result of [none, expired, missing]) {
    assert.equal(result.code, 77, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /clawauth [a-z-]+ --provider/);
  }
  assert.match(none.stderr, /paste-token --provider openai/);
  assert.match(expired.stderr, /anthropic:old/);
});

Deno.test("token refuses a profile of another provider and a model spec without a provider (exit 64)", async () => {
  await using state = await tempState();
  const results = await Promise.all([
    state.run(["token", "--provider", "openai", "--profile", "anthropic:a"]),
    state.run(["token", "--model", "opus"]),
    state.run(["token", "--min-valid", "soon", "--provider", "anthropic"]),
  ]);
  for (const result of results) assert.equal(result.code, 64, result.stderr);
});

Deno.test("list and list --json show every profile without secrets", async () => {
  await using state = await tempState();
  const token = fakeSecret();
  const key = fakeSecret("sk-");
  state.writeStore(storeOf({
    "anthropic:work": tokenProfile(token, { email: "w@example.com" }),
    "openai:ci": apiKeyProfile(key),
  }));
  const [human, json, only] = await Promise.all([
    state.run(["list"]),
    state.run(["list", "--json"]),
    state.run(["list", "--json", "--provider", "openai"]),
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^anthropic:work\s+token\s+.*w@example\.com$/m);
  assert.match(human.stdout, /^openai:ci\s+api_key\b/m);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.agent, "main");
  assert.deepEqual(parsed.profiles.map((p: { id: string }) => p.id), [
    "anthropic:work",
    "openai:ci",
  ]);
  assert.equal(parsed.profiles[0].email, "w@example.com");
  assert.equal(parsed.profiles[1].type, "api_key");
  assert.deepEqual(
    JSON.parse(only.stdout).profiles.map((p: { id: string }) => p.id),
    ["openai:ci"],
  );
  for (const out of [human.stdout, json.stdout]) {
    assert.ok(!out.includes(token.slice(13)) && !out.includes(key.slice(3)));
  }
});

Deno.test("remove deletes a profile and its order, lastGood and usageStats entries; logout is the same command", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:work": tokenProfile(),
    "anthropic:home": tokenProfile(),
    "openai:ci": apiKeyProfile(fakeSecret()),
  }, {
    order: {
      anthropic: ["anthropic:work", "anthropic:home"],
      openai: ["openai:ci"],
    },
    lastGood: { anthropic: "anthropic:work", openai: "openai:ci" },
    usageStats: {
      "anthropic:work": { lastUsed: 5, errorCount: 2 },
      "anthropic:home": { lastUsed: 7 },
    },
  }));
  const removed = await state.run(["remove", "anthropic:work"]);
  assert.equal(removed.code, 0, removed.stderr);
  let store = state.store();
  assert.deepEqual(Object.keys(store.profiles as object), [
    "anthropic:home",
    "openai:ci",
  ]);
  assert.deepEqual(store.order, {
    anthropic: ["anthropic:home"],
    openai: ["openai:ci"],
  });
  assert.deepEqual(store.lastGood, { openai: "openai:ci" });
  assert.deepEqual(store.usageStats, { "anthropic:home": { lastUsed: 7 } });

  const loggedOut = await state.run(["logout", "anthropic:home"]);
  assert.equal(loggedOut.code, 0, loggedOut.stderr);
  store = state.store();
  assert.deepEqual(Object.keys(store.profiles as object), ["openai:ci"]);
  assert.equal(
    (store.order as Record<string, unknown>).anthropic,
    undefined,
    "an emptied order no longer pins the provider",
  );
  assert.deepEqual(store.usageStats, {});
});

Deno.test("remove of an unknown profile exits 1 and leaves the store as it was; remove without an id is a usage error", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:a": tokenProfile("t"),
  }));
  const before = state.storeText();
  const [unknown, none, two] = await Promise.all([
    state.run(["remove", "anthropic:b"]),
    state.run(["remove"]),
    state.run(["logout", "anthropic:a", "anthropic:b"]),
  ]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /anthropic:b/);
  assert.equal(none.code, 64);
  assert.equal(two.code, 64);
  assert.equal(state.storeText(), before);
});

Deno.test("--help on every command and alias prints its usage and exits 0", async () => {
  await using state = await tempState();
  const lines = [
    ...Object.keys(COMMANDS).map((name) => [name]),
    ["logout"],
    ["models", "status"],
    ["models", "auth", "paste-token"],
    ["models", "auth", "order"],
  ];
  const results = await Promise.all(
    lines.flatMap((words) => [
      state.run([...words, "--help"]),
      state.run([...words, "-h"]),
    ]),
  );
  results.forEach((result, i) => {
    const words = lines[Math.floor(i / 2)].join(" ");
    assert.equal(result.code, 0, `${words}: ${result.stderr}`);
    assert.match(result.stdout, /^Usage: clawauth /, words);
    assert.equal(result.stderr, "", words);
  });
  assert.throws(() => state.storeText(), Deno.errors.NotFound);
  const [top, help] = await Promise.all([
    state.run(["--help"]),
    state.run(["help"]),
  ]);
  for (const result of [top, help]) {
    assert.equal(result.code, 0);
    for (const name of Object.keys(COMMANDS)) {
      assert.match(result.stdout, new RegExp(`^  ${name} `, "m"));
    }
  }
});

Deno.test("--version prints the version and the build target and exits 0", async () => {
  await using state = await tempState();
  const result = await state.run(["--version"]);
  assert.deepEqual(result, {
    code: 0,
    stdout: `clawauth ${VERSION} (${Deno.build.target})\n`,
    stderr: "",
  });
});

Deno.test("an unknown command or flag, or a flag without its value, exits 64 with one error and a pointer to --help", async () => {
  await using state = await tempState();
  const results = await Promise.all([
    state.run(["frobnicate"]),
    state.run(["models", "frobnicate"]),
    state.run(["status", "--bogus"]),
    state.run(["list", "-x"]),
    state.run(["status", "--provider"]),
    state.run(["status", "--check=yes"]),
    state.run(["token", "--provider"]),
  ]);
  for (const result of results) {
    assert.equal(result.code, 64, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^clawauth: .+\n.*--help/);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  }
  assert.match(results[2].stderr, /--bogus/);
});
