/**
 * The store under bad data and held locks (SPEC §1, §4), in-process: a
 * store that does not parse is exit 65 and never rewritten; a held lock is
 * exit 75 once CLAWAUTH_LOCK_TIMEOUT has passed on the fake clock (no real
 * waiting); `doctor --online` reads the provider's clock through `ctx.fetch`.
 */

import assert from "node:assert/strict";
import { sleep as realSleep } from "../../lib/context.ts";
import { FAKE_NOW, type InProcessState, inProcessState } from "../fake_context.ts";
import { writeProviderConfig } from "../helpers.ts";

const SECRET = `sk-ant-oat01-${"s".repeat(48)}`;
const STORE = {
  version: 1,
  profiles: { "anthropic:a": { type: "token", provider: "anthropic", token: SECRET } },
};

/** Holds the store lock of `state`'s main agent from this process, as another writer would. */
function holdStoreLock(state: InProcessState): { release(): Promise<void> } {
  const path = `${state.agentDir()}/auth-profiles.lock`;
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  file.lockSync(true);
  return {
    async release() {
      file.unlockSync();
      file.close();
      // A writer that gave up still has a flock(2) call queued; wait until it is through.
      for (;;) {
        const probe = Deno.openSync(path, { read: true, write: true });
        try {
          if (probe.tryLockSync(true)) return probe.unlockSync();
        } finally {
          probe.close();
        }
        await realSleep(2);
      }
    },
  };
}

Deno.test("a truncated store is reported with exit 65 naming the file by every command, and left byte for byte", async () => {
  await using state = await inProcessState();
  const full = JSON.stringify(STORE, null, 2);
  const truncated = full.slice(0, Math.floor(full.length / 2));
  state.writeStore(truncated);
  const path = `${state.agentDir()}/auth-profiles.json`;
  const cases: [string[], string?][] = [
    [["paste-token", "--provider", "anthropic", "--profile", "b"], SECRET],
    [["remove", "anthropic:a"]],
    [["order", "set", "--provider", "anthropic", "anthropic:a"]],
    [["order", "clear", "--provider", "anthropic"]],
    [["report", "anthropic:a", "--ok"]],
    [["status"]],
    [["list", "--json"]],
    [["token", "--provider", "anthropic"]],
  ];
  for (const [argv, stdin] of cases) {
    const result = await state.run(argv, { stdin });
    assert.equal(result.code, 65, `${argv.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    assert.ok(
      result.stderr.startsWith("clawauth: ") && result.stderr.includes(path),
      result.stderr,
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  }
  assert.equal(state.storeText(), truncated);
  assert.deepEqual(
    [...Deno.readDirSync(state.agentDir())].map((e) => e.name).filter((n) =>
      n !== "auth-profiles.lock"
    ),
    ["auth-profiles.json"],
    "no temp file or cache was written",
  );
});

Deno.test("a store of another version or shape is refused with exit 65 and not rewritten", async () => {
  const shapes: Record<string, string> = {
    "version 2": JSON.stringify({ version: 2, profiles: {} }),
    "no version": JSON.stringify({ profiles: {} }),
    "profiles array": JSON.stringify({ version: 1, profiles: [] }),
    "top-level array": "[]",
    "empty file": "",
  };
  for (const [name, text] of Object.entries(shapes)) {
    await using state = await inProcessState();
    state.writeStore(text);
    const status = await state.run(["status", "--json"]);
    const paste = await state.run(["paste-token", "--provider", "anthropic"], { stdin: SECRET });
    for (const result of [status, paste]) {
      assert.equal(result.code, 65, `${name}: ${result.stderr}`);
      assert.match(result.stderr, /auth-profiles\.json/, name);
      assert.equal(result.stdout, "", name);
    }
    assert.equal(state.storeText(), text, name);
  }
});

Deno.test("a write waits CLAWAUTH_LOCK_TIMEOUT for a held store lock, then exits 75 naming the lock, with the store unchanged", async () => {
  await using state = await inProcessState();
  state.writeStore(STORE);
  const before = state.storeText();
  const lock = holdStoreLock(state);
  try {
    const cases = [
      ["paste-token", "--provider", "anthropic", "--profile", "late"],
      ["remove", "anthropic:a"],
      ["order", "set", "--provider", "anthropic", "anthropic:a"],
      ["report", "anthropic:a", "--reason", "rate_limit"],
    ];
    for (const argv of cases) {
      const result = await state.run(argv, { stdin: SECRET, env: { CLAWAUTH_LOCK_TIMEOUT: "7" } });
      assert.equal(result.code, 75, `${argv.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "");
      assert.match(
        result.stderr,
        /^clawauth: Timed out after 7 s waiting for the lock on \S+\/auth-profiles\.lock\.\n.*CLAWAUTH_LOCK_TIMEOUT/,
      );
      assert.deepEqual(result.ctx.sleeps, [7_000], "one wait of exactly the timeout");
    }
    assert.equal(state.storeText(), before);
  } finally {
    await lock.release();
  }
  // The writers that gave up left flock(2) calls queued in this process; each takes the lock
  // for a moment when it is released, so this run waits with a real clock.
  const after = await state.run(["remove", "anthropic:a"], { sleep: realSleep });
  assert.equal(after.code, 0, after.stderr);
});

Deno.test("the lock wait defaults to 30 s, and CLAWAUTH_LOCK_TIMEOUT=24h is honoured whole rather than overflowing", async () => {
  await using state = await inProcessState();
  state.writeStore(STORE);
  const lock = holdStoreLock(state);
  try {
    const argv = ["report", "anthropic:a", "--reason", "rate_limit"];
    const plain = await state.run(argv);
    assert.equal(plain.code, 75, plain.stderr);
    assert.deepEqual(plain.ctx.sleeps, [30_000]);
    const day = await state.run(argv, { env: { CLAWAUTH_LOCK_TIMEOUT: "24h" } });
    assert.equal(day.code, 75, day.stderr);
    assert.deepEqual(day.ctx.sleeps, [86_400_000]);
    assert.match(day.stderr, /Timed out after 86400 s/);
    for (const value of ["9999999999", "30d", "soon"]) {
      const refused = await state.run(argv, { env: { CLAWAUTH_LOCK_TIMEOUT: value } });
      assert.equal(refused.code, 64, `${value}: ${refused.stderr}`);
      assert.match(refused.stderr, /CLAWAUTH_LOCK_TIMEOUT/);
      assert.deepEqual(refused.ctx.sleeps, [], "refused before any wait");
    }
  } finally {
    await lock.release();
  }
});

Deno.test("a waiting writer completes as soon as the holder releases the lock", async () => {
  await using state = await inProcessState();
  state.writeStore(STORE);
  const lock = holdStoreLock(state);
  const waiting = Promise.withResolvers<void>();
  const patient = state.run(["paste-token", "--provider", "anthropic", "--profile", "patient"], {
    stdin: SECRET,
    sleep(ms, signal) {
      waiting.resolve();
      return realSleep(ms, signal);
    },
  });
  await waiting.promise;
  await lock.release();
  const done = await patient;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(
    (state.store().profiles as Record<string, { token: string }>)["anthropic:patient"].token,
    SECRET,
  );
});

Deno.test("reads need no lock: status, list and token answer while another process holds it", async () => {
  await using state = await inProcessState();
  state.writeStore(STORE);
  const lock = holdStoreLock(state);
  try {
    for (
      const argv of [["status", "--check"], ["list", "--json"], [
        "token",
        "--provider",
        "anthropic",
      ]]
    ) {
      const result = await state.run(argv);
      assert.equal(result.code, 0, `${argv.join(" ")}: ${result.stderr}`);
      assert.deepEqual(result.ctx.sleeps, [], argv.join(" "));
    }
  } finally {
    await lock.release();
  }
});

Deno.test("remove deletes a profile with its order, lastGood and usageStats entries; logout is the same command", async () => {
  await using state = await inProcessState();
  const token = (name: string) => ({
    type: "token",
    provider: "anthropic",
    token: `${SECRET}${name}`,
  });
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:work": token("w"),
      "anthropic:home": token("h"),
      "openai:ci": { type: "api_key", provider: "openai", key: "sk-ci" },
    },
    order: { anthropic: ["anthropic:work", "anthropic:home"], openai: ["openai:ci"] },
    lastGood: { anthropic: "anthropic:work", openai: "openai:ci" },
    usageStats: {
      "anthropic:work": { lastUsed: 5, errorCount: 2 },
      "anthropic:home": { lastUsed: 7 },
    },
  });
  const removed = await state.run(["remove", "anthropic:work"]);
  assert.equal(removed.code, 0, removed.stderr);
  let store = state.store();
  assert.deepEqual(Object.keys(store.profiles as object), ["anthropic:home", "openai:ci"]);
  assert.deepEqual(store.order, { anthropic: ["anthropic:home"], openai: ["openai:ci"] });
  assert.deepEqual(store.lastGood, { openai: "openai:ci" });
  assert.deepEqual(store.usageStats, { "anthropic:home": { lastUsed: 7 } });

  const loggedOut = await state.run(["logout", "anthropic:home"]);
  assert.equal(loggedOut.code, 0, loggedOut.stderr);
  store = state.store();
  assert.deepEqual(Object.keys(store.profiles as object), ["openai:ci"]);
  assert.deepEqual(store.order, { openai: ["openai:ci"] }, "an emptied order no longer pins");
  assert.deepEqual(store.usageStats, {});
});

Deno.test("remove of an unknown profile exits 1 and leaves the store byte for byte; remove without one id is exit 64", async () => {
  await using state = await inProcessState();
  state.writeStore(STORE);
  const before = state.storeText();
  const unknown = await state.run(["remove", "anthropic:b"]);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /anthropic:b/);
  for (const argv of [["remove"], ["logout", "anthropic:a", "anthropic:b"]]) {
    assert.equal((await state.run(argv)).code, 64, argv.join(" "));
  }
  assert.equal(state.storeText(), before);
});

Deno.test("doctor --online compares the local clock with the provider's Date header, fetched through ctx.fetch", async () => {
  await using state = await inProcessState();
  writeProviderConfig(state, "openai-codex", {
    authorizeUrl: "https://auth.example.test/authorize",
    tokenUrl: "https://auth.example.test/oauth/token",
    clientId: "test",
  });
  const clockFindings = (stdout: string) =>
    JSON.parse(stdout).findings.filter((f: { check: string }) => f.check === "clock");
  // The provider's clock is 10 minutes behind ours; its Date header has whole seconds.
  const behind = await state.run(["doctor", "--online", "--json"], {
    fetch: () =>
      new Response(null, { headers: { date: new Date(FAKE_NOW - 600_000).toUTCString() } }),
  });
  assert.equal(behind.code, 0, "clock skew is a warning");
  assert.equal(behind.stderr, "");
  assert.deepEqual(behind.ctx.requests.map((r) => `${r.method} ${r.url}`), [
    "HEAD https://auth.example.test/oauth/token",
  ]);
  const [skew] = clockFindings(behind.stdout);
  assert.equal(skew.severity, "warning");
  assert.match(skew.message, /^the local clock is 9m 59s ahead of auth\.example\.test: /);
  assert.ok(skew.fix);

  const agrees = await state.run(["doctor", "--online", "--json"], {
    fetch: () => new Response(null, { headers: { date: new Date(FAKE_NOW).toUTCString() } }),
  });
  assert.equal(clockFindings(agrees.stdout)[0].severity, "ok");

  // Unreachable (the default fake fetch has no network): skipped without a finding.
  const offline = await state.run(["doctor", "--online", "--json"]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(clockFindings(offline.stdout), []);
  assert.equal(offline.ctx.requests.length, 1);

  const notOnline = await state.run(["doctor", "--json"]);
  assert.deepEqual(notOnline.ctx.requests, [], "no request without --online");
});
