/**
 * Black-box check against a real OpenClaw: a store that clawauth wrote
 * is imported by OpenClaw's own importer (`openclaw doctor --fix
 * --non-interactive`) and then listed by `openclaw models status --json`.
 *
 * OpenClaw comes from tests/openclaw_env.ts: `scripts/openclaw_tools.sh DIR`
 * installs Node 24 and the pinned OpenClaw and prints `CLAWAUTH_NODE24_BIN` and
 * `CLAWAUTH_OPENCLAW_BIN` to export (.ci/run does, so CI runs this test); without
 * them the install in `.ci/.tools/openclaw` is used, else the tests are ignored
 * and say why. OpenClaw runs with a clean environment, a private HOME and the
 * temp state dir; it needs no network. Two doctor runs: about a minute in all
 * (OpenClaw 2026.9.6).
 *
 * The third test is stricter than the contract: it fails while OpenClaw also
 * imports the files clawauth keeps beside the store (the runtime cache
 * `auth.json` becomes `<provider>:default` api_key profiles; the legacy
 * `credentials/oauth.json` a second copy of the same OAuth login).
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks, type TempState, tempState } from "../helpers.ts";
import { openclawTests, runOpenclaw } from "../openclaw_env.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

/** One profile as `openclaw models status --json` lists it (`auth.oauth.profiles`). */
interface ListedProfile {
  profileId: string;
  provider: string;
  type: string;
  expiresAt?: number;
}

/** What clawauth stored, and how OpenClaw must list it. */
interface Expected {
  /** The clawauth profile id. */
  id: string;
  type: "api_key" | "token" | "oauth";
  /** Providers OpenClaw may list it under, preferred first. */
  providers: string[];
  /** Epoch ms, for profiles that expire. */
  expires?: number;
  /** The secret and its public prefix, which OpenClaw must never print in full. */
  secrets: { secret: string; prefix: string }[];
}

/** Everything one OpenClaw session printed, parsed where it is JSON. */
interface Observed {
  profiles: ListedProfile[];
  /** `openclaw models auth list --json` → `profiles`. */
  authList: { id: string; provider: string; type: string; cooldownUntil?: string }[];
  /** `openclaw models auth order get --provider anthropic --json` → `order`. */
  anthropicOrder: unknown;
  /** Every stdout and stderr of every OpenClaw run, for the leak check. */
  printed: string;
  /** The doctor's stdout and stderr. */
  doctor: string;
  /** Files left in the agent dir after the import. */
  agentFiles: string[];
  expected: Expected[];
  cooldownUntil: number;
}

/** Runs the OpenClaw CLI with a clean environment: private HOME, no update checks, no telemetry. */
function openclaw(
  state: TempState,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runOpenclaw(state.dir, args);
}

/** Runs a clawauth command that must succeed. */
async function clawauth(state: TempState, args: string[], stdin?: string): Promise<void> {
  const result = await state.run(args, { stdin });
  assert.equal(result.code, 0, `clawauth ${args.join(" ")}: ${result.stderr}`);
}

/**
 * Writes, with clawauth, an api_key, a token and a linked oauth profile, an
 * order and a cooldown, then adds `needsLogin` by hand (only a refused refresh
 * writes it). With `storeOnly` the two files clawauth leaves beside the store
 * (its runtime cache `auth.json` and the legacy `credentials/oauth.json`) are
 * removed first. Then OpenClaw imports the state dir and lists what it holds.
 */
async function importIntoOpenClaw(storeOnly: boolean): Promise<Observed> {
  await using state = await tempState();
  const apiKey = fakeSecret("sk-proj-");
  const setupToken = fakeSecret("sk-ant-oat01-");
  const access = fakeSecret("codex-at-");
  const refresh = fakeSecret("codex-rt-");
  const codexExpires = Date.now() + 10 * 86_400_000;

  await clawauth(state, ["paste-token", "--provider", "openai", "--type", "api-key"], apiKey);
  await clawauth(
    state,
    ["paste-token", "--provider", "anthropic", "--profile", "work", "--expires-in", "365d"],
    setupToken,
  );
  state.writeFile(
    "credentials/oauth.json",
    JSON.stringify({
      "openai-codex": { access, refresh, expires: codexExpires, accountId: "acct" },
    }),
  );
  await clawauth(state, ["import", "--from", "openclaw-legacy", "--link"]);
  await clawauth(state, ["order", "set", "--provider", "anthropic", "anthropic:work"]);
  await clawauth(state, ["report", "anthropic:work", "--reason", "rate_limit"]);

  const store = state.store() as {
    profiles: Record<string, Record<string, unknown>>;
    usageStats: Record<string, Record<string, unknown>>;
  };
  assert.ok(store.profiles["openai-codex:default"].clawauthLink, "import --link sets clawauthLink");
  const work = store.usageStats["anthropic:work"];
  assert.equal(typeof work.cooldownUntil, "number");
  assert.ok(work.failureCounts && work.lastFailureAt, "report writes failureCounts, lastFailureAt");
  store.usageStats["openai-codex:default"] = { errorCount: 1, needsLogin: Date.now() };
  state.writeStore(store);
  if (storeOnly) {
    Deno.removeSync(`${state.agentDir()}/auth.json`);
    Deno.removeSync(`${state.dir}/credentials/oauth.json`);
  }

  const runs: string[] = [];
  const run = async (args: string[]) => {
    const result = await openclaw(state, args);
    runs.push(result.stdout, result.stderr);
    assert.equal(result.code, 0, `openclaw ${args.join(" ")}:\n${result.stdout}\n${result.stderr}`);
    return result;
  };
  const doctor = await run(["doctor", "--fix", "--non-interactive"]);
  const status = JSON.parse((await run(["models", "status", "--json"])).stdout);
  const list = JSON.parse((await run(["models", "auth", "list", "--json"])).stdout);
  const order = JSON.parse(
    (await run(["models", "auth", "order", "get", "--provider", "anthropic", "--json"])).stdout,
  );

  return {
    profiles: status.auth.oauth.profiles,
    authList: list.profiles,
    anthropicOrder: order.order,
    printed: runs.join("\n"),
    doctor: `${doctor.stdout}\n${doctor.stderr}`,
    agentFiles: [...Deno.readDirSync(state.agentDir())].map((entry) => entry.name),
    cooldownUntil: work.cooldownUntil as number,
    expected: [
      {
        id: "openai:default",
        type: "api_key",
        providers: ["openai"],
        secrets: [{ secret: apiKey, prefix: "sk-proj-" }],
      },
      {
        id: "anthropic:work",
        type: "token",
        providers: ["anthropic"],
        expires: store.profiles["anthropic:work"].expires as number,
        secrets: [{ secret: setupToken, prefix: "sk-ant-oat01-" }],
      },
      {
        id: "openai-codex:default",
        type: "oauth",
        // OpenClaw 2026.9 retired the provider id `openai-codex`: its importer
        // folds those profiles into `openai` (as `openai:default`, or
        // `openai:chatgpt-default` when that id is taken).
        providers: ["openai-codex", "openai"],
        expires: codexExpires,
        secrets: [
          { secret: access, prefix: "codex-at-" },
          { secret: refresh, prefix: "codex-rt-" },
        ],
      },
    ],
  };
}

/**
 * The listed profiles that hold `want`'s credential: the same id, or (for
 * profiles that expire) the same type and expiry under an allowed provider,
 * since the importer may rename a profile.
 */
function holders(listed: ListedProfile[], want: Expected): ListedProfile[] {
  return listed.filter((p) =>
    p.profileId === want.id ||
    (want.expires !== undefined && p.type === want.type && p.expiresAt === want.expires &&
      want.providers.includes(p.provider))
  );
}

/** Asserts each clawauth profile is listed with an allowed provider and its type and expiry. */
function assertListed(observed: Observed): void {
  for (const want of observed.expected) {
    const all = holders(observed.profiles, want);
    const got = all.find((p) => p.profileId === want.id) ?? all[0];
    assert.ok(
      got,
      `OpenClaw does not list ${want.id}; it lists ${JSON.stringify(observed.profiles)}`,
    );
    assert.ok(want.providers.includes(got.provider), `${want.id} listed under ${got.provider}`);
    assert.equal(got.type, want.type, `type of ${want.id} (as ${got.profileId})`);
    if (want.expires !== undefined) assert.equal(got.expiresAt, want.expires);
  }
}

/** Credentials OpenClaw lists more than once, and profiles that hold no clawauth credential. */
function surplus(observed: Observed): { duplicates: string[]; unknown: string[] } {
  const held = observed.expected.map((want) => holders(observed.profiles, want));
  return {
    duplicates: observed.expected.flatMap((want, i) =>
      held[i].length > 1
        ? [`${want.id} listed ${held[i].length}x: ${held[i].map((p) => p.profileId).join(", ")}`]
        : []
    ),
    unknown: observed.profiles
      .filter((p) => !held.some((list) => list.includes(p)))
      .map((p) => `${p.profileId} (${p.type})`),
  };
}

function assertNoLeak(observed: Observed): void {
  for (const want of observed.expected) {
    for (const { secret, prefix } of want.secrets) {
      assert.ok(
        !leaks(observed.printed, secret, prefix),
        `OpenClaw printed the secret of ${want.id}`,
      );
    }
  }
}

function assertImportClean(observed: Observed): void {
  assert.ok(
    !observed.agentFiles.includes("auth-profiles.json") &&
      observed.agentFiles.some((name) => name.startsWith("auth-profiles.json.migrated-")),
    `the importer archives the store once imported; agent dir holds ${observed.agentFiles}`,
  );
  assert.doesNotMatch(
    observed.doctor,
    /Failed to migrate|Left auth profile JSON in place|ignored invalid auth profile/,
  );
}

let storeOnly: Promise<Observed> | undefined;
let asLeft: Promise<Observed> | undefined;

Deno.test({
  name:
    `openclaw compat: the store alone is imported whole (profiles, types, providers, order, cooldown), nothing added, no secret printed${SUFFIX}`,
  ignore,
  async fn() {
    const observed = await (storeOnly ??= importIntoOpenClaw(true));
    assertImportClean(observed);
    assertListed(observed);
    assert.deepEqual(surplus(observed), { duplicates: [], unknown: [] });
    assert.deepEqual(observed.anthropicOrder, ["anthropic:work"]);
    const work = observed.authList.find((p) => p.id === "anthropic:work");
    assert.equal(work?.cooldownUntil, new Date(observed.cooldownUntil).toISOString());
    assertNoLeak(observed);
  },
});

Deno.test({
  name:
    `openclaw compat: the state dir as clawauth leaves it (with auth.json and the legacy oauth.json) — every clawauth profile listed, no secret printed${SUFFIX}`,
  ignore,
  async fn() {
    const observed = await (asLeft ??= importIntoOpenClaw(false));
    assertImportClean(observed);
    assertListed(observed);
    assertNoLeak(observed);
  },
});
