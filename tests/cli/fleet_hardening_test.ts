/**
 * Fleet-store hardening against a real PostgreSQL (tests/postgres_env.ts):
 * a key file that is not a regular file, one damaged row among healthy
 * ones, a database that stops answering, and a row rolled back to an older
 * ciphertext.
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks, tempState } from "../helpers.ts";
import { fleetOf, testCluster } from "../postgres_env.ts";

const { pg, ignore, suffix: SUFFIX } = await testCluster("fleet hardening tests");

/** The database name of a store URL, for psql. */
function dbOf(url: string): string {
  return url.replace(/^.*\//, "").replace(/\?.*$/, "");
}

Deno.test({
  name: "fleet: a store key file that is a FIFO is refused (65), never read into a hang",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using state = await tempState();
    const fifo = `${state.home}/fleet.key`;
    const made = await new Deno.Command("mkfifo", { args: ["-m", "600", fifo] }).output();
    assert.ok(made.success, "mkfifo");
    const env = {
      CLAWAUTH_STORE: "postgres://fleet@127.0.0.1:9/db?sslmode=disable",
      CLAWAUTH_STORE_KEY_FILE: fifo,
    };
    const init = await state.run(["store", "init"], { env });
    assert.equal(init.code, 65, init.stderr);
    assert.match(init.stderr, /key file .*fleet\.key is not a regular file/);
    const rotate = await state.run(["store", "rotate-key", "--new-key-file", fifo], { env });
    assert.equal(rotate.code, 65, rotate.stderr);
  },
});

Deno.test({
  name:
    `fleet: one damaged row is reported and skipped; every other profile reads and writes, remove drops it, and no write overwrites it${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [a] = fleet.machines;
    const db = dbOf(fleet.url);
    const [one, two, key] = [fakeSecret(), fakeSecret(), fakeSecret("sk-")];
    for (const [name, value] of [["one", one], ["two", two]]) {
      const pasted = await a.run(["paste-token", "--provider", "anthropic", "--profile", name], {
        stdin: value,
      });
      assert.equal(pasted.code, 0, pasted.stderr);
    }
    // One flipped byte in one row's ciphertext, as a damaged disk or a hand in psql would leave it.
    await pg.psql(
      `UPDATE clawauth.profiles SET secret = set_byte(secret, 40, (get_byte(secret, 40) + 1) % 256)
       WHERE id = 'anthropic:one';`,
      db,
    );
    const sealed = () =>
      pg.psql(
        "SELECT encode(secret, 'hex') FROM clawauth.profiles WHERE id = 'anthropic:one';",
        db,
      );
    const damaged = await sealed();
    const read = await a.run(["token", "--profile", "anthropic:two"]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, `${two}\n`);
    assert.match(read.stderr, /warning: profile anthropic:one in the fleet store does not decrypt/);
    assert.match(read.stderr, /clawauth remove anthropic:one/);
    // Writes on healthy profiles: a report, a new profile (both were exit 65 "wrong key").
    const reported = await a.run(["report", "anthropic:two", "--reason", "rate_limit"]);
    assert.equal(reported.code, 0, reported.stderr);
    assert.equal((await a.run(["report", "anthropic:two", "--ok"])).code, 0);
    const added = await a.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: key,
    });
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await a.run(["token", "--provider", "openai"])).stdout, `${key}\n`);
    // The damaged profile is never served, and never silently replaced.
    const served = await a.run(["token", "--profile", "anthropic:one"]);
    assert.notEqual(served.code, 0);
    assert.ok(!leaks(served.stdout, one, "sk-ant-oat01-"));
    const over = await a.run(["paste-token", "--provider", "anthropic", "--profile", "one"], {
      stdin: fakeSecret(),
    });
    assert.equal(over.code, 65, over.stderr);
    assert.match(over.stderr, /anthropic:one .*does not decrypt.*not overwritten/);
    assert.equal(await sealed(), damaged, "the damaged row is as it was");
    // Key rotation names it; doctor lists it; remove (doctor's fix) drops it.
    const rotateFile = `${a.state.home}/new.key`;
    assert.equal((await a.run(["store", "keygen", "--out", rotateFile])).code, 0);
    const rotate = await a.run(["store", "rotate-key", "--new-key-file", rotateFile]);
    assert.equal(rotate.code, 65, rotate.stderr);
    assert.match(rotate.stderr, /main\/anthropic:one/);
    const doctor = await a.run(["doctor", "--json"]);
    assert.equal(doctor.code, 1, doctor.stdout);
    const finding = JSON.parse(doctor.stdout).findings.find((
      f: { check: string; severity: string },
    ) => f.check === "secrets" && f.severity === "error");
    assert.match(finding.message, /anthropic:one/);
    assert.match(finding.fix, /clawauth remove anthropic:one/);
    const removed = await a.run(["remove", "anthropic:one"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await sealed()).trim(), "");
    const healthy = await a.run(["doctor", "--json"]);
    assert.equal(healthy.code, 0, healthy.stdout);
    const clean = await a.run(["token", "--profile", "anthropic:two"]);
    assert.equal(clean.stdout, `${two}\n`);
    assert.equal(clean.stderr, "");
    assert.equal((await a.run(["store", "rotate-key", "--new-key-file", rotateFile])).code, 0);
    // A wrong key is still a wrong key, for reads and writes alike.
    const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    for (const args of [["token", "--provider", "openai"], ["report", "openai:default", "--ok"]]) {
      const wrong = await a.run(args, { env: { CLAWAUTH_STORE_KEY: other } });
      assert.equal(wrong.code, 65, wrong.stderr);
      assert.match(wrong.stderr, /not the key of the fleet store/);
    }
  },
});
