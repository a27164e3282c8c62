/**
 * Attacks on the login and refresh paths, re-run through the real CLI: a
 * provider answer without `expires_in`, stray requests on the callback
 * listener, hostile token values and claims, tampered pending logins,
 * redirects from provider endpoints, overflowing timeouts, a login answered
 * by someone else's account, and provider text that would drive the
 * terminal.
 */

import assert from "node:assert/strict";
import { durationSettingMs, MAX_TIMER_MS } from "../lib/duration.ts";
import {
  DEFAULT_TOKEN_LIFETIME_MS,
  HTTP_TIMEOUT_DEFAULT_MS,
  HTTP_TIMEOUT_MAX_MS,
  httpTimeoutBelowLock,
  MAX_TOKEN_LENGTH,
} from "../lib/oauth/oauth.ts";
import { safeText } from "../lib/output/output.ts";
import { providerOverride } from "../scripts/sandbox_idp.ts";
import { type RunResult, type TempState, tempState } from "./helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires, startCli } from "./oauth_helpers.ts";

const URL_LINE = /\n {2}(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)\n/;
const CODE_LINE = /open (\S+) and enter the code:\n\n {2}(\S+)\n/;
/** A device login that a wrong implementation cannot keep waiting for 15 minutes. */
const DEVICE_BOUNDED = [
  "login",
  "--provider",
  "openai-codex",
  "--device",
  "--no-browser",
  "--timeout",
  "5",
];
const FIXTURES = new URL("./fixtures/hardening_login/", import.meta.url);

/** Characters that must never reach a terminal from a provider (newline and tab excepted). */
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

function assertTerminalSafe(result: RunResult, label: string): void {
  for (const [stream, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
    const bad = UNSAFE.exec(text);
    assert.equal(
      bad,
      null,
      `${label}: ${stream} holds U+${bad?.[0].codePointAt(0)?.toString(16).padStart(4, "0")}: ${
        JSON.stringify(text)
      }`,
    );
  }
}

interface TokenCase {
  name: string;
  value: string;
}

function loadTokens(): { refused: TokenCase[]; accepted: TokenCase[] } {
  const data = JSON.parse(Deno.readTextFileSync(new URL("hostile_tokens.json", FIXTURES)));
  const build = (entry: { name: string; value?: string; repeat?: number }): TokenCase => ({
    name: entry.name,
    value: entry.value ?? `MARK${"x".repeat(entry.repeat! - 4)}`,
  });
  return { refused: data.refused.map(build), accepted: data.accepted.map(build) };
}

const HOSTILE_TEXT: string[] = JSON.parse(
  Deno.readTextFileSync(new URL("terminal_text.json", FIXTURES)),
).hostile;

/** The decoded payload of a JWT (tests only look at claims the sandbox put there). */
function jwtPayload(token: unknown): Record<string, unknown> {
  const part = String(token).split(".")[1];
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
}

/** A tiny HTTP server on 127.0.0.1 for one test; counts the requests it got. */
interface TestServer extends AsyncDisposable {
  url: string;
  port: number;
  hits(): number;
  /** Resolves at the first request. */
  firstHit: Promise<void>;
}

function serve(handler: (request: Request) => Response | Promise<Response>): TestServer {
  let hits = 0;
  let hit!: () => void;
  const firstHit = new Promise<void>((resolve) => (hit = resolve));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    hits++;
    hit();
    return handler(request);
  });
  const { port } = server.addr;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits: () => hits,
    firstHit,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A server that answers every request with `status` and a JSON body. */
function jsonServer(status: number, body: unknown): TestServer {
  return serve(() => Response.json(body, { status }));
}

/** A server that redirects every request to `origin` + the same path and query. */
function redirector(origin: string, status = 307): TestServer {
  return serve((request) => {
    const url = new URL(request.url);
    return new Response(null, {
      status,
      headers: { location: `${origin}${url.pathname}${url.search}` },
    });
  });
}

/** A server that never answers until disposed. */
function hangingServer(): TestServer {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = serve(async () => {
    await released;
    return new Response("gone", { status: 503 });
  });
  return {
    ...server,
    async [Symbol.asyncDispose]() {
      release();
      await server[Symbol.asyncDispose]();
    },
  };
}

/** Merges `fields` into a provider's entry in the state dir's clawauth.json. */
function setProvider(state: TempState, id: string, fields: Record<string, string>): void {
  const path = `${state.dir}/clawauth.json`;
  let config: { providers: Record<string, Record<string, string>> } = { providers: {} };
  try {
    config = JSON.parse(Deno.readTextFileSync(path));
  } catch { /* no config yet */ }
  config.providers[id] = { ...config.providers[id], ...fields };
  state.writeFile("clawauth.json", JSON.stringify(config));
}

/** A stored, expired openai-codex login whose refresh goes to `tokenUrl`. */
function expiredLogin(state: TempState, tokenUrl: string): string {
  setProvider(state, "openai-codex", {
    authorizeUrl: "http://127.0.0.1:9/authorize",
    tokenUrl,
    clientId: "hardening-test",
  });
  state.writeStore({
    version: 1,
    profiles: {
      "openai-codex:work": {
        type: "oauth",
        provider: "openai-codex",
        access: "old-access",
        refresh: "old-refresh",
        expires: Date.now() - 1000,
      },
    },
  });
  return "openai-codex:work";
}

/** The one pending-login file of the main agent. */
function pendingFile(state: TempState): string {
  const dir = `${state.agentDir()}/pending`;
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  assert.equal(names.length, 1, `one pending login: ${names}`);
  return `${dir}/${names[0]}`;
}

/** Runs `login --start --json`; returns the authorize URL. */
async function startLogin(state: TempState, extra: string[] = []): Promise<string> {
  const started = await state.run([
    "login",
    "--provider",
    "openai-codex",
    "--start",
    "--json",
    ...extra,
  ]);
  assert.equal(started.code, 0, started.stderr);
  return JSON.parse(started.stdout).url;
}

function storeMissing(state: TempState): boolean {
  try {
    state.storeText();
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}

/** An HTTP/1.1 GET with a Host header of our choosing (fetch will not send a foreign one). */
async function rawGet(
  port: number,
  target: string,
  host: string,
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    ),
  );
  const text = await new Response(conn.readable).text();
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), text };
}

// ---------------------------------------------------------------------------
// (4) A token answer without expires_in

Deno.test("refresh without expires_in: the JWT's exp becomes the expiry, so the next token call does not refresh again", async () => {
  await using state = await tempState();
  const idp = await idpFor(state, { accessTokenTtlSec: 900 });
  try {
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
  } finally {
    await idp.close();
  }
});

Deno.test("refresh without expires_in and with an opaque access token: the documented default lifetime applies", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
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
  } finally {
    await idp.close();
  }
});

Deno.test("login whose code exchange has no expires_in stores the JWT's exp; token then needs no refresh", async () => {
  await using state = await tempState();
  const idp = await idpFor(state, { accessTokenTtlSec: 1200 });
  try {
    idp.setTokenResponseEdit(({ expires_in: _, ...body }) => body);
    const id = await loginVia(idp, state);
    const stored = profilesOf(state)[id];
    assert.equal(stored.expires, Number(jwtPayload(stored.access).exp) * 1000);
    const token = await state.run(["token", "--profile", id]);
    assert.equal(token.code, 0, token.stderr);
    assert.equal(idp.counts().refresh_token, 0);
  } finally {
    await idp.close();
  }
});

// ---------------------------------------------------------------------------
// (5) Stray requests on the callback listener

Deno.test("listener: stray requests (no or wrong state, foreign Host) get 400 and the login keeps waiting for the real callback", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    const cli = startCli(state, ["login", "--provider", "openai-codex", "--json"]);
    const url = await cli.waitForStderr(URL_LINE);
    await cli.waitForStderr(/Waiting for the browser/);
    const port = idp.callbackPort;
    const callback = new URL(await idp.approve(url));
    const path = `${callback.pathname}${callback.search}`;
    const strays: [string, string][] = [
      ["/auth/callback?code=x", `127.0.0.1:${port}`],
      ["/auth/callback?code=x&state=forged", `127.0.0.1:${port}`],
      ["/auth/callback?state=%3Cscript%3Ealert(1)%3C%2Fscript%3E&code=x", `localhost:${port}`],
      ["/auth/callback?error=access_denied&state=forged", `127.0.0.1:${port}`],
      ["/auth/callback", `127.0.0.1:${port}`],
      // DNS rebinding: the right state does not help a foreign or wrong host name.
      [path, `evil.example:${port}`],
      [path, `evil.example`],
      [path, `127.0.0.1.evil.example:${port}`],
      [path, `127.0.0.1:${port + 1}`],
      [path, `localhost`],
    ];
    for (const [target, host] of strays) {
      const answer = await rawGet(port, target, host);
      assert.equal(answer.status, 400, `${host}${target}: ${answer.text}`);
      assert.match(answer.text, /content-security-policy: default-src 'none'/i);
      assert.doesNotMatch(answer.text, /<script>/);
    }
    // The real answer, through the host name the openai-codex redirect URI uses.
    const real = await rawGet(port, path, `localhost:${port}`);
    assert.equal(real.status, 200, real.text);
    const result = await cli.result();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).profile, "openai-codex:dev@example.test");
    assert.equal(
      result.stderr.match(/turned away a request/g)?.length,
      1,
      "said once, not once per stray request",
    );
    assert.equal(idp.counts().authorization_code, 1);
  } finally {
    await idp.close();
  }
});

Deno.test("listener: a callback with the right state and error= still ends the login, with the provider's text neutralised", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    for (const hostile of HOSTILE_TEXT.slice(0, 3)) {
      const cli = startCli(state, ["login", "--provider", "openai-codex"]);
      const url = new URL(await cli.waitForStderr(URL_LINE));
      await cli.waitForStderr(/Waiting for the browser/);
      const callback = new URL(`http://127.0.0.1:${idp.callbackPort}/auth/callback`);
      callback.searchParams.set("error", "access_denied");
      callback.searchParams.set("error_description", hostile);
      callback.searchParams.set("state", url.searchParams.get("state")!);
      const page = await fetch(callback);
      assert.equal(page.status, 400);
      assert.ok(!UNSAFE.test(await page.text()), "the page is neutralised too");
      const result = await cli.result();
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /access_denied/);
      assertTerminalSafe(result, JSON.stringify(hostile));
      assert.ok(storeMissing(state), "nothing stored");
    }
  } finally {
    await idp.close();
  }
});

// ---------------------------------------------------------------------------
// (6) Token values and claims

Deno.test("login: token values outside VSCHAR or over 16 KiB are refused (exit 69), never stored nor echoed", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    for (const { name, value } of loadTokens().refused) {
      for (const field of ["access_token", "refresh_token"]) {
        const url = await startLogin(state);
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
  } finally {
    await idp.close();
  }
});

Deno.test("refresh: token values outside VSCHAR or over 16 KiB are refused (exit 69) and the old tokens kept", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    for (const { name, value } of loadTokens().refused) {
      for (const field of ["access_token", "refresh_token"]) {
        state.writeStore({ version: 1, profiles: {} });
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
  } finally {
    await idp.close();
  }
});

Deno.test("login and token: VSCHAR tokens up to exactly 16 KiB are accepted and handed out unchanged", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    assert.equal(MAX_TOKEN_LENGTH, 16 * 1024);
    for (const { name, value } of loadTokens().accepted) {
      state.writeStore({ version: 1, profiles: {} });
      idp.setTokenResponseEdit((body) => ({ ...body, access_token: value }));
      const id = await loginVia(idp, state);
      idp.setTokenResponseEdit(null);
      const token = await state.run(["token", "--profile", id]);
      assert.equal(token.code, 0, `${name}: ${token.stderr}`);
      assert.equal(token.stdout, `${value}\n`, name);
    }
  } finally {
    await idp.close();
  }
});

Deno.test("device logins (OpenAI's and RFC 8628) refuse a hostile token value with exit 69 and store nothing", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
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
  } finally {
    await idp.close();
  }
});

Deno.test("claims: control and bidi characters are stripped from the stored and printed e-mail and account id; overlong ones are not kept", async () => {
  await using state = await tempState();
  const idp = await idpFor(state, {
    email: "dev\u202e\u001b[31m\u200f@example.test",
    accountId: "acct\u0007\u202e-1\u009b",
  });
  try {
    const url = await startLogin(state);
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
  const big = await idpFor(long, { accountId: `acct-${"x".repeat(300)}` });
  try {
    const url = await startLogin(long);
    const result = await long.run(["login", "--finish", await big.approve(url), "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const [profile] = Object.values(profilesOf(long));
    assert.ok(
      profile.accountId === undefined || String(profile.accountId).length <= 256,
      "an account id over the cap is not stored",
    );
  } finally {
    await big.close();
  }
});

// ---------------------------------------------------------------------------
// (11) Tampered or exposed pending logins

Deno.test("login --finish refuses a tampered pending login (exit 65): nothing is exchanged or stored", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    const tamper: [string, (pending: Record<string, unknown>) => void][] = [
      ["profile with a newline", (p) => (p.profile = "work\nevil")],
      ["profile with U+202E", (p) => (p.profile = "work\u202etxt")],
      ["profile with a slash", (p) => (p.profile = "../../x")],
      ["profile empty", (p) => (p.profile = "")],
      ["profile not a string", (p) => (p.profile = 42)],
      ["provider id", (p) => (p.provider = "Openai-Codex\n")],
      ["verifier too short", (p) => (p.verifier = "short")],
      ["verifier with spaces", (p) => (p.verifier = `${"a".repeat(42)} b`)],
      ["redirect URI not http", (p) => (p.redirectUri = "javascript:alert(1)")],
      ["redirect URI plain http off loopback", (p) => (p.redirectUri = "http://evil.example/cb")],
      ["expiry far ahead", (p) => (p.expiresAt = Date.now() + 365 * 86_400_000)],
      ["expiry not a number", (p) => (p.expiresAt = "soon")],
      ["expiry negative", (p) => (p.expiresAt = -1)],
      ["not an object", (p) => Object.keys(p).forEach((k) => delete p[k])],
    ];
    for (const [label, change] of tamper) {
      const url = await startLogin(state, ["--profile", "work"]);
      const file = pendingFile(state);
      const pending = JSON.parse(Deno.readTextFileSync(file));
      change(pending);
      Deno.writeTextFileSync(file, JSON.stringify(pending)); // keeps the 0600 mode
      const result = await state.run(["login", "--finish", await idp.approve(url)]);
      assert.equal(result.code, 65, `${label}: ${result.stderr}`);
      assert.match(result.stderr, /pending login/, label);
      assertTerminalSafe(result, label);
      assert.ok(storeMissing(state), `${label}: nothing stored`);
      assert.equal(idp.counts().authorization_code, 0, `${label}: no code exchange`);
    }
  } finally {
    await idp.close();
  }
});

Deno.test("login --finish refuses a pending login that is not private (mode, link, kind, owner, directory) with exit 65 and the fix", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  const root = Deno.uid() === 0;
  try {
    const exposures: [string, (file: string) => void, RegExp][] = [
      ["mode 0644", (f) => Deno.chmodSync(f, 0o644), /rm /],
      ["mode 0660", (f) => Deno.chmodSync(f, 0o660), /rm /],
      ["mode 0602", (f) => Deno.chmodSync(f, 0o602), /rm /],
      ["a symbolic link", (f) => {
        const elsewhere = `${state.dir}/elsewhere.json`;
        Deno.renameSync(f, elsewhere);
        Deno.symlinkSync(elsewhere, f);
      }, /symbolic link/],
      ["a directory", (f) => {
        Deno.removeSync(f);
        Deno.mkdirSync(f);
      }, /not a regular file/],
      ["a pending dir open to others", (f) => {
        Deno.chmodSync(f.replace(/\/[^/]*$/, ""), 0o777);
      }, /chmod 700/],
      ...(root
        ? [
          [
            "owned by another user",
            (f: string) => Deno.chownSync(f, 65534, 65534),
            /not by you/,
          ] as [
            string,
            (file: string) => void,
            RegExp,
          ],
        ]
        : []),
    ];
    for (const [label, expose, fix] of exposures) {
      await using fresh = await tempState();
      setProvider(
        fresh,
        "openai-codex",
        providerOverride(idp, `http://127.0.0.1:${idp.callbackPort}/auth/callback`, true),
      );
      const url = await startLogin(fresh);
      expose(pendingFile(fresh));
      const answer = await idp.approve(url);
      for (const input of [answer, new URL(answer).searchParams.get("code")!]) {
        const result = await fresh.run(["login", "--finish", input]);
        assert.equal(result.code, 65, `${label}: ${result.stderr}`);
        assert.match(result.stderr, fix, label);
        assert.ok(storeMissing(fresh), `${label}: nothing stored`);
      }
      assert.equal(idp.counts().authorization_code, 0, `${label}: no code exchange`);
    }
  } finally {
    await idp.close();
  }
});

// ---------------------------------------------------------------------------
// (12) Redirects from provider endpoints

Deno.test("no provider request follows a redirect: a 3xx from any endpoint is exit 69 naming it, and the target is never contacted", async () => {
  const idpState = await tempState();
  const idp = await idpFor(idpState);
  try {
    for (const status of [307, 308, 302]) {
      // What an attacker's origin would answer: a code and verifier of its choosing.
      await using attacker = jsonServer(200, {
        authorization_code: "attacker-code",
        code_verifier: "a".repeat(43),
        device_auth_id: "deviceauth_x",
        user_code: "ABCD-EFGH",
        access_token: "attacker-token",
        token_type: "bearer",
      });
      await using hop = redirector(attacker.url, status);
      const cases: [string, (state: TempState) => Promise<RunResult>][] = [
        ["OpenAI device user code", (state) => {
          setProvider(state, "openai-codex", { deviceUserCodeUrl: `${hop.url}/usercode` });
          return state.run(DEVICE_BOUNDED);
        }],
        ["OpenAI device poll", (state) => {
          setProvider(state, "openai-codex", { deviceTokenUrl: `${hop.url}/poll` });
          return state.run(DEVICE_BOUNDED);
        }],
        ["code exchange", async (state) => {
          setProvider(state, "openai-codex", { tokenUrl: `${hop.url}/token` });
          const url = await startLogin(state);
          return state.run(["login", "--finish", await idp.approve(url)]);
        }],
        ["refresh", async (state) => {
          const id = await loginVia(idp, state);
          setExpires(state, id, Date.now() - 1000);
          setProvider(state, "openai-codex", { tokenUrl: `${hop.url}/token` });
          return state.run(["token", "--profile", id]);
        }],
        ["revocation", async (state) => {
          const id = await loginVia(idp, state);
          setProvider(state, "openai-codex", { revocationUrl: `${hop.url}/revoke` });
          const result = await state.run(["remove", id, "--revoke"]);
          assert.ok(profilesOf(state)[id], "revocation failed: the profile is kept");
          return result;
        }],
        ["discovery", (state) => {
          setProvider(state, "sandbox", { issuer: hop.url, clientId: "clawauth-test" });
          return state.run(["login", "--provider", "sandbox", "--start"]);
        }],
      ];
      for (const [label, run] of cases) {
        await using state = await tempState();
        setProvider(
          state,
          "openai-codex",
          providerOverride(idp, `http://127.0.0.1:${idp.callbackPort}/auth/callback`, true),
        );
        const before = hop.hits();
        const result = await run(state);
        const what = `${label} (HTTP ${status})`;
        assert.equal(result.code, 69, `${what}: ${result.stderr}`);
        assert.match(result.stderr, /redirect/, what);
        assert.match(
          result.stderr,
          new RegExp(`HTTP ${status} from ${hop.url.replace(/\./g, "\\.")}`),
          what,
        );
        assert.ok(hop.hits() > before, `${what}: the redirecting endpoint was asked`);
        assert.equal(attacker.hits(), 0, `${what}: the redirect was followed`);
        assertTerminalSafe(result, what);
      }
    }
  } finally {
    await idp.close();
    await idpState[Symbol.asyncDispose]();
  }
});

// ---------------------------------------------------------------------------
// (13) HTTP timeouts

Deno.test("CLAWAUTH_HTTP_TIMEOUT: junk is a usage error (exit 64) naming the variable", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    for (const value of ["abc", "0", "0ms", "-5", "1e9", "Infinity", "10 parsecs", "0.0001"]) {
      const result = await state.run(["login", "--provider", "openai-codex", "--start"], {
        env: { CLAWAUTH_HTTP_TIMEOUT: value },
      });
      assert.equal(result.code, 64, `${value}: ${result.stderr}`);
      assert.match(result.stderr, /CLAWAUTH_HTTP_TIMEOUT/, value);
      assert.match(result.stderr, /e\.g\. CLAWAUTH_HTTP_TIMEOUT=20/, value);
    }
  } finally {
    await idp.close();
  }
});

Deno.test("CLAWAUTH_HTTP_TIMEOUT above 2^31 ms is capped, not an immediate timeout: a slow refresh and code exchange succeed", async () => {
  await using state = await tempState();
  // A provider that takes a quarter second: an overflowed timer fires after ~1 ms.
  await using slow = serve(async () => {
    await new Promise((resolve) => setTimeout(resolve, 250));
    return Response.json({
      access_token: `fresh-${crypto.randomUUID()}`,
      refresh_token: `rotated-${crypto.randomUUID()}`,
      token_type: "Bearer",
      expires_in: 3600,
    });
  });
  for (const value of ["2147484", "99999999999", "30d", "9999w", "1.5"]) {
    const env = { CLAWAUTH_HTTP_TIMEOUT: value };
    // A refresh clamps its timeout below the lock wait; a login's code exchange does not.
    const id = expiredLogin(state, `${slow.url}/token`);
    const refreshed = await state.run(["token", "--profile", id], { env });
    assert.equal(refreshed.code, 0, `${value}: ${refreshed.stderr}`);
    assert.match(refreshed.stdout, /^fresh-/, value);
    const url = new URL(await startLogin(state));
    const finished = await state.run(
      ["login", "--finish", `code=any&state=${url.searchParams.get("state")}`],
      { env },
    );
    assert.equal(finished.code, 0, `${value}: ${finished.stderr}`);
  }
  assert.equal(slow.hits(), 10);
});

Deno.test("a refresh hung at the provider gives up before the lock wait ends, so a queued writer gets the lock", async () => {
  await using state = await tempState();
  await using hung = hangingServer();
  const id = expiredLogin(state, `${hung.url}/token`);
  const env = { CLAWAUTH_LOCK_TIMEOUT: "3", CLAWAUTH_HTTP_TIMEOUT: "60" };
  const started = Date.now();
  const refresh = state.run(["token", "--profile", id], { env });
  await hung.firstHit; // the refresh now holds the store lock
  const writer = await state.run(
    ["paste-token", "--provider", "anthropic", "--profile", "queued"],
    {
      env,
      stdin: `sk-ant-oat01-${"q".repeat(80)}`,
    },
  );
  assert.equal(writer.code, 0, `the queued writer timed out: ${writer.stderr}`);
  const result = await refresh;
  assert.equal(result.code, 69, result.stderr);
  assert.match(result.stderr, /in time/);
  assert.ok(Date.now() - started < 3_000 + 2_000, "bounded by the lock wait, not by 60 s");
});

Deno.test("timeout settings: defaults and clamps as documented", () => {
  assert.equal(HTTP_TIMEOUT_DEFAULT_MS, 20_000);
  assert.ok(HTTP_TIMEOUT_DEFAULT_MS < 30_000, "below the default lock wait");
  assert.equal(HTTP_TIMEOUT_MAX_MS, 600_000);
  assert.equal(httpTimeoutBelowLock(60_000, 30_000), 20_000);
  assert.equal(httpTimeoutBelowLock(5_000, 30_000), 5_000);
  assert.equal(httpTimeoutBelowLock(60_000, 300), 1_000);
  const bounds = { defaultMs: 7_000, maxMs: 50_000 };
  assert.equal(durationSettingMs("X", undefined, bounds), 7_000);
  assert.equal(durationSettingMs("X", "", bounds), 7_000);
  assert.equal(durationSettingMs("X", "2", bounds), 2_000);
  assert.equal(durationSettingMs("X", "1.5", bounds), 1_500);
  assert.equal(durationSettingMs("X", "250ms", bounds), 250);
  assert.equal(durationSettingMs("X", "9999w", bounds), 50_000);
  assert.equal(
    durationSettingMs("X", "9999w", { defaultMs: 1, maxMs: Number.MAX_SAFE_INTEGER }),
    MAX_TIMER_MS,
  );
  assert.equal(durationSettingMs("X", "0", { ...bounds, minMs: 0 }), 0);
  for (const junk of ["x", "0", "-1", "1e3", "NaN"]) {
    assert.throws(() => durationSettingMs("X", junk, bounds), /X=/);
  }
});

// ---------------------------------------------------------------------------
// (14) A login answered by another account

Deno.test("login CSRF: a --profile e-mail that differs from the account that came back is refused (exit 65), in every flow", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    const url = await startLogin(state, ["--profile", "dev@example.test"]);
    const finished = await state.run(["login", "--finish", await idp.approve(url, "mallory")]);
    assert.equal(finished.code, 65, finished.stderr);
    assert.match(finished.stderr, /mallory@example\.test/);
    assert.match(finished.stderr, /dev@example\.test/);
    assert.ok(storeMissing(state), "nothing stored");

    const cli = startCli(state, [
      "login",
      "--provider",
      "openai-codex",
      "--profile",
      "dev@example.test",
    ]);
    const live = await cli.waitForStderr(URL_LINE);
    await cli.waitForStderr(/Waiting for the browser/);
    (await fetch(await idp.approve(live, "mallory"))).body?.cancel();
    const listened = await cli.result();
    assert.equal(listened.code, 65, listened.stderr);
    assert.match(listened.stderr, /mallory@example\.test.*dev@example\.test/);
    assert.ok(storeMissing(state), "nothing stored");

    const device = startCli(state, [
      "login",
      "--provider",
      "openai-codex",
      "--device",
      "--no-browser",
      "--profile",
      "dev@example.test",
    ]);
    const [, , userCode] = CODE_LINE.exec(
      await device.waitForStderr(/[\s\S]*Waiting for approval/),
    )!;
    await idp.approveCodexDevice(userCode, "mallory");
    const devised = await device.result();
    assert.equal(devised.code, 65, devised.stderr);
    assert.ok(storeMissing(state), "nothing stored");

    // The same address in other letter cases is the same account.
    const again = await startLogin(state, ["--profile", "Dev@Example.TEST"]);
    const ok = await state.run(["login", "--finish", await idp.approve(again)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(profilesOf(state)["openai-codex:Dev@Example.TEST"]);
    // A profile name without @ is not an e-mail claim: any account may use it.
    const named = await startLogin(state, ["--profile", "work"]);
    const other = await state.run(["login", "--finish", await idp.approve(named, "mallory")]);
    assert.equal(other.code, 0, other.stderr);
  } finally {
    await idp.close();
  }
});

// ---------------------------------------------------------------------------
// Provider text on the terminal

Deno.test("provider error text (token endpoint, device endpoints, pasted error) reaches the terminal neutralised", async () => {
  await using state = await tempState();
  for (const hostile of HOSTILE_TEXT) {
    const label = JSON.stringify(hostile);
    {
      await using provider = jsonServer(400, { error: hostile, error_description: hostile });
      const id = expiredLogin(state, `${provider.url}/token`);
      const result = await state.run(["token", "--profile", id]);
      assert.equal(result.code, 69, `${label}: ${result.stderr}`);
      assertTerminalSafe(result, `token endpoint ${label}`);
      assert.ok(result.stderr.includes(safeText(hostile).slice(0, 3)), `${label}: text kept`);
    }
    {
      await using provider = jsonServer(400, { error: { code: hostile, message: hostile } });
      setProvider(state, "openai-codex", {
        deviceUserCodeUrl: `${provider.url}/usercode`,
        deviceTokenUrl: `${provider.url}/poll`,
        deviceVerificationUrl: `${provider.url}/device`,
        deviceRedirectUri: `${provider.url}/cb`,
      });
      const result = await state.run([
        "login",
        "--provider",
        "openai-codex",
        "--device",
        "--no-browser",
      ]);
      assert.equal(result.code, 69, `${label}: ${result.stderr}`);
      assertTerminalSafe(result, `OpenAI device ${label}`);
    }
    {
      await using provider = jsonServer(400, { error: hostile, error_description: hostile });
      setProvider(state, "rfc8628", {
        tokenUrl: `${provider.url}/token`,
        deviceAuthorizationUrl: `${provider.url}/device`,
        clientId: "hardening-test",
      });
      const result = await state.run([
        "login",
        "--provider",
        "rfc8628",
        "--device",
        "--no-browser",
      ]);
      assert.equal(result.code, 69, `${label}: ${result.stderr}`);
      assertTerminalSafe(result, `RFC 8628 device ${label}`);
    }
  }
});

Deno.test("a pasted error answer (--finish) shows the provider's description neutralised", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    for (const hostile of HOSTILE_TEXT) {
      const url = new URL(await startLogin(state));
      const answer = new URL(`http://127.0.0.1:${idp.callbackPort}/auth/callback`);
      answer.searchParams.set("error", "access_denied");
      answer.searchParams.set("error_description", hostile);
      answer.searchParams.set("state", url.searchParams.get("state")!);
      const result = await state.run(["login", "--finish", answer.href]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /access_denied/);
      assertTerminalSafe(result, JSON.stringify(hostile));
    }
  } finally {
    await idp.close();
  }
});
