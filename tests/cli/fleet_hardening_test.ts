/**
 * Fleet-store hardening against a real PostgreSQL (tests/postgres_env.ts):
 * a key file that is not a regular file, one damaged row among healthy
 * ones, a database that stops answering, and a row rolled back to an older
 * ciphertext.
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks, NO_NPM, tempState } from "../helpers.ts";
import { fleetOf, testCluster } from "../postgres_env.ts";
import {
  associatedData,
  decodeKeyText,
  importStoreKey,
  seal,
} from "../../lib/store/postgres/crypto.ts";

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
    const [one, two, key, ci] = [fakeSecret(), fakeSecret(), fakeSecret("sk-"), fakeSecret("sk-")];
    const apiKey = await a.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: ci,
    });
    assert.equal(apiKey.code, 0, apiKey.stderr);
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
    // On the hot path still: the canary comes with the rows, no npm:postgres for a second look.
    const hot = await a.run(["token", "--provider", "openai"], {
      env: { CLAWAUTH_STORE: `${fleet.url}?sslmode=disable` },
      wrap: NO_NPM,
    });
    assert.equal(hot.code, 0, hot.stderr);
    assert.equal(hot.stdout, `${ci}\n`);
    assert.match(hot.stderr, /warning: profile anthropic:one in the fleet store does not decrypt/);
    assert.match(hot.stderr, /clawauth remove anthropic:one/);
    const read = await a.run(["token", "--profile", "anthropic:two"]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, `${two}\n`);
    // Writes on healthy profiles: a report, a new profile (both were exit 65 "wrong key").
    const reported = await a.run(["report", "anthropic:two", "--reason", "rate_limit"]);
    assert.equal(reported.code, 0, reported.stderr);
    assert.equal((await a.run(["report", "anthropic:two", "--ok"])).code, 0);
    const added = await a.run(
      ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "second"],
      { stdin: key },
    );
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await a.run(["token", "--profile", "openai:second"])).stdout, `${key}\n`);
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

/**
 * A TCP proxy in front of PostgreSQL that, while `stalled`, forwards nothing
 * past a connection's start-up (its first ReadyForQuery): the server accepts,
 * logs in, and then never answers, as a hung database or a dead link does.
 * Plain protocol only (sslmode=disable), which it parses to find that point.
 */
function stallingProxy(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Deno.Conn[] = [];
  const state = { stalled: false };
  const forward = async (
    from: Deno.Conn,
    to: Deno.Conn,
    ready: { at: boolean },
    fromServer: boolean,
  ) => {
    let pending = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    for (;;) {
      const got = await from.read(chunk);
      if (got === null) return;
      if (state.stalled && ready.at) continue;
      if (!fromServer) {
        await to.write(chunk.slice(0, got));
        continue;
      }
      // Server messages one by one (type, Int32 length), up to the first ReadyForQuery.
      const joined = new Uint8Array(pending.length + got);
      joined.set(pending);
      joined.set(chunk.subarray(0, got), pending.length);
      let at = 0;
      while (joined.length - at >= 5 && !(state.stalled && ready.at)) {
        const size = new DataView(joined.buffer, at + 1, 4).getInt32(0) + 1;
        if (joined.length - at < size) break;
        await to.write(joined.slice(at, at + size));
        if (joined[at] === 0x5a /* Z */) ready.at = true;
        at += size;
      }
      pending = state.stalled && ready.at ? new Uint8Array(0) : joined.slice(at);
    }
  };
  const serving = (async () => {
    for await (const client of listener) {
      open.push(client);
      (async () => {
        const server = await Deno.connect({ hostname: "127.0.0.1", port: target });
        open.push(server);
        const ready = { at: false };
        await Promise.all([
          forward(client, server, ready, false),
          forward(server, client, ready, true),
        ]);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    state,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await serving;
    },
  };
}

Deno.test({
  name:
    `fleet: a database that stops answering after start-up makes token, reads and writes exit 69 naming the host, and they return${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [a] = fleet.machines;
    const secret = fakeSecret();
    const pasted = await a.run(["paste-token", "--provider", "anthropic"], { stdin: secret });
    assert.equal(pasted.code, 0, pasted.stderr);
    const proxy = stallingProxy(pg.port);
    try {
      const url = `${fleet.url.replace(`:${pg.port}/`, `:${proxy.port}/`)}?sslmode=disable`;
      // Small deadlines, so the test does not wait 20 s per command.
      const env = { CLAWAUTH_STORE: url, CLAWAUTH_HTTP_TIMEOUT: "1", CLAWAUTH_LOCK_TIMEOUT: "1" };
      const through = await a.run(["token", "--provider", "anthropic"], { env });
      assert.equal(through.code, 0, `the proxy forwards: ${through.stderr}`);
      assert.equal(through.stdout, `${secret}\n`);
      proxy.state.stalled = true;
      for (
        const [args, stdin] of [
          [["token", "--provider", "anthropic"]],
          [["paste-token", "--provider", "openai", "--type", "api-key"], fakeSecret("sk-")],
          [["report", "anthropic:default", "--ok"]],
          [["agents", "add", "ci"]],
          [["agents", "list"]],
          [["store", "status"]],
        ] as [string[], string?][]
      ) {
        const result = await a.run(args, { env, ...(stdin ? { stdin } : {}) });
        const name = args.join(" ");
        assert.equal(result.code, 69, `${name}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${proxy.port}`), name);
        assert.match(result.stderr, /stopped answering/, name);
        assert.equal(result.stdout, "", name);
        assert.ok(!result.stderr.includes(pg.password));
        assert.ok(!leaks(result.stderr, secret, "sk-ant-oat01-"));
      }
    } finally {
      await proxy.close();
    }
  },
});

Deno.test({
  name:
    `fleet: an older ciphertext of a row put back is refused as damaged, never served; a full-row restore is not detected${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [a] = fleet.machines;
    const db = dbOf(fleet.url);
    const [old, current] = [fakeSecret(), fakeSecret()];
    const row = async () =>
      (await pg.psql(
        "SELECT encode(secret, 'hex') || ' ' || version FROM clawauth.profiles WHERE id = 'anthropic:default';",
        db,
      )).trim().split(" ");
    assert.equal((await a.run(["paste-token", "--provider", "anthropic"], { stdin: old })).code, 0);
    const [oldSecret, oldVersion] = await row();
    assert.equal(
      (await a.run(["paste-token", "--provider", "anthropic"], { stdin: current })).code,
      0,
    );
    const [currentSecret, currentVersion] = await row();
    assert.ok(Number(currentVersion) > Number(oldVersion), "every write bumps the version");
    // Someone with write access to the database puts the older ciphertext back.
    await pg.psql(
      `UPDATE clawauth.profiles SET secret = decode('${oldSecret}', 'hex') WHERE id = 'anthropic:default';`,
      db,
    );
    const replayed = await a.run(["token", "--provider", "anthropic"]);
    assert.notEqual(replayed.code, 0, "the older token is not served");
    assert.ok(!leaks(replayed.stdout, old, "sk-ant-oat01-"));
    assert.match(replayed.stderr, /profile anthropic:default in the fleet store does not decrypt/);
    const doctor = JSON.parse((await a.run(["doctor", "--json"])).stdout);
    assert.ok(
      doctor.findings.some((f: { check: string; message: string }) =>
        f.check === "secrets" && f.message.includes("anthropic:default")
      ),
    );
    // The documented limit: the whole row (ciphertext and its version) restored is served.
    await pg.psql(
      `UPDATE clawauth.profiles SET secret = decode('${oldSecret}', 'hex'), version = ${oldVersion}
       WHERE id = 'anthropic:default';`,
      db,
    );
    assert.equal((await a.run(["token", "--provider", "anthropic"])).stdout, `${old}\n`);
    assert.notEqual(oldSecret, currentSecret);
  },
});

Deno.test({
  name:
    `fleet: a schema 1 store is refused until store init migrates it, which re-seals every row bound to a version; a wrong key migrates nothing${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [a] = fleet.machines;
    const db = dbOf(fleet.url);
    // A store as clawauth with schema 1 left it: no versions, values bound to (agent, profile, field).
    const key = await importStoreKey(decodeKeyText(fleet.key, "test"), "test");
    const token = fakeSecret();
    const sealed = await seal(
      key,
      JSON.stringify({ rest: { token } }),
      associatedData("main", "anthropic:old", "secret"),
    );
    const hex = [...sealed].map((b) => b.toString(16).padStart(2, "0")).join("");
    await pg.psql(
      `ALTER TABLE clawauth.profiles DROP COLUMN version;
       ALTER TABLE clawauth.agents DROP COLUMN extra_version;
       DROP SEQUENCE clawauth.row_versions;
       UPDATE clawauth.meta SET value = '1' WHERE key IN ('schema_version', 'readable_by');
       INSERT INTO clawauth.agents (agent) VALUES ('main');
       INSERT INTO clawauth.profiles (agent, id, provider, type, secret, key_id) VALUES
         ('main', 'anthropic:old', 'anthropic', 'token', decode('${hex}', 'hex'), '${key.id}'),
         ('main', 'anthropic:junk', 'anthropic', 'token', decode('01${
        "00".repeat(40)
      }', 'hex'), '${key.id}');`,
      db,
    );
    for (
      const args of [["token", "--provider", "anthropic"], ["report", "anthropic:old", "--ok"]]
    ) {
      const refused = await a.run(args);
      assert.equal(refused.code, 65, refused.stderr);
      assert.match(refused.stderr, /older clawauth schema|schema version 1/);
      assert.match(refused.stderr, /clawauth store init/);
    }
    const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const wrong = await a.run(["store", "init"], { env: { CLAWAUTH_STORE_KEY: other } });
    assert.equal(wrong.code, 65, wrong.stderr);
    assert.equal(
      (await pg.psql("SELECT value FROM clawauth.meta WHERE key = 'schema_version';", db)).trim(),
      "1",
      "a wrong key migrates nothing",
    );
    const init = await a.run(["store", "init"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Migrated the clawauth schema from version 1 to 2/);
    const versions = await pg.psql(
      "SELECT id || '=' || version FROM clawauth.profiles ORDER BY id;",
      db,
    );
    assert.match(versions, /anthropic:junk=0\n/, "a value that does not open stays unbound");
    assert.match(versions, /anthropic:old=[1-9]\d*/);
    const served = await a.run(["token", "--profile", "anthropic:old"]);
    assert.equal(served.code, 0, served.stderr);
    assert.equal(served.stdout, `${token}\n`);
    assert.match(served.stderr, /anthropic:junk/);
    assert.equal((await a.run(["remove", "anthropic:junk"])).code, 0);
    const status = JSON.parse((await a.run(["store", "status", "--json"])).stdout);
    assert.deepEqual(status.schema, { version: 2, readableBy: 2, client: 2 });
  },
});
