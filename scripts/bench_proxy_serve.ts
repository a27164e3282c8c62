/**
 * Serving for the proxy bench's own servers (the fake upstream, the bare
 * pass-through): 127.0.0.1 on a free port, announced as clawauth proxy
 * announces itself, so one reader starts them all.
 *
 * @module
 */

/**
 * Serves `handler` on 127.0.0.1 (a free port) and prints the first stdout
 * line `{"event":"listening","url":"http://127.0.0.1:PORT"}`.
 */
export function serveOnLoopback(handler: Deno.ServeHandler): Deno.HttpServer {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) =>
      console.log(JSON.stringify({ event: "listening", url: `http://127.0.0.1:${port}` })),
  }, handler);
}
