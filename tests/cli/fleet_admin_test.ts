/**
 * Looking after a fleet store: `store init` and schema versions, `store
 * copy` between local and fleet stores, `store rotate-key`, `store keygen`,
 * `doctor`, and TLS. Real PostgreSQL (tests/postgres_env.ts).
 */

import assert from "node:assert/strict";
import { fakeSecret, tempState } from "../helpers.ts";
import { fleetOf, pasteOn, testCluster } from "../postgres_env.ts";
import { apiKeyProfile, devLoginProfile, storeOf, tokenProfile } from "../builders.ts";

const { pg, ignore, suffix: SUFFIX } = await testCluster("fleet admin tests");

const dbOf = (url: string) => url.replace(/^.*\//, "").replace(/\?.*$/, "");

Deno.test({
  name:
    `fleet: store init creates a versioned schema once; an older client refuses to write a newer schema${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1, { init: false });
    const [a] = fleet.machines;
    const before = await a.run(["token", "--provider", "openai"]);
    assert.equal(before.code, 65, before.stderr);
    assert.match(before.stderr, /no clawauth schema yet/);
    assert.match(before.stderr, /clawauth store init/);
    const init = await a.run(["store", "init"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Created the clawauth schema \(version 2\)/);
    const again = await a.run(["store", "init"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already at version 2.*the key matches/);
    const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const wrongInit = await a.run(["store", "init"], { env: { CLAWAUTH_STORE_KEY: other } });
    assert.equal(wrongInit.code, 65, "init never takes a store over with another key");
    const key = fakeSecret("sk-");
    assert.equal(
      (await a.run(["paste-token", "--provider", "openai", "--type", "api-key"], { stdin: key }))
        .code,
      0,
    );
    const db = dbOf(fleet.url);
    const tables = await pg.psql(
      "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'clawauth';",
      db,
    );
    assert.equal(tables.trim(), "agents,key_canary,lineages,meta,profiles,routing");
    // A newer clawauth migrated the schema: this one still reads, but never writes.
    await pg.psql("UPDATE clawauth.meta SET value = '3' WHERE key = 'schema_version';", db);
    assert.equal((await a.run(["token", "--provider", "openai"])).stdout, `${key}\n`);
    const write = await a.run(["report", "openai:default", "--ok"]);
    assert.equal(write.code, 65, write.stderr);
    assert.match(write.stderr, /newer than this clawauth/);
    assert.equal((await a.run(["store", "init"])).code, 65);
    // One that this client cannot even read is refused outright.
    await pg.psql("UPDATE clawauth.meta SET value = '3' WHERE key = 'readable_by';", db);
    const read = await a.run(["token", "--provider", "openai"]);
    assert.equal(read.code, 65, read.stderr);
    assert.equal(read.stdout, "");
    const status = await a.run(["store", "status", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).schema, { version: 3, readableBy: 3, client: 2 });
  },
});

Deno.test({
  name:
    `fleet: store copy round-trips OAuth, token and API-key profiles with routing state, with --dry-run and --force${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [machine] = fleet.machines;
    await using local = await tempState();
    const now = Date.now();
    const original = storeOf({
      "openai-codex:dev@example.test": devLoginProfile(now, { idToken: fakeSecret("id-") }),
      "anthropic:work": tokenProfile(fakeSecret(), { expires: now + 365 * 86_400_000 }),
      "openai:ci": apiKeyProfile(),
    }, {
      order: { anthropic: ["anthropic:work"], openai: ["openai:ci"] },
      lastGood: { anthropic: "anthropic:work" },
      usageStats: {
        "anthropic:work": { lastUsed: now - 5000, errorCount: 1, cooldownUntil: now + 60_000 },
      },
      otherTool: { kept: true },
    });
    local.writeStore(original);
    local.writeStore(
      storeOf({ "openai:side": original.profiles["openai:ci"] }),
      "side",
    );
    const env = machine.env;
    const dry = await local.run(
      ["store", "copy", "--from", "json", "--to", fleet.url, "--dry-run"],
      {
        env,
      },
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /agent main: 3 new profile/);
    assert.match(dry.stdout, /Dry run: nothing was written/);
    const listed = await machine.run(["agents", "list", "--json"]);
    assert.deepEqual(JSON.parse(listed.stdout).agents, [], "a dry run writes nothing");
    const copied = await local.run(["store", "copy", "--from", "json", "--to", fleet.url], { env });
    assert.equal(copied.code, 0, copied.stderr);
    assert.match(copied.stderr, /OAuth login/, "the copy warns that two stores now hold the login");
    // Served by the fleet, with routing state and all.
    assert.equal(
      (await machine.run(["token", "--provider", "anthropic"])).stdout,
      `${original.profiles["anthropic:work"].token}\n`,
    );
    assert.equal(
      (await machine.run(["--agent", "side", "token", "--provider", "openai"])).stdout,
      `${original.profiles["openai:ci"].key}\n`,
    );
    // A second copy finds everything the same; a changed entry is refused without --force.
    const same = await local.run(["store", "copy", "--from", "json", "--to", fleet.url], { env });
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /0 new profile\(s\), 0 different, 3 the same/);
    const changed = structuredClone(original);
    changed.profiles["openai:ci"].key = fakeSecret("sk-");
    local.writeStore(changed);
    const refused = await local.run(["store", "copy", "--from", "json", "--to", fleet.url], {
      env,
    });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /main\/openai:ci/);
    assert.match(refused.stderr, /--force/);
    assert.equal(
      (await machine.run(["token", "--provider", "openai"])).stdout,
      `${original.profiles["openai:ci"].key}\n`,
      "nothing was overwritten",
    );
    const forced = await local.run(
      ["store", "copy", "--from", "json", "--to", fleet.url, "--force"],
      { env },
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(
      (await machine.run(["token", "--provider", "openai"])).stdout,
      `${changed.profiles["openai:ci"].key}\n`,
    );
    // And back out into a fresh JSON state dir: the same documents.
    await using back = await tempState();
    const out = await back.run(["store", "copy", "--from", fleet.url, "--to", "json"], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(back.store(), changed);
    assert.deepEqual(
      back.store("side"),
      storeOf({ "openai:side": original.profiles["openai:ci"] }),
    );
  },
});

Deno.test({
  name:
    `fleet: store rotate-key re-encrypts every secret in one go; the old key no longer opens the store${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 2);
    const [a, b] = fleet.machines;
    const token = fakeSecret();
    await pasteOn(a, token);
    assert.equal((await a.run(["agents", "add", "ci"])).code, 0);
    const key = fakeSecret("sk-");
    assert.equal(
      (await a.run(["--agent", "ci", "paste-token", "--provider", "openai", "--type", "api-key"], {
        stdin: key,
      })).code,
      0,
    );
    const file = a.state.dir.replace(/\/state$/, "/new.key");
    const made = await a.run(["store", "keygen", "--out", file]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(Deno.statSync(file).mode! & 0o777, 0o600);
    assert.equal((await a.run(["store", "keygen", "--out", file])).code, 1, "never overwritten");
    const printed = await a.run(["store", "keygen"]);
    assert.match(printed.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
    Deno.chmodSync(file, 0o644);
    const exposed = await a.run(["store", "rotate-key", "--new-key-file", file]);
    assert.equal(exposed.code, 65, exposed.stderr);
    assert.match(exposed.stderr, /0600/);
    Deno.chmodSync(file, 0o600);
    const rotated = await a.run(["store", "rotate-key", "--new-key-file", file]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /Re-encrypted 2 profile/);
    const old = await b.run(["token", "--provider", "anthropic"]);
    assert.equal(old.code, 65, "the old key is refused, never garbage");
    assert.equal(old.stdout, "");
    const withFile = { CLAWAUTH_STORE_KEY: "", CLAWAUTH_STORE_KEY_FILE: file };
    assert.equal(
      (await b.run(["token", "--provider", "anthropic"], { env: withFile })).stdout,
      `${token}\n`,
    );
    assert.equal(
      (await b.run(["--agent", "ci", "token", "--provider", "openai"], { env: withFile })).stdout,
      `${key}\n`,
    );
    const fromStdin = await b.run(["store", "rotate-key"], {
      env: withFile,
      stdin: `${fleet.key}\n`,
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal((await b.run(["token", "--provider", "anthropic"])).stdout, `${token}\n`);
  },
});

Deno.test({
  name:
    `fleet: doctor checks connection, TLS, schema and key, and names a profile whose secret was moved between rows${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [a] = fleet.machines;
    const one = fakeSecret();
    const two = fakeSecret();
    for (const [name, value] of [["one", one], ["two", two]]) {
      assert.equal(
        (await a.run(["paste-token", "--provider", "anthropic", "--profile", name], {
          stdin: value,
        })).code,
        0,
      );
    }
    const healthy = await a.run(["doctor", "--json"]);
    assert.equal(healthy.code, 0, healthy.stdout);
    const checks = JSON.parse(healthy.stdout).findings.map((f: { check: string }) => f.check);
    for (const check of ["connection", "tls", "schema", "key", "store", "secrets"]) {
      assert.ok(checks.includes(check), `doctor checks ${check}`);
    }
    // Someone with database access swaps two sealed secrets: neither is served as the other.
    await pg.psql(
      `UPDATE clawauth.profiles SET secret = (SELECT secret FROM clawauth.profiles WHERE id = 'anthropic:two') WHERE id = 'anthropic:one';`,
      dbOf(fleet.url),
    );
    const served = await a.run(["token", "--profile", "anthropic:one"]);
    assert.notEqual(served.code, 0);
    assert.ok(!served.stdout.includes(two), "a moved secret is never handed out");
    const doctor = await a.run(["doctor", "--json"]);
    assert.equal(doctor.code, 1);
    const bad = JSON.parse(doctor.stdout).findings.filter((f: { severity: string }) =>
      f.severity === "error"
    );
    assert.ok(
      bad.some((f: { check: string; message: string }) =>
        f.check === "secrets" && f.message.includes("anthropic:one")
      ),
      doctor.stdout,
    );
    assert.equal((await a.run(["token", "--profile", "anthropic:two"])).stdout, `${two}\n`);
  },
});

Deno.test({
  name:
    `fleet: TLS with sslmode=verify-full checks the server's certificate against sslrootcert${SUFFIX}`,
  ignore: ignore || !pg.caFile,
  async fn() {
    const url = await pg.database(`?sslmode=verify-full&sslrootcert=${pg.caFile}`);
    await using state = await tempState();
    const env = {
      CLAWAUTH_STORE: url,
      PGPASSWORD: pg.password,
      CLAWAUTH_STORE_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
    };
    assert.equal((await state.run(["store", "init"], { env })).code, 0);
    const status = await state.run(["store", "status", "--json"], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).tls.inUse, true);
    assert.equal(JSON.parse(status.stdout).tls.sslmode, "verify-full");
    // Without the private CA, the system roots do not vouch for this server.
    const untrusted = await state.run(["list"], {
      env: { ...env, CLAWAUTH_STORE: url.replace(/&sslrootcert=.*$/, "") },
    });
    assert.equal(untrusted.code, 69, untrusted.stderr);
    assert.match(untrusted.stderr, /certificate/);
    // The certificate names 127.0.0.1 and localhost, nothing else.
    const doctor = await state.run(["doctor", "--json"], { env });
    const tls = JSON.parse(doctor.stdout).findings.find((f: { check: string }) =>
      f.check === "tls"
    );
    assert.equal(tls.severity, "ok");
  },
});
