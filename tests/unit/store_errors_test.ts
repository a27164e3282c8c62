/**
 * The store under bad data and held locks (docs/files.md, docs/locking.md), in-process: a
 * store that does not parse is exit 65 and never rewritten; a held lock is
 * exit 75 once CLAWAUTH_LOCK_TIMEOUT has passed on the fake clock (no real
 * waiting); `doctor --online` reads the provider's clock through `ctx.fetch`.
 */

import assert from "node:assert/strict";
import { sleep as realSleep } from "../../lib/context.ts";
import { FAKE_NOW, type InProcessState, inProcessState } from "../fake_context.ts";
import { holdFlock, writeProviderConfig } from "../helpers.ts";

const SECRET = `sk-ant-oat01-${"s".repeat(48)}`;
const STORE = {
  version: 1,
  profiles: { "anthropic:a": { type: "token", provider: "anthropic", token: SECRET } },
};

/** Holds the store lock of `state`'s main agent from this process, as another writer would. */
function holdStoreLock(state: InProcessState): { release(): void } {
  const path = `${state.agentDir()}/auth-profiles.lock`;
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  file.lockSync(true);
  return {
    release() {
      file.unlockSync();
      file.close();
      // Free at once: no writer that gave up is left queued for it (a blocking flock would be).
      const probe = Deno.openSync(path, { read: true, write: true });
      try {
        assert.ok(probe.tryLockSync(true), "nothing else took the lock as it was released");
        probe.unlockSync();
      } finally {
        probe.close();
      }
    },
  };
}

/** The whole wait of a run: its pauses added up. */
const waited = (sleeps: readonly number[]) => sleeps.reduce((sum, ms) => sum + ms, 0);

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
      assert.equal(waited(result.ctx.sleeps), 7_000, "a wait of exactly the timeout");
    }
    assert.equal(state.storeText(), before);
  } finally {
    lock.release();
  }
  const after = await state.run(["remove", "anthropic:a"]);
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(
    after.ctx.sleeps,
    [],
    "the lock is free: the writers that gave up left nothing behind",
  );
});

Deno.test("the lock wait defaults to 30 s, and CLAWAUTH_LOCK_TIMEOUT=24h is honoured whole rather than overflowing", async () => {
  await using state = await inProcessState();
  state.writeStore(STORE);
  const lock = holdStoreLock(state);
  try {
    const argv = ["report", "anthropic:a", "--reason", "rate_limit"];
    const plain = await state.run(argv);
    assert.equal(plain.code, 75, plain.stderr);
    assert.equal(waited(plain.ctx.sleeps), 30_000);
    const day = await state.run(argv, { env: { CLAWAUTH_LOCK_TIMEOUT: "24h" } });
    assert.equal(day.code, 75, day.stderr);
    assert.equal(waited(day.ctx.sleeps), 86_400_000);
    assert.ok(day.ctx.sleeps.every((ms) => ms <= 250), "a long wait still looks at the lock often");
    assert.match(day.stderr, /Timed out after 86400 s/);
    for (const value of ["9999999999", "30d", "soon"]) {
      const refused = await state.run(argv, { env: { CLAWAUTH_LOCK_TIMEOUT: value } });
      assert.equal(refused.code, 64, `${value}: ${refused.stderr}`);
      assert.match(refused.stderr, /CLAWAUTH_LOCK_TIMEOUT/);
      assert.deepEqual(refused.ctx.sleeps, [], "refused before any wait");
    }
  } finally {
    lock.release();
  }
});

/**
 * A program that calls withLock on `Deno.args[0]` with a 50 ms wait, prints
 * what became of it, and ends. A watchdog timer that does not keep it alive
 * (unref'd) reports a process kept running by something else, such as a
 * flock(2) call left pending.
 */
const LOCK_CALLER = `
const { withLock } = await import(${
  JSON.stringify(new URL("../../lib/store/lock.ts", import.meta.url).href)
});
try {
  await withLock(Deno.args[0], { timeoutMs: 50 }, () => console.log("ran under the lock"));
} catch (error) {
  console.log("caught " + error.exitCode);
}
Deno.unrefTimer(setTimeout(() => { console.log("still running"); Deno.exit(3); }, 20_000));
`;

Deno.test("a program that catches withLock's 75 ends while another process still holds the lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clawauth-lock-" });
  const path = `${dir}/agent/auth-profiles.lock`;
  Deno.mkdirSync(`${dir}/agent`, { mode: 0o700 });
  Deno.writeTextFileSync(path, "", { mode: 0o600 });
  const holder = await holdFlock(path);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", LOCK_CALLER, path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(decoder.decode(out.stdout), "caught 75\n", decoder.decode(out.stderr));
    assert.equal(out.code, 0, "it ended by itself, the holder still holding");
  } finally {
    await holder.release();
    await Deno.remove(dir, { recursive: true });
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
  lock.release();
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
    lock.release();
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
