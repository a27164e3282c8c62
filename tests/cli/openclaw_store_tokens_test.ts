/**
 * The `openclaw` store backend, black-box, for tokens and API keys: the real
 * clawauth CLI and the real OpenClaw CLI (2026.9.6, tests/openclaw_env.ts) on
 * copies of one state dir that `openclaw doctor --fix` prepared. What
 * clawauth writes must be what OpenClaw reads (and the other way round),
 * without a doctor run in between; the retired JSON files never appear; the
 * json backend, when chosen, leaves OpenClaw's store alone (docs/stores.md
 * ; docs/openclaw.md).
 *
 * Ignored, saying why, when OpenClaw is not installed. OpenClaw's CLI costs
 * 1.2–8 s a call, so a test runs it at most once, and only where OpenClaw's
 * own view is the point; the rest is read from its SQLite rows directly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks } from "../helpers.ts";
import { idpFor, loginVia } from "../oauth_helpers.ts";
import { openclawState, openclawTests } from "../openclaw_env.ts";
import {
  assertOpenclawOk,
  clawauth,
  clawauthProfiles,
  openclawPasteToken,
  openclawStatus,
  type Profiles,
  retiredFilesIn,
  schemaOf,
  setupToken,
  sharedAuthRows,
  sqliteFiles,
  storedProfiles,
} from "../openclaw_store_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

Deno.test({
  name:
    `openclaw store: tokens clawauth pastes are listed by OpenClaw with their types, no doctor, no AUTH_PROFILE_MIGRATION_REQUIRED, no secret printed${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const token = setupToken();
    const key = fakeSecret("sk-proj-");
    await clawauth(
      state,
      ["paste-token", "--provider", "anthropic", "--profile", "work", "--expires-in", "365d"],
      { stdin: token },
    );
    await clawauth(
      state,
      ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "ci"],
      { stdin: key },
    );
    assert.deepEqual(retiredFilesIn(state), []);
    const stored = storedProfiles(state);
    assert.deepEqual(Object.keys(stored).sort(), ["anthropic:work", "openai:ci"]);
    const expires = stored["anthropic:work"].expires;
    assert.ok(typeof expires === "number" && expires > Date.now() + 364 * 86_400_000);

    const view = await openclawStatus(state);
    const work = view.profiles.get("anthropic:work");
    const ci = view.profiles.get("openai:ci");
    assert.equal(work?.provider, "anthropic", JSON.stringify([...view.profiles.values()]));
    assert.equal(work?.type, "token");
    assert.equal(work?.expiresAt, expires, "OpenClaw reads the expiry clawauth stored");
    assert.equal(ci?.provider, "openai");
    assert.equal(ci?.type, "api_key");
    assert.deepEqual(view.byProvider.get("anthropic"), ["anthropic:work"]);
    assert.deepEqual(view.byProvider.get("openai"), ["openai:ci"]);
    assert.ok(!leaks(view.printed, token, "sk-ant-oat01-"), "OpenClaw printed the setup-token");
    assert.ok(!leaks(view.printed, key, "sk-proj-"), "OpenClaw printed the API key");
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: a token pasted with \`openclaw models auth paste-token\` is listed and served by clawauth${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const token = setupToken();
    const pasted = await openclawPasteToken(state, {
      id: "anthropic:oc",
      token,
      extra: ["--expires-in", "30d"],
    });
    assertOpenclawOk(pasted, "openclaw models auth paste-token");
    const expires = storedProfiles(state)["anthropic:oc"]?.expires;
    assert.ok(typeof expires === "number", "OpenClaw stored the token with its expiry");

    for (const command of ["list", "status"] as const) {
      const { profiles, printed } = await clawauthProfiles(state, command);
      assert.deepEqual([...profiles.keys()], ["anthropic:oc"], `clawauth ${command} --json`);
      const oc = profiles.get("anthropic:oc");
      assert.equal(oc?.provider, "anthropic");
      assert.equal(oc?.type, "token");
      assert.equal(oc?.state, "ok");
      assert.equal(oc?.expires, expires);
      assert.ok(!leaks(printed, token, "sk-ant-oat01-"), `clawauth ${command} printed the token`);
    }
    const byProfile = await clawauth(state, ["token", "--profile", "anthropic:oc"]);
    assert.equal(byProfile.stdout, `${token}\n`);
    assert.equal(byProfile.stderr, "");
    const byProvider = await clawauth(state, ["token", "--provider", "anthropic"]);
    assert.equal(byProvider.stdout, `${token}\n`);
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: no clawauth command creates a retired JSON file, a database or a table${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    // Something for `import --dry-run` to find (and not import).
    await Deno.mkdir(`${state.home}/.claude`, { recursive: true });
    await Deno.writeTextFile(
      `${state.home}/.claude/.credentials.json`,
      JSON.stringify({
        claudeAiOauth: {
          accessToken: fakeSecret("sk-ant-oat01-"),
          refreshToken: fakeSecret("sk-ant-ort01-"),
          expiresAt: Date.now() + 3_600_000,
        },
      }),
    );
    const databases = sqliteFiles(state);
    assert.deepEqual(databases, ["state/openclaw.sqlite"]);
    const schema = schemaOf(state.stateDb);
    assert.equal(schema.userVersion, 18);

    const steps: { args: string[]; stdin?: string; code?: number }[] = [
      {
        args: [
          "paste-token",
          "--provider",
          "anthropic",
          "--profile",
          "work",
          "--expires-in",
          "30d",
        ],
        stdin: setupToken(),
      },
      { args: ["paste-token", "--provider", "anthropic", "--profile", "b"], stdin: setupToken() },
      {
        args: ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "ci"],
        stdin: fakeSecret("sk-proj-"),
      },
      { args: ["token", "--provider", "anthropic"] },
      { args: ["token", "--profile", "openai:ci"] },
      { args: ["exec", "--provider", "anthropic", "--", "true"] },
      { args: ["status"] },
      { args: ["status", "--json"] },
      { args: ["list", "--json"] },
      { args: ["report", "anthropic:work", "--reason", "rate_limit"] },
      { args: ["report", "anthropic:work", "--ok"] },
      { args: ["order", "set", "--provider", "anthropic", "anthropic:b", "anthropic:work"] },
      { args: ["order", "get", "--json"] },
      { args: ["order", "clear", "--provider", "anthropic"] },
      { args: ["resolve", "anthropic", "--json"] },
      { args: ["remove", "anthropic:b"] },
      { args: ["doctor"] },
      { args: ["import", "--dry-run"] },
      { args: ["login", "--provider", "openai-codex", "--start", "--json"] },
    ];
    for (const step of steps) {
      const what = `clawauth ${step.args.join(" ")}`;
      const rows = step.args[0] === "import" ? sharedAuthRows(state) : undefined;
      const result = await state.run(step.args, { stdin: step.stdin });
      assert.equal(result.code, step.code ?? 0, `${what} exited ${result.code}: ${result.stderr}`);
      assert.deepEqual(retiredFilesIn(state), [], `after ${what}`);
      assert.deepEqual(sqliteFiles(state), databases, `after ${what}: a new database`);
      if (rows) assert.deepEqual(sharedAuthRows(state), rows, `${what} wrote to the store`);
    }
    assert.deepEqual(schemaOf(state.stateDb), schema, "the state DB's schema is unchanged");

    // OpenClaw, with no doctor run, sees what is left and refuses nothing.
    const view = await openclawStatus(state);
    assert.deepEqual([...view.profiles.keys()].sort(), ["anthropic:work", "openai:ci"]);
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: the json backend, when chosen, keeps its files and leaves OpenClaw's store alone${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const rows = sharedAuthRows(state);
    const token = setupToken();
    await clawauth(state, ["paste-token", "--store", "json", "--provider", "anthropic"], {
      stdin: token,
    });
    const store = state.store() as { profiles: Profiles };
    assert.equal(store.profiles["anthropic:default"]?.token, token, "auth-profiles.json written");
    assert.deepEqual(sharedAuthRows(state), rows, "nothing written to OpenClaw's store");

    const detected = await state.run(["token", "--provider", "anthropic"]);
    assert.equal(detected.code, 77, "detection picks the SQLite store, which has no profile");
    const viaEnv = await clawauth(state, ["token", "--provider", "anthropic"], {
      env: { CLAWAUTH_STORE: "json" },
    });
    assert.equal(viaEnv.stdout, `${token}\n`);

    // clawauth.json's "store": a Codex login keeps its JSON-store provider id.
    await using idp = await idpFor(state);
    const config = JSON.parse(Deno.readTextFileSync(`${state.dir}/clawauth.json`));
    Deno.writeTextFileSync(
      `${state.dir}/clawauth.json`,
      JSON.stringify({ ...config, store: "json" }),
    );
    const id = await loginVia(idp, state, ["--profile", "me"]);
    assert.equal(id, "openai-codex:me");
    const profiles = (state.store() as { profiles: Profiles }).profiles;
    assert.equal(profiles[id]?.provider, "openai-codex");
    assert.equal(profiles[id]?.type, "oauth");
    assert.deepEqual(sharedAuthRows(state), rows, "still nothing in OpenClaw's store");
    const sqlite = await clawauth(state, ["list", "--json", "--store", "openclaw"]);
    assert.deepEqual(JSON.parse(sqlite.stdout).profiles, []);
  },
});
