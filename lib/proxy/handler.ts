/**
 * One proxied request, start to end: the guards, the route, the body
 * (buffered, to be replayed), then each planned profile in turn until one
 * answers with something that is not its own failure. Everything before
 * the answer's first byte; the answer itself streams through.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { Paths } from "../paths.ts";
import { availableAt } from "../routing/routing.ts";
import { problem } from "./answers.ts";
import { attempt, type Kept } from "./attempt.ts";
import { presentedKey, refusal } from "./guards.ts";
import type { LocalKeyHolder } from "./local_key.ts";
import type { RequestLine, RequestLog } from "./log.ts";
import { type Plan, planRequest, type Strategy } from "./pick.ts";
import type { Recorder } from "./recorder.ts";
import type { Refresher } from "./refresher.ts";
import { matchRoute, type ProxyRoute, routeList, type RouteMatch } from "./routes.ts";
import type { StoreView } from "./snapshot.ts";

/** The largest request body the proxy buffers for a replay. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Everything a request needs, built once at start. */
export interface ProxyDeps {
  ctx: Context;
  paths: Paths;
  routes: readonly ProxyRoute[];
  hosts: ReadonlySet<string>;
  keys: LocalKeyHolder;
  view: StoreView;
  refresher: Refresher;
  recorder: Recorder;
  strategy: Strategy;
  headerTimeoutMs: number;
  log: RequestLog;
}

/** Reads a body up to `MAX_BODY_BYTES`; `undefined` when it is larger. */
async function readBody(request: Request): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    // A declared length is enforced by the server: read it whole, the fast way.
    if (Number(declared) > MAX_BODY_BYTES) return undefined;
    return new Uint8Array(await request.arrayBuffer());
  }
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

function retryAfter(until: number, now: number): string {
  return String(Math.max(1, Math.ceil((until - now) / 1000)));
}

/** The request handler of a proxy built from `deps`. */
export function proxyHandler(deps: ProxyDeps): (request: Request) => Promise<Response> {
  const sticky = new Map<string, string>();
  const lastFailure = new Map<string, Kept>();
  const { ctx, routes, log } = deps;
  const plans = new Map<string, { version: number; at: number; plan: Plan }>();

  /**
   * The plan for a request, reused for a second while the snapshot stays
   * the same: ranking every profile on every request costs more than the
   * rest of the proxy's own work (a cooldown may so end a second late).
   */
  const planFor = async (match: RouteMatch, stuck: string | undefined): Promise<Plan> => {
    const view = await deps.view.current();
    const now = ctx.now();
    const key = `${match.route.name}\n${match.pinned ?? ""}\n${stuck ?? ""}`;
    const cached = plans.get(key);
    if (cached && cached.version === deps.view.version && now - cached.at < 1000) {
      return cached.plan;
    }
    const plan = planRequest(view, match.route, {
      backend: deps.paths.backend,
      now,
      strategy: deps.strategy,
      pinned: match.pinned,
      sticky: stuck,
    });
    plans.set(key, { version: deps.view.version, at: now, plan });
    return plan;
  };

  return async (request) => {
    const started = performance.now();
    const line: RequestLine = {
      route: null,
      provider: null,
      profile: null,
      status: 0,
      ms: 0,
      retries: 0,
    };
    const done = (response: Response) => {
      line.status = response.status;
      line.ms = Math.round((performance.now() - started) * 100) / 100;
      log(line);
      return response;
    };
    const match = matchRoute(routes, new URL(request.url));
    const shape = match?.route.errors ?? "openai";
    const refused = refusal(request.headers, deps.hosts);
    if (refused) return done(problem(shape, "forbidden", refused));
    if (!match) {
      const list = routeList(routes);
      return done(
        problem(shape, "not_found", `No proxy route here; the routes are ${list.join(", ")}.`, {
          fields: { routes: list },
        }),
      );
    }
    const { route } = match;
    line.route = route.name;
    line.provider = route.provider;
    if (!deps.keys.accepts(presentedKey(request.headers))) {
      return done(problem(
        shape,
        "unauthorized",
        "Missing or wrong clawauth local key (send it as x-api-key or Authorization: Bearer; see clawauth proxy key).",
      ));
    }
    const bodyless = request.method === "GET" || request.method === "HEAD";
    const body = bodyless ? undefined : await readBody(request);
    if (!bodyless && body === undefined) {
      return done(
        problem(shape, "too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`),
      );
    }
    const plan = await planFor(match, sticky.get(route.name));
    const input = {
      ctx,
      refresher: deps.refresher,
      match,
      request,
      body,
      headerTimeoutMs: deps.headerTimeoutMs,
    };
    let kept: Kept | undefined;
    let timedOut = false;
    for (const candidate of plan.tryOrder) {
      const id = candidate.profile.id;
      line.profile = id;
      const result = await attempt(input, candidate.profile);
      line.retries += result.tries;
      if (result.kind === "cancelled") {
        // 499, as nginx logs it: the client closed the request; no one reads this answer.
        return done(new Response(null, { status: 499 }));
      }
      if (result.kind === "unreachable") {
        line.retries -= 1;
        const host = new URL(match.upstream).host;
        return done(problem(shape, "bad_gateway", `clawauth's proxy could not reach ${host}.`));
      }
      if (result.kind === "answer") {
        line.retries -= 1;
        if (result.ok) {
          deps.recorder.success(id, plan.provider, result.quota);
          if (!match.pinned) sticky.set(route.name, id);
        } else if (result.quota) deps.recorder.observe(id, result.quota);
        return done(result.response);
      }
      if (result.kind === "failed") {
        if (result.quota) deps.recorder.observe(id, result.quota);
        kept = result.kept ?? kept;
        timedOut = result.failure.reason === "timeout";
        await deps.recorder.failure(id, result.failure);
        if (sticky.get(route.name) === id) sticky.delete(route.name);
      }
    }
    line.retries = Math.max(0, line.retries - 1);
    if (kept) lastFailure.set(route.name, kept);
    return done(
      await exhausted(deps, {
        match,
        shape,
        kept: kept ?? (timedOut ? undefined : lastFailure.get(route.name)),
        timedOut,
        unusable: plan.unusable,
      }),
    );
  };
}

/**
 * The answer when no profile served: while every profile cools down, the
 * provider's last answer (or the proxy's own 429) with `retry-after` set to
 * the soonest end; else the last answer as it was, or why nothing could try.
 */
async function exhausted(
  deps: ProxyDeps,
  opts: {
    match: RouteMatch;
    shape: ProxyRoute["errors"];
    kept: Kept | undefined;
    timedOut: boolean;
    unusable: string | undefined;
  },
): Promise<Response> {
  const { match, shape, kept, timedOut } = opts;
  const { route } = match;
  const now = deps.ctx.now();
  const after = planRequest(await deps.view.current(), route, {
    backend: deps.paths.backend,
    now,
    strategy: deps.strategy,
    pinned: match.pinned,
  });
  const host = new URL(match.upstream).host;
  if (after.tryOrder.length === 0 && after.sidelined.length > 0) {
    const wait = retryAfter(Math.min(...after.sidelined.map((c) => availableAt(c.usage))), now);
    if (kept) {
      const headers = new Headers(kept.headers);
      headers.set("retry-after", wait);
      return new Response(kept.body, { status: kept.status, headers });
    }
    return problem(
      shape,
      timedOut ? "timeout" : "rate_limited",
      timedOut
        ? `${host} sent no answer in time, and every ${route.provider} profile is cooling down.`
        : `Every ${route.provider} profile is cooling down.`,
      { headers: { "retry-after": wait } },
    );
  }
  if (kept) return new Response(kept.body, { status: kept.status, headers: kept.headers });
  return timedOut ? problem(shape, "timeout", `${host} sent no answer in time.`) : problem(
    shape,
    "no_credential",
    `clawauth has ${
      opts.unusable ?? `no usable ${route.provider} profile now`
    }; see clawauth status.`,
  );
}
