/**
 * Fleet mode (docs/fleet.md) against a real PostgreSQL: one throwaway cluster for
 * this file (tests/postgres_env.ts), a fresh database per test, and
 * "machines" that are separate HOMEs and state dirs sharing it.
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks, setOrder, tempState } from "../helpers.ts";
import { fleetOf, pasteOn, testCluster } from "../postgres_env.ts";

const { pg, ignore, suffix: SUFFIX } = await testCluster("fleet tests");

/** Every spelling of `secret` a dump could hold it in: text, hex, base64. */
function dumpLeaks(dump: string, secret: string): boolean {
  const bytes = new TextEncoder().encode(secret);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return leaks(dump, secret, "") || dump.includes(hex.slice(8, 40)) ||
    dump.includes(btoa(secret).slice(4, 24));
}

Deno.test({
  name:
    `fleet: a token pasted on one machine is served on the others, and no secret reaches the database${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    const [a, b, c] = fleet.machines;
    const token = fakeSecret();
    const key = fakeSecret("sk-proj-");
    const pasted = await a.run(["paste-token", "--provider", "anthropic", "--profile", "work"], {
      stdin: `${token}\n`,
    });
    assert.equal(pasted.code, 0, pasted.stderr);
    const apiKey = await a.run(
      ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "ci"],
      { stdin: `${key}\n` },
    );
    assert.equal(apiKey.code, 0, apiKey.stderr);
    for (const machine of [b, c]) {
      const served = await machine.run(["token", "--provider", "anthropic"]);
      assert.equal(served.code, 0, served.stderr);
      assert.equal(served.stdout, `${token}\n`);
      assert.equal((await machine.run(["token", "--provider", "openai"])).stdout, `${key}\n`);
    }
    const status = await c.run(["status", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout);
    assert.deepEqual(parsed.store, { backend: "postgres", location: fleet.url });
    assert.deepEqual(parsed.profiles.map((p: { id: string }) => p.id).sort(), [
      "anthropic:work",
      "openai:ci",
    ]);
    assert.ok(!leaks(status.stdout, token, "sk-ant-oat01-"));
    assert.ok(!status.stdout.includes(pg.password));
    // Nothing of the store lands on the machines' disks.
    for (const machine of [a, b, c]) {
      assert.throws(() => machine.state.storeText(), Deno.errors.NotFound);
    }
    const dump = await pg.dump(fleet.url);
    assert.ok(dump.includes("anthropic:work"), "the dump holds the profile's metadata");
    assert.ok(!dumpLeaks(dump, token), "the dump holds no pasted token");
    assert.ok(!dumpLeaks(dump, key), "the dump holds no API key");
  },
});

Deno.test({
  name: `fleet: agents are namespaces, and routing, cooldowns and report are shared${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    const [a, b, c] = fleet.machines;
    assert.equal((await a.run(["agents", "add", "work"])).code, 0);
    const listed = await b.run(["agents", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).agents.map((x: { id: string }) => x.id), ["work"]);
    const secret = fakeSecret();
    assert.equal(
      (await b.run(["--agent", "work", "paste-token", "--provider", "anthropic"], {
        stdin: secret,
      })).code,
      0,
    );
    assert.equal(
      (await c.run(["--agent", "work", "token", "--provider", "anthropic"])).stdout,
      `${secret}\n`,
    );
    assert.equal((await c.run(["token", "--provider", "anthropic"])).code, 77, "main has none");
    // Two profiles of one provider on main: order set on one machine routes on another.
    const first = fakeSecret();
    const second = fakeSecret();
    for (const [name, value] of [["one", first], ["two", second]]) {
      const r = await a.run(["paste-token", "--provider", "anthropic", "--profile", name], {
        stdin: value,
      });
      assert.equal(r.code, 0, r.stderr);
    }
    const order = await setOrder(a, "anthropic", "anthropic:two", "anthropic:one");
    assert.equal(order.code, 0, order.stderr);
    assert.equal((await b.run(["token", "--provider", "anthropic"])).stdout, `${second}\n`);
    // A rate limit reported on one machine sidelines the profile for all.
    const reported = await b.run(["report", "anthropic:two", "--reason", "rate_limit"]);
    assert.equal(reported.code, 0, reported.stderr);
    assert.equal((await c.run(["token", "--provider", "anthropic"])).stdout, `${first}\n`);
    const status = JSON.parse((await c.run(["status", "--json"])).stdout);
    const two = status.profiles.find((p: { id: string }) => p.id === "anthropic:two");
    assert.equal(two.state, "cooldown");
    assert.equal((await b.run(["report", "anthropic:two", "--ok"])).code, 0);
    assert.equal((await a.run(["token", "--provider", "anthropic"])).stdout, `${second}\n`);
    // Removing the agent on one machine removes it for the fleet.
    assert.equal((await c.run(["agents", "remove", "work"])).code, 0);
    const after = JSON.parse((await a.run(["agents", "list", "--json"])).stdout);
    assert.deepEqual(after.agents.map((x: { id: string }) => x.id), ["main"]);
    assert.equal((await a.run(["--agent", "work", "token", "--provider", "anthropic"])).code, 77);
  },
});

Deno.test({
  name: `fleet: a wrong key is refused with exit 65 and prints nothing; no key is exit 64${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    const [a, b] = fleet.machines;
    const secret = fakeSecret();
    await pasteOn(a, secret);
    const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const wrong = { CLAWAUTH_STORE_KEY: other };
    const read = await b.run(["token", "--provider", "anthropic"], { env: wrong });
    assert.equal(read.code, 65, read.stderr);
    assert.equal(read.stdout, "");
    assert.match(read.stderr, /not the key of the fleet store/);
    const write = await b.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: fakeSecret("sk-"),
      env: wrong,
    });
    assert.equal(write.code, 65, write.stderr);
    const rows = await pg.psql(
      "SELECT count(*) FROM clawauth.profiles;",
      fleet.url.replace(/^.*\//, ""),
    );
    assert.equal(rows.trim(), "1", "the wrong key wrote nothing");
    const status = await b.run(["store", "status"], { env: wrong });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /WRONG/);
    const missing = await b.run(["token", "--provider", "anthropic"], {
      env: { CLAWAUTH_STORE_KEY: "" },
    });
    assert.equal(missing.code, 64, missing.stderr);
    assert.match(missing.stderr, /CLAWAUTH_STORE_KEY/);
    const junk = await b.run(["token", "--provider", "anthropic"], {
      env: { CLAWAUTH_STORE_KEY: "c2hvcnQ=" },
    });
    assert.equal(junk.code, 65, junk.stderr);
    assert.equal((await b.run(["token", "--provider", "anthropic"])).stdout, `${secret}\n`);
  },
});

Deno.test({
  name: `fleet: a password in the store URL is refused (64) and never echoed${SUFFIX}`,
  async fn() {
    await using state = await tempState();
    const result = await state.run([
      "--store",
      "postgres://fleet:hunter2secret@127.0.0.1:9/db",
      "token",
      "--provider",
      "openai",
    ]);
    assert.equal(result.code, 64);
    assert.match(result.stderr, /password/);
    assert.ok(!result.stderr.includes("hunter2secret"));
    const typo = await state.run(["list"], {
      env: { CLAWAUTH_STORE: "postgres://fleet@127.0.0.1/db?sslmod=verify-full" },
    });
    assert.equal(typo.code, 64);
    assert.match(typo.stderr, /sslmod/);
  },
});

Deno.test({
  name:
    `fleet: with the database stopped every command exits 69 naming the host, never the password or a secret; restarted, all works${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg);
    const [a, b] = fleet.machines;
    const secret = fakeSecret();
    await pasteOn(a, secret);
    await pg.stop();
    try {
      for (
        const [args, stdin] of [
          [["token", "--provider", "anthropic"]],
          [["status"]],
          [["paste-token", "--provider", "openai", "--type", "api-key"], fakeSecret("sk-")],
          [["report", "anthropic:default", "--ok"]],
          [["agents", "list"]],
          [["store", "status"]],
        ] as [string[], string?][]
      ) {
        const result = await b.run(args, stdin ? { stdin } : {});
        assert.equal(result.code, 69, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /127\.0\.0\.1/, args.join(" "));
        assert.match(result.stderr, /no(t)? fall back|could not be reached/);
        assert.equal(result.stdout, "");
        for (const text of [result.stderr, result.stdout]) {
          assert.ok(!text.includes(pg.password), "the password is never printed");
          assert.ok(!leaks(text, secret, "sk-ant-oat01-"));
          assert.ok(!text.includes(fleet.key));
        }
      }
      // No local fallback: nothing was written on the machine.
      assert.throws(() => b.state.storeText(), Deno.errors.NotFound);
      const doctor = await b.run(["doctor", "--json"]);
      assert.equal(doctor.code, 1);
      const found = JSON.parse(doctor.stdout).findings;
      assert.ok(
        found.some((f: { check: string; severity: string }) =>
          f.check === "connection" && f.severity === "error"
        ),
        doctor.stdout,
      );
    } finally {
      await pg.start();
    }
    const back = await b.run(["token", "--provider", "anthropic"]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, `${secret}\n`);
  },
});

Deno.test({
  name:
    `fleet: the password comes from ~/.pgpass; one that others can read is ignored with a warning${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [a] = fleet.machines;
    const home = a.state.dir.replace(/\/state$/, "/home");
    const pgpass = `${home}/.pgpass`;
    Deno.writeTextFileSync(pgpass, `# the fleet\n127.0.0.1:${pg.port}:*:fleet:${pg.password}\n`);
    Deno.chmodSync(pgpass, 0o600);
    const noEnv = { PGPASSWORD: "" };
    const listed = await a.run(["list"], { env: noEnv });
    assert.equal(listed.code, 0, listed.stderr);
    Deno.chmodSync(pgpass, 0o644);
    const exposed = await a.run(["list"], { env: noEnv });
    assert.equal(exposed.code, 69, exposed.stderr);
    assert.match(exposed.stderr, /\.pgpass is readable by group or others/);
    assert.match(exposed.stderr, /refused the login of role fleet/);
    assert.ok(!exposed.stderr.includes(pg.password));
  },
});
