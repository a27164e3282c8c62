/**
 * What the adversarial review found on the store side, pinned through the
 * real CLI: lineages are one person's login, never a shared workspace; a
 * refresh whose request is out is never lost to a signal or a failed write;
 * lock files and private dirs do not trust their paths; reads are bounded;
 * bookkeeping is best-effort; OpenClaw's config is optional.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret, type TempState, tempState, writeLoopbackConfig } from "../helpers.ts";
import { jwt, oauthProfile, storeOf, tokenProfile } from "../builders.ts";

type Entry = Record<string, unknown>;

const POSIX = Deno.build.os !== "windows";
const ROOT = POSIX && Deno.uid() === 0;

/** A ChatGPT login of `user` in the team workspace `acct-team`, as the provider issues it. */
function teamLogin(user: string, expires: number): Entry {
  return oauthProfile({
    access: jwt({
      jti: crypto.randomUUID(),
      sub: `auth0|${user}`,
      "https://api.openai.com/auth": {
        chatgpt_account_id: "acct-team",
        chatgpt_user_id: `user-${user}`,
      },
    }),
    refresh: `rt-${user}-${crypto.randomUUID()}`,
    expires,
    accountId: "acct-team",
    email: `${user}@example.test`,
  });
}

function profiles(state: TempState, agent?: string): Record<string, Entry> {
  return (state.store(agent) as { profiles: Record<string, Entry> }).profiles;
}

// --- 1. lineages are one person's login --------------------------------------

const LINEAGE_LAYOUTS = [
  { name: "one agent", bobAgent: "main" },
  { name: "two agents", bobAgent: "bob" },
];

for (const layout of LINEAGE_LAYOUTS) {
  Deno.test(`lineage: two members of one ChatGPT workspace (${layout.name}) never share tokens`, async () => {
    await using state = await tempState();
    writeLoopbackConfig(state); // nothing listens: a refresh fails with 69
    const alice = teamLogin("alice", Date.now() + 3_600_000);
    const bob = teamLogin("bob", Date.now() - 1_000);
    if (layout.bobAgent === "main") {
      state.writeStore(storeOf({ "openai-codex:alice": alice, "openai-codex:bob": bob }));
    } else {
      state.writeStore(storeOf({ "openai-codex:alice": alice }));
      state.writeStore(storeOf({ "openai-codex:bob": bob }), "bob");
    }
    const result = await state.run(
      ["token", "--agent", layout.bobAgent, "--profile", "openai-codex:bob"],
    );
    assert.notEqual(result.stdout, `${alice.access}\n`, "bob never gets alice's token");
    assert.equal(result.code, 69, result.stderr);
    const bobNow = profiles(state, layout.bobAgent)["openai-codex:bob"];
    assert.equal(bobNow.refresh, bob.refresh, "bob's refresh token is his own");
    assert.equal(bobNow.access, bob.access);

    const status = JSON.parse(
      (await state.run(["status", "--json", "--agent", layout.bobAgent])).stdout,
    );
    const lineages = status.profiles.map((p: Entry) => (p.lineage as Entry).copies);
    for (const copies of lineages) assert.equal((copies as unknown[]).length, 1);

    const doctor = JSON.parse((await state.run(["doctor", "--fix", "--json"])).stdout);
    assert.ok(
      !doctor.findings.some((f: Entry) => f.check === "lineage" && f.severity !== "ok"),
      JSON.stringify(doctor.findings),
    );
    assert.equal(profiles(state, layout.bobAgent)["openai-codex:bob"].refresh, bob.refresh);
    assert.equal(profiles(state)["openai-codex:alice"].refresh, alice.refresh);
  });
}

Deno.test("lineage: the same person's copies in two agents stay one lineage (identity plus account)", async () => {
  await using state = await tempState();
  writeLoopbackConfig(state);
  const fresh = teamLogin("carol", Date.now() + 3_600_000);
  // The stale copy holds an older access token (a different JWT) of the same person.
  const stale = { ...teamLogin("carol", Date.now() - 1_000), email: fresh.email };
  state.writeStore(storeOf({ "openai-codex:carol": fresh }));
  state.writeStore(storeOf({ "openai-codex:carol": stale }), "other");
  const result = await state.run(["token", "--agent", "other", "--profile", "openai-codex:carol"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${fresh.access}\n`, "adopted from the fresher copy, no request");
});

Deno.test("lineage: a linked tool logged in as another person is not a copy", async () => {
  await using state = await tempState();
  writeLoopbackConfig(state);
  const codexHome = `${state.dir}/../codex`;
  Deno.mkdirSync(codexHome, { recursive: true });
  const mallory = teamLogin("mallory", Date.now() + 3_600_000);
  Deno.writeTextFileSync(
    `${codexHome}/auth.json`,
    JSON.stringify({
      tokens: {
        access_token: mallory.access,
        refresh_token: mallory.refresh,
        account_id: "acct-team",
      },
    }),
  );
  const dave = { ...teamLogin("dave", Date.now() - 1_000) };
  dave.clawauthLink = { source: "codex-cli", path: `${codexHome}/auth.json` };
  state.writeStore(storeOf({ "openai-codex:dave": dave }));
  const result = await state.run(["token", "--profile", "openai-codex:dave"]);
  assert.notEqual(result.stdout, `${mallory.access}\n`);
  assert.equal(profiles(state)["openai-codex:dave"].refresh, dave.refresh);
});

// --- 2. a refresh in flight is never lost ---------------------------------------

/** Stores (and returns) `user`'s team login, expired a second ago, refreshing at `tokenUrl`. */
function expiredTeamLogin(state: TempState, tokenUrl: string, user: string): Entry {
  writeLoopbackConfig(state, tokenUrl);
  const login = teamLogin(user, Date.now() - 1_000);
  state.writeStore(storeOf({ [`openai-codex:${user}`]: login }));
  return login;
}

/**
 * A token endpoint that holds each request until the test says so, then
 * answers with rotated tokens (or never, when told to hang).
 */
function slowProvider(): {
  url: string;
  requests: number;
  arrived: Promise<void>;
  answer(): void;
  close(): Promise<void>;
  rotated: { access: string; refresh: string };
} {
  let arrive!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const rotated = { access: fakeSecret("at-"), refresh: fakeSecret("rt-") };
  const abort = new AbortController();
  const provider = {
    url: "",
    requests: 0,
    arrived,
    answer: () => release(),
    rotated,
    close: async () => {
      release();
      abort.abort();
      await server.finished;
    },
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: () => {} },
    async () => {
      provider.requests++;
      arrive();
      await released;
      return Response.json({
        access_token: rotated.access,
        refresh_token: rotated.refresh,
        token_type: "Bearer",
        expires_in: 3600,
      });
    },
  );
  provider.url = `http://127.0.0.1:${server.addr.port}/token`;
  return provider;
}

const SIGNALS: { signal: Deno.Signal; code: number }[] = [
  { signal: "SIGINT", code: 130 },
  { signal: "SIGTERM", code: 143 },
  { signal: "SIGHUP", code: 129 },
];

for (const { signal, code } of SIGNALS) {
  Deno.test({
    name:
      `refresh: ${signal} while the refresh request is out waits until the rotated tokens are written`,
    ignore: !POSIX,
    async fn() {
      await using state = await tempState();
      const provider = slowProvider();
      try {
        expiredTeamLogin(state, provider.url, "erin");
        const child = state.spawn(["token", "--profile", "openai-codex:erin"]);
        await provider.arrived;
        child.kill(signal);
        provider.answer();
        const out = await child.output();
        assert.equal(out.code, code, new TextDecoder().decode(out.stderr));
        const saved = profiles(state)["openai-codex:erin"];
        assert.equal(saved.refresh, provider.rotated.refresh, "the rotated refresh token is kept");
        assert.equal(saved.access, provider.rotated.access);
        assert.equal(provider.requests, 1);
      } finally {
        await provider.close();
      }
    },
  });
}

Deno.test({
  name:
    "refresh: when the rotated tokens cannot be written, it says the login may be dead and still prints the new access token",
  ignore: !ROOT,
  async fn() {
    await using state = await tempState();
    const provider = slowProvider();
    const dir = state.agentDir();
    let mounted = false;
    try {
      expiredTeamLogin(state, provider.url, "frank");
      const child = state.spawn(["token", "--profile", "openai-codex:frank"]);
      await provider.arrived;
      mounted = readOnly(dir);
      if (!mounted) return; // no bind mounts here: nothing to test
      provider.answer();
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.equal(new TextDecoder().decode(out.stdout), `${provider.rotated.access}\n`);
      assert.match(stderr, /could not be saved/);
      assert.match(stderr, /new login/);
      assert.ok(!stderr.includes(provider.rotated.refresh), "the refresh token is never printed");
    } finally {
      if (mounted) unmount(dir);
      await provider.close();
    }
  },
});

Deno.test("refresh: a timeout after the request went out says the login may now be spent, and keeps the old tokens", async () => {
  await using state = await tempState();
  const provider = slowProvider();
  try {
    const login = expiredTeamLogin(state, provider.url, "gina");
    const result = await state.run(["token", "--profile", "openai-codex:gina"], {
      env: { CLAWAUTH_HTTP_TIMEOUT: "1" },
    });
    assert.equal(result.code, 69, result.stderr);
    assert.match(result.stderr, /did not answer/);
    assert.match(result.stderr, /may have rotated the refresh token/);
    assert.equal(provider.requests, 1);
    assert.equal(profiles(state)["openai-codex:gina"].refresh, login.refresh);
  } finally {
    await provider.close();
  }
});

/** Makes `dir` read-only with a bind mount (root only); false when that is impossible. */
function readOnly(dir: string): boolean {
  const run = (args: string[]) => new Deno.Command("mount", { args, stderr: "null" }).outputSync();
  if (!run(["--bind", dir, dir]).success) return false;
  if (run(["-o", "remount,bind,ro", dir]).success) return true;
  unmount(dir);
  return false;
}

function unmount(dir: string): void {
  new Deno.Command("umount", { args: [dir] }).outputSync();
}

// --- 3. locks and private dirs ----------------------------------------------------

const TOKEN_STORE = storeOf({
  "anthropic:a": tokenProfile(),
  "anthropic:b": tokenProfile(),
});

const WRITE = ["report", "anthropic:a", "--ok"];

Deno.test({
  name: "locks: a symlink planted at the lock path is refused; nothing is created or chmod-ed",
  ignore: !POSIX,
  async fn() {
    await using state = await tempState();
    state.writeStore(TOKEN_STORE);
    const lock = `${state.agentDir()}/auth-profiles.lock`;
    const victim = `${state.dir}/../victim.txt`;
    Deno.writeTextFileSync(victim, "mine\n");
    Deno.chmodSync(victim, 0o644);
    const missing = `${state.dir}/../created-by-clawauth`;
    for (const target of [victim, missing]) {
      Deno.symlinkSync(target, lock);
      const result = await state.run(WRITE);
      assert.equal(result.code, 65, result.stderr);
      assert.match(result.stderr, /auth-profiles\.lock is a symbolic link, not a lock file/);
      Deno.removeSync(lock);
    }
    assert.equal(Deno.statSync(victim).mode! & 0o777, 0o644, "the user's file keeps its mode");
    assert.throws(() => Deno.statSync(missing), Deno.errors.NotFound);
  },
});

Deno.test("locks: a directory or a FIFO at the lock path is one sentence with the path and the fix", async () => {
  await using state = await tempState();
  state.writeStore(TOKEN_STORE);
  const lock = `${state.agentDir()}/auth-profiles.lock`;
  Deno.mkdirSync(lock);
  const result = await state.run(WRITE);
  assert.equal(result.code, 65);
  assert.match(result.stderr, /auth-profiles\.lock is a directory, not a lock file/);
  assert.match(result.stderr, /rm -r /);
  assert.doesNotMatch(result.stderr, /unexpected error/);
  const doctor = await state.run(["doctor", "--json"]);
  assert.equal(doctor.code, 1);
  assert.ok(
    JSON.parse(doctor.stdout).findings.some((f: Entry) =>
      f.check === "lock" && f.severity === "error"
    ),
  );
});

const UNSAFE_DIRS: { name: string; make(state: TempState): string }[] = [
  {
    name: "a group-writable agent dir",
    make(state) {
      Deno.chmodSync(state.agentDir(), 0o770);
      return state.agentDir();
    },
  },
  {
    name: "a world-writable state dir",
    make(state) {
      Deno.chmodSync(state.dir, 0o777);
      return state.dir;
    },
  },
  ...(ROOT
    ? [{
      name: "a state dir owned by another user",
      make(state: TempState) {
        Deno.chownSync(state.dir, 65534, 65534);
        return state.dir;
      },
    }]
    : []),
];

for (const unsafe of UNSAFE_DIRS) {
  Deno.test({
    name:
      `private dirs: ${unsafe.name} is refused (exit 65, with the fix) and doctor calls it an error`,
    ignore: !POSIX,
    async fn() {
      await using state = await tempState();
      state.writeStore(TOKEN_STORE);
      const before = state.storeText();
      const dir = unsafe.make(state);
      for (const args of [WRITE, ["token", "--profile", "anthropic:a"]]) {
        const result = await state.run(args);
        assert.equal(result.code, 65, `${args[0]}: ${result.stderr}`);
        assert.ok(result.stderr.includes(dir), result.stderr);
        assert.match(result.stderr, /chmod 700/);
        assert.equal(result.stdout, "", "no secret comes out of an unsafe dir");
      }
      assert.equal(state.storeText(), before);
      const doctor = await state.run(["doctor", "--json"]);
      assert.equal(doctor.code, 1);
      assert.ok(
        JSON.parse(doctor.stdout).findings.some((f: Entry) =>
          f.check === "permissions" && f.severity === "error" && f.path === dir
        ),
        doctor.stdout,
      );
    },
  });
}

// --- 7-10: best-effort bookkeeping, bounded reads, optional OpenClaw config ----------

Deno.test({
  name: "token on a read-only disk still prints the secret when round robin cannot record its use",
  ignore: !ROOT,
  async fn() {
    await using state = await tempState();
    state.writeStore(TOKEN_STORE);
    assert.equal((await state.run(WRITE)).code, 0); // the lock file exists, as in real use
    const dir = state.agentDir();
    if (!readOnly(dir)) return;
    try {
      const result = await state.run(["token", "--provider", "anthropic"]);
      assert.equal(result.code, 0, result.stderr);
      const secrets = Object.values(TOKEN_STORE.profiles).map((p) => `${p.token}\n`);
      assert.ok(secrets.includes(result.stdout));
      assert.match(result.stderr, /warning: could not record the use/);
    } finally {
      unmount(dir);
    }
  },
});

/** Files clawauth reads, and how a hostile one is planted there. */
const BOUNDED_READS: { name: string; path(state: TempState): string; args: string[] }[] = [
  { name: "store", path: (s) => `${s.agentDir()}/auth-profiles.json`, args: ["list"] },
  {
    name: "clawauth.json",
    path: (s) => `${s.dir}/clawauth.json`,
    args: ["login", "--provider", "openai-codex", "--start"],
  },
  {
    name: "legacy credentials/oauth.json",
    path: (s) => `${s.dir}/credentials/oauth.json`,
    args: ["import", "--from", "openclaw-legacy", "--dry-run"],
  },
];

for (const file of BOUNDED_READS) {
  Deno.test({
    name:
      `bounded reads: a FIFO, /dev/zero or an oversized file as the ${file.name} is refused at once`,
    ignore: !POSIX,
    async fn() {
      await using state = await tempState();
      state.writeStore(TOKEN_STORE);
      const path = file.path(state);
      Deno.mkdirSync(path.replace(/\/[^/]*$/, ""), { recursive: true });
      const plants: [string, () => void][] = [
        ["a FIFO", () => new Deno.Command("mkfifo", { args: [path] }).outputSync()],
        ["/dev/zero", () => Deno.symlinkSync("/dev/zero", path)],
        ["17 MiB", () => Deno.writeFileSync(path, new Uint8Array(17 * 1024 * 1024).fill(32))],
      ];
      for (const [what, plant] of plants) {
        try {
          Deno.removeSync(path);
        } catch { /* not there */ }
        plant();
        const result = await state.run(file.args);
        assert.equal(result.code, 65, `${what}: ${result.stderr}`);
        assert.ok(result.stderr.includes(path), `${what}: ${result.stderr}`);
      }
    },
  });
}

Deno.test("openclaw.json with a syntax error: a pinned token ignores it, a routed one warns and goes on", async () => {
  await using state = await tempState();
  state.writeStore(TOKEN_STORE);
  state.writeFile("openclaw.json", "{ auth: { order: { anthropic: [ } ");
  const pinned = await state.run(["token", "--profile", "anthropic:a"]);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(pinned.stderr, "");
  const routed = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(routed.code, 0, routed.stderr);
  assert.match(routed.stderr, /warning: .*openclaw\.json cannot be read.*Going on without/);
});

// --- 13, 15: limits and links ---------------------------------------------------------

Deno.test({
  name: "doctor flags a store with a second hard link, which keeps removed secrets",
  ignore: !POSIX,
  async fn() {
    await using state = await tempState();
    state.writeStore(TOKEN_STORE);
    const store = `${state.agentDir()}/auth-profiles.json`;
    Deno.linkSync(store, `${state.dir}/../copy.json`);
    const doctor = await state.run(["doctor", "--json"]);
    assert.equal(doctor.code, 1);
    const finding = JSON.parse(doctor.stdout).findings.find((f: Entry) =>
      f.check === "store" && f.severity === "error"
    );
    assert.match(finding.message, /2 hard links/);
  },
});
