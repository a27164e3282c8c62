/**
 * Attacks on the login and refresh paths through the token answers, re-run
 * through the real CLI: a provider answer without `expires_in`, token values
 * outside VSCHAR or over 16 KiB (in every flow), and control or bidi
 * characters in the claims that are stored and printed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_TOKEN_LIFETIME_MS, MAX_TOKEN_LENGTH } from "../../lib/oauth/tokens.ts";
import { providerOverride } from "../../scripts/sandbox_idp.ts";
import { tempState } from "../helpers.ts";
import {
  CODE_LINE,
  idpFor,
  loginVia,
  profilesOf,
  setExpires,
  startCli,
  startLogin,
} from "../oauth_helpers.ts";
import {
  assertTerminalSafe,
  setProvider,
  storeMissing,
  UNSAFE,
} from "../hardening_login_support.ts";
import { storeOf } from "../builders.ts";

interface TokenCase {
  name: string;
  value: string;
}

function loadTokens(): { refused: TokenCase[]; accepted: TokenCase[] } {
  const data = JSON.parse(
    Deno.readTextFileSync(
      new URL("../fixtures/hardening_login/hostile_tokens.json", import.meta.url),
    ),
  );
  const build = (entry: { name: string; value?: string; repeat?: number }): TokenCase => ({
    name: entry.name,
    value: entry.value ?? `MARK${"x".repeat(entry.repeat! - 4)}`,
  });
  return { refused: data.refused.map(build), accepted: data.accepted.map(build) };
}

/** The decoded payload of a JWT (tests only look at claims the sandbox put there). */
function jwtPayload(token: unknown): Record<string, unknown> {
  const part = String(token).split(".")[1];
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
}

// ---------------------------------------------------------------------------
// (4) A token answer without expires_in

Deno.test("refresh without expires_in: the JWT's exp becomes the expiry, so the next token call does not refresh again", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state, { accessTokenTtlSec: 900 });
  const id = await loginVia(idp, state);
  setExpires(state, id, Date.now() - 1000);
  idp.setTokenResponseEdit(({ expires_in: _, ...body }) => body);
  const first = await state.run(["token", "--profile", id]);
  assert.equal(first.code, 0, first.stderr);
  const stored = profilesOf(state)[id];
  assert.equal(stored.expires, Number(jwtPayload(stored.access).exp) * 1000);
  assert.ok(Number(stored.expires) > Date.now() + 800_000, "not the old, past expiry");
  const second = await state.run(["token", "--profile", id]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  assert.equal(idp.counts().refresh_token, 1, "one refresh, not one per call");
});

Deno.test("refresh without expires_in and with an opaque access token: the documented default lifetime applies", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  setExpires(state, id, Date.now() - 1000);
  const opaque = `opaque-${crypto.randomUUID()}`;
  idp.setTokenResponseEdit(({ expires_in: _, ...body }) => ({ ...body, access_token: opaque }));
  const before = Date.now();
  const first = await state.run(["token", "--profile", id]);
  const after = Date.now();
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `${opaque}\n`);
  const expires = Number(profilesOf(state)[id].expires);
  assert.equal(DEFAULT_TOKEN_LIFETIME_MS, 3_600_000);
  assert.ok(
    expires >= before + DEFAULT_TOKEN_LIFETIME_MS && expires <= after + DEFAULT_TOKEN_LIFETIME_MS,
    `expires ${expires - before} ms ahead`,
  );
  const second = await state.run(["token", "--profile", id]);
  assert.equal(second.stdout, first.stdout);
  assert.equal(idp.counts().refresh_token, 1);
});

Deno.test("login whose code exchange has no expires_in stores the JWT's exp; token then needs no refresh", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state, { accessTokenTtlSec: 1200 });
  idp.setTokenResponseEdit(({ expires_in: _, ...body }) => body);
  const id = await loginVia(idp, state);
  const stored = profilesOf(state)[id];
  assert.equal(stored.expires, Number(jwtPayload(stored.access).exp) * 1000);
  const token = await state.run(["token", "--profile", id]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(idp.counts().refresh_token, 0);
});

// ---------------------------------------------------------------------------
// (6) Token values and claims

Deno.test("login: token values outside VSCHAR or over 16 KiB are refused (exit 69), never stored nor echoed", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  for (const { name, value } of loadTokens().refused) {
    for (const field of ["access_token", "refresh_token"]) {
      const url = (await startLogin(state)).url;
      const callback = await idp.approve(url);
      idp.setTokenResponseEdit((body) => ({ ...body, [field]: value }));
      const result = await state.run(["login", "--finish", callback]);
      idp.setTokenResponseEdit(null);
      const label = `${name} in ${field}`;
      assert.equal(result.code, 69, `${label}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`${field}`), label);
      assert.match(result.stderr, /nothing was stored/, label);
      assert.ok(!`${result.stdout}${result.stderr}`.includes("MARK"), `${label}: value echoed`);
      assert.ok(result.stderr.length < 1000, `${label}: short message`);
      assertTerminalSafe(result, label);
      assert.ok(storeMissing(state), `${label}: nothing stored`);
    }
  }
});

Deno.test("refresh: token values outside VSCHAR or over 16 KiB are refused (exit 69) and the old tokens kept", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  for (const { name, value } of loadTokens().refused) {
    for (const field of ["access_token", "refresh_token"]) {
      state.writeStore(storeOf({}));
      const id = await loginVia(idp, state);
      setExpires(state, id, Date.now() - 1000);
      const before = state.storeText();
      idp.setTokenResponseEdit((body) => ({ ...body, [field]: value }));
      const result = await state.run(["token", "--profile", id]);
      idp.setTokenResponseEdit(null);
      const label = `${name} in ${field}`;
      assert.equal(result.code, 69, `${label}: ${result.stderr}`);
      assert.equal(result.stdout, "", label);
      assert.ok(!result.stderr.includes("MARK"), `${label}: value echoed`);
      assertTerminalSafe(result, label);
      assert.equal(state.storeText(), before, `${label}: store unchanged`);
    }
  }
});

Deno.test("login and token: VSCHAR tokens up to exactly 16 KiB are accepted and handed out unchanged", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  assert.equal(MAX_TOKEN_LENGTH, 16 * 1024);
  for (const { name, value } of loadTokens().accepted) {
    state.writeStore(storeOf({}));
    idp.setTokenResponseEdit((body) => ({ ...body, access_token: value }));
    const id = await loginVia(idp, state);
    idp.setTokenResponseEdit(null);
    const token = await state.run(["token", "--profile", id]);
    assert.equal(token.code, 0, `${name}: ${token.stderr}`);
    assert.equal(token.stdout, `${value}\n`, name);
  }
});

Deno.test("device logins (OpenAI's and RFC 8628) refuse a hostile token value with exit 69 and store nothing", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  setProvider(state, "sandbox", providerOverride(idp, "http://127.0.0.1:1455/auth/callback"));
  idp.setTokenResponseEdit((body) => ({ ...body, access_token: "tokMARK\n\u001b[2J" }));
  for (const provider of ["openai-codex", "sandbox"]) {
    const cli = startCli(state, ["login", "--provider", provider, "--device", "--no-browser"]);
    const [, , userCode] = CODE_LINE.exec(
      await cli.waitForStderr(/[\s\S]*Waiting for approval/),
    )!;
    if (provider === "openai-codex") await idp.approveCodexDevice(userCode);
    else await idp.approveDevice(userCode);
    const result = await cli.result();
    assert.equal(result.code, 69, `${provider}: ${result.stderr}`);
    assert.ok(!result.stderr.includes("MARK"), provider);
    assertTerminalSafe(result, provider);
    assert.ok(storeMissing(state), `${provider}: nothing stored`);
  }
});

Deno.test("claims: control and bidi characters are stripped from the stored and printed e-mail and account id; overlong ones are not kept", async () => {
  await using state = await tempState();
  const idp = await idpFor(state, {
    email: "dev\u202e\u001b[31m\u200f@example.test",
    accountId: "acct\u0007\u202e-1\u009b",
  });
  try {
    const url = (await startLogin(state)).url;
    const result = await state.run(["login", "--finish", await idp.approve(url)]);
    assert.equal(result.code, 0, result.stderr);
    assertTerminalSafe(result, "login output");
    const [id] = Object.keys(profilesOf(state));
    const stored = profilesOf(state)[id];
    assert.equal(stored.accountId, "acct-1");
    assert.equal(stored.email, "dev[31m@example.test");
    assert.ok(!UNSAFE.test(id), id);
    const status = await state.run(["status"]);
    assertTerminalSafe(status, "status");
  } finally {
    await idp.close();
  }
  await using long = await tempState();
  await using big = await idpFor(long, { accountId: `acct-${"x".repeat(300)}` });
  const url = (await startLogin(long)).url;
  const result = await long.run(["login", "--finish", await big.approve(url), "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const [profile] = Object.values(profilesOf(long));
  assert.ok(
    profile.accountId === undefined || String(profile.accountId).length <= 256,
    "an account id over the cap is not stored",
  );
});
