/**
 * The fleet store's Deno-native wire reader (lib/store/postgres/wire.ts),
 * the `token` hot path's read, against a real PostgreSQL
 * (tests/postgres_env.ts): the same rows npm:postgres returns, every
 * password method a server may ask for (trust, cleartext, SCRAM-SHA-256;
 * md5 goes to npm:postgres, end to end through the CLI), TLS with
 * verify-full, and the failures mapped as before.
 * `token` runs with `--no-npm` here, so any npm package it loaded would fail it.
 */

import assert from "node:assert/strict";
import { fakeSecret, NO_NPM } from "../helpers.ts";
import { type Fleet, fleetOf, pasteOn, testCluster } from "../postgres_env.ts";
import { NeedsClient, type Row, wireQuery } from "../../lib/store/postgres/wire.ts";
import { parsePostgresUrl } from "../../lib/store/postgres/url.ts";
import { closeFleetClients, dbError, fleetClient } from "../../lib/store/postgres/client.ts";
import {
  readPostgresSnapshot,
  readSql,
  updatePostgresStore,
} from "../../lib/store/postgres/store.ts";
import type { AgentPaths } from "../../lib/paths.ts";
import { ClawauthError } from "../../lib/errors.ts";
import { apiKeyProfile, devLoginProfile, tokenProfile } from "../builders.ts";
import { fakeContext } from "../fake_context.ts";

const { pg, ignore, suffix: SUFFIX } = await testCluster("fleet wire tests");
/** The wire reader's deadline for an answer in these tests. */
const ANSWER = { answerMs: 10_000 };
// In-process npm:postgres pools keep timers of their own past `end()`.
const sanitize = { sanitizeOps: false, sanitizeResources: false };

/** A context whose environment holds the fleet's password and key, for in-process calls. */
function ctxOf(fleet: Fleet) {
  return fakeContext({ env: { PGPASSWORD: pg.password, CLAWAUTH_STORE_KEY: fleet.key } });
}

/** The paths of agent `main` in the fleet store at `url`, for in-process reads and writes. */
function pathsOf(fleet: Fleet, url: string): AgentPaths {
  const dir = fleet.machines[0].state.dir;
  return {
    stateDir: dir,
    backend: "postgres",
    url,
    agent: "main",
    dir,
    store: `${dir}/none`,
    cache: `${dir}/none`,
    lock: `${dir}/none`,
  };
}

/** Node Buffers (npm:postgres's bytea) as plain bytes, so rows compare by value. */
function plain(results: unknown): unknown {
  return JSON.parse(JSON.stringify(results, (_key, value) => {
    if (value instanceof Uint8Array) return { bytes: [...value] };
    if (value?.type === "Buffer" && Array.isArray(value.data)) return { bytes: value.data };
    return value;
  }));
}

Deno.test({
  name:
    `fleet wire: the wire reader returns exactly npm:postgres's rows for OAuth, token and API-key profiles and routing state; token serves them without npm${SUFFIX}`,
  ignore,
  ...sanitize,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const now = Date.now();
    const profiles = {
      "openai-codex:dev@example.test": devLoginProfile(now),
      "anthropic:work": tokenProfile(fakeSecret(), { expires: now + 86_400_000 }),
      "openai:ci": apiKeyProfile(),
    };
    const pooledUrl = `${fleet.url}?sslmode=disable`;
    const wireUrl = `${fleet.url}?sslmode=disable&connect_timeout=5`;
    const ctx = ctxOf(fleet);
    try {
      await updatePostgresStore(ctx, pathsOf(fleet, pooledUrl), 5000, (store) => {
        Object.assign(store, {
          profiles,
          order: { anthropic: ["anthropic:work"], openai: ["openai:ci"] },
          lastGood: { anthropic: "anthropic:work" },
          usageStats: { "anthropic:work": { lastUsed: now - 5000, errorCount: 1 } },
          otherTool: { kept: true, "ünïcode": "✓" },
        });
      });
      const sql = readSql("main");
      const viaWire = await wireQuery(parsePostgresUrl(wireUrl), pg.password, sql, ANSWER);
      const viaClient = await fleetClient(ctx, pathsOf(fleet, pooledUrl)).sql.unsafe(sql);
      assert.deepEqual(plain(viaWire), plain(viaClient));
      const [meta, rows, agent] = viaWire as [Row[], Row[], Row[]];
      assert.ok(meta.some((row) => row.key === "schema_version"));
      assert.deepEqual(rows.map((row) => row.id), Object.keys(profiles).sort());
      assert.equal(typeof rows[0].expires, "string", "bigint stays a string, as npm:postgres");
      assert.ok(rows[0].secret instanceof Uint8Array);
      assert.equal(rows.find((row) => row.id === "openai:ci")!.expires, null);
      assert.deepEqual(agent[0].order, { anthropic: ["anthropic:work"], openai: ["openai:ci"] });
      assert.ok(agent[0].extra instanceof Uint8Array, "the sealed extra keys");
      // The whole read: the wire path (a URL this process has no pool for) and the pool's.
      const wireSnapshot = await readPostgresSnapshot(ctx, pathsOf(fleet, wireUrl));
      const poolSnapshot = await readPostgresSnapshot(ctx, pathsOf(fleet, pooledUrl));
      assert.deepEqual(wireSnapshot, poolSnapshot);
      assert.deepEqual(wireSnapshot.store.profiles, profiles);
      assert.deepEqual(wireSnapshot.store.otherTool, { kept: true, "ünïcode": "✓" });
    } finally {
      await closeFleetClients();
    }
    // The CLI's hot path, with npm packages forbidden: every kind of profile is served.
    const [machine] = fleet.machines;
    for (const [id, profile] of Object.entries(profiles)) {
      const want = "access" in profile
        ? profile.access
        : "token" in profile
        ? profile.token
        : profile.key;
      const served = await machine.run(["token", "--profile", id], {
        env: { CLAWAUTH_STORE: wireUrl },
        wrap: NO_NPM,
      });
      assert.equal(served.code, 0, served.stderr);
      assert.equal(served.stdout, `${want}\n`);
    }
  },
});

/** Roles that log in by each method; `md5` stores an md5 hash, the others SCRAM. */
const METHODS = ["trust", "password", "md5", "scram-sha-256"] as const;

async function addRoles(password: string): Promise<void> {
  const hba = (await pg.psql("SHOW hba_file;")).trim();
  const lines = METHODS.map((method) =>
    `host all wire_${method.replace(/-/g, "_")} 127.0.0.1/32 ${method}`
  );
  Deno.writeTextFileSync(hba, `${lines.join("\n")}\n${Deno.readTextFileSync(hba)}`);
  for (const method of METHODS) {
    const role = `wire_${method.replace(/-/g, "_")}`;
    await pg.psql(
      `SET password_encryption = '${method === "md5" ? "md5" : "scram-sha-256"}';
       DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN PASSWORD '${password}';`,
    );
  }
  await pg.psql("SELECT pg_reload_conf();");
  const stored = await pg.psql(
    "SELECT rolpassword LIKE 'md5%' FROM pg_authid WHERE rolname = 'wire_md5';",
  );
  assert.equal(stored.trim(), "t", "wire_md5 has an md5 hash, so the server asks for md5");
}

Deno.test({
  name:
    `fleet wire: logs in by trust, cleartext password and SCRAM-SHA-256, declines md5; a wrong password is refused as npm:postgres's is${SUFFIX}`,
  ignore,
  ...sanitize,
  async fn() {
    const password = `pw-${crypto.randomUUID()}`;
    await addRoles(password);
    try {
      for (const method of METHODS) {
        const role = `wire_${method.replace(/-/g, "_")}`;
        const url = `postgres://${role}@127.0.0.1:${pg.port}/postgres?sslmode=disable`;
        const target = parsePostgresUrl(url);
        if (method === "md5") {
          // The reader declines an md5 login; npm:postgres takes it (the CLI test below).
          const declined = await wireQuery(target, password, "SELECT 1", ANSWER).catch((e) => e);
          assert.ok(declined instanceof NeedsClient, String(declined));
          continue;
        }
        const [[row]] = await wireQuery(target, password, "SELECT current_user AS role", ANSWER);
        assert.equal(row.role, role, method);
        if (method === "trust") continue;
        const wrong = await wireQuery(target, "not-the-password", "SELECT 1", ANSWER).catch((e) =>
          e
        );
        assert.equal(wrong.code, "28P01", `${method}: ${wrong.message}`);
        const ctx = fakeContext({ env: { PGPASSWORD: "not-the-password" } });
        const client = fleetClient(ctx, { stateDir: "/", backend: "postgres", url });
        const before = await client.sql`SELECT 1`.catch((e) => e);
        // The same sentence and exit code as with npm:postgres (69, the role named).
        const mine = dbError(wrong, target, "read agent main") as ClawauthError;
        const theirs = dbError(before, target, "read agent main") as ClawauthError;
        assert.ok(mine instanceof ClawauthError);
        assert.equal(mine.exitCode, 69);
        assert.deepEqual([mine.message, mine.exitCode], [theirs.message, theirs.exitCode], method);
        assert.match(mine.message, new RegExp(`refused the login of role ${role}`));
        assert.ok(!mine.message.includes("not-the-password"));
      }
    } finally {
      await closeFleetClients();
    }
  },
});

Deno.test({
  name:
    `fleet wire: a role that logs in by md5 reads and writes through npm:postgres, end to end through the CLI${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const db = fleet.url.replace(/^.*\//, "");
    const role = "fleet_md5";
    const password = `pw-${crypto.randomUUID()}`;
    const hba = (await pg.psql("SHOW hba_file;")).trim();
    const rules = Deno.readTextFileSync(hba);
    if (!rules.includes(` ${role} `)) {
      Deno.writeTextFileSync(hba, `host all ${role} 127.0.0.1/32 md5\n${rules}`);
    }
    await pg.psql(
      `DO $$ BEGIN CREATE ROLE ${role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
       SET password_encryption = 'md5'; ALTER ROLE ${role} PASSWORD '${password}';
       SELECT pg_reload_conf();`,
    );
    await pg.psql(
      `GRANT USAGE ON SCHEMA clawauth TO ${role};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA clawauth TO ${role};
       GRANT USAGE ON ALL SEQUENCES IN SCHEMA clawauth TO ${role};`,
      db,
    );
    const env = {
      CLAWAUTH_STORE: `${fleet.url.replace("://fleet@", `://${role}@`)}?sslmode=disable`,
      PGPASSWORD: password,
    };
    const [machine] = fleet.machines;
    const key = fakeSecret("sk-");
    const pasted = await machine.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: key,
      env,
    });
    assert.equal(pasted.code, 0, pasted.stderr);
    const served = await machine.run(["token", "--provider", "openai"], { env });
    assert.equal(served.code, 0, served.stderr);
    assert.equal(served.stdout, `${key}\n`);
    // Without npm packages the md5 login has nowhere to go: npm:postgres is what served it.
    const noNpm = await machine.run(["token", "--provider", "openai"], { env, wrap: NO_NPM });
    assert.notEqual(noNpm.code, 0);
    assert.equal(noNpm.stdout, "");
    const wrong = await machine.run(["token", "--provider", "openai"], {
      env: { ...env, PGPASSWORD: "not-the-password" },
    });
    assert.equal(wrong.code, 69, wrong.stderr);
    assert.match(wrong.stderr, new RegExp(`refused the login of role ${role}`));
  },
});

Deno.test({
  name:
    `fleet wire: a wrong password, an unreachable server and a silent one exit 69 naming the host, never the password${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [machine] = fleet.machines;
    await pasteOn(machine, fakeSecret());
    const wrong = await machine.run(["token", "--provider", "anthropic"], {
      env: { PGPASSWORD: "wrong-password-123" },
    });
    assert.equal(wrong.code, 69, wrong.stderr);
    assert.match(wrong.stderr, /refused the login of role fleet/);
    assert.ok(!wrong.stderr.includes("wrong-password-123") && !wrong.stderr.includes(pg.password));
    // Nothing listens on this port.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closed = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const gone = await machine.run(["token", "--provider", "anthropic"], {
      env: { CLAWAUTH_STORE: fleet.url.replace(`:${pg.port}/`, `:${closed}/`) },
    });
    assert.equal(gone.code, 69, gone.stderr);
    assert.match(gone.stderr, new RegExp(`127\\.0\\.0\\.1:${closed}.*connection refused`));
    assert.equal(gone.stdout, "");
    assert.ok(!gone.stderr.includes(pg.password));
    // A server that accepts and never answers: connect_timeout bounds the wait.
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of silent) held.push(conn);
    })();
    try {
      const port = (silent.addr as Deno.NetAddr).port;
      const started = Date.now();
      const hung = await machine.run(["token", "--provider", "anthropic"], {
        env: {
          CLAWAUTH_STORE: `${fleet.url.replace(`:${pg.port}/`, `:${port}/`)}?connect_timeout=1`,
        },
      });
      assert.equal(hung.code, 69, hung.stderr);
      assert.match(hung.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*connect_timeout`));
      assert.ok(Date.now() - started < 8000);
    } finally {
      silent.close();
      await accepting.catch(() => {});
      for (const conn of held) conn.close();
    }
  },
});

Deno.test({
  name:
    `fleet wire: TLS with verify-full and sslrootcert (no npm), an untrusted certificate refused, prefer handed to npm:postgres${SUFFIX}`,
  ignore: ignore || !pg.caFile,
  async fn() {
    await using fleet = await fleetOf(pg, 1);
    const [machine] = fleet.machines;
    const key = fakeSecret("sk-");
    const pasted = await machine.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: key,
    });
    assert.equal(pasted.code, 0, pasted.stderr);
    const full = `${fleet.url}?sslmode=verify-full&sslrootcert=${pg.caFile}`;
    const ssl = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    for (
      const [url, encrypted] of [[full, true], [`${fleet.url}?sslmode=disable`, false]] as const
    ) {
      const [[row]] = await wireQuery(parsePostgresUrl(url), pg.password, ssl, ANSWER);
      assert.equal(row.ssl, encrypted, url);
    }
    // The chain only: verify-ca, and prefer with an sslrootcert that vouches for it.
    for (const mode of ["verify-ca", "prefer"]) {
      const url = `${fleet.url}?sslmode=${mode}&sslrootcert=${pg.caFile}`;
      assert.equal(
        (await wireQuery(parsePostgresUrl(url), pg.password, ssl, ANSWER))[0][0].ssl,
        true,
      );
    }
    const served = await machine.run(["token", "--provider", "openai"], {
      env: { CLAWAUTH_STORE: full },
      wrap: NO_NPM,
    });
    assert.equal(served.code, 0, served.stderr);
    assert.equal(served.stdout, `${key}\n`);
    // The system roots do not vouch for the throwaway CA.
    const untrusted = await machine.run(["token", "--provider", "openai"], {
      env: { CLAWAUTH_STORE: `${fleet.url}?sslmode=verify-full` },
    });
    assert.equal(untrusted.code, 69, untrusted.stderr);
    assert.match(
      untrusted.stderr,
      /TLS certificate of the fleet store at 127\.0\.0\.1:\d+ was not accepted/,
    );
    // prefer alone encrypts without verifying, which only npm:postgres can: the wire reader hands over.
    const declined = await wireQuery(parsePostgresUrl(fleet.url), pg.password, "SELECT 1", ANSWER)
      .catch((e) => e);
    assert.ok(declined instanceof NeedsClient);
    const preferred = await machine.run(["token", "--provider", "openai"]);
    assert.equal(preferred.code, 0, preferred.stderr);
    assert.equal(preferred.stdout, `${key}\n`);
  },
});
