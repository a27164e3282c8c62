/**
 * `clawauth proxy`: each route gets the profile's real credential in its
 * API's style while the local key never leaves the machine's loopback hop,
 * and requests that fail a guard (no or wrong key, foreign Host, Origin,
 * too large, unknown route) never reach an upstream.
 */

import assert from "node:assert/strict";
import { fakeSecret, freePort, tempState } from "../helpers.ts";
import { startFakeUpstream } from "../fake_upstream.ts";
import {
  keyed,
  MESSAGES_BODY,
  oneAnthropicKey,
  rawRequest,
  routeTo,
  startProxy,
} from "../proxy_support.ts";

const FAR = Date.now() + 30 * 86_400_000;

Deno.test("proxy injects each route's credential in its API's style; the local key never reaches an upstream", async () => {
  await using state = await tempState();
  await using upstream = await startFakeUpstream();
  const apiKey = fakeSecret("sk-ant-api03-");
  const token = fakeSecret("sk-ant-oat01-");
  const openaiKey = fakeSecret("sk-proj-");
  const access = fakeSecret("eyJ-access-");
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:key": { type: "api_key", provider: "anthropic", key: apiKey },
      "anthropic:sub": { type: "token", provider: "anthropic", token, expires: FAR },
      "openai:ci": { type: "api_key", provider: "openai", key: openaiKey },
      "openai-codex:me": {
        type: "oauth",
        provider: "openai-codex",
        access,
        refresh: fakeSecret("rt-"),
        expires: FAR,
        accountId: "acct-123",
      },
    },
    order: { anthropic: ["anthropic:key", "anthropic:sub"] },
  });
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const post = (path: string, headers: Record<string, string>) =>
    fetch(`${proxy.url}${path}`, { method: "POST", headers, body: MESSAGES_BODY });

  const viaKey = await post("/anthropic/v1/messages", keyed(proxy.key));
  assert.equal(viaKey.status, 200);
  assert.match(await viaKey.text(), /event: message_stop/);
  const pinned = await post("/anthropic:sub/v1/messages?beta=true", {
    authorization: `Bearer ${proxy.key}`,
    "anthropic-beta": "fine-grained-tool-streaming-2025-05-14",
  });
  assert.equal(pinned.status, 200, "the local key is accepted as a Bearer token too");
  await pinned.body?.cancel();
  const openai = await post("/openai/v1/responses", { authorization: `Bearer ${proxy.key}` });
  assert.equal(openai.status, 200);
  await openai.body?.cancel();
  const codex = await post("/codex/responses", { authorization: `Bearer ${proxy.key}` });
  assert.equal(codex.status, 200);
  await codex.body?.cancel();

  const [a, b, c, d] = upstream.requests;
  assert.equal(upstream.requests.length, 4);
  assert.equal(a.path, "/v1/messages");
  assert.equal(a.headers["x-api-key"], apiKey);
  assert.equal(a.headers.authorization, undefined);
  assert.equal(a.body, MESSAGES_BODY, "the body goes through unchanged");
  assert.equal(b.path, "/v1/messages?beta=true");
  assert.equal(b.headers.authorization, `Bearer ${token}`);
  assert.equal(b.headers["x-api-key"], undefined);
  assert.equal(
    b.headers["anthropic-beta"],
    "fine-grained-tool-streaming-2025-05-14,oauth-2025-04-20",
    "the OAuth flag joins the client's list",
  );
  assert.equal(c.path, "/v1/responses");
  assert.equal(c.headers.authorization, `Bearer ${openaiKey}`);
  assert.equal(d.path, "/responses");
  assert.equal(d.headers.authorization, `Bearer ${access}`);
  assert.equal(d.headers["chatgpt-account-id"], "acct-123");
  for (const request of upstream.requests) {
    assert.ok(!JSON.stringify(request).includes(proxy.key), `${request.path} carries no local key`);
  }
  const { code, stdout } = await proxy.stop();
  assert.equal(code, 0);
  const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.slice(1).map((l) => [l.route, l.profile, l.status, l.retries]),
    [
      ["anthropic", "anthropic:key", 200, 0],
      ["anthropic", "anthropic:sub", 200, 0],
      ["openai", "openai:ci", 200, 0],
      ["codex", "openai-codex:me", 200, 0],
    ],
  );
  for (const secret of [apiKey, token, openaiKey, access, proxy.key]) {
    assert.ok(!stdout.includes(secret), "no secret in the request log");
  }
});

Deno.test("proxy never sends a ChatGPT login to /openai: without an API key it answers 503 and nothing goes out", async () => {
  await using state = await tempState();
  await using upstream = await startFakeUpstream();
  state.writeStore({
    version: 1,
    profiles: {
      "openai-codex:me": {
        type: "oauth",
        provider: "openai-codex",
        access: fakeSecret("eyJ-"),
        refresh: fakeSecret("rt-"),
        expires: FAR,
      },
    },
  });
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const response = await fetch(`${proxy.url}/openai/v1/responses`, {
    method: "POST",
    headers: keyed(proxy.key),
    body: "{}",
  });
  assert.equal(response.status, 503);
  const body = await response.json();
  assert.equal(body.error.code, "no_credential");
  assert.equal(upstream.requests.length, 0);
});

Deno.test("proxy refuses bad requests before any upstream: no or wrong key 401, foreign Host or Origin 403, too large 413, unknown route 404", async () => {
  await using state = await tempState();
  await using upstream = await startFakeUpstream();
  oneAnthropicKey(state);
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const messages = `${proxy.url}/anthropic/v1/messages`;

  const none = await fetch(messages, { method: "POST", body: MESSAGES_BODY });
  assert.equal(none.status, 401);
  assert.deepEqual((await none.json()).error.type, "authentication_error");
  const wrong = await fetch(messages, {
    method: "POST",
    headers: keyed(`${proxy.key.slice(0, -1)}x`),
    body: MESSAGES_BODY,
  });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const openaiShape = await fetch(`${proxy.url}/openai/v1/responses`, {
    method: "POST",
    body: "{}",
  });
  assert.equal(openaiShape.status, 401);
  assert.equal((await openaiShape.json()).error.code, "invalid_api_key", "OpenAI's error shape");

  const origin = await fetch(messages, {
    method: "POST",
    headers: keyed(proxy.key, { origin: "https://evil.example" }),
    body: MESSAGES_BODY,
  });
  assert.equal(origin.status, 403);
  await origin.body?.cancel();
  const port = new URL(proxy.url).port;
  for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1:1"]) {
    const foreign = await rawRequest(proxy.url, {
      method: "GET",
      path: "/anthropic/v1/models",
      headers: { Host: host, "x-api-key": proxy.key },
    });
    assert.equal(foreign.status, 403, host);
  }
  const local = await rawRequest(proxy.url, {
    method: "GET",
    path: "/anthropic/v1/models",
    headers: { Host: `localhost:${port}`, "x-api-key": proxy.key },
  });
  assert.equal(local.status, 200, "localhost with the proxy's port is fine");

  const tooLarge = await rawRequest(proxy.url, {
    method: "POST",
    path: "/anthropic/v1/messages",
    headers: { Host: `127.0.0.1:${port}`, "x-api-key": proxy.key, "Content-Length": "40000000" },
  });
  assert.equal(tooLarge.status, 413);

  const unknown = await fetch(`${proxy.url}/gemini/v1/models`, { headers: keyed(proxy.key) });
  assert.equal(unknown.status, 404);
  const listed = await unknown.json();
  assert.deepEqual(listed.routes.toSorted(), ["/anthropic/", "/codex/", "/openai/"]);
  for (const route of listed.routes) assert.ok(listed.error.message.includes(route));

  assert.equal(upstream.requests.length, 1, "only the good localhost request went out");
});

Deno.test("proxy answers 413 to a chunked body that grows past 32 MiB, and nothing reaches the upstream", async () => {
  await using state = await tempState();
  await using upstream = await startFakeUpstream();
  oneAnthropicKey(state);
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  let sent = 0;
  // No Content-Length: the size is only known by reading, 33 MiB of it.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < 33) controller.enqueue(chunk);
      else controller.close();
    },
  });
  const answer = await fetch(`${proxy.url}/anthropic/v1/messages`, {
    method: "POST",
    headers: keyed(proxy.key),
    body,
    // @ts-ignore: Deno's fetch takes a streamed body with duplex "half" (not in lib.dom's type)
    duplex: "half",
  });
  assert.equal(answer.status, 413);
  assert.match((await answer.json()).error.message, /limited to 33554432 bytes/);
  assert.equal(upstream.requests.length, 0);
});

Deno.test("proxy answers 502 naming the host when the upstream cannot be reached", async () => {
  await using state = await tempState();
  oneAnthropicKey(state);
  const port = freePort();
  state.writeFile(
    "clawauth.json",
    JSON.stringify({ providers: { anthropic: { apiBaseUrl: `http://127.0.0.1:${port}` } } }),
  );
  await using proxy = await startProxy(state);
  const response = await proxy.post();
  assert.equal(response.status, 502);
  const body = await response.json();
  assert.equal(body.type, "error");
  assert.match(body.error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
});

Deno.test("proxy refuses a non-loopback --host (64) and a plain-http apiBaseUrl off loopback (65), which doctor names too", async () => {
  await using state = await tempState();
  const host = await state.run(["proxy", "--host", "0.0.0.0", "--port", "0"]);
  assert.equal(host.code, 64, host.stderr);
  assert.match(host.stderr, /loopback only/);
  state.writeFile(
    "clawauth.json",
    JSON.stringify({ providers: { anthropic: { apiBaseUrl: "http://gateway.example" } } }),
  );
  const plain = await state.run(["proxy", "--port", "0"]);
  assert.equal(plain.code, 65, plain.stderr);
  assert.match(plain.stderr, /only loopback may be plain http/);
  const doctor = await state.run(["doctor"]);
  assert.equal(doctor.code, 1);
  assert.match(doctor.stdout, /provider anthropic: .*only loopback may be plain http/);
});

Deno.test("proxy key prints one 0600 key, the same each time; --rotate replaces it and a running proxy takes the new one", async () => {
  await using state = await tempState();
  await using upstream = await startFakeUpstream();
  oneAnthropicKey(state);
  routeTo(state, upstream);
  const first = await state.run(["proxy", "key"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^clawauth-local-[A-Za-z0-9_-]{43}\n$/);
  assert.equal((await state.run(["proxy", "key"])).stdout, first.stdout);
  assert.equal(Deno.statSync(`${state.dir}/clawauth-proxy.key`).mode! & 0o777, 0o600);
  await using proxy = await startProxy(state);
  const rotated = await state.run(["proxy", "key", "--rotate"]);
  assert.equal(rotated.code, 0);
  assert.notEqual(rotated.stdout, first.stdout);
  const ask = (key: string) =>
    fetch(`${proxy.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: keyed(key),
      body: MESSAGES_BODY,
    }).then(async (r) => (await r.body?.cancel(), r.status));
  // The proxy re-reads the key file at most once a second: wait for the switch, not a time.
  let status = await ask(rotated.stdout.trim());
  for (let i = 0; status !== 200 && i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await ask(rotated.stdout.trim());
  }
  assert.equal(status, 200);
  assert.equal(await ask(first.stdout.trim()), 401, "the old key is retired");
});
