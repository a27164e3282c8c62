/**
 * The fake upstream of the proxy section of `deno task bench`: a cheap
 * Anthropic Messages API on 127.0.0.1. `POST …/v1/messages` with the right
 * key (`x-api-key`, else `Authorization: Bearer`) answers a small JSON
 * message, or for `"stream":true` an SSE stream (`message_start` at once, the
 * five other events `GAP_MS` later, so a proxy that buffers shows it in the
 * time to first byte). Every answer carries Anthropic's
 * `anthropic-ratelimit-unified-*` headers. A wrong key gets Anthropic's 401.
 *
 * `POST /_bench/hold` makes every stream opened from then on stop after its
 * first event until `POST /_bench/release` (the open-streams memory probe).
 *
 * Run: `deno run --allow-net scripts/bench_proxy_upstream.ts KEY [GAP_MS]`;
 * the first stdout line is `{"event":"listening","url":"http://127.0.0.1:PORT"}`.
 *
 * @module
 */

import { serveOnLoopback } from "./bench_proxy_serve.ts";

const [KEY, gapArg = "5"] = Deno.args;
if (!KEY) throw new Error("usage: bench_proxy_upstream.ts KEY [GAP_MS]");
const GAP_MS = Number(gapArg);

const now = Math.floor(Date.now() / 1000);
/** As Anthropic sends them on a subscription (fractions; epoch seconds). */
const RATE_LIMIT: Record<string, string> = {
  "anthropic-ratelimit-unified-status": "allowed",
  "anthropic-ratelimit-unified-5h-utilization": "0.12",
  "anthropic-ratelimit-unified-5h-reset": String(now + 4 * 3600),
  "anthropic-ratelimit-unified-7d-utilization": "0.03",
  "anthropic-ratelimit-unified-7d-reset": String(now + 6 * 86_400),
  "anthropic-ratelimit-unified-reset": String(now + 4 * 3600),
  "anthropic-ratelimit-unified-representative-claim": "five_hour",
};
const JSON_HEADERS = { ...RATE_LIMIT, "content-type": "application/json" };
const SSE_HEADERS = {
  ...RATE_LIMIT,
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
};

const usage = { input_tokens: 8, output_tokens: 1 };
const message = {
  id: "msg_bench",
  type: "message",
  role: "assistant",
  model: "claude-bench",
  content: [{ type: "text", text: "pong" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage,
};
const MESSAGE = JSON.stringify(message);
const sse = (type: string, data: Record<string, unknown>): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const encoder = new TextEncoder();
const FIRST = encoder.encode(sse("message_start", {
  message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 0 } },
}));
const REST = encoder.encode([
  sse("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
  sse("content_block_delta", { index: 0, delta: { type: "text_delta", text: "pong" } }),
  sse("content_block_stop", { index: 0 }),
  sse("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage }),
  sse("message_stop", {}),
].join(""));
const UNAUTHORIZED = JSON.stringify({
  type: "error",
  error: { type: "authentication_error", message: "invalid x-api-key" },
});
const STREAM = /"stream"\s*:\s*true/;

let hold: PromiseWithResolvers<void> | undefined;
const gap = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, GAP_MS));

function stream(wait: () => Promise<void>): Response {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(FIRST);
      await wait();
      try {
        controller.enqueue(REST);
        controller.close();
      } catch {
        // the client went away while the stream waited
      }
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

const control: Record<string, () => void> = {
  "/_bench/hold": () => hold ??= Promise.withResolvers(),
  "/_bench/release": () => {
    hold?.resolve();
    hold = undefined;
  },
};

serveOnLoopback(async (request) => {
  const path = new URL(request.url).pathname;
  const act = control[path];
  if (act) {
    act();
    return new Response(null, { status: 204 });
  }
  const body = await request.text();
  if (request.method !== "POST" || !path.endsWith("/v1/messages")) {
    return new Response("not found", { status: 404 });
  }
  const key = request.headers.get("x-api-key") ??
    request.headers.get("authorization")?.replace(/^Bearer /i, "");
  if (key !== KEY) {
    return new Response(UNAUTHORIZED, { status: 401, headers: JSON_HEADERS });
  }
  if (!STREAM.test(body)) return new Response(MESSAGE, { headers: JSON_HEADERS });
  const held = hold?.promise;
  return stream(held ? () => held : gap);
});
