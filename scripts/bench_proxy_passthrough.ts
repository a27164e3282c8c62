/**
 * A bare Deno pass-through for the proxy section of `deno task bench`: the
 * least a Deno proxy can do (`Deno.serve` + `fetch`, both bodies streamed,
 * the client's key swapped for the upstream one), so its row shows what the
 * runtime costs before any routing. No Host or key check, no failover, no
 * logging.
 *
 * Run: `deno run --allow-net scripts/bench_proxy_passthrough.ts UPSTREAM_URL KEY`;
 * the first stdout line is `{"event":"listening","url":"http://127.0.0.1:PORT"}`.
 *
 * @module
 */

import { serveOnLoopback } from "./bench_proxy_serve.ts";

const [UPSTREAM, KEY] = Deno.args;
if (!UPSTREAM || !KEY) throw new Error("usage: bench_proxy_passthrough.ts UPSTREAM_URL KEY");

serveOnLoopback(async (request) => {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.delete("host");
  headers.set("x-api-key", KEY);
  const answer = await fetch(`${UPSTREAM}${url.pathname}${url.search}`, {
    method: request.method,
    headers,
    body: request.body,
  });
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
});
