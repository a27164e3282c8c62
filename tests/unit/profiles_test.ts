/**
 * Unit tests of lib/profiles.ts with a fixed clock: what makes an entry
 * valid, and which state of docs/commands.md#status it is in.
 */

import assert from "node:assert/strict";
import {
  canRefresh,
  listProfiles,
  readProfile,
  secretOf,
  splitProfileId,
  stateOf,
  usageOf,
} from "../../lib/profiles.ts";
import { tokenProfile } from "../builders.ts";

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

const token = (extra: Record<string, unknown> = {}) => tokenProfile("sk-ant-oat01-x", extra);
const state = (id: string, raw: unknown, usage = {}, now = NOW) =>
  stateOf(readProfile(id, raw), usage, now);

Deno.test("profile ids are <provider>:<name> with the name characters of docs/stores.md#profiles-every-backend", () => {
  assert.deepEqual(splitProfileId("anthropic:work"), {
    provider: "anthropic",
    name: "work",
  });
  assert.deepEqual(splitProfileId("openai-codex:dev+1@example.com"), {
    provider: "openai-codex",
    name: "dev+1@example.com",
  });
  assert.deepEqual(splitProfileId("a:b:c"), undefined, "':' is not a name character");
  for (
    const bad of [
      "anthropic",
      ":work",
      "anthropic:",
      "Anthropic:work",
      "anthropic:with space",
      `anthropic:${"x".repeat(129)}`,
      "anthropic:wörk",
    ]
  ) {
    assert.equal(splitProfileId(bad), undefined, bad);
  }
  assert.ok(splitProfileId(`anthropic:${"x".repeat(128)}`));
});

Deno.test("secretOf reads access, token or key by type; canRefresh needs an OAuth refresh token", () => {
  const oauth = readProfile("openai-codex:a", {
    type: "oauth",
    provider: "openai-codex",
    access: "A",
    refresh: "R",
    expires: NOW,
  });
  assert.equal(secretOf(oauth), "A");
  assert.ok(canRefresh(oauth));
  assert.equal(secretOf(readProfile("anthropic:t", token())), "sk-ant-oat01-x");
  const key = readProfile("openai:k", {
    type: "api_key",
    provider: "openai",
    key: "K",
    refresh: "R",
  });
  assert.equal(secretOf(key), "K");
  assert.equal(canRefresh(key), false, "only OAuth profiles refresh");
});

Deno.test("expires must be finite epoch ms in (0, 8.64e15], else the profile is invalid", () => {
  for (const expires of ["soon", -5, 0, 1e300, 8.64e15 + 1, true, [1], {}]) {
    const profile = readProfile("anthropic:x", token({ expires }));
    assert.match(profile.invalid ?? "", /expires/, String(expires));
    assert.equal(stateOf(profile, {}, NOW), "invalid");
  }
  assert.equal(readProfile("anthropic:x", token({ expires: 8.64e15 })).invalid, undefined);
  assert.equal(readProfile("anthropic:x", token({ expires: 1 })).invalid, undefined);
  const none = readProfile("anthropic:x", token({ expires: null }));
  assert.equal(none.invalid, undefined);
  assert.equal(none.expires, null);
});

Deno.test("malformed entries are invalid with a reason, never a throw", () => {
  const cases: [string, unknown][] = [
    ["anthropic:a", null],
    ["anthropic:a", "sk-ant-oat01-x"],
    ["anthropic:a", []],
    ["noprovider", token({ provider: undefined })],
    ["anthropic:a", token({ type: "password" })],
    ["anthropic:a", { type: "token", provider: "anthropic" }],
    ["anthropic:a", { type: "token", provider: "anthropic", token: "" }],
    ["anthropic:a", { type: "api_key", provider: "anthropic", token: "x" }],
    ["anthropic:a", { type: "oauth", provider: "anthropic", refresh: 5 }],
  ];
  for (const [id, raw] of cases) {
    const profile = readProfile(id, raw);
    assert.ok(profile.invalid, `${id} ${JSON.stringify(raw)}`);
    assert.equal(stateOf(profile, {}, NOW), "invalid");
  }
  const refreshOnly = readProfile("openai-codex:a", {
    type: "oauth",
    provider: "openai-codex",
    refresh: "R",
  });
  assert.equal(refreshOnly.invalid, undefined, "a refresh token can mint an access token");
});

Deno.test("the provider comes from the entry, else from the id", () => {
  assert.equal(readProfile("anthropic:a", token({ provider: undefined })).provider, "anthropic");
  assert.equal(
    readProfile("anthropic:a", token({ provider: "anthropic-eu" })).provider,
    "anthropic-eu",
  );
});

Deno.test("state: expiring within 24 h, expired at or after expires, ok beyond; no expiry is ok", () => {
  assert.equal(state("anthropic:a", token({ expires: NOW + 24 * HOUR - 1 })), "expiring");
  assert.equal(state("anthropic:a", token({ expires: NOW + 25 * HOUR })), "ok");
  assert.equal(state("anthropic:a", token({ expires: NOW + 1 })), "expiring");
  assert.equal(state("anthropic:a", token({ expires: NOW })), "expired");
  assert.equal(state("anthropic:a", token({ expires: NOW - HOUR })), "expired");
  assert.equal(state("anthropic:a", token()), "ok");
});

Deno.test("state: an OAuth profile with a refresh token is ok even when its access token has expired", () => {
  const oauth = {
    type: "oauth",
    provider: "openai-codex",
    access: "A",
    expires: NOW - HOUR,
  };
  assert.equal(state("openai-codex:a", { ...oauth, refresh: "R" }), "ok");
  assert.equal(state("openai-codex:a", oauth), "expired");
  assert.equal(
    state("openai-codex:a", { ...oauth, expires: NOW + HOUR }),
    "expiring",
  );
});

Deno.test("state: cooldownUntil and disabledUntil in the future sideline; in the past they do not", () => {
  assert.equal(state("anthropic:a", token(), { cooldownUntil: NOW + 1 }), "cooldown");
  assert.equal(state("anthropic:a", token(), { disabledUntil: NOW + 1 }), "disabled");
  assert.equal(
    state("anthropic:a", token(), { cooldownUntil: NOW + HOUR, disabledUntil: NOW + 1 }),
    "disabled",
    "disabled outranks cooldown",
  );
  assert.equal(state("anthropic:a", token(), { cooldownUntil: NOW, disabledUntil: NOW - 1 }), "ok");
});

Deno.test("state: needs_login outranks expiry; invalid outranks everything", () => {
  assert.equal(
    state("anthropic:a", token({ expires: NOW - 1 }), { needsLogin: NOW - 5 }),
    "needs_login",
  );
  assert.equal(
    state("anthropic:a", token({ expires: "x" }), { needsLogin: 1, cooldownUntil: NOW + 1 }),
    "invalid",
  );
  assert.equal(
    state("anthropic:a", token({ expires: NOW - 1 }), { cooldownUntil: NOW + HOUR }),
    "expired",
    "an expired token is expired, not merely cooling down",
  );
});

Deno.test("usageOf reads numbers only, from own keys, and tolerates junk", () => {
  const stats = {
    "a:a": {
      lastUsed: 5,
      errorCount: "3",
      cooldownUntil: Infinity,
      disabledUntil: 9,
      disabledReason: "billing",
    },
  };
  assert.deepEqual(usageOf(stats, "a:a"), {
    lastUsed: 5,
    errorCount: undefined,
    cooldownUntil: undefined,
    disabledUntil: 9,
    disabledReason: "billing",
    needsLogin: undefined,
  });
  assert.deepEqual(usageOf(stats, "toString"), {});
  assert.deepEqual(usageOf([1, 2], "0"), {});
  assert.deepEqual(usageOf(undefined, "a:a"), {});
});

Deno.test("listProfiles keeps the store's key order and tolerates __proto__ ids", () => {
  const profiles = JSON.parse(
    '{"b:x": {"type":"api_key","provider":"b","key":"k"}, "__proto__": {"type":"token"}, "a:x": 1}',
  );
  const listed = listProfiles(profiles);
  assert.deepEqual(listed.map((p) => p.id), ["b:x", "__proto__", "a:x"]);
  assert.equal(listed[0].invalid, undefined);
  assert.ok(listed[1].invalid);
  assert.ok(listed[2].invalid);
});
