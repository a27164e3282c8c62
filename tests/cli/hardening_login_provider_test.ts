/**
 * Attacks from a provider's endpoints, re-run through the real CLI:
 * redirects (never followed), answers that hang or come late against
 * CLAWAUTH_HTTP_TIMEOUT and the lock wait, and provider error text that
 * would drive the terminal.
 *
 * @module
 */

import assert from "node:assert/strict";
import { safeText } from "../../lib/output/output.ts";
import { providerOverride } from "../../scripts/sandbox_idp.ts";
import { type RunResult, type TempState, tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires, startLogin } from "../oauth_helpers.ts";
import { assertTerminalSafe, HOSTILE_TEXT, setProvider } from "../hardening_login_support.ts";
import { oauthProfile, storeOf } from "../builders.ts";

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

/** A stored, expired openai-codex login whose refresh goes to `tokenUrl`. */
function expiredLogin(state: TempState, tokenUrl: string): string {
  setProvider(state, "openai-codex", {
    authorizeUrl: "http://127.0.0.1:9/authorize",
    tokenUrl,
    clientId: "hardening-test",
  });
  state.writeStore(storeOf({
    "openai-codex:work": oauthProfile({
      access: "old-access",
      refresh: "old-refresh",
      expires: Date.now() - 1000,
    }),
  }));
  return "openai-codex:work";
}

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
          const url = (await startLogin(state)).url;
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
  await using _idp = await idpFor(state);
  for (const value of ["abc", "0", "0ms", "-5", "1e9", "Infinity", "10 parsecs", "0.0001"]) {
    const result = await state.run(["login", "--provider", "openai-codex", "--start"], {
      env: { CLAWAUTH_HTTP_TIMEOUT: value },
    });
    assert.equal(result.code, 64, `${value}: ${result.stderr}`);
    assert.match(result.stderr, /CLAWAUTH_HTTP_TIMEOUT/, value);
    assert.match(result.stderr, /e\.g\. CLAWAUTH_HTTP_TIMEOUT=20/, value);
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
    const url = new URL((await startLogin(state)).url);
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
  await using idp = await idpFor(state);
  for (const hostile of HOSTILE_TEXT) {
    const url = new URL((await startLogin(state)).url);
    const answer = new URL(`http://127.0.0.1:${idp.callbackPort}/auth/callback`);
    answer.searchParams.set("error", "access_denied");
    answer.searchParams.set("error_description", hostile);
    answer.searchParams.set("state", url.searchParams.get("state")!);
    const result = await state.run(["login", "--finish", answer.href]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /access_denied/);
    assertTerminalSafe(result, JSON.stringify(hostile));
  }
});
