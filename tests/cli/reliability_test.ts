/**
 * Reliability of the store under abuse (docs/files.md, docs/locking.md): writers SIGKILLed at
 * random moments never leave a torn store, concurrent writers lose nothing,
 * and files stay private whatever the umask.
 */

import assert from "node:assert/strict";
import { fakeSecret, type TempState, tempState, writeLoopbackConfig } from "../helpers.ts";
import { apiKeyProfile, storeOf, tokenProfile } from "../builders.ts";

const UMASK_000 = ["sh", "-c", 'umask 000; exec "$@"', "sh"] as const;

/** A CLI process that can be killed; resolves how it ended. */
function spawnCli(
  state: TempState,
  args: string[],
  stdin?: string,
): { child: Deno.ChildProcess; done: Promise<{ status: Deno.CommandStatus; stderr: string }> } {
  const child = state.spawn(args, { stdout: "null" });
  const writer = child.stdin.getWriter();
  const fed = (async () => {
    if (stdin !== undefined) await writer.write(new TextEncoder().encode(stdin)).catch(() => {});
    await writer.close().catch(() => {});
  })();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    done: Promise.all([child.status, stderr, fed]).then(([status, text]) => ({
      status,
      stderr: text,
    })),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function tempFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((name) => name.endsWith(".tmp"))
    .sort();
}

interface Store {
  version: number;
  profiles: Record<string, Record<string, unknown>>;
  order?: Record<string, string[]>;
  usageStats?: Record<string, { errorCount?: number }>;
}

Deno.test("crash safety: 100+ writers SIGKILLed 0-60 ms after spawn leave the old or a new store, never a torn one", async () => {
  await using state = await tempState();
  // A store of some size, so that a write takes long enough to be hit.
  const base: Store = storeOf({});
  for (let i = 0; i < 150; i++) {
    base.profiles[`openai:base${i}`] = apiKeyProfile();
  }
  for (const name of ["b0", "b1"]) {
    base.profiles[`anthropic:${name}`] = tokenProfile();
  }
  state.writeStore(base);
  const dir = state.agentDir();
  const orders = [["anthropic:b0", "anthropic:b1"], ["anthropic:b1", "anthropic:b0"]];
  const attempted = new Map<string, string>(); // profile id → its secret
  const committed = new Set<string>();
  const killedPids = new Set<number>();
  let reportsAttempted = 0;
  let reportsCommitted = 0;
  let orderCommitted = false;
  let kills = 0;
  let spawned = 0;
  let killedAfterCommit = 0;
  // Six writers a round are killed; a seventh (a paste-token) is left to finish,
  // so that every round also commits a write the next rounds must keep.
  const PARALLEL = 6;
  for (let round = 0; kills < 110 && round < 60; round++) {
    const writers = Array.from({ length: PARALLEL + 1 }, (_, i) => {
      const n = round * (PARALLEL + 1) + i;
      const survivor = i === PARALLEL;
      const kind = survivor ? 0 : n % 3;
      if (kind === 0) {
        const id = `anthropic:w${n}`;
        const secret = fakeSecret();
        attempted.set(id, secret);
        return {
          kind,
          id,
          survivor,
          run: spawnCli(
            state,
            ["paste-token", "--provider", "anthropic", "--profile", `w${n}`],
            secret,
          ),
        };
      }
      if (kind === 1) {
        return {
          kind,
          id: "",
          survivor,
          run: spawnCli(state, ["order", "set", "--provider", "anthropic", ...orders[n % 2]]),
        };
      }
      reportsAttempted++;
      return {
        kind,
        id: "",
        survivor,
        run: spawnCli(state, ["report", "anthropic:b0", "--reason", "rate_limit"]),
      };
    });
    spawned += writers.length;
    const outcomes = await Promise.all(writers.map(async (writer) => {
      if (writer.survivor) return { ...writer, ...(await writer.run.done) };
      await Promise.race([writer.run.done, sleep(Math.random() * 60)]);
      try {
        writer.run.child.kill("SIGKILL");
      } catch {
        // It had already exited.
      }
      return { ...writer, ...(await writer.run.done) };
    }));
    const temps = tempFiles(dir);
    for (const outcome of outcomes) {
      if (outcome.status.signal === "SIGKILL") {
        kills++;
        killedPids.add(outcome.run.child.pid);
        continue;
      }
      assert.equal(
        outcome.status.code,
        0,
        `a writer that was not killed failed: ${outcome.stderr}`,
      );
      if (outcome.kind === 0) committed.add(outcome.id);
      if (outcome.kind === 1) orderCommitted = true;
      if (outcome.kind === 2) reportsCommitted++;
    }
    // The store is whole: it parses, and holds exactly a state some sequence of writes produced.
    const text = state.storeText();
    let store: Store;
    try {
      store = JSON.parse(text);
    } catch (error) {
      throw new Error(`round ${round}: torn store (${error}):\n${text.slice(0, 200)}`);
    }
    assert.equal(store.version, 1);
    // auth.json is derived and written after the store's rename: it may lag, but never tears.
    const cache = readIfExists(`${dir}/auth.json`);
    if (cache !== undefined) JSON.parse(cache);
    const ids = new Set(Object.keys(store.profiles));
    for (const id of Object.keys(base.profiles)) assert.ok(ids.has(id), `base ${id} kept`);
    for (const id of committed) assert.ok(ids.has(id), `committed ${id} present`);
    for (const id of ids) {
      if (Object.hasOwn(base.profiles, id)) continue;
      assert.ok(attempted.has(id), `${id} was written by someone`);
      assert.equal(store.profiles[id].token, attempted.get(id), `${id} holds its own secret`);
    }
    const order = store.order?.anthropic;
    assert.ok(
      order === undefined ? !orderCommitted : orders.some((o) => o.join() === order.join()),
      `order ${order}`,
    );
    const errors = store.usageStats?.["anthropic:b0"]?.errorCount ?? 0;
    assert.ok(
      errors >= reportsCommitted && errors <= reportsAttempted,
      `errorCount ${errors} within [${reportsCommitted}, ${reportsAttempted}]`,
    );
    for (const id of ids) {
      if (attempted.has(id) && !committed.has(id) && outcomes.some((o) => o.id === id)) {
        killedAfterCommit++;
      }
    }
    // Temp files may remain, but only those of writers killed between create and rename.
    for (const name of temps) {
      const pid = Number(/\.json\.(\d+)\.[a-z0-9]+\.tmp$/.exec(name)?.[1]);
      assert.ok(killedPids.has(pid), `${name} belongs to a killed writer`);
    }
  }
  assert.ok(kills >= 100, `only ${kills} kills in ${spawned} spawns`);
  // What the loop found: a writer killed between writing its temp file and the
  // rename leaves that temp file (auth-profiles.json.<pid>.<rand>.tmp or
  // auth.json.….tmp) behind. Nothing else cleans it up; doctor reports it
  // and doctor --fix deletes it.
  const leftovers = tempFiles(dir);
  console.log(
    `crash loop: ${spawned} writers, ${kills} SIGKILLed, ${committed.size} paste-tokens and ` +
      `${reportsCommitted} reports completed, ${killedAfterCommit} kills landed after the rename, ` +
      `${leftovers.length} temp files left by killed writers: ${leftovers.join(", ") || "none"}`,
  );
  const doctor = await state.run(["doctor", "--json"]);
  const report = JSON.parse(doctor.stdout);
  assert.deepEqual(
    report.findings.filter((f: { check: string }) => f.check === "temp-files")
      .map((f: { path: string }) => f.path.replace(/.*\//, "")).sort(),
    leftovers,
    "doctor reports every leftover temp file",
  );
  assert.equal((await state.run(["doctor", "--fix"])).code, 0);
  assert.deepEqual(tempFiles(dir), []);
  assert.equal((await state.run(["status", "--json"])).code, 0);
});

Deno.test("lost updates: 50 concurrent writers of different profiles all land", async () => {
  await using state = await tempState();
  const secrets = Array.from({ length: 50 }, () => fakeSecret("sk-"));
  const results = await Promise.all(
    secrets.map((secret, i) =>
      state.run(
        ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", `p${i}`],
        {
          stdin: secret,
        },
      )
    ),
  );
  results.forEach((result, i) => assert.equal(result.code, 0, `p${i}: ${result.stderr}`));
  const profiles = state.store().profiles as Record<string, { key: string }>;
  assert.equal(Object.keys(profiles).length, 50);
  secrets.forEach((secret, i) => assert.equal(profiles[`openai:p${i}`].key, secret));
  assert.deepEqual(tempFiles(state.agentDir()), []);
});

Deno.test("lost updates: 40 concurrent reports on one profile count 40 errors", async () => {
  await using state = await tempState();
  assert.equal(
    (await state.run(["paste-token", "--provider", "anthropic", "--profile", "work"], {
      stdin: fakeSecret(),
    })).code,
    0,
  );
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    state.run([
      "report",
      "anthropic:work",
      "--reason",
      ["rate_limit", "timeout", "auth", "unknown"][i % 4],
    ])));
  results.forEach((result) => assert.equal(result.code, 0, result.stderr));
  const stats = (state.store().usageStats as Record<string, { errorCount: number }>)[
    "anthropic:work"
  ];
  assert.equal(stats.errorCount, 40);
});

Deno.test("permissions: under umask 000 files are 0600 and directories 0700; doctor flags a 0644 store and --fix repairs it", async () => {
  await using state = await tempState();
  writeLoopbackConfig(state);

  Deno.chmodSync(state.dir, 0o700);
  const wrap = { wrap: UMASK_000 };
  for (
    const [args, stdin] of [
      [["paste-token", "--provider", "anthropic"], fakeSecret()],
      [["login", "--provider", "openai-codex", "--start"], undefined],
      [["agents", "add", "work"], undefined],
      [["paste-token", "--provider", "openai", "--agent", "work"], fakeSecret("sk-")],
      [["report", "anthropic:default", "--reason", "timeout"], undefined],
    ] as const
  ) {
    const result = await state.run([...args], { ...wrap, stdin });
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  }
  const mode = (path: string) => (Deno.statSync(path).mode! & 0o777).toString(8);
  const pending = `${state.agentDir()}/pending`;
  const dirs = [
    `${state.dir}/agents`,
    `${state.dir}/agents/main`,
    state.agentDir(),
    pending,
    `${state.dir}/agents/work`,
    state.agentDir("work"),
  ];
  for (const dir of dirs) assert.equal(mode(dir), "700", dir);
  const files = [
    ...["main", "work"].flatMap((agent) =>
      ["auth-profiles.json", "auth.json", "auth-profiles.lock"].map((f) =>
        `${state.agentDir(agent)}/${f}`
      )
    ),
    ...[...Deno.readDirSync(pending)].map((e) => `${pending}/${e.name}`),
  ];
  assert.equal(files.length, 7);
  for (const file of files) assert.equal(mode(file), "600", file);

  const clean = JSON.parse((await state.run(["doctor", "--json"])).stdout);
  assert.deepEqual(
    clean.findings.filter((f: { severity: string }) => f.severity !== "ok"),
    [],
  );
  const store = `${state.agentDir()}/auth-profiles.json`;
  Deno.chmodSync(store, 0o644);
  const flagged = await state.run(["doctor", "--json"]);
  assert.equal(flagged.code, 0, "a readable store is a warning");
  const [finding] = JSON.parse(flagged.stdout).findings.filter((f: { severity: string }) =>
    f.severity !== "ok"
  );
  assert.equal(finding.check, "permissions");
  assert.equal(finding.severity, "warning");
  assert.equal(finding.path, store);
  assert.equal(finding.fix, "clawauth doctor --fix");
  assert.equal(mode(store), "644", "doctor without --fix changes nothing");
  const fixed = await state.run(["doctor", "--fix"], wrap);
  assert.equal(fixed.code, 0, fixed.stdout);
  assert.match(fixed.stdout, /fixed: chmod 0600/);
  assert.equal(mode(store), "600");
});
