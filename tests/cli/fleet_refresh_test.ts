/**
 * Exactly one refresh, fleet-wide (docs/locking.md, docs/fleet.md): machines sharing a fleet
 * store refresh a login once under its database lock, and a refresher that
 * dies frees the lock with its connection. Real PostgreSQL, sandbox IdP.
 */

import assert from "node:assert/strict";
import {
  type Fleet,
  fleetIdp,
  fleetLogin,
  fleetOf,
  setFleetExpires,
  testCluster,
} from "../postgres_env.ts";

const { pg, ignore, suffix: SUFFIX } = await testCluster("fleet refresh tests");

/** Makes the stored access token expired, as time would. */
function expire(fleet: Fleet, id: string): Promise<void> {
  return setFleetExpires(pg, fleet, { id, expires: Date.now() - 1000 });
}

Deno.test({
  name:
    `fleet: a login on one machine, then 30 concurrent token calls over three machines make exactly one refresh and agree${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    await using idp = await fleetIdp(fleet);
    const [a, b] = fleet.machines;
    const id = await fleetLogin(idp, a);
    const before = await b.run(["token", "--provider", "openai-codex"]);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(idp.counts().refresh_token, 0, "a valid login is served without a refresh");
    await expire(fleet, id);
    const results = await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) => fleet.machines[i % 3].run(["token", "--provider", "openai-codex"]),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.code),
      Array(30).fill(0),
      results.find((r) => r.code !== 0)?.stderr ?? "",
    );
    const tokens = new Set(results.map((r) => r.stdout));
    assert.equal(tokens.size, 1, "every machine got the one refreshed token");
    assert.notEqual([...tokens][0], before.stdout);
    assert.equal(idp.counts().refresh_token, 1, "one refresh request, fleet-wide");
    assert.equal(idp.counts().refreshErrors, 0);
    const later = await fleet.machines[2].run(["token", "--provider", "openai-codex"]);
    assert.equal(later.stdout, [...tokens][0]);
  },
});

Deno.test({
  name:
    `fleet: a refresher SIGKILLed while the provider hangs does not block the next machine${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    await using idp = await fleetIdp(fleet);
    const [a, b] = fleet.machines;
    const id = await fleetLogin(idp, a);
    await expire(fleet, id);
    idp.setTokenFault("hang", 1);
    const refresher = a.spawn(["token", "--provider", "openai-codex"]);
    const deadline = Date.now() + 20_000;
    while (idp.counts().faults === 0) {
      assert.ok(Date.now() < deadline, "the refresher never reached the provider");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // While it holds the login's lock, another machine waits at most its lock timeout.
    const waited = await b.run(["token", "--provider", "openai-codex"], {
      env: { CLAWAUTH_LOCK_TIMEOUT: "1" },
    });
    assert.equal(waited.code, 75, waited.stderr);
    assert.match(waited.stderr, /127\.0\.0\.1/);
    refresher.kill("SIGKILL");
    await refresher.status;
    await refresher.stdout.cancel();
    await refresher.stderr.cancel();
    await refresher.stdin.close();
    const started = Date.now();
    const next = await b.run(["token", "--provider", "openai-codex"]);
    const elapsed = Date.now() - started;
    assert.equal(next.code, 0, next.stderr);
    assert.ok(elapsed < 5_000, `the next machine waited ${elapsed} ms`);
    assert.equal(idp.counts().refresh_token, 1);
    assert.equal((await fleet.machines[2].run(["token", "--profile", id])).stdout, next.stdout);
  },
});

Deno.test({
  name:
    `fleet: the database gone mid-command is exit 69 naming the host, with no local fallback${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    await using idp = await fleetIdp(fleet);
    const [a, b, c] = fleet.machines;
    const id = await fleetLogin(idp, a);
    await expire(fleet, id);
    idp.setTokenFault("hang", 1);
    const refresher = a.spawn(["token", "--provider", "openai-codex"], {
      CLAWAUTH_HTTP_TIMEOUT: "3",
    });
    const deadline = Date.now() + 20_000;
    while (idp.counts().faults === 0) {
      assert.ok(Date.now() < deadline, "the refresher never reached the provider");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const waiter = b.run(["token", "--provider", "openai-codex"]);
    // Until the waiter waits for the lineage lock (a fixed sleep lost that race on a busy machine).
    const waiting = "SELECT count(*) FROM pg_stat_activity " +
      "WHERE application_name = 'clawauth' AND wait_event_type = 'Lock';";
    while ((await pg.psql(waiting)).trim() === "0") {
      assert.ok(Date.now() < deadline, "the waiter never waited for the lineage lock");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Every clawauth session is cut, as a failover or a lost network would; the waiter's first
    // (and waited for), or it may take the lock the holder leaves and refresh before it goes.
    await pg.psql(
      `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
         WHERE application_name = 'clawauth' AND wait_event_type = 'Lock';
       SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = 'clawauth';`,
    );
    const [waited, refreshed] = await Promise.all([
      waiter,
      refresher.output().then((out) => ({
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      })),
    ]);
    for (const result of [waited, refreshed]) {
      assert.equal(result.code, 69, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /127\.0\.0\.1/);
      assert.ok(!result.stderr.includes(pg.password));
    }
    for (const machine of [a, b]) {
      assert.throws(() => machine.state.storeText(), Deno.errors.NotFound, "no local store");
    }
    // The login survived: the next call refreshes it once.
    const next = await c.run(["token", "--provider", "openai-codex"]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(idp.counts().refresh_token, 1);
  },
});
