/**
 * Unit tests of routing (docs/routing.md) with a fixed clock: lib/routing/routing.ts ranks
 * a provider's profiles, lib/routing/select.ts turns a request into one profile.
 */

import assert from "node:assert/strict";
import { parseArgs } from "../../lib/args.ts";
import { ClawauthError } from "../../lib/errors.ts";
import { availableAt, orderFor, parseModelSpec, rankProvider } from "../../lib/routing/routing.ts";
import { requestOf, SELECT_FLAGS, selectProfile } from "../../lib/routing/select.ts";
import type { StoreData } from "../../lib/store.ts";
import { apiKeyProfile, oauthProfile, storeOf, tokenProfile } from "../builders.ts";

const NOW = Date.UTC(2026, 0, 1);
const MIN = 60_000;

const oauth = (provider = "anthropic") =>
  oauthProfile({ provider, access: "A", refresh: "R", expires: NOW - MIN });
const token = (extra = {}) => tokenProfile("T", extra);
const apiKey = () => apiKeyProfile("K", { provider: "anthropic" });

/** Ranks the anthropic profiles of `store` at NOW, with openclaw.json's `external` order if given. */
const rankAnthropic = (store: Parameters<typeof rankProvider>[0], external?: unknown) =>
  rankProvider(store, "anthropic", NOW, external);

const ids = (ranking: { usable: { profile: { id: string } }[] }) =>
  ranking.usable.map((c) => c.profile.id);
const skipped = (ranking: ReturnType<typeof rankProvider>) =>
  Object.fromEntries(
    ranking.skipped.map((s) => [s.candidate.profile.id, s.reason]),
  );

Deno.test("round robin: OAuth before tokens before API keys, whatever the key order", () => {
  const ranking = rankAnthropic(storeOf({
    "anthropic:key": apiKey(),
    "anthropic:tok": token(),
    "anthropic:oa": oauth(),
  }));
  assert.equal(ranking.source, "round_robin");
  assert.deepEqual(ids(ranking), ["anthropic:oa", "anthropic:tok", "anthropic:key"]);
});

Deno.test("round robin: within a type, the least recently used comes first", () => {
  const ranking = rankAnthropic(storeOf({
    "anthropic:a": token(),
    "anthropic:b": token(),
    "anthropic:c": token(),
    "anthropic:k": apiKey(),
  }, {
    usageStats: {
      "anthropic:a": { lastUsed: NOW - MIN },
      "anthropic:b": { lastUsed: NOW - 10 * MIN },
      "anthropic:k": { lastUsed: 1 },
    },
  }));
  assert.deepEqual(ids(ranking), [
    "anthropic:c",
    "anthropic:b",
    "anthropic:a",
    "anthropic:k",
  ]);
});

Deno.test("the store's order beats openclaw.json's, which beats round robin; unlisted profiles are excluded", () => {
  const profiles = {
    "anthropic:a": oauth(),
    "anthropic:b": token(),
    "anthropic:c": apiKey(),
  };
  const external = { anthropic: ["anthropic:b", "anthropic:c"] };
  const fromStore = rankAnthropic(
    storeOf(profiles, { order: { anthropic: ["anthropic:c", "anthropic:a"] } }),
    external,
  );
  assert.equal(fromStore.source, "store");
  assert.deepEqual(ids(fromStore), ["anthropic:c", "anthropic:a"]);
  assert.deepEqual(skipped(fromStore), { "anthropic:b": "excluded_by_auth_order" });

  const fromOpenclaw = rankAnthropic(storeOf(profiles), external);
  assert.equal(fromOpenclaw.source, "openclaw");
  assert.deepEqual(ids(fromOpenclaw), ["anthropic:b", "anthropic:c"]);
  assert.deepEqual(skipped(fromOpenclaw), { "anthropic:a": "excluded_by_auth_order" });

  const empty = rankAnthropic(storeOf(profiles, { order: { anthropic: [] } }), { anthropic: [] });
  assert.equal(empty.source, "round_robin", "an empty list is no order");
  assert.deepEqual(ids(empty), ["anthropic:a", "anthropic:b", "anthropic:c"]);
});

Deno.test("an order naming unknown ids, another provider's profiles or an id twice uses this provider's known ones once", () => {
  const ranking = rankAnthropic(storeOf({
    "anthropic:a": token(),
    "anthropic:b": token(),
    "openai:x": apiKeyProfile("K"),
  }, {
    order: { anthropic: ["anthropic:ghost", "openai:x", "anthropic:b", 7, "anthropic:b"] },
  }));
  assert.deepEqual(ids(ranking), ["anthropic:b"]);
});

Deno.test("sidelined profiles go last, soonest available first, also within an explicit order", () => {
  const ranking = rankAnthropic(storeOf({
    "anthropic:a": token(),
    "anthropic:b": token(),
    "anthropic:c": token(),
    "anthropic:d": token(),
  }, {
    order: {
      anthropic: ["anthropic:a", "anthropic:b", "anthropic:c", "anthropic:d"],
    },
    usageStats: {
      "anthropic:a": { disabledUntil: NOW + 60 * MIN },
      "anthropic:b": { cooldownUntil: NOW + 5 * MIN },
      "anthropic:c": { cooldownUntil: NOW - 1 },
    },
  }));
  assert.deepEqual(ids(ranking), [
    "anthropic:c",
    "anthropic:d",
    "anthropic:b",
    "anthropic:a",
  ]);
  assert.deepEqual(ranking.usable.map((c) => c.state), [
    "ok",
    "ok",
    "cooldown",
    "disabled",
  ]);
});

Deno.test("unusable profiles are skipped with OpenClaw's reasons", () => {
  const ranking = rankAnthropic(storeOf({
    "anthropic:old": token({ expires: NOW - 1 }),
    "anthropic:badexp": token({ expires: "soon" }),
    "anthropic:nokey": { type: "api_key", provider: "anthropic" },
    "anthropic:relogin": oauth(),
    "anthropic:good": token({ expires: NOW + MIN }),
  }, { usageStats: { "anthropic:relogin": { needsLogin: NOW - MIN } } }));
  assert.deepEqual(ids(ranking), ["anthropic:good"]);
  assert.deepEqual(skipped(ranking), {
    "anthropic:old": "expired",
    "anthropic:badexp": "invalid_expires",
    "anthropic:nokey": "missing_credential",
    "anthropic:relogin": "needs_login",
  });
});

Deno.test("ranking only considers the requested provider", () => {
  const ranking = rankProvider(
    storeOf({ "openai-codex:a": oauth("openai-codex"), "anthropic:b": token() }),
    "openai-codex",
    NOW,
  );
  assert.deepEqual(ids(ranking), ["openai-codex:a"]);
  assert.deepEqual(ranking.skipped, []);
});

Deno.test("orderFor and availableAt read junk safely", () => {
  assert.deepEqual(orderFor({ a: ["x", 1, "y", "x"] }, "a"), ["x", "y"]);
  assert.equal(orderFor({ a: "x" }, "a"), undefined);
  assert.equal(orderFor([], "a"), undefined);
  assert.equal(orderFor({}, "constructor"), undefined);
  assert.equal(availableAt({ cooldownUntil: 5, disabledUntil: 9 }), 9);
  assert.equal(availableAt({}), 0);
});

Deno.test("parseModelSpec: Model@provider:profile pins, Model@provider routes", () => {
  assert.deepEqual(parseModelSpec("Opus@anthropic:work"), {
    model: "Opus",
    provider: "anthropic",
    profileId: "anthropic:work",
  });
  assert.deepEqual(parseModelSpec("gpt-5@openai-codex:dev@example.com"), {
    model: "gpt-5",
    provider: "openai-codex",
    profileId: "openai-codex:dev@example.com",
  });
  assert.deepEqual(parseModelSpec("x@anthropic"), {
    model: "x",
    provider: "anthropic",
  });
  assert.deepEqual(parseModelSpec("org/model@v2@anthropic:work"), {
    model: "org/model@v2",
    provider: "anthropic",
    profileId: "anthropic:work",
  });
  assert.deepEqual(parseModelSpec("@anthropic"), {
    model: undefined,
    provider: "anthropic",
  });
  for (const bad of ["opus", "opus@", "opus@Anthropic", "opus@anthropic:", "opus@anthropic:a b"]) {
    assert.equal(parseModelSpec(bad), undefined, bad);
  }
});

function request(argv: string[]) {
  return requestOf(parseArgs(argv, SELECT_FLAGS, "token"), "token");
}

Deno.test("requestOf merges --provider, --profile and --model and refuses a mismatch", () => {
  assert.deepEqual(request(["--profile", "anthropic:work"]), {
    provider: "anthropic",
    profileId: "anthropic:work",
    model: undefined,
  });
  assert.deepEqual(request(["--model", "Opus@anthropic:work"]), {
    provider: "anthropic",
    profileId: "anthropic:work",
    model: "Opus",
  });
  for (
    const argv of [
      ["--provider", "openai", "--profile", "anthropic:work"],
      ["--provider", "openai", "--model", "x@anthropic:work"],
      ["--model", "opus"],
      ["--provider", "Bad!"],
    ]
  ) {
    assert.throws(
      () => request(argv),
      (e) => e instanceof ClawauthError && e.exitCode === 64,
      argv.join(" "),
    );
  }
});

function select(
  data: StoreData,
  argv: string[],
  external?: unknown,
) {
  return selectProfile(data, request(argv), NOW, external);
}

const failsWith = (code: number, pattern: RegExp) => (error: unknown) =>
  error instanceof ClawauthError && error.exitCode === code &&
  pattern.test(`${error.message}\n${error.hint}`);

Deno.test("a pinned profile is used as is, never rotated away, and refused when sidelined or broken", () => {
  const data = storeOf({
    "anthropic:a": token(),
    "anthropic:b": token({ expires: NOW + MIN }),
    "anthropic:cool": token(),
    "anthropic:old": token({ expires: NOW - 1 }),
  }, {
    order: { anthropic: ["anthropic:a"] },
    usageStats: { "anthropic:cool": { cooldownUntil: NOW + MIN } },
  });
  assert.equal(select(data, ["--profile", "anthropic:b"]).profile.id, "anthropic:b");
  assert.equal(select(data, ["--provider", "anthropic"]).profile.id, "anthropic:a");
  assert.throws(
    () => select(data, ["--profile", "anthropic:cool"]),
    failsWith(77, /cooldown until 2026-01-01T00:01:00\.000Z/),
  );
  assert.throws(
    () => select(data, ["--model", "x@anthropic:old"]),
    failsWith(77, /expired[\s\S]*clawauth setup-token --provider anthropic --profile old/),
  );
  assert.throws(
    () => select(data, ["--profile", "anthropic:ghost"]),
    failsWith(77, /anthropic:ghost/),
  );
});

Deno.test("selectProfile serves a sidelined profile only when nothing else is usable", () => {
  const data = storeOf({ "anthropic:a": token(), "anthropic:b": token() }, {
    usageStats: {
      "anthropic:a": { cooldownUntil: NOW + 10 * MIN },
      "anthropic:b": { cooldownUntil: NOW + MIN },
    },
  });
  const chosen = select(data, ["--provider", "anthropic"]);
  assert.equal(chosen.profile.id, "anthropic:b");
  assert.equal(chosen.state, "cooldown");
});

Deno.test("selectProfile names the command to run when no profile can serve", () => {
  const data = storeOf({
    "anthropic:old": token({ expires: NOW - 1 }),
    "openai:k": apiKeyProfile("K"),
    "openai:k2": apiKeyProfile("K2"),
  });
  assert.throws(
    () => select(data, ["--provider", "anthropic"]),
    failsWith(
      77,
      /anthropic:old expired[\s\S]*clawauth setup-token --provider anthropic --profile old/,
    ),
  );
  assert.throws(
    () => select(data, ["--provider", "github-copilot"]),
    failsWith(
      77,
      /No credential for provider github-copilot[\s\S]*clawauth login --provider github-copilot/,
    ),
  );
  assert.throws(
    () => select(data, []),
    failsWith(64, /--provider/),
    "two providers and no choice is a usage error",
  );
  assert.equal(
    select(storeOf({ "openai:k": apiKeyProfile("K") }), [])
      .profile.id,
    "openai:k",
    "a store with a single provider needs no --provider",
  );
});

Deno.test("selectProfile follows openclaw.json's order when the store has none", () => {
  const data = storeOf({ "anthropic:a": token(), "anthropic:b": token() });
  assert.equal(
    select(data, ["--provider", "anthropic"], { anthropic: ["anthropic:b", "anthropic:a"] })
      .profile.id,
    "anthropic:b",
  );
});
