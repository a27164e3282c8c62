/**
 * `order get|set|clear` (and OpenClaw's `models auth order …`), OpenClaw's
 * `auth.order` from a JSON5 `openclaw.json`, and `agents add|list|remove`
 * (docs/commands.md, docs/routing.md).
 */

import assert from "node:assert/strict";
import { fakeSecret, setOrder, tempState } from "../helpers.ts";
import { storeOf, tokenProfile } from "../builders.ts";

const OPENCLAW_JSON5 = Deno.readTextFileSync(
  new URL("../fixtures/openclaw.json5", import.meta.url),
);

function twoAnthropic(): { a: string; b: string; store: unknown } {
  const a = fakeSecret();
  const b = fakeSecret();
  return {
    a,
    b,
    store: storeOf({
      "anthropic:a": tokenProfile(a),
      "anthropic:b": tokenProfile(b),
    }),
  };
}

Deno.test("order set changes which profile token picks; order get shows it; order clear returns to round robin", async () => {
  await using state = await tempState();
  const { a, b, store } = twoAnthropic();
  state.writeStore(store);
  const first = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(first.stdout, `${a}\n`, "round robin: least recently used, then id");

  const set = await setOrder(state, "anthropic", "anthropic:b", "anthropic:a");
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(state.store().order as Record<string, unknown>, {
    anthropic: ["anthropic:b", "anthropic:a"],
  });
  const [token, get, json] = await Promise.all([
    state.run(["token", "--provider", "anthropic"]),
    state.run(["order", "get", "--provider", "anthropic"]),
    state.run(["order", "get", "--json"]),
  ]);
  assert.equal(token.stdout, `${b}\n`);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /^anthropic: anthropic:b, anthropic:a$/m);
  assert.deepEqual(JSON.parse(json.stdout), {
    order: { anthropic: ["anthropic:b", "anthropic:a"] },
    source: { anthropic: "store" },
  });

  const clear = await state.run(["order", "clear", "--provider", "anthropic"]);
  assert.equal(clear.code, 0, clear.stderr);
  assert.deepEqual(state.store().order, {});
  const [after, empty] = await Promise.all([
    state.run(["token", "--provider", "anthropic"]),
    state.run(["order", "get", "--json"]),
  ]);
  assert.equal(after.stdout, `${a}\n`);
  assert.deepEqual(JSON.parse(empty.stdout), { order: {}, source: {} });
});

Deno.test("a profile left out of a set order is not used for that provider", async () => {
  await using state = await tempState();
  const { b, store } = twoAnthropic();
  state.writeStore({ ...(store as object), order: { anthropic: ["anthropic:b"] } });
  const [provider, pinned] = await Promise.all([
    state.run(["token", "--provider", "anthropic"]),
    state.run(["token", "--profile", "anthropic:a"]),
  ]);
  assert.equal(provider.stdout, `${b}\n`);
  assert.equal(pinned.code, 0, "an explicit profile is still served");
  state.writeStore({
    ...(store as object),
    order: { anthropic: ["anthropic:b"] },
    usageStats: { "anthropic:b": { lastUsed: 1 } },
    profiles: {
      ...(store as { profiles: object }).profiles,
      "anthropic:b": tokenProfile(b, { expires: Date.now() - 1000 }),
    },
  });
  const none = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(none.code, 77, "the excluded profile does not stand in");
  assert.match(none.stderr, /anthropic:a excluded_by_auth_order/);
});

Deno.test("models auth order get|set|clear is order get|set|clear", async () => {
  await using state = await tempState();
  state.writeStore(twoAnthropic().store);
  const set = await state.run([
    "models",
    "auth",
    "order",
    "set",
    "--provider",
    "anthropic",
    "anthropic:b",
  ]);
  assert.equal(set.code, 0, set.stderr);
  const get = await state.run(["models", "auth", "order", "get", "--json"]);
  assert.deepEqual(JSON.parse(get.stdout).order, {
    anthropic: ["anthropic:b"],
  });
  const clear = await state.run([
    "models",
    "auth",
    "order",
    "clear",
    "--provider",
    "anthropic",
  ]);
  assert.equal(clear.code, 0, clear.stderr);
  assert.deepEqual(state.store().order, {});
});

Deno.test("order set refuses unknown or foreign profiles and a missing --provider, and leaves the store alone", async () => {
  await using state = await tempState();
  state.writeStore(twoAnthropic().store);
  const before = state.storeText();
  const [unknown, foreign, noProvider, noIds, badAction] = await Promise.all([
    state.run(["order", "set", "--provider", "anthropic", "anthropic:zzz"]),
    state.run(["order", "set", "--provider", "anthropic", "openai:a"]),
    state.run(["order", "set", "anthropic:a"]),
    state.run(["order", "set", "--provider", "anthropic"]),
    state.run(["order", "shuffle", "--provider", "anthropic"]),
  ]);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /anthropic:zzz/);
  for (const result of [foreign, noProvider, noIds, badAction]) {
    assert.equal(result.code, 64, result.stderr);
  }
  assert.equal(state.storeText(), before);
});

Deno.test("openclaw.json (JSON5) auth.order is honoured by token --provider and shown by order get", async () => {
  await using state = await tempState();
  const { b, store } = twoAnthropic();
  state.writeStore(store);
  state.writeFile("openclaw.json", OPENCLAW_JSON5);
  const [token, get, json, status] = await Promise.all([
    state.run(["token", "--provider", "anthropic"]),
    state.run(["order", "get"]),
    state.run(["order", "get", "--json"]),
    state.run(["status", "--json"]),
  ]);
  assert.deepEqual(token, { code: 0, stdout: `${b}\n`, stderr: "" });
  assert.match(get.stdout, /^anthropic: anthropic:b, anthropic:a\b.*openclaw/m);
  assert.deepEqual(JSON.parse(json.stdout), {
    order: { anthropic: ["anthropic:b", "anthropic:a"] },
    source: { anthropic: "openclaw" },
  });
  assert.deepEqual(JSON.parse(status.stdout).order, {
    anthropic: ["anthropic:b", "anthropic:a"],
  });
  assert.equal(
    Deno.readTextFileSync(`${state.dir}/openclaw.json`),
    OPENCLAW_JSON5,
  );
});

Deno.test("the agent's own order beats openclaw.json's auth.order", async () => {
  await using state = await tempState();
  const { a, store } = twoAnthropic();
  state.writeStore({
    ...(store as object),
    order: { anthropic: ["anthropic:a", "anthropic:b"] },
  });
  state.writeFile("openclaw.json", OPENCLAW_JSON5);
  const [token, json] = await Promise.all([
    state.run(["token", "--provider", "anthropic"]),
    state.run(["order", "get", "--json"]),
  ]);
  assert.equal(token.stdout, `${a}\n`);
  assert.deepEqual(JSON.parse(json.stdout).source, { anthropic: "store" });
});

Deno.test("a malformed openclaw.json is a warning naming the file; routing goes on without auth.order", async () => {
  await using state = await tempState();
  const { a, b, store } = twoAnthropic();
  state.writeStore(store);
  state.writeFile("openclaw.json", "{ auth: { order: ");
  const result = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok([`${a}\n`, `${b}\n`].includes(result.stdout));
  assert.ok(result.stderr.includes(`${state.dir}/openclaw.json`));
  assert.match(result.stderr, /^warning: /);
});

Deno.test("agents add creates a separate store, agents list --json shows it, agents remove deletes it", async () => {
  await using state = await tempState();
  const added = await state.run(["agents", "add", "work"]);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(state.store("work"), storeOf({}));
  const secret = fakeSecret();
  const [pasted, again] = await Promise.all([
    state.run(["paste-token", "--provider", "anthropic", "--agent", "work"], {
      stdin: secret,
    }),
    state.run(["agents", "add", "work"]),
  ]);
  assert.equal(pasted.code, 0, pasted.stderr);
  assert.equal(again.code, 1, "adding an existing agent fails");
  assert.throws(() => state.storeText("main"), Deno.errors.NotFound);
  await state.run(["paste-token", "--provider", "openai"], {
    stdin: fakeSecret("sk-"),
  });

  const [list, human] = await Promise.all([
    state.run(["agents", "list", "--json", "--agent", "work"]),
    state.run(["agents", "list"]),
  ]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), {
    stateDir: state.dir,
    agents: [
      {
        id: "main",
        dir: state.agentDir("main"),
        profiles: 1,
        current: false,
      },
      { id: "work", dir: state.agentDir("work"), profiles: 1, current: true },
    ],
  });
  assert.match(human.stdout, /^main \*/m);
  assert.match(human.stdout, /^work\s/m);

  const removed = await state.run(["agents", "remove", "work"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.throws(
    () => Deno.statSync(`${state.dir}/agents/work`),
    Deno.errors.NotFound,
  );
  const after = await state.run(["agents", "list", "--json"]);
  assert.deepEqual(
    JSON.parse(after.stdout).agents.map((x: { id: string }) => x.id),
    ["main"],
  );
});

Deno.test("agents remove main is refused and keeps main's store; bad or unknown ids fail", async () => {
  await using state = await tempState();
  await state.run(["paste-token", "--provider", "anthropic"], {
    stdin: fakeSecret(),
  });
  const before = state.storeText();
  const [main, unknown, bad, noId] = await Promise.all([
    state.run(["agents", "remove", "main"]),
    state.run(["agents", "remove", "ghost"]),
    state.run(["agents", "add", "Bad/Id"]),
    state.run(["agents", "add"]),
  ]);
  assert.equal(main.code, 1, main.stderr);
  assert.match(main.stderr, /main/);
  assert.equal(state.storeText(), before);
  assert.equal(unknown.code, 1);
  assert.equal(bad.code, 64);
  assert.equal(noId.code, 64);
  assert.throws(
    () => Deno.statSync(`${state.dir}/agents/Bad`),
    Deno.errors.NotFound,
  );
});
