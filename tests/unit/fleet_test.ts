/**
 * Fleet mode's pure parts, without a database: the URL rules, pgpass
 * lookup, sealing (AES-256-GCM bound to agent, profile and field), rows
 * and back, and store copy's plan.
 */

import assert from "node:assert/strict";
import { ClawauthError } from "../../lib/errors.ts";
import {
  associatedData,
  decodeKeyText,
  generateKeyText,
  importStoreKey,
  seal,
  sealedKeyId,
  unseal,
} from "../../lib/store/postgres/crypto.ts";
import { findPassword, matchPgpass, pgpassFields } from "../../lib/store/postgres/pass.ts";
import { openProfile, sealProfile } from "../../lib/store/postgres/rows.ts";
import { fromOpenclawNames, planAgent } from "../../lib/store/postgres/copy.ts";
import { parsePostgresUrl, withoutPassword } from "../../lib/store/postgres/url.ts";
import { namedStore } from "../../lib/store/kind.ts";
import { apiKeyProfile, oauthProfile, storeOf, tokenProfile } from "../builders.ts";

async function freshKey(source = "test") {
  return await importStoreKey(decodeKeyText(generateKeyText(), source), source);
}

function exitOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ClawauthError) return error.exitCode;
    throw error;
  }
  return undefined;
}

Deno.test("fleet url: normalised, never with a password, unknown parameters refused", () => {
  const target = parsePostgresUrl("postgresql://ops@db.internal/clawauth?sslmode=verify-full");
  assert.equal(target.url, "postgres://ops@db.internal:5432/clawauth?sslmode=verify-full");
  assert.deepEqual([target.host, target.port, target.database, target.user, target.sslmode], [
    "db.internal",
    5432,
    "clawauth",
    "ops",
    "verify-full",
  ]);
  assert.equal(parsePostgresUrl("postgres://u@h/d").sslmode, "prefer", "libpq's default");
  assert.equal(parsePostgresUrl("postgres://u@[::1]:6432/d").host, "::1");
  assert.equal(parsePostgresUrl("postgres://u@[::1]:6432/d").url, "postgres://u@[::1]:6432/d");
  for (
    const bad of [
      "postgres://u:secret@h/d",
      "postgres://h/d",
      "postgres://u@h",
      "postgres://u@h/d?sslmode=sometimes",
      "postgres://u@h/d?password=x",
      "postgres://u@h/d?connect_timeout=0",
    ]
  ) {
    assert.equal(exitOf(() => parsePostgresUrl(bad)), 64, bad);
  }
  try {
    parsePostgresUrl("postgres://u:hunter2@h/d");
  } catch (error) {
    assert.ok(!(error as Error).message.includes("hunter2"));
  }
  assert.equal(withoutPassword("postgres://u:hunter2@h/d"), "postgres://u:***@h/d");
  // Whatever the password holds, and whatever the scheme: it runs to the last '@'.
  for (const password of ["hun?ter2", "hun#ter2", "hun/ter2", "hun@ter2", "hunter2"]) {
    for (const scheme of ["postgres", "postgress", "mysql"]) {
      const shown = withoutPassword(`${scheme}://u:${password}@h/d`);
      assert.equal(shown, `${scheme}://u:***@h/d`);
    }
  }
  assert.equal(withoutPassword("postgres://u@h:5432/d"), "postgres://u@h:5432/d");
  assert.deepEqual(namedStore("postgres://u@h/d"), {
    backend: "postgres",
    url: "postgres://u@h:5432/d",
  });
  assert.equal(exitOf(() => namedStore("mysql://u@h/d")), 64);
});

Deno.test("fleet pgpass: first matching line wins, * matches, escapes are undone", () => {
  const target = parsePostgresUrl("postgres://fleet@db:5433/store");
  assert.deepEqual(pgpassFields(String.raw`h:1:d:u:pa\:ss\\word`), [
    "h",
    "1",
    "d",
    "u",
    "pa:ss\\word",
  ]);
  const text = [
    "# comment",
    "db:5432:store:fleet:wrong-port",
    "db:5433:other:fleet:wrong-db",
    String.raw`db:*:store:fleet:p\:1`,
    "*:*:*:*:fallback",
  ].join("\n");
  assert.equal(matchPgpass(text, target), "p:1");
  assert.equal(matchPgpass("*:*:*:*:fallback", target), "fallback");
  assert.equal(matchPgpass("db:5433:store:other:x", target), undefined);
});

Deno.test("fleet pgpass: PGPASSWORD first; a pgpass file others can read is ignored with a warning", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/pgpass`;
    Deno.writeTextFileSync(file, "*:*:*:*:from-file\n", { mode: 0o600 });
    Deno.chmodSync(file, 0o600);
    const target = parsePostgresUrl(`postgres://u@h/d?passfile=${file}`);
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    assert.deepEqual(findPassword(target, env({ PGPASSWORD: "direct" })), { password: "direct" });
    assert.deepEqual(findPassword(target, env({})), { password: "from-file" });
    Deno.chmodSync(file, 0o644);
    const exposed = findPassword(target, env({}));
    assert.equal(exposed.password, undefined);
    assert.match(exposed.warning ?? "", /readable by group or others/);
    const home = parsePostgresUrl("postgres://u@h/d");
    Deno.chmodSync(file, 0o600);
    Deno.renameSync(file, `${dir}/.pgpass`);
    assert.deepEqual(findPassword(home, env({ HOME: dir })), { password: "from-file" });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fleet crypto: a sealed value opens only with its key and for its own agent, profile and field", async () => {
  const key = await freshKey();
  const other = await freshKey();
  const ad = associatedData("main", "anthropic:work", "secret");
  const sealed = await seal(key, "sk-ant-oat01-secret", ad);
  assert.equal(sealed[0], 1, "format byte");
  assert.equal(sealedKeyId(sealed), key.id);
  assert.ok(!new TextDecoder().decode(sealed).includes("sk-ant"));
  assert.equal(await unseal(key, sealed, ad), "sk-ant-oat01-secret");
  assert.equal(await unseal(other, sealed, ad), undefined, "another key");
  for (
    const moved of [
      associatedData("work", "anthropic:work", "secret"),
      associatedData("main", "anthropic:other", "secret"),
      associatedData("main", "anthropic:work", "extra"),
    ]
  ) {
    assert.equal(await unseal(key, sealed, moved), undefined);
  }
  const flipped = sealed.slice();
  flipped[flipped.length - 1] ^= 1;
  assert.equal(await unseal(key, flipped, ad), undefined, "damage");
  assert.notDeepEqual(await seal(key, "same", ad), await seal(key, "same", ad), "fresh IVs");
  // The associated data cannot be forged by an id that contains a separator.
  assert.notDeepEqual(associatedData("a", "b\u0000c", "d"), associatedData("a\u0000b", "c", "d"));
});

Deno.test("fleet crypto: a key is base64 of exactly 32 bytes; anything else is exit 65", () => {
  assert.equal(decodeKeyText(generateKeyText(), "k").length, 32);
  for (const bad of ["", "c2hvcnQ=", "not base64!", btoa("x".repeat(33))]) {
    assert.equal(exitOf(() => decodeKeyText(bad, "k")), 65, bad);
  }
});

Deno.test("fleet rows: metadata in plain columns, everything else sealed, and back unchanged", async () => {
  const key = await freshKey();
  const entry = oauthProfile({
    access: "at-secret",
    refresh: "rt-secret",
    expires: 1767225600000,
    email: "dev@example.test",
    accountId: "acct-1",
    clawauthLink: { source: "codex-cli", path: "/home/x/.codex/auth.json" },
  });
  const row = await sealProfile(key, "main", "openai-codex:dev", entry, 7);
  assert.deepEqual(
    [row.provider, row.type, row.expires, row.email, row.account_id],
    ["openai-codex", "oauth", 1767225600000, "dev@example.test", "acct-1"],
  );
  assert.match(row.lineage ?? "", /^[0-9a-f]{24}$/);
  const opened = await openProfile(key, "main", { ...row, expires: String(row.expires) });
  assert.deepEqual(opened, { ok: true, entry });
  // Odd values keep their exact type, sealed: a fractional expiry, a non-object entry.
  const odd = tokenProfile("t", { expires: 1.5 });
  assert.deepEqual(
    await openProfile(key, "main", await sealProfile(key, "main", "anthropic:odd", odd, 1)),
    { ok: true, entry: odd },
  );
  assert.deepEqual(
    await openProfile(key, "main", await sealProfile(key, "main", "bad", "just a string", 2)),
    { ok: true, entry: "just a string" },
  );
  assert.deepEqual(await openProfile(key, "work", row), { ok: false }, "moved to another agent");
  // Bound to its row version: an older ciphertext under the current version, or a row never bound.
  const newer = await sealProfile(key, "main", "openai-codex:dev", entry, 8);
  assert.deepEqual(await openProfile(key, "main", { ...row, version: "8" }), { ok: false });
  assert.deepEqual(await openProfile(key, "main", { ...newer, version: "8" }), { ok: true, entry });
  assert.deepEqual(await openProfile(key, "main", { ...row, version: 0 }), { ok: false });
});

Deno.test("fleet copy: OpenClaw's openai OAuth profiles become openai-codex, routing entries follow", () => {
  const renamed = fromOpenclawNames(storeOf({
    "openai:me": oauthProfile({
      provider: "openai",
      access: "a",
      refresh: "r",
      expires: undefined,
    }),
    "openai:ci": apiKeyProfile("k"),
  }, {
    order: { openai: ["openai:me", "openai:ci"] },
    lastGood: { openai: "openai:me" },
    usageStats: { "openai:me": { lastUsed: 1 } },
  }));
  assert.deepEqual(Object.keys(renamed.profiles).sort(), ["openai-codex:me", "openai:ci"]);
  assert.equal(
    (renamed.profiles["openai-codex:me"] as { provider: string }).provider,
    "openai-codex",
  );
  assert.deepEqual(renamed.order, { "openai-codex": ["openai-codex:me"], openai: ["openai:ci"] });
  assert.deepEqual(renamed.lastGood, { "openai-codex": "openai-codex:me" });
  assert.deepEqual(renamed.usageStats, { "openai-codex:me": { lastUsed: 1 } });
});

Deno.test("fleet copy: the plan tells new, same and different entries apart", () => {
  const plan = planAgent(
    "main",
    storeOf({ "a:1": { v: 1 }, "a:2": { v: 2 }, "a:3": { v: 3 } }, {
      order: { a: ["a:1"] },
      extraKey: true,
    }),
    storeOf({ "a:2": { v: 2 }, "a:3": { v: 30 } }, { order: { a: ["a:2"] } }),
  );
  const status = Object.fromEntries(plan.items.map((i) => [`${i.group}.${i.key}`, i.status]));
  assert.deepEqual(status, {
    "profiles.a:1": "new",
    "profiles.a:2": "same",
    "profiles.a:3": "different",
    "order.a": "different",
    "extra.extraKey": "new",
  });
});
