/**
 * The `openclaw` store backend, black-box, for a Codex login: the real
 * clawauth CLI and the real OpenClaw CLI (2026.9.6, tests/openclaw_env.ts),
 * with the sandbox identity provider (scripts/sandbox_idp.ts) standing in for
 * auth.openai.com. A Codex login is OpenClaw's `openai` OAuth profile and is
 * never handed out as an OpenAI API key; concurrent refreshes happen once
 * (docs/stores.md, §4; docs/openclaw.md).
 *
 * Ignored, saying why, when OpenClaw is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret, leaks } from "../helpers.ts";
import { openclawState, openclawTests } from "../openclaw_env.ts";
import {
  clawauth,
  clawauthProfiles,
  CODEX_ID,
  codexLogin,
  expire,
  openclawStatus,
  retiredFilesIn,
  storedProfiles,
} from "../openclaw_store_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

Deno.test({
  name:
    `openclaw store: a Codex login is OpenClaw's openai OAuth profile, served for openai-codex and never for openai${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const stored = storedProfiles(state);
    assert.deepEqual(Object.keys(stored), [CODEX_ID], "nothing stored as openai-codex:…");
    const login = stored[CODEX_ID];
    assert.equal(login.provider, "openai");
    assert.equal(login.type, "oauth");
    assert.equal(login.accountId, "acct-sandbox-1");
    const access = String(login.access);
    const refresh = String(login.refresh);
    assert.ok(typeof login.expires === "number" && login.expires > Date.now());
    assert.deepEqual(retiredFilesIn(state), []);

    const { profiles } = await clawauthProfiles(state, "status");
    assert.equal(profiles.get(CODEX_ID)?.provider, "openai");
    assert.equal(profiles.get(CODEX_ID)?.type, "oauth");
    assert.equal(profiles.get(CODEX_ID)?.state, "ok");

    const codex = await clawauth(state, ["token", "--provider", "openai-codex"]);
    assert.equal(codex.stdout, `${access}\n`);
    const apiOnly = await state.run(["token", "--provider", "openai"]);
    assert.equal(apiOnly.code, 77, `token --provider openai: ${apiOnly.stderr}`);
    assert.equal(apiOnly.stdout, "", "no ChatGPT token for an OpenAI API-key request");
    assert.ok(!apiOnly.stderr.includes(access));
    assert.match(apiOnly.stderr, /clawauth paste-token --provider openai/);

    const key = fakeSecret("sk-proj-");
    await clawauth(
      state,
      ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "ci"],
      { stdin: key },
    );
    const [viaOpenai, viaCodex, view] = await Promise.all([
      clawauth(state, ["token", "--provider", "openai"]),
      clawauth(state, ["token", "--provider", "openai-codex"]),
      openclawStatus(state),
    ]);
    assert.equal(viaOpenai.stdout, `${key}\n`, "openai gets the API key");
    assert.equal(viaCodex.stdout, `${access}\n`, "openai-codex still gets the ChatGPT token");
    assert.equal(idp.counts().refresh_token, 0);

    const listed = view.profiles.get(CODEX_ID);
    assert.equal(listed?.provider, "openai", JSON.stringify([...view.profiles.values()]));
    assert.equal(listed?.type, "oauth");
    assert.equal(listed?.expiresAt, login.expires);
    assert.deepEqual(view.byProvider.get("openai")?.sort(), ["openai:ci", CODEX_ID]);
    assert.ok(!view.byProvider.has("openai-codex"), "OpenClaw retired openai-codex");
    for (const [secret, prefix] of [[access, ""], [refresh, ""], [key, "sk-proj-"]]) {
      assert.ok(!leaks(view.printed, secret, prefix), "OpenClaw printed a secret");
    }
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: 16 concurrent token calls on an expired Codex login refresh it once, and OpenClaw sees the new expiry${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const old = storedProfiles(state)[CODEX_ID];
    expire(state);
    const results = await Promise.all(
      Array.from({ length: 16 }, () => state.run(["token", "--provider", "openai-codex"])),
    );
    assert.deepEqual(
      results.map((r) => r.code),
      Array(16).fill(0),
      results.map((r) => r.stderr).join(""),
    );
    const tokens = new Set(results.map((r) => r.stdout));
    assert.equal(tokens.size, 1, "every caller got the same token");
    assert.equal(idp.counts().refresh_token, 1, "exactly one refresh");
    assert.equal(idp.counts().refreshErrors, 0);

    const now = storedProfiles(state)[CODEX_ID];
    assert.notEqual(now.access, old.access);
    assert.notEqual(now.refresh, old.refresh, "the rotated refresh token is stored");
    assert.equal(results[0].stdout, `${now.access}\n`);
    assert.equal(now.provider, "openai");
    assert.equal(now.type, "oauth");
    assert.equal(now.accountId, old.accountId, "the metadata is kept");
    const expires = now.expires as number;
    assert.ok(expires > Date.now() + 50 * 60_000, `new expiry ${expires}`);
    assert.deepEqual(Object.keys(storedProfiles(state)), [CODEX_ID]);

    const listed = (await openclawStatus(state)).profiles.get(CODEX_ID);
    assert.equal(listed?.expiresAt, expires, "OpenClaw reads the refreshed expiry");
    assert.notEqual(listed?.status, "expired");
    assert.deepEqual(retiredFilesIn(state), []);
  },
});
