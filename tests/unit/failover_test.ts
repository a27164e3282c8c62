/**
 * Unit tests of routing and failover (docs/routing.md) with a fixed clock: which
 * profile a request resolves to (lib/routing/routing.ts, lib/routing/select.ts) and how
 * `report` moves a profile through cooldowns and disables (lib/routing/failover.ts).
 */

import assert from "node:assert/strict";
import { parseArgs } from "../../lib/args.ts";
import { ClawauthError } from "../../lib/errors.ts";
import {
  billingDisableMs,
  cooldownMs,
  type FailureReason,
  recordFailure,
  recordSuccess,
} from "../../lib/routing/failover.ts";
import type { JsonObject } from "../../lib/json/json.ts";
import { type OrderSource, rankProvider, type SkipReason } from "../../lib/routing/routing.ts";
import { requestOf, SELECT_FLAGS, selectProfile } from "../../lib/routing/select.ts";
import type { StoreData } from "../../lib/store.ts";
import { apiKeyProfile, oauthProfile, storeOf, tokenProfile } from "../builders.ts";

const NOW = Date.UTC(2026, 0, 1);
const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

const oauth = (extra: JsonObject = {}) =>
  oauthProfile({ provider: "anthropic", access: "A", refresh: "R", expires: NOW - MIN, ...extra });
const token = (extra: JsonObject = {}) => tokenProfile("T", extra);
const apiKey = (extra: JsonObject = {}) => apiKeyProfile("K", { provider: "anthropic", ...extra });

/** What the command line would ask for, through the real flag parser. */
function request(argv: string[]) {
  return requestOf(parseArgs(argv, SELECT_FLAGS, "token"), "token");
}

interface ResolutionCase {
  name: string;
  data: StoreData;
  argv: string[];
  external?: unknown;
  /** The profile selectProfile returns. */
  chosen: string;
  /** The ranking of the request's provider: usable ids best first, source, skip reasons. */
  usable?: string[];
  source?: OrderSource;
  skipped?: Record<string, SkipReason>;
}

const THREE = { "anthropic:a": oauth(), "anthropic:b": token(), "anthropic:c": apiKey() };

const RESOLUTION: ResolutionCase[] = [
  {
    name: "an explicit profile beats the store's order, even one that excludes it",
    data: storeOf(THREE, { order: { anthropic: ["anthropic:a"] } }),
    argv: ["--profile", "anthropic:c"],
    external: { anthropic: ["anthropic:b"] },
    chosen: "anthropic:c",
  },
  {
    name: "Model@provider:profile pins like --profile",
    data: storeOf(THREE, { order: { anthropic: ["anthropic:a", "anthropic:b"] } }),
    argv: ["--model", "opus@anthropic:b"],
    chosen: "anthropic:b",
  },
  {
    name: "the store's order beats openclaw.json's auth.order",
    data: storeOf(THREE, { order: { anthropic: ["anthropic:c", "anthropic:b"] } }),
    argv: ["--provider", "anthropic"],
    external: { anthropic: ["anthropic:b", "anthropic:a"] },
    chosen: "anthropic:c",
    usable: ["anthropic:c", "anthropic:b"],
    source: "store",
    skipped: { "anthropic:a": "excluded_by_auth_order" },
  },
  {
    name: "openclaw.json's auth.order applies when the store has no order for the provider",
    data: storeOf(THREE, { order: { openai: ["openai:x"] } }),
    argv: ["--provider", "anthropic"],
    external: { anthropic: ["anthropic:c", "anthropic:a"] },
    chosen: "anthropic:c",
    usable: ["anthropic:c", "anthropic:a"],
    source: "openclaw",
    skipped: { "anthropic:b": "excluded_by_auth_order" },
  },
  {
    name: "a profile listed twice in an order is ranked once, at its first place",
    data: storeOf(THREE),
    argv: ["--provider", "anthropic"],
    external: { anthropic: ["anthropic:b", "anthropic:a", "anthropic:b"] },
    chosen: "anthropic:b",
    usable: ["anthropic:b", "anthropic:a"],
    source: "openclaw",
    skipped: { "anthropic:c": "excluded_by_auth_order" },
  },
  {
    name: "Model@provider routes through the order like --provider",
    data: storeOf(THREE),
    argv: ["--model", "opus@anthropic"],
    external: { anthropic: ["anthropic:b"] },
    chosen: "anthropic:b",
    usable: ["anthropic:b"],
    source: "openclaw",
    skipped: { "anthropic:a": "excluded_by_auth_order", "anthropic:c": "excluded_by_auth_order" },
  },
  {
    name: "round robin: OAuth before token before api_key, whatever lastUsed and key order say",
    data: storeOf(
      { "anthropic:k": apiKey(), "anthropic:t": token(), "anthropic:o": oauth() },
      { usageStats: { "anthropic:o": { lastUsed: NOW - SEC }, "anthropic:t": { lastUsed: NOW } } },
    ),
    argv: ["--provider", "anthropic"],
    chosen: "anthropic:o",
    usable: ["anthropic:o", "anthropic:t", "anthropic:k"],
    source: "round_robin",
    skipped: {},
  },
  {
    name: "round robin: within a type the least recently used first, ties by id",
    data: storeOf(
      {
        "anthropic:d": token(),
        "anthropic:c": token(),
        "anthropic:b": token(),
        "anthropic:a": token(),
      },
      {
        usageStats: {
          "anthropic:a": { lastUsed: NOW - MIN },
          "anthropic:b": { lastUsed: NOW - HOUR },
          "anthropic:c": { lastUsed: NOW - HOUR },
        },
      },
    ),
    argv: ["--provider", "anthropic"],
    chosen: "anthropic:d",
    usable: ["anthropic:d", "anthropic:b", "anthropic:c", "anthropic:a"],
    source: "round_robin",
  },
  {
    name: "expired, malformed expires, missing secret and needs_login are skipped with their codes",
    data: storeOf(
      {
        "anthropic:old": token({ expires: NOW }),
        "anthropic:word": token({ expires: "soon" }),
        "anthropic:zero": token({ expires: 0 }),
        "anthropic:huge": token({ expires: 8.64e15 + 1 }),
        "anthropic:nokey": { type: "api_key", provider: "anthropic" },
        "anthropic:notoken": tokenProfile(""),
        "anthropic:relogin": oauth(),
        "anthropic:last": apiKey({ expires: NOW + 1 }),
      },
      { usageStats: { "anthropic:relogin": { needsLogin: NOW - HOUR } } },
    ),
    argv: ["--provider", "anthropic"],
    chosen: "anthropic:last",
    usable: ["anthropic:last"],
    source: "round_robin",
    skipped: {
      "anthropic:old": "expired",
      "anthropic:word": "invalid_expires",
      "anthropic:zero": "invalid_expires",
      "anthropic:huge": "invalid_expires",
      "anthropic:nokey": "missing_credential",
      "anthropic:notoken": "missing_credential",
      "anthropic:relogin": "needs_login",
    },
  },
  {
    name: "an expired OAuth access token with a refresh token is still usable",
    data: storeOf({ "anthropic:o": oauth({ expires: NOW - HOUR }), "anthropic:t": token() }),
    argv: ["--provider", "anthropic"],
    chosen: "anthropic:o",
    usable: ["anthropic:o", "anthropic:t"],
  },
  {
    name: "cooldown and disabled go last, soonest available first, also inside an order",
    data: storeOf(
      {
        "anthropic:a": token(),
        "anthropic:b": token(),
        "anthropic:c": token(),
        "anthropic:d": token(),
        "anthropic:e": token(),
      },
      {
        order: {
          anthropic: ["anthropic:a", "anthropic:b", "anthropic:c", "anthropic:d", "anthropic:e"],
        },
        usageStats: {
          "anthropic:a": { disabledUntil: NOW + 5 * HOUR, disabledReason: "billing" },
          "anthropic:b": { cooldownUntil: NOW + 25 * MIN },
          "anthropic:c": { cooldownUntil: NOW + MIN, disabledUntil: NOW + 10 * HOUR },
          "anthropic:d": { cooldownUntil: NOW },
        },
      },
    ),
    argv: ["--provider", "anthropic"],
    chosen: "anthropic:d",
    usable: ["anthropic:d", "anthropic:e", "anthropic:b", "anthropic:a", "anthropic:c"],
    source: "store",
    skipped: {},
  },
  {
    name: "when every profile is sidelined the soonest available one serves",
    data: storeOf(
      { "anthropic:a": oauth(), "anthropic:b": apiKey() },
      {
        usageStats: {
          "anthropic:a": { cooldownUntil: NOW + HOUR },
          "anthropic:b": { cooldownUntil: NOW + MIN },
        },
      },
    ),
    argv: ["--provider", "anthropic"],
    chosen: "anthropic:b",
    usable: ["anthropic:b", "anthropic:a"],
  },
];

for (const c of RESOLUTION) {
  Deno.test(`resolution: ${c.name}`, () => {
    const req = request(c.argv);
    assert.equal(selectProfile(c.data, req, NOW, c.external).profile.id, c.chosen);
    if (c.usable === undefined) return;
    const ranking = rankProvider(c.data, req.provider ?? "", NOW, c.external);
    assert.deepEqual(ranking.usable.map((u) => u.profile.id), c.usable);
    if (c.source) assert.equal(ranking.source, c.source);
    if (c.skipped) {
      assert.deepEqual(
        Object.fromEntries(ranking.skipped.map((s) => [s.candidate.profile.id, s.reason])),
        c.skipped,
      );
    }
  });
}

const refusedWith = (code: number, pattern: RegExp) => (error: unknown) =>
  error instanceof ClawauthError && error.exitCode === code && pattern.test(error.message);

Deno.test("resolution: a pinned profile in cooldown or disabled is refused with exit 77 naming the time, never rotated away", () => {
  const data = storeOf(
    { "anthropic:cool": token(), "anthropic:off": token(), "anthropic:fine": token() },
    {
      order: { anthropic: ["anthropic:cool", "anthropic:off", "anthropic:fine"] },
      usageStats: {
        "anthropic:cool": { cooldownUntil: NOW + 5 * MIN, errorCount: 2 },
        "anthropic:off": { disabledUntil: NOW + 5 * HOUR, disabledReason: "billing" },
      },
    },
  );
  for (
    const [argv, pattern] of [
      [["--profile", "anthropic:cool"], /anthropic:cool.*cooldown.*2026-01-01T00:05:00\.000Z/],
      [["--model", "opus@anthropic:cool"], /anthropic:cool.*cooldown.*2026-01-01T00:05:00\.000Z/],
      [["--profile", "anthropic:off"], /anthropic:off.*disabled.*2026-01-01T05:00:00\.000Z/],
    ] as const
  ) {
    assert.throws(() => selectProfile(data, request([...argv]), NOW), refusedWith(77, pattern));
  }
  assert.equal(
    selectProfile(data, request(["--provider", "anthropic"]), NOW).profile.id,
    "anthropic:fine",
    "the same profiles route to the one that is not sidelined",
  );
  assert.equal(
    selectProfile(data, request(["--profile", "anthropic:cool"]), NOW + 5 * MIN).profile.id,
    "anthropic:cool",
    "once the cooldown has passed the pin is served",
  );
});

Deno.test("resolution: a pinned profile that is expired, invalid or absent is refused with exit 77", () => {
  const data = storeOf({
    "anthropic:old": token({ expires: NOW - 1 }),
    "anthropic:bad": token({ expires: -3 }),
    "anthropic:good": token(),
  });
  for (const id of ["anthropic:old", "anthropic:bad", "anthropic:ghost"]) {
    assert.throws(
      () => selectProfile(data, request(["--profile", id]), NOW),
      refusedWith(77, new RegExp(id)),
      id,
    );
  }
});

Deno.test("resolution: nothing usable for a provider is exit 77 listing each candidate's reason", () => {
  const data = storeOf({
    "anthropic:old": token({ expires: NOW - 1 }),
    "anthropic:nokey": { type: "api_key", provider: "anthropic" },
    "openai:k": apiKeyProfile("K"),
  });
  assert.throws(
    () => selectProfile(data, request(["--provider", "anthropic"]), NOW),
    refusedWith(77, /anthropic:old expired.*anthropic:nokey missing_credential/),
  );
  assert.throws(
    () => selectProfile(data, request(["--provider", "github-copilot"]), NOW),
    refusedWith(77, /github-copilot/),
  );
});

// --- failover ---------------------------------------------------------------

Deno.test("failover: cooldown ladder is 1 min, 5 min, 25 min, 1 h, then capped at 1 h", () => {
  const expected = [MIN, 5 * MIN, 25 * MIN, HOUR, HOUR, HOUR];
  assert.deepEqual(expected.map((_, i) => cooldownMs(i + 1)), expected);
  assert.equal(cooldownMs(1_000), HOUR, "a huge count stays at the cap");
  for (const reason of ["rate_limit", "auth", "timeout", "format", "unknown"] as const) {
    const entry: JsonObject = {};
    expected.forEach((span, i) => {
      const now = NOW + i * SEC;
      recordFailure(entry, reason, now);
      assert.equal(entry.cooldownUntil, now + span, `${reason} #${i + 1}`);
      assert.equal(entry.errorCount, i + 1);
    });
    assert.equal(entry.disabledUntil, undefined, `${reason} never disables`);
  }
});

Deno.test("failover: billing disables for 5 h, 10 h, 20 h, then capped at 24 h", () => {
  const expected = [5 * HOUR, 10 * HOUR, 20 * HOUR, 24 * HOUR, 24 * HOUR];
  assert.deepEqual(expected.map((_, i) => billingDisableMs(i + 1)), expected);
  assert.equal(billingDisableMs(1_000), 24 * HOUR);
  const entry: JsonObject = {};
  expected.forEach((span, i) => {
    const now = NOW + i * MIN;
    recordFailure(entry, "billing", now);
    assert.equal(entry.disabledUntil, now + span, `billing #${i + 1}`);
    assert.equal(entry.disabledReason, "billing");
    assert.equal(entry.errorCount, i + 1);
  });
  assert.equal(entry.cooldownUntil, undefined, "billing disables rather than cools down");
});

Deno.test("failover: the first billing failure after rate limits is still 5 h; rate limits count every failure", () => {
  const entry: JsonObject = {};
  recordFailure(entry, "rate_limit", NOW);
  recordFailure(entry, "rate_limit", NOW + SEC);
  recordFailure(entry, "billing", NOW + 2 * SEC);
  assert.equal(entry.disabledUntil, NOW + 2 * SEC + 5 * HOUR);
  recordFailure(entry, "timeout", NOW + 3 * SEC);
  assert.equal(entry.errorCount, 4);
  assert.equal(entry.cooldownUntil, NOW + 3 * SEC + HOUR);
});

const RESET_CASES: {
  label: string;
  gap: number;
  reason: FailureReason;
  span: number;
  count: number;
}[] = [
  { label: "24 h + 1 ms", gap: 24 * HOUR + 1, reason: "rate_limit", span: MIN, count: 1 },
  { label: "exactly 24 h", gap: 24 * HOUR, reason: "rate_limit", span: 25 * MIN, count: 3 },
  { label: "24 h + 1 ms", gap: 24 * HOUR + 1, reason: "billing", span: 5 * HOUR, count: 1 },
  { label: "23 h", gap: 23 * HOUR, reason: "billing", span: 10 * HOUR, count: 3 },
];

for (const { label, gap, reason, span, count } of RESET_CASES) {
  Deno.test(
    `failover: a ${reason} failure ${label} after the last ${
      count === 1 ? "starts the ladder again" : "keeps climbing"
    }`,
    () => {
      const entry: JsonObject = {};
      recordFailure(entry, "timeout", NOW - MIN);
      recordFailure(entry, reason, NOW);
      recordFailure(entry, reason, NOW + gap);
      assert.equal(entry.errorCount, count);
      const until = reason === "billing" ? entry.disabledUntil : entry.cooldownUntil;
      assert.equal(until, NOW + gap + span);
    },
  );
}

Deno.test("failover: recordSuccess clears counters and sidelining, sets lastUsed, keeps unknown keys", () => {
  const entry: JsonObject = { otherTool: { keep: true }, lastUsed: NOW - HOUR };
  recordFailure(entry, "rate_limit", NOW);
  recordFailure(entry, "billing", NOW + SEC);
  recordSuccess(entry, NOW + 2 * SEC);
  assert.equal(entry.errorCount, 0);
  assert.equal(entry.lastUsed, NOW + 2 * SEC);
  for (const key of ["cooldownUntil", "disabledUntil", "disabledReason"]) {
    assert.equal(entry[key], undefined, key);
  }
  assert.deepEqual(entry.otherTool, { keep: true });
  recordFailure(entry, "billing", NOW + 3 * SEC);
  assert.equal(entry.disabledUntil, NOW + 3 * SEC + 5 * HOUR, "billing starts again at 5 h");
  recordFailure(entry, "rate_limit", NOW + 4 * SEC);
  assert.equal(entry.cooldownUntil, NOW + 4 * SEC + 5 * MIN, "second failure since the success");
});

Deno.test("failover: a recorded failure sidelines the profile in routing until the time it names", () => {
  const usageStats: JsonObject = { "anthropic:a": {} };
  const data = storeOf({ "anthropic:a": token(), "anthropic:b": token() }, { usageStats });
  recordFailure(usageStats["anthropic:a"] as JsonObject, "rate_limit", NOW);
  const at = (t: number) => selectProfile(data, request(["--provider", "anthropic"]), t);
  assert.equal(at(NOW).profile.id, "anthropic:b");
  assert.equal(at(NOW + MIN - 1).profile.id, "anthropic:b");
  assert.equal(at(NOW + MIN).profile.id, "anthropic:a", "back, and first by id");
});
