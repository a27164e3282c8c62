/**
 * lib/store/openclaw/db.ts against the real OpenClaw (2026.9.6), reading and
 * writing the auth documents: what OpenClaw stored is read, what clawauth
 * writes is what `openclaw models status --json` lists, an agent sees the
 * shared profiles under its own as OpenClaw layers them, and keys it does not
 * know are kept. Every test works on a copy of one state dir that `openclaw
 * doctor --fix` prepared (tests/openclaw_env.ts). Ignored, saying why, when
 * OpenClaw is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Exit } from "../../lib/errors.ts";
import { exists } from "../../lib/fs/files.ts";
import {
  hasOpenclawStateDb,
  openclawAgentDb,
  readAuthDocuments,
  retiredAuthFiles,
  updateAuthDocuments,
} from "../../lib/store/openclaw/db.ts";
import { fakeSecret } from "../helpers.ts";
import { addToken, alter, assertRefused, opts } from "../openclaw_db_support.ts";
import { openclawState, openclawTests } from "../openclaw_env.ts";
import {
  assertOpenclawOk,
  openclawPasteToken,
  openclawStatus,
  setupToken,
  sharedAuthRows,
} from "../openclaw_store_support.ts";
import { apiKeyProfile, storeOf, tokenProfile } from "../builders.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

Deno.test({
  name: `openclaw db: reads the token \`openclaw models auth paste-token\` stored${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    assert.ok(hasOpenclawStateDb(state.dir));
    const empty = readAuthDocuments(opts(state));
    assert.deepEqual(empty.store, storeOf({}));
    assert.deepEqual(empty.state, {});
    assert.equal(empty.source.agentDb, undefined);

    const token = setupToken();
    assertOpenclawOk(
      await openclawPasteToken(state, { id: "anthropic:oc", token }),
      "openclaw models auth paste-token",
    );
    const docs = readAuthDocuments(opts(state));
    assert.deepEqual(docs.store.profiles["anthropic:oc"], {
      type: "token",
      provider: "anthropic",
      token,
    });
    assert.deepEqual(retiredAuthFiles(opts(state)), []);
  },
});

Deno.test({
  name:
    `openclaw db: profiles and order written by clawauth are what \`openclaw models status --json\` lists, with no AUTH_PROFILE_MIGRATION_REQUIRED${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const apiKey = fakeSecret("sk-proj-");
    const setup = fakeSecret("sk-ant-oat01-");
    const expires = Date.now() + 30 * 86_400_000;
    const returned = updateAuthDocuments(opts(state), (docs) => {
      docs.store.profiles["openai:ci"] = apiKeyProfile(apiKey);
      docs.store.profiles["anthropic:work"] = tokenProfile(setup, { expires });
      docs.store.profiles["anthropic:home"] = tokenProfile();
      docs.state.order = { anthropic: ["anthropic:work", "anthropic:home"] };
      return "done";
    });
    assert.equal(returned, "done");
    // No agent DB for main: everything went to the shared rows, nothing else was created.
    assert.equal(readAuthDocuments(opts(state)).source.agentDb, undefined);
    assert.deepEqual(retiredAuthFiles(opts(state)), []);

    const status = await openclawStatus(state);
    const listed = status.profiles;
    assert.equal(listed.get("openai:ci")?.type, "api_key");
    assert.equal(listed.get("anthropic:work")?.type, "token");
    assert.deepEqual(status.effective.anthropic, ["anthropic:work", "anthropic:home"]);

    updateAuthDocuments(opts(state), (docs) => {
      docs.state.order = { anthropic: ["anthropic:home", "anthropic:work"] };
    });
    assert.deepEqual((await openclawStatus(state)).effective.anthropic, [
      "anthropic:home",
      "anthropic:work",
    ]);
  },
});

Deno.test({
  name:
    `openclaw db: an agent sees the shared profiles under its own, and its writes stay in its agent DB, as OpenClaw layers them${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const mainToken = fakeSecret("sk-ant-oat01-");
    updateAuthDocuments(opts(state), addToken("anthropic:shared", mainToken));
    assertOpenclawOk(
      await state.openclaw([
        "agents",
        "add",
        "work",
        "--non-interactive",
        "--workspace",
        `${state.dir}/workspace-work`,
      ]),
      "openclaw agents add work",
    );
    const work = opts(state, "work");
    // No agent DB yet: a new profile needs it, and clawauth never creates it.
    const shared = sharedAuthRows(state);
    assertRefused(
      () => updateAuthDocuments(work, addToken("anthropic:w0", "x")),
      Exit.data,
      /no database for agent "work"/,
    );
    assert.deepEqual(sharedAuthRows(state), shared);
    assert.ok(!exists(openclawAgentDb(work.agentDir)));

    assertOpenclawOk(
      await openclawPasteToken(state, {
        id: "anthropic:w1",
        token: setupToken(),
        extra: ["--agent", "work"],
      }),
      "openclaw models auth paste-token --agent work",
    );
    const seen = readAuthDocuments(work);
    assert.equal(seen.source.agentDb, openclawAgentDb(work.agentDir));
    assert.deepEqual(Object.keys(seen.store.profiles).sort(), [
      "anthropic:shared",
      "anthropic:w1",
    ]);

    const w2 = fakeSecret("sk-ant-oat01-");
    updateAuthDocuments(work, (docs) => {
      addToken("anthropic:w2", w2)(docs);
      docs.state.order = { anthropic: ["anthropic:w2", "anthropic:shared", "anthropic:w1"] };
      docs.state.usageStats = { "anthropic:shared": { errorCount: 1, cooldownUntil: 1 } };
    });
    // The new profile and the state live in work's DB; the shared rows are as they were.
    assert.deepEqual(sharedAuthRows(state), shared);
    const main = readAuthDocuments(opts(state));
    assert.deepEqual(Object.keys(main.store.profiles), ["anthropic:shared"]);
    assert.deepEqual(main.state, {});

    // A change to an inherited profile goes back to its owner, the shared store.
    updateAuthDocuments(work, (docs) => {
      (docs.store.profiles["anthropic:shared"] as Record<string, unknown>).email = "a@b.c";
    });
    assert.equal(
      (readAuthDocuments(opts(state)).store.profiles["anthropic:shared"] as { email?: string })
        .email,
      "a@b.c",
    );
    assertRefused(
      () =>
        updateAuthDocuments(work, (docs) => {
          delete docs.store.profiles["anthropic:shared"];
        }),
      Exit.data,
      /shared by every agent/,
    );

    const [asWork, asMain] = await Promise.all([
      openclawStatus(state, "work"),
      openclawStatus(state),
    ]);
    assert.deepEqual([...asWork.profiles.keys()].sort(), [
      "anthropic:shared",
      "anthropic:w1",
      "anthropic:w2",
    ]);
    assert.deepEqual(asWork.effective.anthropic, [
      "anthropic:w2",
      "anthropic:shared",
      "anthropic:w1",
    ]);
    assert.deepEqual([...asMain.profiles.keys()], ["anthropic:shared"]);
    assert.deepEqual(readAuthDocuments(work).state.order, {
      anthropic: ["anthropic:w2", "anthropic:shared", "anthropic:w1"],
    });
  },
});

Deno.test({
  name: `openclaw db: keys it does not know are kept, in the documents and in profiles${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    alter(
      state.stateDb,
      "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES ('authProfiles.store', ?, 1)",
      JSON.stringify(
        storeOf({ "openai:x": apiKeyProfile("k", { extra: [1] }) }, { futureKey: { a: 1 } }),
      ),
    );
    alter(
      state.stateDb,
      "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES ('authProfiles.state', ?, 1)",
      JSON.stringify({ version: 1, order: { openai: ["openai:x"] }, futureState: true }),
    );
    updateAuthDocuments(opts(state), (docs) => {
      addToken("anthropic:new", "t")(docs);
      docs.state.lastGood = { openai: "openai:x" };
    });
    const db = new DatabaseSync(state.stateDb, { readOnly: true });
    const row = (key: string) =>
      JSON.parse(
        String(
          db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = ?").get(key)
            ?.value_json,
        ),
      );
    const store = row("authProfiles.store");
    const st = row("authProfiles.state");
    db.close();
    assert.deepEqual(store.futureKey, { a: 1 });
    assert.deepEqual(store.profiles["openai:x"].extra, [1]);
    assert.ok(store.profiles["anthropic:new"]);
    assert.equal(st.futureState, true);
    assert.deepEqual(st.lastGood, { openai: "openai:x" });
    assert.deepEqual(st.order, { openai: ["openai:x"] });
  },
});
