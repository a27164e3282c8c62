/**
 * The proxy's pure parts: reading quota and rate-limit headers, judging an
 * upstream answer, the route table, base URLs, the header rewrite, and the
 * key comparison.
 */

import assert from "node:assert/strict";
import { ClawauthError } from "../../lib/errors.ts";
import { readProfile } from "../../lib/profiles.ts";
import { classify, comeBackAt } from "../../lib/proxy/failover.ts";
import { sameKey } from "../../lib/proxy/local_key.ts";
import { parseQuota, quotaChanged, quotaText, readQuota } from "../../lib/proxy/quota.ts";
import { checkBaseUrl, matchRoute, type ProxyRoute } from "../../lib/proxy/routes.ts";
import { upstreamHeaders } from "../../lib/proxy/upstream.ts";
import { recordFailure } from "../../lib/routing/failover.ts";

const NOW = Date.UTC(2026, 11, 7, 12);
const S = (ms: number) => String(ms / 1000);

Deno.test("parseQuota reads Anthropic's unified windows and Codex's primary/secondary windows", () => {
  const anthropic = parseQuota(
    new Headers({
      "anthropic-ratelimit-unified-5h-utilization": "0.62",
      "anthropic-ratelimit-unified-5h-reset": S(NOW + 4_200_000),
      "anthropic-ratelimit-unified-7d-utilization": "0.18",
    }),
    NOW,
  );
  assert.deepEqual(anthropic, {
    "5h": { utilization: 0.62, resetsAt: NOW + 4_200_000, seenAt: NOW },
    "7d": { utilization: 0.18, seenAt: NOW },
  });
  const codex = parseQuota(
    new Headers({
      "x-codex-primary-used-percent": "40",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-at": S(NOW + 60_000),
      "x-codex-secondary-used-percent": "7.5",
      "x-codex-secondary-window-minutes": "10080",
    }),
    NOW,
  );
  assert.deepEqual(Object.keys(codex!), ["5h", "7d"]);
  assert.equal(codex!["5h"].utilization, 0.4);
  assert.equal(codex!["7d"].utilization, 0.075);
  assert.equal(parseQuota(new Headers({ "x-codex-primary-used-percent": "abc" }), NOW), undefined);
  assert.equal(parseQuota(new Headers(), NOW), undefined);
});

Deno.test("quotaText words a quota as status shows it; readQuota skips damaged windows", () => {
  const quota = readQuota({
    quota: {
      "5h": { utilization: 0.62, resetsAt: NOW + 70 * 60_000, seenAt: NOW },
      "7d": { utilization: 0.18 },
      bad: { utilization: "lots" },
    },
  });
  assert.equal(quotaText(quota, NOW), "5h: 62% (resets in 1h 10m), 7d: 18%");
  assert.equal(quotaText(quota, NOW + 71 * 60_000), "5h: reset, 7d: 18%");
  assert.deepEqual(readQuota(undefined), {});
  assert.equal(quotaChanged(quota, quota), false);
  assert.equal(
    quotaChanged(quota, { ...quota, "5h": { ...quota["5h"], utilization: 0.635 } }),
    true,
  );
  assert.equal(
    quotaChanged(quota, { ...quota, "5h": { ...quota["5h"], utilization: 0.621 } }),
    false,
    "a fraction of a point is not worth a write",
  );
});

Deno.test("classify: rate limits, overload, billing and auth fail over; other answers go to the client", () => {
  const none = new Headers();
  assert.deepEqual(classify(429, new Headers({ "retry-after": "30" }), "", NOW), {
    reason: "rate_limit",
    until: NOW + 30_000,
  });
  assert.deepEqual(classify(529, none, "", NOW), { reason: "rate_limit" });
  assert.deepEqual(classify(503, none, '{"error":{"type":"overloaded_error"}}', NOW), {
    reason: "rate_limit",
  });
  assert.equal(classify(503, none, "maintenance", NOW), undefined);
  assert.deepEqual(classify(401, none, "", NOW), { reason: "auth" });
  assert.deepEqual(classify(403, none, "", NOW), { reason: "auth" });
  assert.deepEqual(
    classify(400, none, '{"error":{"message":"Your credit balance is too low"}}', NOW),
    { reason: "billing" },
  );
  assert.deepEqual(classify(429, none, '{"error":{"code":"insufficient_quota"}}', NOW), {
    reason: "billing",
  });
  assert.equal(classify(400, none, '{"error":{"message":"max_tokens too large"}}', NOW), undefined);
  assert.equal(classify(500, none, "", NOW), undefined);
  assert.equal(classify(200, none, "", NOW), undefined);
});

Deno.test("comeBackAt: retry-after (seconds or a date), Anthropic's unified reset, the latest exhausted Codex window", () => {
  const date = new Date(NOW + 90_000).toUTCString();
  assert.equal(comeBackAt(new Headers({ "retry-after": date }), NOW), NOW + 90_000);
  assert.equal(
    comeBackAt(new Headers({ "anthropic-ratelimit-unified-reset": S(NOW + 600_000) }), NOW),
    NOW + 600_000,
  );
  const codex = new Headers({
    "x-codex-primary-used-percent": "100",
    "x-codex-primary-reset-at": S(NOW + 60_000),
    "x-codex-secondary-used-percent": "100",
    "x-codex-secondary-reset-at": S(NOW + 3_600_000),
  });
  assert.equal(comeBackAt(codex, NOW), NOW + 3_600_000);
  codex.set("x-codex-secondary-used-percent", "80");
  assert.equal(comeBackAt(codex, NOW), NOW + 60_000, "only exhausted windows count");
  assert.equal(comeBackAt(new Headers({ "retry-after": "soon" }), NOW), undefined);
});

Deno.test("recordFailure ends the cooldown when the provider said, else by the count", () => {
  const told: Record<string, unknown> = {};
  recordFailure(told, "rate_limit", NOW, NOW + 30_000);
  assert.equal(told.cooldownUntil, NOW + 30_000);
  const counted: Record<string, unknown> = {};
  recordFailure(counted, "rate_limit", NOW, NOW - 1);
  assert.equal(counted.cooldownUntil, NOW + 60_000, "a reset in the past is ignored");
});

const ROUTES: ProxyRoute[] = [
  {
    name: "anthropic",
    provider: "anthropic",
    baseUrl: "https://api.anthropic.com",
    auth: { api_key: { scheme: "x-api-key" } },
    errors: "anthropic",
  },
  {
    name: "codex",
    provider: "openai-codex",
    baseUrl: "https://chatgpt.com/backend-api/codex",
    auth: { oauth: { scheme: "bearer" } },
    errors: "openai",
  },
];

Deno.test("matchRoute: routes, pins by route or provider id, and the rest of the path with its query", () => {
  const at = (path: string) => matchRoute(ROUTES, new URL(`http://127.0.0.1:1${path}`));
  assert.equal(
    at("/anthropic/v1/messages?beta=true")?.upstream,
    "https://api.anthropic.com/v1/messages?beta=true",
  );
  assert.equal(at("/anthropic:work/v1/messages")?.pinned, "anthropic:work");
  assert.equal(at("/codex/responses")?.upstream, "https://chatgpt.com/backend-api/codex/responses");
  assert.equal(at("/openai-codex:me@x.io/responses")?.pinned, "openai-codex:me@x.io");
  assert.equal(at("/codex:me/responses")?.pinned, "openai-codex:me");
  assert.equal(at("/gemini/v1"), undefined);
  assert.equal(at("/anthropic:bad name/v1"), undefined);
  assert.equal(at("/%E0%A4%A/v1"), undefined, "a malformed escape is no route");
  assert.equal(at("/anthropic/../codex/x")?.route.name, "codex", "dot segments are resolved first");
});

Deno.test("checkBaseUrl: https anywhere, plain http only on loopback, no credentials or query", () => {
  assert.equal(checkBaseUrl("https://gw.example/api/", "x", "c.json"), "https://gw.example/api");
  assert.equal(checkBaseUrl("http://127.0.0.1:9/", "x", "c.json"), "http://127.0.0.1:9");
  assert.equal(checkBaseUrl("http://[::1]:9", "x", "c.json"), "http://[::1]:9");
  for (
    const bad of ["http://gw.example", "https://u:p@gw.example", "ftp://x", "https://x/?a=1", 7]
  ) {
    assert.throws(
      () => checkBaseUrl(bad, "x", "c.json"),
      (error: unknown) => error instanceof ClawauthError && error.exitCode === 65,
      String(bad),
    );
  }
});

Deno.test("upstreamHeaders: the local key and hop-by-hop headers go, the credential and flags come in", () => {
  const incoming = new Headers({
    "x-api-key": "clawauth-local-abc",
    authorization: "Bearer clawauth-local-abc",
    connection: "keep-alive, x-private",
    "x-private": "hop",
    "keep-alive": "timeout=5",
    te: "trailers",
    host: "127.0.0.1:8787",
    "accept-encoding": "gzip, br",
    "anthropic-beta": "a,oauth-2025-04-20",
    "anthropic-version": "2023-06-01",
  });
  const profile = readProfile("anthropic:sub", {
    type: "token",
    provider: "anthropic",
    token: "sk-ant-oat01-x",
    accountId: "acct",
  });
  const headers = upstreamHeaders(incoming, {
    scheme: "bearer",
    appendHeaders: { "anthropic-beta": "oauth-2025-04-20" },
    profileHeaders: { "chatgpt-account-id": "accountId" },
  }, { profile, secret: "sk-ant-oat01-x" });
  assert.deepEqual(Object.fromEntries(headers), {
    "accept-encoding": "identity",
    "anthropic-beta": "a,oauth-2025-04-20",
    "anthropic-version": "2023-06-01",
    authorization: "Bearer sk-ant-oat01-x",
    "chatgpt-account-id": "acct",
  });
});

Deno.test("sameKey compares whole keys of any length", () => {
  assert.equal(sameKey("clawauth-local-abc", "clawauth-local-abc"), true);
  assert.equal(sameKey("clawauth-local-abd", "clawauth-local-abc"), false);
  assert.equal(sameKey("clawauth-local-ab", "clawauth-local-abc"), false);
  assert.equal(sameKey("", "clawauth-local-abc"), false);
  assert.equal(sameKey("clawauth-local-abcd", "clawauth-local-abc"), false);
});
