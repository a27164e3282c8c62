/**
 * `clawauth proxy` on OpenClaw 2026.9's SQLite store: a ChatGPT login
 * (`openai:me`, type oauth) serves `/codex` and never `/openai`, its expired
 * token is refreshed once through OpenClaw's refresh lock, and the quota the
 * proxy records sits in OpenClaw's state document without upsetting OpenClaw.
 * Ignored, saying why, when OpenClaw is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fakeSecret } from "../helpers.ts";
import { startFakeUpstream } from "../fake_upstream.ts";
import { openclawState, openclawTests } from "../openclaw_env.ts";
import {
  clawauth,
  CODEX_ID,
  codexLogin,
  expire,
  openclawStatus,
  storedProfiles,
} from "../openclaw_store_support.ts";
import { keyed, routeTo, startProxy } from "../proxy_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

/** `usageStats` of OpenClaw's shared state document (`authProfiles.state`). */
function usageStats(stateDb: string): Record<string, Record<string, unknown>> {
  const db = new DatabaseSync(stateDb, { readOnly: true });
  try {
    const row = db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = ?")
      .get("authProfiles.state") as { value_json: string } | undefined;
    return row ? JSON.parse(row.value_json).usageStats ?? {} : {};
  } finally {
    db.close();
  }
}

Deno.test({
  name:
    `proxy on the openclaw store: /codex refreshes openai:me once and sends it, /openai sends the API key, quota lands where OpenClaw keeps usage${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using idp = await codexLogin(state);
    const apiKey = fakeSecret("sk-proj-");
    await clawauth(state, ["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: apiKey,
    });
    expire(state);
    const reset = Math.floor(Date.now() / 1000) + 3600;
    await using upstream = await startFakeUpstream(() => ({
      headers: {
        "x-codex-primary-used-percent": "55",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": String(reset),
      },
    }));
    routeTo(state, upstream, ["openai-codex", "openai"]);
    const proxy = await startProxy(state);
    for (const path of ["/codex/responses", "/openai/v1/responses"]) {
      const response = await fetch(`${proxy.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${proxy.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-fake", input: "ping", stream: true }),
      });
      assert.equal(response.status, 200, path);
      await response.body?.cancel();
    }
    const pinned = await fetch(`${proxy.url}/codex:me/responses`, {
      method: "POST",
      headers: keyed(proxy.key),
      body: "{}",
    });
    assert.equal(pinned.status, 200, "/codex:me pins openai:me");
    await pinned.body?.cancel();
    assert.equal((await proxy.stop()).code, 0);

    assert.equal(idp.counts().refresh_token, 1);
    const login = storedProfiles(state)[CODEX_ID];
    const [codex, openai, again] = upstream.requests;
    assert.equal(codex.credential, login.access, "the refreshed token");
    assert.equal(codex.headers["chatgpt-account-id"], login.accountId);
    assert.equal(openai.credential, apiKey, "/openai never gets the ChatGPT login");
    assert.equal(again.credential, login.access);
    const quota = usageStats(state.stateDb)[CODEX_ID].quota as Record<
      string,
      { utilization: number }
    >;
    assert.equal(quota["5h"].utilization, 0.55);
    const view = await openclawStatus(state);
    assert.ok(view.profiles.has(CODEX_ID), "OpenClaw still reads its store");
  },
});
