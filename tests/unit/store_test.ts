/**
 * Unit tests of the pure parts around the store: parsing, the legacy import,
 * removal, the auth.json cache, `status --check` codes and pasted secrets.
 */

import assert from "node:assert/strict";
import { buildCache, cacheEntry } from "../../lib/store/cache.ts";
import { checkCode } from "../../lib/commands/status.ts";
import { removeProfile } from "../../lib/commands/remove.ts";
import type { Context } from "../../lib/context.ts";
import { ClawauthError } from "../../lib/errors.ts";
import { lockTimeoutMs } from "../../lib/store/lock.ts";
import { readProfile } from "../../lib/profiles.ts";
import { cleanSecret, readLimited } from "../../lib/login/secret_input.ts";
import { parseStore, type StoreData } from "../../lib/store.ts";
import { importLegacy } from "../../lib/sources.ts";
import { profileRows } from "../../lib/output/views.ts";
import { apiKeyProfile, storeOf, tokenProfile } from "../builders.ts";

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const enc = (text: string) => new TextEncoder().encode(text);

const code = (exitCode: number, pattern = /./) => (error: unknown) =>
  error instanceof ClawauthError && error.exitCode === exitCode &&
  pattern.test(error.message);

Deno.test("parseStore accepts version 1 with profiles and refuses anything else with exit 65 naming the file", () => {
  const text = '{"version":1,"profiles":{},"extra":{"a":1}}';
  assert.deepEqual(parseStore(text, "/s.json"), JSON.parse(text));
  for (
    const bad of [
      '{"version":1,"profiles":{}',
      '{"version":2,"profiles":{}}',
      '{"version":"1","profiles":{}}',
      '{"version":1}',
      '{"version":1,"profiles":null}',
      "[]",
      "null",
      "",
    ]
  ) {
    assert.throws(() => parseStore(bad, "/s.json"), code(65, /\/s\.json/), bad);
  }
});

Deno.test("importLegacy adds each provider as an oauth <provider>:default unless that id exists", () => {
  const store: StoreData = storeOf({ "anthropic:default": tokenProfile("T") });
  const added = importLegacy(
    store,
    JSON.stringify({
      "openai-codex": { access: "A", refresh: "R", expires: 5, extra: "x" },
      anthropic: { access: "B", refresh: "S", expires: 6 },
      junk: "not an object",
    }),
    "/legacy.json",
  );
  assert.deepEqual(added, ["openai-codex:default"]);
  assert.deepEqual(store.profiles, {
    "anthropic:default": tokenProfile("T"),
    "openai-codex:default": {
      access: "A",
      refresh: "R",
      expires: 5,
      extra: "x",
      type: "oauth",
      provider: "openai-codex",
    },
  });
  assert.throws(() => importLegacy(store, "{", "/legacy.json"), code(65, /\/legacy\.json/));
});

Deno.test("removeProfile drops the profile and its order, lastGood and usageStats entries only", () => {
  const store: StoreData = storeOf({ "a:x": {}, "a:y": {} }, {
    order: { a: ["a:x", "a:y"], b: ["a:x"], c: "junk" },
    lastGood: { a: "a:x", b: "a:y" },
    usageStats: { "a:x": { lastUsed: 1 }, "a:y": { lastUsed: 2 } },
    other: { "a:x": true },
  });
  assert.equal(removeProfile(store, "a:x"), true);
  assert.deepEqual(
    store,
    storeOf({ "a:y": {} }, {
      order: { a: ["a:y"], c: "junk" },
      lastGood: { b: "a:y" },
      usageStats: { "a:y": { lastUsed: 2 } },
      other: { "a:x": true },
    }),
  );
  assert.equal(removeProfile(store, "a:x"), false);
  assert.equal(removeProfile(store, "toString"), false);
});

Deno.test("cacheEntry uses pi's shapes: oauth as stored without provider, tokens and keys as api_key", () => {
  assert.deepEqual(
    cacheEntry(readProfile("openai-codex:a", {
      type: "oauth",
      provider: "openai-codex",
      access: "A",
      refresh: "R",
      expires: 5,
      accountId: "acct",
    })),
    { type: "oauth", access: "A", refresh: "R", expires: 5, accountId: "acct" },
  );
  assert.deepEqual(
    cacheEntry(readProfile("anthropic:a", tokenProfile("T"))),
    { type: "api_key", key: "T" },
  );
  assert.deepEqual(
    cacheEntry(readProfile("openai:a", apiKeyProfile("K"))),
    { type: "api_key", key: "K" },
  );
});

Deno.test("buildCache holds the profile routing picks per provider and leaves out providers with none usable", () => {
  const cache = buildCache(
    storeOf({
      "anthropic:k": apiKeyProfile("K", { provider: "anthropic" }),
      "anthropic:t": tokenProfile("T"),
      "openai:x": apiKeyProfile("X"),
      "openai:y": apiKeyProfile("Y"),
      "gone:z": tokenProfile("Z", { provider: "gone", expires: NOW - 1 }),
    }, { order: { openai: ["openai:y", "openai:x"] } }),
    NOW,
  );
  assert.deepEqual(cache, {
    anthropic: { type: "api_key", key: "T" },
    openai: { type: "api_key", key: "Y" },
  });
});

Deno.test("checkCode: 1 for expired, needs_login, invalid or nothing in scope; else 2 for expiring; else 0", () => {
  const rows = (profiles: Record<string, unknown>, usageStats = {}) =>
    profileRows(storeOf(profiles, { usageStats }), NOW);
  const tok = (expires?: unknown) => tokenProfile("T", { provider: "a", expires });
  assert.equal(checkCode(rows({ "a:x": tok() })), 0);
  assert.equal(checkCode(rows({ "a:x": tok(NOW + HOUR), "a:y": tok() })), 2);
  assert.equal(checkCode(rows({ "a:x": tok(NOW + HOUR), "a:y": tok(NOW - 1) })), 1);
  assert.equal(checkCode(rows({ "a:x": tok("soon") })), 1);
  assert.equal(checkCode(rows({ "a:x": tok() }, { "a:x": { needsLogin: 1 } })), 1);
  assert.equal(
    checkCode(rows({ "a:x": tok() }, { "a:x": { cooldownUntil: NOW + HOUR } })),
    0,
  );
  assert.equal(checkCode([]), 1);
});

Deno.test("cleanSecret trims one line and refuses empty, multi-line, control characters and bad UTF-8", () => {
  assert.equal(cleanSecret(enc("  sk-ant-oat01-abc \r\n")), "sk-ant-oat01-abc");
  assert.equal(cleanSecret(enc("sk-ünïcode\n\n")), "sk-ünïcode");
  for (
    const bad of [
      enc(""),
      enc(" \n\t\n"),
      enc("a\nb"),
      enc("a\rb"),
      enc("a\x00b"),
      enc("a\x1bb"),
      enc("a\x7fb"),
      enc("a\u0085b"),
      new Uint8Array([0x61, 0xff, 0x62]),
    ]
  ) {
    assert.throws(() => cleanSecret(bad), code(65, /secret/), JSON.stringify([...bad]));
  }
});

Deno.test("readLimited refuses a stream longer than the limit with exit 65", async () => {
  const stream = (chunks: string[]) =>
    ReadableStream.from(chunks.map(enc)) as ReadableStream<Uint8Array>;
  assert.deepEqual(await readLimited(stream(["ab", "cd"]), 4), enc("abcd"));
  await assert.rejects(readLimited(stream(["ab", "cde"]), 4), code(65, /KiB/));
});

Deno.test("CLAWAUTH_LOCK_TIMEOUT takes seconds or a duration, defaults to 30 s, and refuses junk with exit 64", () => {
  const ctx = (value?: string) => ({ env: () => value }) as unknown as Context;
  assert.equal(lockTimeoutMs(ctx()), 30_000);
  assert.equal(lockTimeoutMs(ctx("1")), 1_000);
  assert.equal(lockTimeoutMs(ctx("0.25")), 250);
  assert.equal(lockTimeoutMs(ctx("2m")), 120_000);
  assert.throws(() => lockTimeoutMs(ctx("soon")), code(64));
});
