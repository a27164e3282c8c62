/**
 * The store lock (docs/locking.md): concurrent writers lose nothing, and `flock(1)`
 * on auth-profiles.lock holds every writer off, up to CLAWAUTH_LOCK_TIMEOUT.
 */

import assert from "node:assert/strict";
import { fakeSecret, holdFlock, outputOf, tempState } from "../helpers.ts";

/**
 * Resolves once process `pid` has the file `path` open, read from its
 * `/proc/PID/fd`: a writer opens the lock file just before it first tries
 * the lock, and then keeps trying until it gets it or gives up.
 */
async function openedBy(pid: number, path: string): Promise<void> {
  const target = Deno.realPathSync(path);
  const links = () => {
    try {
      return [...Deno.readDirSync(`/proc/${pid}/fd`)].map((entry) => {
        try {
          return Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
        } catch {
          return ""; // closed meanwhile
        }
      });
    } catch {
      return [];
    }
  };
  for (let i = 0; i < 2000; i++) {
    if (links().includes(target)) return;
    // Polls the process's open files; the condition, not the delay, synchronises.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`process ${pid} never opened ${path}`);
}

Deno.test("30 processes pasting 30 profiles at once all land, and store and auth.json parse", async () => {
  await using state = await tempState();
  const secrets = Array.from({ length: 30 }, () => fakeSecret());
  const results = await Promise.all(
    secrets.map((secret, i) =>
      state.run(["paste-token", "--provider", "anthropic", "--profile", `p${i}`], {
        stdin: secret,
      })
    ),
  );
  results.forEach((result, i) => assert.equal(result.code, 0, `p${i}: ${result.stderr}`));
  const profiles = state.store().profiles as Record<string, { token: string }>;
  assert.equal(Object.keys(profiles).length, 30);
  secrets.forEach((secret, i) => assert.equal(profiles[`anthropic:p${i}`].token, secret));
  const cache = JSON.parse(
    Deno.readTextFileSync(`${state.agentDir()}/auth.json`),
  );
  assert.ok(secrets.includes(cache.anthropic.key));
  assert.deepEqual(
    [...Deno.readDirSync(state.agentDir())].map((e) => e.name).sort(),
    ["auth-profiles.json", "auth-profiles.lock", "auth.json"],
    "no temp file is left behind",
  );
});

Deno.test("a write waits for flock(1) on auth-profiles.lock: it exits 75 after CLAWAUTH_LOCK_TIMEOUT with the store unchanged, and completes once the holder releases", async () => {
  await using state = await tempState();
  const first = await state.run(["paste-token", "--provider", "anthropic"], {
    stdin: fakeSecret(),
  });
  assert.equal(first.code, 0, first.stderr);
  const storeBefore = state.storeText();
  const cachePath = `${state.agentDir()}/auth.json`;
  const cacheBefore = Deno.readTextFileSync(cachePath);
  const lock = `${state.agentDir()}/auth-profiles.lock`;

  const holder = await holdFlock(lock);
  const secret = fakeSecret();
  const child = state.spawn(["paste-token", "--provider", "anthropic", "--profile", "patient"]);
  const patient = outputOf(child, secret);
  await openedBy(child.pid, lock);
  const impatient = state.run(
    ["paste-token", "--provider", "anthropic", "--profile", "late"],
    { stdin: fakeSecret(), env: { CLAWAUTH_LOCK_TIMEOUT: "1" } },
  );

  const timedOut = await impatient;
  assert.equal(timedOut.code, 75, timedOut.stderr);
  assert.ok(timedOut.stderr.includes(lock), timedOut.stderr);
  assert.equal(state.storeText(), storeBefore, "the waiting writer wrote nothing");
  assert.equal(Deno.readTextFileSync(cachePath), cacheBefore);

  await holder.release();
  const done = await patient;
  assert.equal(done.code, 0, done.stderr);
  const profiles = state.store().profiles as Record<string, { token: string }>;
  assert.equal(profiles["anthropic:patient"].token, secret);
  assert.equal(profiles["anthropic:late"], undefined);
});
