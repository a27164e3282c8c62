/**
 * End-to-end tests of scripts/sandbox_idp.ts, driven by a standards-based
 * OAuth client (oauth4webapi) against the real oidc-provider behind it.
 */
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { type SandboxIdp, startSandboxIdp } from "../../scripts/sandbox_idp.ts";

const SCOPE = "openid profile email offline_access";
const REDIRECT_URI = "http://localhost:1455/auth/callback";
const AUTH_CLAIM = "https://api.openai.com/auth";

/** Loopback issuer only: the sandbox serves plain http on 127.0.0.1. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

interface Session {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  /** Requests carry this client's id (another id of `client`); answers are checked against `client`. */
  sendAs?: oauth.Client;
}

async function discover(idp: SandboxIdp): Promise<Session> {
  const issuer = new URL(idp.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...insecure, algorithm: "oidc" }),
  );
  return { as, client: { client_id: idp.clientId } };
}

function jwtPayload(jwt: string): Record<string, unknown> {
  const parts = jwt.split(".");
  assert.equal(parts.length, 3, "a JWS in compact form");
  const json = new TextDecoder().decode(
    Uint8Array.from(
      atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")),
      (c) => c.charCodeAt(0),
    ),
  );
  const payload: unknown = JSON.parse(json);
  assert.ok(typeof payload === "object" && payload !== null);
  return payload as Record<string, unknown>;
}

/** Runs the PKCE authorization-code flow through idp.approve(). */
async function codeFlow(
  idp: SandboxIdp,
  { as, client, sendAs = client }: Session,
  redirectUri = REDIRECT_URI,
): Promise<oauth.TokenEndpointResponse> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(idp.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: sendAs.client_id,
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    id_token_add_organizations: "true",
    codex_cli_simplified_flow: "true",
    originator: "clawauth",
  }).toString();

  const callback = new URL(await idp.approve(url.href));
  assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
  const params = oauth.validateAuthResponse(as, sendAs, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    sendAs,
    oauth.None(),
    params,
    redirectUri,
    verifier,
    insecure,
  );
  return await oauth.processAuthorizationCodeResponse(as, client, response);
}

function refresh(
  { as, client, sendAs = client }: Session,
  refreshToken: string,
): Promise<Response> {
  return oauth.refreshTokenGrantRequest(
    as,
    sendAs,
    oauth.None(),
    refreshToken,
    insecure,
  );
}

async function expectOAuthError(
  promise: Promise<unknown>,
  error: string,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof oauth.ResponseBodyError, String(err));
    assert.equal(err.error, error);
    return true;
  });
}

/** One request/response round trip to an endpoint the faults never touch. */
async function roundTrip(idp: SandboxIdp): Promise<void> {
  const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
}

/** Waits, by round trips rather than timers, until `n` faults were served. */
async function untilFaults(idp: SandboxIdp, n: number): Promise<void> {
  for (let i = 0; i < 500 && idp.counts().faults < n; i++) {
    await roundTrip(idp);
  }
  assert.equal(idp.counts().faults, n);
}

Deno.test("sandbox IdP: discovery, PKCE code flow, refresh rotation and reuse", async () => {
  await using idp = await startSandboxIdp({
    accessTokenTtlSec: 120,
    accountId: "acct-test-42",
    email: "someone@example.test",
  });
  assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  const session = await discover(idp);
  const { as } = session;
  assert.equal(as.issuer, idp.issuer);
  assert.equal(as.authorization_endpoint, idp.authorizeUrl);
  assert.equal(as.token_endpoint, idp.tokenUrl);
  assert.equal(as.revocation_endpoint, idp.revocationUrl);
  assert.equal(as.device_authorization_endpoint, idp.deviceAuthorizationUrl);
  assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);

  const tokens = await codeFlow(idp, session);
  assert.equal(tokens.token_type, "bearer");
  assert.equal(tokens.expires_in, 120);
  assert.ok(tokens.refresh_token, "refresh token issued");
  // oidc-provider drops offline_access from the granted scope unless
  // prompt=consent; the refresh token is issued all the same.
  assert.deepEqual(tokens.scope?.split(" ").sort(), [
    "email",
    "openid",
    "profile",
  ]);

  const at = jwtPayload(tokens.access_token);
  assert.deepEqual(at[AUTH_CLAIM], { chatgpt_account_id: "acct-test-42" });
  assert.equal(at.iss, idp.issuer);
  assert.equal(at.client_id, idp.clientId);
  assert.equal(Number(at.exp) - Number(at.iat), 120);

  const idToken = oauth.getValidatedIdTokenClaims(tokens);
  assert.ok(idToken);
  assert.equal(idToken.email, "someone@example.test");
  assert.deepEqual(idToken[AUTH_CLAIM], {
    chatgpt_account_id: "acct-test-42",
  });

  // Rotation: a new refresh token on every use.
  const rotated = await oauth.processRefreshTokenResponse(
    as,
    session.client,
    await refresh(session, tokens.refresh_token),
  );
  assert.ok(rotated.refresh_token);
  assert.notEqual(rotated.refresh_token, tokens.refresh_token);
  assert.notEqual(rotated.access_token, tokens.access_token);
  assert.equal(rotated.expires_in, 120);
  assert.deepEqual(jwtPayload(rotated.access_token)[AUTH_CLAIM], {
    chatgpt_account_id: "acct-test-42",
  });

  // Reuse of the old refresh token is refused.
  await expectOAuthError(
    refresh(session, tokens.refresh_token).then((res) =>
      oauth.processRefreshTokenResponse(as, session.client, res)
    ),
    "invalid_grant",
  );

  // A native client's loopback redirect URI may use any port.
  const other = await codeFlow(
    idp,
    session,
    "http://127.0.0.1:53123/callback",
  );
  assert.ok(other.refresh_token);

  assert.deepEqual(idp.counts(), {
    authorization_code: 2,
    refresh_token: 1,
    device_code: 0,
    refreshErrors: 1,
    revocations: 0,
    faults: 0,
  });
});

Deno.test("sandbox IdP: token-endpoint faults answer as configured, then clear", async () => {
  await using idp = await startSandboxIdp();
  const session = await discover(idp);
  const { refresh_token: rt } = await codeFlow(idp, session);
  assert.ok(rt);

  idp.setTokenFault("500");
  await roundTrip(idp); // other endpoints are unaffected
  let res = await refresh(session, rt);
  assert.equal(res.status, 500);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal((await res.json()).error, "server_error");

  idp.setTokenFault("html", 2);
  for (let i = 0; i < 2; i++) {
    res = await refresh(session, rt);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await res.text(), /<html/);
  }

  idp.setTokenFault("truncated");
  res = await refresh(session, rt);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const text = await res.text();
  assert.ok(text.startsWith('{"access_token":'));
  assert.throws(() => JSON.parse(text), SyntaxError);

  // A hung answer stays pending while other requests are served.
  idp.setTokenFault("hang");
  const abort = new AbortController();
  const hung = fetch(idp.tokenUrl, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: rt,
      client_id: idp.clientId,
    }),
    signal: abort.signal,
  });
  let settled = false;
  hung.then(() => settled = true, () => settled = true);
  await untilFaults(idp, 5);
  await roundTrip(idp);
  assert.equal(settled, false, "hung token request must not be answered");
  abort.abort();
  await assert.rejects(
    hung,
    (err: unknown) => err instanceof DOMException && err.name === "AbortError",
  );

  // setTokenFault(null) clears pending faults.
  idp.setTokenFault("500", 3);
  idp.setTokenFault(null);

  // The faults never reached oidc-provider: the refresh token is unused.
  const ok = await oauth.processRefreshTokenResponse(
    session.as,
    session.client,
    await refresh(session, rt),
  );
  assert.ok(ok.refresh_token);
  assert.deepEqual(idp.counts(), {
    authorization_code: 1,
    refresh_token: 1,
    device_code: 0,
    refreshErrors: 0,
    revocations: 0,
    faults: 5,
  });
  assert.throws(() => idp.setTokenFault("500", 0), RangeError);
});

Deno.test("sandbox IdP: close() ends a hung token request", async () => {
  const idp = await startSandboxIdp();
  let outcome: Promise<unknown> | undefined;
  try {
    idp.setTokenFault("hang", Infinity);
    // Settle handlers are attached at once: the rejection comes during close().
    outcome = fetch(idp.tokenUrl, {
      method: "POST",
      body: "grant_type=refresh_token",
    })
      .then(
        async (res) => `answered ${res.status}: ${await res.text()}`,
        (err: unknown) => err,
      );
    await untilFaults(idp, 1);
  } finally {
    await idp.close();
  }
  const result = await outcome;
  assert.ok(
    result instanceof TypeError,
    `expected a connection error, got ${String(result)}`,
  );
});

Deno.test("sandbox IdP: device flow with approveDevice", async () => {
  await using idp = await startSandboxIdp({ accountId: "acct-device" });
  const session = await discover(idp);
  const { as, client } = session;
  const device = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, oauth.None(), {
      scope: SCOPE,
    }, insecure),
  );
  assert.equal(device.interval, 1);
  assert.ok(device.verification_uri.startsWith(idp.issuer));

  const poll = async (): Promise<oauth.TokenEndpointResponse> =>
    oauth.processDeviceCodeResponse(
      as,
      client,
      await oauth.deviceCodeGrantRequest(
        as,
        client,
        oauth.None(),
        device.device_code,
        insecure,
      ),
    );

  await expectOAuthError(poll(), "authorization_pending");
  await assert.rejects(idp.approveDevice("BCDF-GHJK"), /user code rejected/);
  await idp.approveDevice(device.user_code);

  const tokens = await poll();
  assert.ok(tokens.refresh_token);
  assert.deepEqual(jwtPayload(tokens.access_token)[AUTH_CLAIM], {
    chatgpt_account_id: "acct-device",
  });
  assert.equal(
    oauth.getValidatedIdTokenClaims(tokens)?.email,
    "dev@example.test",
  );

  // The device code is single-use.
  await expectOAuthError(poll(), "invalid_grant");
  const counts = idp.counts();
  assert.equal(counts.device_code, 1);
  assert.equal(counts.authorization_code, 0);
});

Deno.test("sandbox IdP: revocation", async () => {
  await using idp = await startSandboxIdp();
  const session = await discover(idp);
  const { as, client } = session;
  const tokens = await codeFlow(idp, session);
  assert.ok(tokens.refresh_token);

  const revoke = async (token: string): Promise<void> => {
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(
        as,
        client,
        oauth.None(),
        token,
        insecure,
      ),
    );
  };
  await revoke(tokens.refresh_token);
  assert.equal(idp.counts().revocations, 1);
  await revoke("not-a-token"); // RFC 7009: 200, nothing revoked
  assert.equal(idp.counts().revocations, 1);

  await expectOAuthError(
    refresh(session, tokens.refresh_token).then((res) =>
      oauth.processRefreshTokenResponse(as, client, res)
    ),
    "invalid_grant",
  );
  assert.equal(idp.counts().refreshErrors, 1);

  // approve() only ever talks to this IdP.
  await assert.rejects(
    idp.approve("http://192.0.2.1/oauth/authorize?client_id=clawauth-test"),
    /refusing to fetch/,
  );
});

Deno.test("sandbox IdP: await using closes it, hung requests included", async () => {
  let issuer = "";
  let outcome: Promise<unknown> | undefined;
  {
    await using idp = await startSandboxIdp();
    issuer = idp.issuer;
    idp.setTokenFault("hang");
    outcome = fetch(idp.tokenUrl, { method: "POST", body: "grant_type=refresh_token" })
      .then((res) => res.body?.cancel(), (err: unknown) => err);
    await untilFaults(idp, 1);
  }
  assert.ok(await outcome instanceof TypeError, "the hung request ends with the IdP");
  await assert.rejects(fetch(`${issuer}/.well-known/openid-configuration`), TypeError);
});

Deno.test("sandbox IdP: clientIds are more ids of the one client, sharing its grants", async () => {
  const other = "app_EMoamEEZ73f0CkXaXp7hrann";
  await using idp = await startSandboxIdp({ clientIds: [other] });
  const session = await discover(idp);
  // Tokens name the one client (`clawauth-test`, the id_token's `aud`) whichever id asked.
  const { as, client } = session;
  const asOther: Session = { ...session, sendAs: { client_id: other } };
  const asUnknown: Session = { ...session, sendAs: { client_id: "app_unknown" } };
  const refreshed = async (by: Session, refreshToken: string) =>
    await oauth.processRefreshTokenResponse(as, client, await refresh(by, refreshToken));

  // A login under one id refreshes under the other, and back.
  const tokens = await codeFlow(idp, session);
  assert.ok(tokens.refresh_token);
  const byOther = await refreshed(asOther, tokens.refresh_token);
  assert.ok(byOther.refresh_token);
  const loggedInAsOther = await codeFlow(idp, asOther);
  assert.ok(loggedInAsOther.refresh_token);
  assert.equal(jwtPayload(loggedInAsOther.access_token).client_id, idp.clientId);
  const back = await refreshed(session, loggedInAsOther.refresh_token);
  assert.ok(back.refresh_token);
  // Reuse detection spans the ids: the first refresh token is spent.
  await expectOAuthError(refreshed(asOther, tokens.refresh_token), "invalid_grant");
  // An id nobody registered is refused (and spends nothing).
  await expectOAuthError(refreshed(asUnknown, back.refresh_token), "invalid_client");
  await refreshed(asOther, back.refresh_token);
  // RFC 8628 and RFC 7009 under the other id too.
  const other8628 = { client_id: other };
  const device = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, other8628, oauth.None(), { scope: SCOPE }, insecure),
  );
  await idp.approveDevice(device.user_code);
  const byDevice = await oauth.processDeviceCodeResponse(
    as,
    client,
    await oauth.deviceCodeGrantRequest(as, other8628, oauth.None(), device.device_code, insecure),
  );
  assert.ok(byDevice.refresh_token);
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, other8628, oauth.None(), byDevice.refresh_token, insecure),
  );
  const counts = idp.counts();
  assert.deepEqual(
    [
      counts.authorization_code,
      counts.refresh_token,
      counts.refreshErrors,
      counts.device_code,
      counts.revocations,
    ],
    [2, 3, 2, 1, 1],
  );

  // OpenAI's device login hands out user codes under every id of the client.
  const userCode = async (clientId: string): Promise<number> => {
    const res = await fetch(idp.deviceUserCodeUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: clientId }),
    });
    await res.body?.cancel();
    return res.status;
  };
  assert.deepEqual(
    [await userCode(idp.clientId), await userCode(other), await userCode("app_unknown")],
    [200, 200, 400],
  );
  await assert.rejects(startSandboxIdp({ clientIds: [""] }), TypeError);
});
