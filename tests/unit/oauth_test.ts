/**
 * OAuth requests and polls in-process (docs/commands.md#exit-codes, docs/login.md#device-codes,
 * §4 refresh): every request goes through the context's `fetch` to a fake
 * provider whose endpoints clawauth.json points at, and every poll waits on
 * the context's `sleep`, so the poll intervals are read off the fake clock
 * and nothing waits in real time or touches the network.
 */

import assert from "node:assert/strict";
import { FAKE_NOW, type InProcessState, inProcessState } from "../fake_context.ts";
import { jwt } from "../builders.ts";
import { writeProviderConfig } from "../helpers.ts";

type Json = Record<string, unknown>;

/** One request as the fake provider saw it (the body read once, as text). */
interface Seen {
  method: string;
  url: string;
  redirect: RequestRedirect;
  body: string;
}

/** One answer of the fake provider, made afresh each time it is given. */
type Answer = () => Response;

/**
 * A fake provider: `routes` maps a URL (without query) to the answers it
 * gives in turn (the last one repeats); anything else is a test failure.
 */
function fakeProvider(routes: Record<string, Answer[]>): {
  handler: (request: Request) => Promise<Response>;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const served = new Map<string, number>();
  return {
    seen,
    async handler(request) {
      const url = new URL(request.url);
      const key = `${url.origin}${url.pathname}`;
      seen.push({
        method: request.method,
        url: key,
        redirect: request.redirect,
        body: await request.text(),
      });
      const answers = routes[key];
      if (!answers) throw new TypeError(`unexpected request to ${key}`);
      const n = served.get(key) ?? 0;
      served.set(key, n + 1);
      return answers[Math.min(n, answers.length - 1)]();
    },
  };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Answer {
  return () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
}

function form(body: string): Json {
  return Object.fromEntries(new URLSearchParams(body));
}

const GITHUB = "https://github.test";
const DEVICE_LOGIN = ["login", "--provider", "openai-codex", "--device", "--no-browser"];
const OPENAI = "https://auth.openai.test";
const SEC = 1000;

/** github-copilot's endpoints at the fake GitHub. */
function configureGithub(state: InProcessState): void {
  writeProviderConfig(state, "github-copilot", {
    deviceAuthorizationUrl: `${GITHUB}/login/device/code`,
    tokenUrl: `${GITHUB}/login/oauth/access_token`,
  });
}

/** GitHub's answer to a device-code request: `userCode` for 15 minutes, polled every `interval` s. */
function githubDeviceCode(deviceCode: string, userCode: string, interval: number): Answer {
  return json({
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: `${GITHUB}/login/device`,
    expires_in: 900,
    interval,
  });
}

Deno.test("github-copilot device login (RFC 8628): pending and slow_down answered with HTTP 200 are waited out at the server's interval, then stored", async () => {
  await using state = await inProcessState();
  configureGithub(state);
  const access = `ghu_${"a".repeat(36)}`;
  const refresh = `ghr_${"r".repeat(76)}`;
  // GitHub answers poll errors with HTTP 200 (errorsWithStatus200).
  const provider = fakeProvider({
    [`${GITHUB}/login/device/code`]: [githubDeviceCode("dev-code-1", "WDJB-MJHT", 5)],
    [`${GITHUB}/login/oauth/access_token`]: [
      json({ error: "authorization_pending" }),
      json({ error: "authorization_pending" }),
      json({ error: "slow_down", interval: 10 }),
      json({
        access_token: access,
        token_type: "bearer",
        scope: "read:user",
        expires_in: 28_800,
        refresh_token: refresh,
      }),
    ],
  });
  const result = await state.run(
    ["login", "--provider", "github-copilot", "--no-browser", "--json"],
    { fetch: provider.handler },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /open https:\/\/github\.test\/login\/device and enter the code:\n\n {2}WDJB-MJHT\n/,
  );
  // Every wait is the server's interval (5 s), 5 s more after slow_down (RFC 8628 §3.5).
  assert.deepEqual(result.ctx.sleeps, [5 * SEC, 5 * SEC, 5 * SEC, 10 * SEC]);
  const approvedAt = FAKE_NOW + 25 * SEC;
  assert.equal(result.ctx.now(), approvedAt, "the clock moved only by the polls' waits");
  assert.deepEqual(provider.seen.map((r) => [r.method, r.url, r.redirect]), [
    ["POST", `${GITHUB}/login/device/code`, "manual"],
    ...Array(4).fill(["POST", `${GITHUB}/login/oauth/access_token`, "manual"]),
  ]);
  assert.equal(result.ctx.requests.length, 5, "every request went through ctx.fetch");
  assert.deepEqual(form(provider.seen[0].body), {
    client_id: "Iv1.b507a08c87ecfe98",
    scope: "read:user",
  });
  assert.deepEqual(form(provider.seen[4].body), {
    client_id: "Iv1.b507a08c87ecfe98",
    grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    device_code: "dev-code-1",
  });
  const printed = JSON.parse(result.stdout);
  assert.deepEqual(printed, {
    profile: "github-copilot:default",
    provider: "github-copilot",
    type: "oauth",
    expires: approvedAt + 28_800 * SEC,
  });
  const profiles = state.store().profiles as Record<string, Json>;
  assert.deepEqual(profiles["github-copilot:default"], {
    type: "oauth",
    provider: "github-copilot",
    access,
    refresh,
    expires: approvedAt + 28_800 * SEC,
  });
  const token = await state.run(["token", "--provider", "github-copilot"]);
  assert.deepEqual([token.code, token.stdout, token.ctx.requests.length], [0, `${access}\n`, 0]);
});

Deno.test("github-copilot device login: access_denied ends with exit 1 after one poll, nothing stored", async () => {
  await using state = await inProcessState();
  configureGithub(state);
  const provider = fakeProvider({
    [`${GITHUB}/login/device/code`]: [githubDeviceCode("dev-code-2", "ABCD-EFGH", 7)],
    [`${GITHUB}/login/oauth/access_token`]: [json({ error: "access_denied" })],
  });
  const result = await state.run(["login", "--provider", "github-copilot", "--no-browser"], {
    fetch: provider.handler,
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /\nclawauth: The login was denied at the provider\.\nStart the login again\.\n$/,
  );
  assert.deepEqual(result.ctx.sleeps, [7 * SEC]);
  assert.equal(provider.seen.length, 2);
  assert.throws(() => state.storeText(), Deno.errors.NotFound, "nothing stored");
});

Deno.test("openai-codex --device (Codex CLI's flow): 403, 404 and 429 + Retry-After are waited out on the fake clock, then the code is exchanged", async () => {
  await using state = await inProcessState();
  writeProviderConfig(state, "openai-codex", {
    authorizeUrl: `${OPENAI}/oauth/authorize`,
    tokenUrl: `${OPENAI}/oauth/token`,
    deviceUserCodeUrl: `${OPENAI}/api/accounts/deviceauth/usercode`,
    deviceTokenUrl: `${OPENAI}/api/accounts/deviceauth/token`,
    deviceVerificationUrl: `${OPENAI}/codex/device`,
    deviceRedirectUri: `${OPENAI}/deviceauth/callback`,
  });
  const verifier = "v".repeat(43);
  const access = jwt({
    "https://api.openai.com/auth": { chatgpt_account_id: "acct-1" },
    "https://api.openai.com/profile": { email: "dev@example.test" },
  });
  const provider = fakeProvider({
    [`${OPENAI}/api/accounts/deviceauth/usercode`]: [
      json({ device_auth_id: "dauth-1", user_code: "K7QX-2M4P", interval: "3" }),
    ],
    [`${OPENAI}/api/accounts/deviceauth/token`]: [
      json({ error: { code: "deviceauth_authorization_unknown" } }, 403),
      json({}, 404),
      json({}, 429, { "retry-after": "7" }),
      json({ authorization_code: "code-1", code_verifier: verifier }),
    ],
    [`${OPENAI}/oauth/token`]: [json({
      access_token: access,
      refresh_token: "rt-openai-1",
      token_type: "Bearer",
      expires_in: 3600,
    })],
  });
  const result = await state.run(
    // An e-mail as profile name: the account that came back must be that one.
    [...DEVICE_LOGIN, "--profile", "dev@example.test", "--json"],
    { fetch: provider.handler },
  );
  assert.equal(result.code, 0, result.stderr);
  // The interval ("3", a string) between polls; Retry-After: 7 after the 429.
  assert.deepEqual(result.ctx.sleeps, [3 * SEC, 3 * SEC, 3 * SEC, 7 * SEC]);
  assert.deepEqual(
    provider.seen.map((r) => [r.url.replace(OPENAI, ""), r.redirect]),
    [
      ["/api/accounts/deviceauth/usercode", "manual"],
      ...Array(4).fill(["/api/accounts/deviceauth/token", "manual"]),
      ["/oauth/token", "manual"],
    ],
  );
  assert.deepEqual(JSON.parse(provider.seen[1].body), {
    device_auth_id: "dauth-1",
    user_code: "K7QX-2M4P",
  });
  const exchange = form(provider.seen[5].body);
  assert.equal(exchange.grant_type, "authorization_code");
  assert.equal(exchange.code, "code-1");
  assert.equal(exchange.code_verifier, verifier);
  assert.equal(exchange.redirect_uri, `${OPENAI}/deviceauth/callback`);
  const approvedAt = FAKE_NOW + 16 * SEC;
  assert.deepEqual(JSON.parse(result.stdout), {
    profile: "openai-codex:dev@example.test",
    provider: "openai-codex",
    type: "oauth",
    expires: approvedAt + 3600 * SEC,
    accountId: "acct-1",
  });
  const stored = (state.store().profiles as Record<string, Json>)["openai-codex:dev@example.test"];
  assert.deepEqual(
    [stored.access, stored.refresh, stored.expires, stored.accountId],
    [access, "rt-openai-1", approvedAt + 3600 * SEC, "acct-1"],
  );
});

const PROFILE = "openai-codex:work";
const OLD_ACCESS = `old-access-${"o".repeat(20)}`;

/** openai-codex at the fake token endpoint, with `work` expired a second ago. */
function expiredLogin(state: InProcessState): void {
  writeProviderConfig(state, "openai-codex", {
    authorizeUrl: `${OPENAI}/oauth/authorize`,
    tokenUrl: `${OPENAI}/oauth/token`,
  });
  state.writeStore({
    version: 1,
    profiles: {
      [PROFILE]: {
        type: "oauth",
        provider: "openai-codex",
        access: OLD_ACCESS,
        refresh: "rt-old",
        expires: FAKE_NOW - SEC,
      },
    },
  });
}

Deno.test("token refreshes an expired OAuth login with one request and stores the rotated refresh token", async () => {
  await using state = await inProcessState();
  expiredLogin(state);
  const fresh = `new-access-${"n".repeat(20)}`;
  const provider = fakeProvider({
    [`${OPENAI}/oauth/token`]: [json({
      access_token: fresh,
      refresh_token: "rt-new",
      token_type: "Bearer",
      expires_in: 3600,
    })],
  });
  const result = await state.run(["token", "--profile", PROFILE], { fetch: provider.handler });
  assert.deepEqual([result.code, result.stdout, result.stderr], [0, `${fresh}\n`, ""]);
  assert.equal(provider.seen.length, 1, "exactly one refresh request");
  assert.equal(provider.seen[0].redirect, "manual");
  assert.deepEqual(form(provider.seen[0].body), {
    client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
    grant_type: "refresh_token",
    refresh_token: "rt-old",
  });
  assert.deepEqual((state.store().profiles as Record<string, Json>)[PROFILE], {
    type: "oauth",
    provider: "openai-codex",
    access: fresh,
    refresh: "rt-new",
    expires: FAKE_NOW + 3600 * SEC,
  });
  // Fresh now: the next call asks nobody.
  const again = await state.run(["token", "--profile", PROFILE], { fetch: provider.handler });
  assert.deepEqual([again.code, again.stdout], [0, `${fresh}\n`]);
  assert.equal(provider.seen.length, 1);
});

Deno.test("token: invalid_grant marks the profile needs_login, keeps its data, exits 77 with the login command, and is not retried", async () => {
  await using state = await inProcessState();
  expiredLogin(state);
  const provider = fakeProvider({
    [`${OPENAI}/oauth/token`]: [
      json({ error: "invalid_grant", error_description: "refresh token revoked" }, 400),
    ],
  });
  const result = await state.run(["token", "--profile", PROFILE], { fetch: provider.handler });
  assert.equal(result.code, 77, result.stderr);
  assert.equal(result.stdout, "");
  assert.equal(
    result.stderr,
    `clawauth: ${PROFILE} needs a new login: openai-codex refused the token refresh (HTTP 400, invalid_grant: refresh token revoked).\n` +
      "Run: clawauth login --provider openai-codex --profile work\n",
  );
  assert.equal(provider.seen.length, 1);
  const store = state.store();
  const kept = (store.profiles as Record<string, Json>)[PROFILE];
  assert.deepEqual([kept.access, kept.refresh], [OLD_ACCESS, "rt-old"], "data kept");
  assert.equal((store.usageStats as Record<string, Json>)[PROFILE].needsLogin, FAKE_NOW);
  const status = await state.run(["status", "--json"]);
  assert.equal(JSON.parse(status.stdout).profiles[0].state, "needs_login");
  const again = await state.run(["token", "--profile", PROFILE], { fetch: provider.handler });
  assert.equal(again.code, 77, again.stderr);
  assert.equal(provider.seen.length, 1, "a rejected refresh token is not sent again");
});

Deno.test("token: a token endpoint answering with a redirect is not followed (exit 69, store unchanged)", async () => {
  await using state = await inProcessState();
  expiredLogin(state);
  const before = state.storeText();
  const provider = fakeProvider({
    [`${OPENAI}/oauth/token`]: [
      () => new Response(null, { status: 307, headers: { location: "https://evil.test/steal" } }),
    ],
  });
  const result = await state.run(["token", "--profile", PROFILE], { fetch: provider.handler });
  assert.equal(result.code, 69, result.stderr);
  assert.match(
    result.stderr,
    /answered the token refresh with a redirect \(HTTP 307 from https:\/\/auth\.openai\.test\/oauth\/token\), which clawauth does not follow/,
  );
  assert.deepEqual(provider.seen.map((r) => [r.url, r.redirect]), [[
    `${OPENAI}/oauth/token`,
    "manual",
  ]]);
  assert.equal(state.storeText(), before);
});

Deno.test("remove --revoke sends the refresh token to the revocation endpoint (RFC 7009) through ctx.fetch, then removes the profile", async () => {
  await using state = await inProcessState();
  expiredLogin(state);
  writeProviderConfig(state, "openai-codex", {
    authorizeUrl: `${OPENAI}/oauth/authorize`,
    tokenUrl: `${OPENAI}/oauth/token`,
    revocationUrl: `${OPENAI}/oauth/revoke`,
  });
  const provider = fakeProvider({ [`${OPENAI}/oauth/revoke`]: [() => new Response(null)] });
  const result = await state.run(["remove", PROFILE, "--revoke"], { fetch: provider.handler });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^Revoked openai-codex:work at OpenAI Codex \(ChatGPT\)\.\n/);
  assert.deepEqual(provider.seen.map((r) => [r.method, r.url, r.redirect]), [
    ["POST", `${OPENAI}/oauth/revoke`, "manual"],
  ]);
  assert.deepEqual(form(provider.seen[0].body), {
    client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
    token: "rt-old",
    token_type_hint: "refresh_token",
  });
  assert.equal(Object.hasOwn(state.store().profiles as Json, PROFILE), false);
});
