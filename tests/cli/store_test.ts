/**
 * The files of docs/files.md: the store keeps what it does not know and is never
 * overwritten when it does not parse; auth.json follows routing; the legacy
 * oauth.json is adopted once; every file is private whatever the umask.
 */

import assert from "node:assert/strict";
import { fakeSecret, setOrder, tempState } from "../helpers.ts";
import { oauthProfile, storeOf, tokenProfile } from "../builders.ts";

const FIXTURE = Deno.readTextFileSync(
  new URL("../fixtures/store_unknown_keys.json", import.meta.url),
);

type Json = Record<string, unknown>;

function tempFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((name) => name.endsWith(".tmp"));
}

Deno.test("unknown keys at the top level, inside profiles and inside usageStats survive paste-token, order set and remove", async () => {
  await using state = await tempState();
  state.writeStore(FIXTURE);
  const fixture = JSON.parse(FIXTURE);
  const secret = fakeSecret();

  const pasted = await state.run(
    ["paste-token", "--provider", "anthropic", "--profile", "new"],
    { stdin: secret },
  );
  assert.equal(pasted.code, 0, pasted.stderr);
  const afterPaste = state.store();
  const { "anthropic:new": added, ...others } = afterPaste.profiles as Json;
  assert.deepEqual(added, {
    type: "token",
    provider: "anthropic",
    token: secret,
  });
  assert.deepEqual({ ...afterPaste, profiles: others }, fixture);

  const ordered = await setOrder(state, "anthropic", "anthropic:new", "anthropic:work");
  assert.equal(ordered.code, 0, ordered.stderr);
  const afterOrder = state.store();
  assert.deepEqual(afterOrder.order, {
    anthropic: ["anthropic:new", "anthropic:work"],
    "x-other": ["x-other:a"],
  });

  const removed = await state.run(["remove", "anthropic:new"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(state.store(), fixture);
});

Deno.test("auth.json holds, per provider, the credential routing picks, in pi's shape, and keeps providers the store never knew", async () => {
  await using state = await tempState();
  const a = fakeSecret();
  const b = fakeSecret();
  const oauth = {
    access: fakeSecret("eyJ"),
    refresh: fakeSecret("rt_"),
    expires: Date.now() + 86_400_000,
    accountId: "acct-9",
  };
  state.writeStore(storeOf({
    "anthropic:a": tokenProfile(a),
    "anthropic:b": tokenProfile(b),
    "openai-codex:default": oauthProfile(oauth),
  }));
  const foreign = { type: "api_key", key: "kept-by-pi" };
  Deno.writeTextFileSync(
    `${state.agentDir()}/auth.json`,
    JSON.stringify({ "google-gemini": foreign, anthropic: { stale: true } }),
  );
  const cache = () => JSON.parse(Deno.readTextFileSync(`${state.agentDir()}/auth.json`));

  const set = await setOrder(state, "anthropic", "anthropic:b", "anthropic:a");
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(cache(), {
    "google-gemini": foreign,
    anthropic: { type: "api_key", key: b },
    "openai-codex": { type: "oauth", ...oauth },
  });

  const removed = await state.run(["remove", "anthropic:b"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(cache().anthropic, { type: "api_key", key: a });

  await state.run(["remove", "anthropic:a"]);
  await state.run(["remove", "openai-codex:default"]);
  assert.deepEqual(cache(), { "google-gemini": foreign });
});

Deno.test("auth.json is written by the first paste-token and stores an API key as pi's api_key", async () => {
  await using state = await tempState();
  const key = fakeSecret("sk-");
  const result = await state.run(
    ["paste-token", "--provider", "openai", "--type", "api-key"],
    { stdin: key },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    JSON.parse(Deno.readTextFileSync(`${state.agentDir()}/auth.json`)),
    { openai: { type: "api_key", key } },
  );
});

Deno.test("the legacy credentials/oauth.json becomes openai-codex:default in main's store on first use and is left in place", async () => {
  await using state = await tempState();
  const legacy = {
    "openai-codex": {
      access: fakeSecret("eyJ"),
      refresh: fakeSecret("rt_"),
      expires: Date.now() + 3_600_000,
      accountId: "acct-legacy",
    },
  };
  const legacyText = JSON.stringify(legacy);
  state.writeFile("credentials/oauth.json", legacyText);
  const status = await state.run(["status", "--json"]);
  assert.equal(status.code, 0, status.stderr);
  const [view] = JSON.parse(status.stdout).profiles;
  assert.equal(view.id, "openai-codex:default");
  assert.equal(view.type, "oauth");
  assert.equal(view.state, "ok");
  assert.deepEqual(
    (state.store().profiles as Json)["openai-codex:default"],
    { ...legacy["openai-codex"], type: "oauth", provider: "openai-codex" },
  );
  assert.equal(
    Deno.readTextFileSync(`${state.dir}/credentials/oauth.json`),
    legacyText,
  );
  const token = await state.run(["token", "--provider", "openai-codex"]);
  assert.equal(token.stdout, `${legacy["openai-codex"].access}\n`);
  // Imported once: removing the profile does not bring it back.
  await state.run(["remove", "openai-codex:default"]);
  const again = await state.run(["status", "--json"]);
  assert.deepEqual(JSON.parse(again.stdout).profiles, []);
});

Deno.test("the legacy oauth.json is adopted when the first use is a write", async () => {
  await using state = await tempState();
  state.writeFile(
    "credentials/oauth.json",
    JSON.stringify({
      "openai-codex": {
        access: fakeSecret("eyJ"),
        refresh: fakeSecret("rt_"),
        expires: Date.now() + 3_600_000,
      },
    }),
  );
  const pasted = await state.run(["paste-token", "--provider", "anthropic"], {
    stdin: fakeSecret(),
  });
  assert.equal(pasted.code, 0, pasted.stderr);
  assert.deepEqual(Object.keys(state.store().profiles as Json).sort(), [
    "anthropic:default",
    "openai-codex:default",
  ]);
});

Deno.test("the legacy oauth.json does not touch an existing store nor another agent", async () => {
  await using state = await tempState();
  state.writeFile(
    "credentials/oauth.json",
    JSON.stringify({
      "openai-codex": { access: "a", refresh: "r", expires: 1 },
    }),
  );
  state.writeStore(storeOf({
    "anthropic:a": tokenProfile("t"),
  }));
  const before = state.storeText();
  const [main, work] = await Promise.all([
    state.run(["status", "--json"]),
    state.run(["status", "--json", "--agent", "work"]),
  ]);
  assert.deepEqual(
    JSON.parse(main.stdout).profiles.map((p: { id: string }) => p.id),
    ["anthropic:a"],
  );
  assert.deepEqual(JSON.parse(work.stdout).profiles, []);
  assert.equal(state.storeText(), before);
  assert.throws(
    () => Deno.statSync(`${state.agentDir("work")}/auth-profiles.json`),
    Deno.errors.NotFound,
  );
});

Deno.test("directories are created 0700 and store, auth.json and lock 0600 under umask 000", async () => {
  await using state = await tempState();
  const result = await state.run(
    ["paste-token", "--provider", "anthropic", "--agent", "work"],
    { stdin: fakeSecret(), wrap: ["sh", "-c", 'umask 000; exec "$@"', "sh"] },
  );
  assert.equal(result.code, 0, result.stderr);
  const mode = (path: string) => Deno.statSync(path).mode! & 0o777;
  for (
    const dir of [
      state.dir,
      `${state.dir}/agents`,
      `${state.dir}/agents/work`,
      state.agentDir("work"),
    ]
  ) {
    assert.equal(mode(dir).toString(8), "700", dir);
  }
  for (const file of ["auth-profiles.json", "auth.json", "auth-profiles.lock"]) {
    assert.equal(mode(`${state.agentDir("work")}/${file}`).toString(8), "600", file);
  }
  assert.deepEqual(tempFiles(state.agentDir("work")), []);
});

Deno.test("a rewrite makes a world-readable store 0600", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({}));
  Deno.chmodSync(`${state.agentDir()}/auth-profiles.json`, 0o644);
  const result = await state.run(["paste-token", "--provider", "anthropic"], {
    stdin: fakeSecret(),
    wrap: ["sh", "-c", 'umask 000; exec "$@"', "sh"],
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    Deno.statSync(`${state.agentDir()}/auth-profiles.json`).mode! & 0o777,
    0o600,
  );
});
