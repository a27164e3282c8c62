import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";

function writeJson(path: string, value: unknown): void {
  Deno.mkdirSync(path.replace(/\/[^/]*$/, ""), { recursive: true });
  Deno.writeTextFileSync(path, JSON.stringify(value, null, 2));
}

Deno.test("import --from claude-code: dry run changes nothing; import stores anthropic:claude-code and warns about rotation", async () => {
  await using state = await tempState();
  const expiresAt = Date.now() + 3_600_000;
  writeJson(`${state.home}/.claude/.credentials.json`, {
    claudeAiOauth: {
      accessToken: "sk-ant-oat01-acc-" + "a".repeat(40),
      refreshToken: "sk-ant-ort01-ref-" + "r".repeat(40),
      expiresAt,
      scopes: ["user:inference"],
      subscriptionType: "max",
    },
  });
  const dry = await state.run(["import", "--from", "claude-code", "--dry-run", "--json"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout).imported, [{
    id: "anthropic:claude-code",
    source: "claude-code",
    linked: false,
  }]);
  assert.throws(() => state.store(), "a dry run writes no store");
  const real = await state.run(["import", "--from", "claude-code"]);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stderr, /rotated out/);
  assert.match(real.stderr, /--link/);
  const profile = profilesOf(state)["anthropic:claude-code"];
  assert.equal(profile.type, "oauth");
  assert.equal(profile.expires, expiresAt);
  assert.ok(!real.stdout.includes("sk-ant-oat01-acc") && !real.stderr.includes("sk-ant-oat01-acc"));
  const again = await state.run(["import", "--from", "claude-code", "--json"]);
  assert.deepEqual(JSON.parse(again.stdout).skipped, [{
    id: "anthropic:claude-code",
    reason: "exists",
  }]);
});

Deno.test("import --from codex-cli: ChatGPT tokens and an OPENAI_API_KEY become two profiles", async () => {
  await using state = await tempState();
  const payload = btoa(JSON.stringify({ exp: 2_000_000_000 })).replace(/=+$/, "");
  writeJson(`${state.home}/.codex/auth.json`, {
    OPENAI_API_KEY: "sk-proj-" + "k".repeat(40),
    tokens: {
      access_token: `h.${payload}.s`,
      refresh_token: "rt-1",
      id_token: "x.e30.y",
      account_id: "acct-9",
    },
    last_refresh: "2026-11-01T00:00:00Z",
  });
  const result = await state.run(["import", "--from", "codex-cli"]);
  assert.equal(result.code, 0, result.stderr);
  const profiles = profilesOf(state);
  assert.equal(profiles["openai-codex:codex-cli"].expires, 2_000_000_000_000);
  assert.equal(profiles["openai-codex:codex-cli"].accountId, "acct-9");
  assert.equal(profiles["openai:codex-cli"].type, "api_key");
});

Deno.test("import --link: a refresh writes the rotated tokens back into Codex CLI's auth.json, other keys kept", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const mine = profilesOf(state)[id];
  const codexPath = `${state.home}/.codex/auth.json`;
  writeJson(codexPath, {
    OPENAI_API_KEY: null,
    tokens: {
      access_token: mine.access,
      refresh_token: mine.refresh,
      id_token: "x.e30.y",
      account_id: "acct-sandbox-1",
    },
    last_refresh: "2026-11-01T00:00:00Z",
    extra: { kept: true },
  });
  const imported = await state.run(["import", "--from", "codex-cli", "--link"]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.doesNotMatch(imported.stderr, /rotated out/);
  assert.equal(profilesOf(state)["openai-codex:codex-cli"].clawauthLink !== undefined, true);
  setExpires(state, "openai-codex:codex-cli", Date.now() - 1000);
  const token = await state.run(["token", "--profile", "openai-codex:codex-cli"]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(idp.counts().refresh_token, 1);
  const codex = JSON.parse(Deno.readTextFileSync(codexPath));
  const fresh = profilesOf(state)["openai-codex:codex-cli"];
  assert.equal(codex.tokens.access_token, fresh.access);
  assert.equal(codex.tokens.refresh_token, fresh.refresh);
  assert.notEqual(codex.tokens.refresh_token, mine.refresh);
  assert.deepEqual(codex.extra, { kept: true });
  assert.notEqual(codex.last_refresh, "2026-11-01T00:00:00Z");
  assert.equal(
    profilesOf(state)[id].refresh,
    fresh.refresh,
    "the other copy of the login is updated too",
  );
});

Deno.test("import --link: when Codex CLI refreshed on its own, clawauth adopts its tokens instead of using a dead one", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const codexPath = `${state.home}/.codex/auth.json`;
  const id = await loginVia(idp, state, ["--profile", "mine"]);
  const mine = profilesOf(state)[id];
  writeJson(codexPath, {
    tokens: {
      access_token: mine.access,
      refresh_token: mine.refresh,
      account_id: "acct-sandbox-1",
    },
  });
  assert.equal((await state.run(["import", "--from", "codex-cli", "--link"])).code, 0);
  // Codex CLI refreshes by itself: clawauth's refresh token is now dead.
  const answer = await fetch(idp.tokenUrl, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: String(mine.refresh),
      client_id: idp.clientId,
    }),
  });
  const rotated = await answer.json();
  writeJson(codexPath, {
    tokens: { access_token: rotated.access_token, refresh_token: rotated.refresh_token },
  });
  for (const profile of [id, "openai-codex:codex-cli"]) {
    setExpires(state, profile, Date.now() - 1000);
  }
  const token = await state.run(["token", "--profile", id]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${rotated.access_token}\n`);
  assert.equal(idp.counts().refreshErrors, 0, "the dead refresh token was never sent");
});
