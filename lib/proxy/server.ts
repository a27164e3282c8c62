/**
 * `clawauth proxy`'s server: builds the routes, the local key, the store
 * view, the refresher and the recorder, listens on loopback, and on SIGINT
 * or SIGTERM stops accepting, lets streams in flight finish (up to 10 s),
 * writes what is pending and returns 0; a second signal ends it at once.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { sleep } from "../context.ts";
import type { Paths } from "../paths.ts";
import type { Profile } from "../profiles.ts";
import { candidatesOf } from "../routing/routing.ts";
import { storedRequest } from "../routing/select.ts";
import { stringAt } from "../json/json.ts";
import { allowedHosts } from "./guards.ts";
import { proxyHandler } from "./handler.ts";
import { LocalKeyHolder } from "./local_key.ts";
import { requestLog } from "./log.ts";
import type { Strategy } from "./pick.ts";
import { Recorder } from "./recorder.ts";
import { Refresher } from "./refresher.ts";
import { type ProxyRoute, routeList, routeTable } from "./routes.ts";
import { StoreView } from "./snapshot.ts";

/** The host names the proxy may listen on. */
export const LOOPBACK_NAMES: ReadonlySet<string> = new Set([
  "127.0.0.1",
  "localhost",
  "::1",
  "[::1]",
]);

/** How long in-flight streams may run on after a stop signal. */
const DRAIN_MS = 10_000;

/** What {@linkcode serveProxy} runs. */
export interface ServeOptions {
  paths: Paths;
  /** A loopback host (checked by the caller). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  strategy: Strategy;
  json: boolean;
  headerTimeoutMs: number;
}

/** The OAuth logins the proxy serves on `routes`, from the current snapshot. */
function servedLogins(
  view: StoreView,
  routes: readonly ProxyRoute[],
  paths: Paths,
  now: () => number,
): () => Promise<Profile[]> {
  return async () => {
    const { store } = await view.current();
    const at = now();
    return routes.filter((route) => route.auth.oauth).flatMap((route) => {
      const request = storedRequest(paths.backend, { provider: route.provider });
      if (request.types && !request.types.includes("oauth")) return [];
      return candidatesOf(store, { now: at, provider: request.provider, types: ["oauth"] })
        .filter((c) => c.state === "ok" && stringAt(c.profile.raw, "refresh") !== undefined)
        .map((c) => c.profile);
    });
  };
}

function urlOf(host: string, port: number): string {
  const name = host === "::1" ? "[::1]" : host;
  return `http://${name}:${port}`;
}

/** Runs the proxy until a stop signal; returns the exit code. */
export async function serveProxy(ctx: Context, opts: ServeOptions): Promise<number> {
  const { paths } = opts;
  const routes = routeTable(paths.config);
  const keys = new LocalKeyHolder(paths.stateDir, () => ctx.now());
  const view = new StoreView(ctx, paths);
  await view.current();
  const refresher = new Refresher(ctx, paths, (fresh) => {
    view.patch((store) => {
      store.profiles[fresh.id] = fresh.raw;
    });
    view.invalidate();
  });
  const recorder = new Recorder(ctx, paths, view);
  const log = requestLog(ctx, opts.json);
  const listening = Promise.withResolvers<number>();
  // The Host guard needs the port, known once listening; nothing arrives before.
  let handle: (request: Request) => Promise<Response> = () =>
    Promise.resolve(new Response(null, { status: 503 }));
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: opts.host.replace(/^\[(.*)\]$/, "$1"),
      port: opts.port,
      onListen: ({ port }) => listening.resolve(port),
      onError: (error) => {
        // Only the kind: a message may quote a header value, and headers hold credentials.
        const debug = ctx.env("CLAWAUTH_DEBUG") === "1" ? `: ${(error as Error).stack}` : "";
        ctx.err(`clawauth proxy: a request failed (${(error as Error).name})${debug}\n`);
        return Response.json({ error: { message: "clawauth's proxy failed on this request." } }, {
          status: 500,
        });
      },
    }, (request) => handle(request));
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new ClawauthError(
        `Port ${opts.port} on ${opts.host} is in use.`,
        Exit.unavailable,
        "Stop what listens there, or pick another port: clawauth proxy --port N",
      );
    }
    throw error;
  }
  const port = await listening.promise;
  handle = proxyHandler({
    ctx,
    paths,
    routes,
    hosts: allowedHosts(port),
    keys,
    view,
    refresher,
    recorder,
    strategy: opts.strategy,
    headerTimeoutMs: opts.headerTimeoutMs,
    log,
  });
  const url = urlOf(opts.host, port);
  if (opts.json) ctx.out(`${JSON.stringify({ event: "listening", url })}\n`);
  else {
    ctx.out(
      `clawauth proxy listening on ${url} (routes: ${
        routeList(routes).join(" ")
      }); key: clawauth proxy key\n`,
    );
  }
  refresher.start(servedLogins(view, routes, paths, () => ctx.now()));
  await stopSignal();
  await Promise.race([server.shutdown(), sleep(DRAIN_MS)]);
  log.flush();
  await refresher.stop();
  await recorder.close();
  return Exit.ok;
}

/**
 * Resolves on the first SIGINT or SIGTERM; a second one ends the process
 * at once (130 for Ctrl-C, 143 for SIGTERM).
 */
function stopSignal(): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  let stopping = false;
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      if (stopping) Deno.exit(signal === "SIGINT" ? Exit.interrupted : Exit.terminated);
      stopping = true;
      resolve();
    });
  }
  return promise;
}
