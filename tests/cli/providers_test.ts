import assert from "node:assert/strict";
import { startSandboxIdp } from "../../scripts/sandbox_idp.ts";
import { tempState } from "../helpers.ts";
import { freePort, idpFor, loginVia, profilesOf, setExpires, startCli } from "../oauth_helpers.ts";
import { storeOf, tokenProfile } from "../builders.ts";

function writeConfig(dir: string, providers: Record<string, unknown>): void {
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/clawauth.json`, JSON.stringify({ providers }));
}

Deno.test("generic OIDC provider declared by issuer: discovery, PKCE login, refresh", async () => {
  await using state = await tempState();
  await using idp = await startSandboxIdp();
  writeConfig(state.dir, {
    acme: {
      issuer: idp.issuer,
      clientId: idp.clientId,
      scopes: "openid email offline_access",
      redirectUri: `http://127.0.0.1:${freePort()}/auth/callback`,
    },
  });
  const started = await state.run(["login", "--provider", "acme", "--start", "--json"]);
  assert.equal(started.code, 0, started.stderr);
  const { url } = JSON.parse(started.stdout);
  assert.ok(
    url.startsWith(`${idp.issuer}/oauth/authorize?`),
    "authorize endpoint came from discovery",
  );
  const finished = await state.run(["login", "--finish", await idp.approve(url), "--json"]);
  assert.equal(finished.code, 0, finished.stderr);
  const { profile } = JSON.parse(finished.stdout);
  assert.equal(profile, "acme:dev@example.test");
  setExpires(state, profile, Date.now() - 1000);
  const token = await state.run(["token", "--provider", "acme"]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(idp.counts().refresh_token, 1);
});

Deno.test("a provider declared in clawauth.json is logged into: the hint says login, and a pasted token of it says paste-token", async () => {
  await using state = await tempState();
  writeConfig(state.dir, { acme: { issuer: "https://id.acme.example", clientId: "cli" } });
  const none = await state.run(["token", "--provider", "acme"]);
  assert.equal(none.code, 77, none.stderr);
  assert.match(none.stderr, /Run: clawauth login --provider acme\n/);
  state.writeStore(storeOf({ "acme:ci": tokenProfile("t", { provider: "acme", expires: 1000 }) }));
  const expired = await state.run(["token", "--profile", "acme:ci"]);
  assert.equal(expired.code, 77, expired.stderr);
  assert.match(expired.stderr, /Run: clawauth paste-token --provider acme --profile ci\n/);
});

Deno.test("login --device: RFC 8628 device flow shows the user code and stores the login once approved", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state, { provider: "acme" });
  const cli = startCli(state, [
    "login",
    "--provider",
    "acme",
    "--device",
    "--profile",
    "tv",
    "--json",
  ]);
  const userCode = await cli.waitForStderr(/enter the code:\n\n {2}(\S+)\n/);
  await idp.approveDevice(userCode);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).profile, "acme:tv");
  assert.ok(profilesOf(state)["acme:tv"].refresh);
  assert.equal(idp.counts().device_code, 1);
});

Deno.test("remove --revoke revokes the refresh token at the provider (RFC 7009), then removes", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const refresh = String(profilesOf(state)[id].refresh);
  const removed = await state.run(["remove", id, "--revoke"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stderr, /Revoked/);
  assert.equal(idp.counts().revocations, 1);
  assert.equal(profilesOf(state)[id], undefined);
  // The revoked refresh token is dead at the provider.
  const body = new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: refresh,
    client_id: idp.clientId,
  });
  const answer = await fetch(idp.tokenUrl, { method: "POST", body });
  assert.equal((await answer.json()).error, "invalid_grant");
});

Deno.test("remove --revoke keeps the profile when the provider cannot be reached (exit 69)", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  let closed = false;
  try {
    const id = await loginVia(idp, state);
    await idp.close();
    closed = true;
    const before = state.storeText();
    const result = await state.run(["remove", id, "--revoke"]);
    assert.equal(result.code, 69, result.stderr);
    assert.match(result.stderr, /was kept/);
    assert.equal(state.storeText(), before);
  } finally {
    if (!closed) await idp.close();
  }
});

/** A stand-in for Anthropic's and GitHub's token endpoints, which bend OAuth. */
function quirkyServer(handler: (request: Request, body: string) => Response) {
  const requests: { contentType: string | null; body: string }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      requests.push({ contentType: request.headers.get("content-type"), body });
      return handler(request, body);
    },
  );
  return { url: `http://127.0.0.1:${server.addr.port}`, requests, close: () => server.shutdown() };
}

Deno.test("anthropic OAuth: pasted code#state, JSON token exchange carrying state, account e-mail stored", async () => {
  await using state = await tempState();
  const server = quirkyServer(() =>
    Response.json({
      access_token: "sk-ant-oat01-access-" + "a".repeat(30),
      refresh_token: "sk-ant-ort01-refresh-" + "b".repeat(30),
      expires_in: 28800,
      token_type: "Bearer",
      account: { uuid: "acct-uuid-1", email_address: "max@example.test" },
    })
  );
  try {
    writeConfig(state.dir, { anthropic: { tokenUrl: `${server.url}/v1/oauth/token` } });
    const started = await state.run(["login", "--provider", "anthropic", "--start", "--json"]);
    assert.equal(started.code, 0, started.stderr);
    const { url, state: oauthState, redirectUri } = JSON.parse(started.stdout);
    assert.equal(redirectUri, "https://console.anthropic.com/oauth/code/callback");
    assert.equal(new URL(url).searchParams.get("code"), "true");
    const finished = await state.run(["login", "--finish", `the-code#${oauthState}`, "--json"]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(JSON.parse(finished.stdout).profile, "anthropic:max@example.test");
    const sent = JSON.parse(server.requests[0].body);
    assert.equal(server.requests[0].contentType, "application/json");
    assert.equal(sent.grant_type, "authorization_code");
    assert.equal(sent.code, "the-code");
    assert.equal(sent.state, oauthState);
    assert.ok(sent.code_verifier.length >= 43);
    const profile = profilesOf(state)["anthropic:max@example.test"];
    assert.equal(profile.accountId, "acct-uuid-1");
    const exec = await state.run([
      "exec",
      "--provider",
      "anthropic",
      "--",
      "sh",
      "-c",
      'printf %s "$CLAUDE_CODE_OAUTH_TOKEN"',
    ]);
    assert.equal(exec.stdout, profile.access);
  } finally {
    await server.close();
  }
});

Deno.test("github-copilot: device flow against an endpoint that answers errors with HTTP 200", async () => {
  await using state = await tempState();
  let polls = 0;
  const server = quirkyServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/login/device/code") {
      return Response.json({
        device_code: "dev-code-1",
        user_code: "WDJB-MJHT",
        verification_uri: "https://github.com/login/device",
        expires_in: 900,
        interval: 1,
      });
    }
    polls++;
    return polls < 2 ? Response.json({ error: "authorization_pending" }) : Response.json({
      access_token: "ghu_" + "c".repeat(36),
      token_type: "bearer",
      scope: "read:user",
    });
  });
  try {
    writeConfig(state.dir, {
      "github-copilot": {
        deviceAuthorizationUrl: `${server.url}/login/device/code`,
        tokenUrl: `${server.url}/login/oauth/access_token`,
      },
    });
    const result = await state.run(["login", "--provider", "github-copilot", "--no-browser"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /WDJB-MJHT/);
    assert.equal(polls, 2);
    assert.equal(profilesOf(state)["github-copilot:default"].access, "ghu_" + "c".repeat(36));
  } finally {
    await server.close();
  }
});

Deno.test("setup-token: a piped setup-token becomes a token profile expiring in a year; an API key becomes api_key", async () => {
  await using state = await tempState();
  const token = "sk-ant-oat01-" + "t".repeat(60);
  const stored = await state.run(["setup-token", "--provider", "anthropic", "--json"], {
    stdin: `${token}\n`,
  });
  assert.equal(stored.code, 0, stored.stderr);
  const printed = JSON.parse(stored.stdout);
  assert.equal(printed.type, "token");
  assert.ok(Math.abs(printed.expires - (Date.now() + 365 * 86_400_000)) < 60_000);
  assert.ok(!stored.stdout.includes(token) && !stored.stderr.includes(token));
  const key = "sk-ant-api03-" + "k".repeat(60);
  const asKey = await state.run([
    "models",
    "auth",
    "setup-token",
    "--provider",
    "anthropic",
    "--profile",
    "api",
  ], {
    stdin: key,
  });
  assert.equal(asKey.code, 0, asKey.stderr);
  assert.equal(profilesOf(state)["anthropic:api"].type, "api_key");
  const other = await state.run(["setup-token", "--provider", "openai"], { stdin: key });
  assert.equal(other.code, 64);
});

Deno.test("device flow: slow_down lengthens the polling interval; access_denied and expired_token end the login with exit 1", async () => {
  await using state = await tempState();
  const answers: Record<string, Response[]> = {};
  const times: number[] = [];
  const server = quirkyServer((request, body) => {
    if (new URL(request.url).pathname === "/device") {
      const code = new URLSearchParams(body).get("scope") === "deny" ? "deny" : "slow";
      return Response.json({
        device_code: code,
        user_code: "ABCD-EFGH",
        verification_uri: "https://example.test/device",
        expires_in: 600,
        interval: 1,
      });
    }
    times.push(Date.now());
    const code = new URLSearchParams(body).get("device_code") ?? "";
    return answers[code].shift() ?? Response.json({ error: "expired_token" }, { status: 400 });
  });
  try {
    answers.slow = [
      Response.json({ error: "slow_down" }, { status: 400 }),
      Response.json({ access_token: "at-1", token_type: "bearer", expires_in: 3600 }),
    ];
    answers.deny = [Response.json({ error: "access_denied" }, { status: 400 })];
    const endpoints = {
      deviceAuthorizationUrl: `${server.url}/device`,
      tokenUrl: `${server.url}/token`,
      clientId: "c",
    };
    writeConfig(state.dir, {
      slowco: { ...endpoints, scopes: "openid" },
      denyco: { ...endpoints, scopes: "deny" },
    });
    const slow = await state.run(["login", "--provider", "slowco", "--device", "--no-browser"]);
    assert.equal(slow.code, 0, slow.stderr);
    assert.ok(
      times[1] - times[0] >= 5500,
      `slow_down adds 5 s to the interval (waited ${times[1] - times[0]} ms)`,
    );
    const denied = await state.run(["login", "--provider", "denyco", "--device", "--no-browser"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /denied/);
    answers.slow = [];
    const expired = await state.run(["login", "--provider", "slowco", "--device", "--no-browser"]);
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /expired/);
  } finally {
    await server.close();
  }
});
