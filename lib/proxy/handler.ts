/**
 * One proxied request, start to end: the guards, the route, the body
 * (buffered, to be replayed), then each planned profile in turn until one
 * answers with something that is not its own failure. Everything before
 * the answer's first byte; the answer itself streams through.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { type Profile, secretOf } from "../profiles.ts";
import type { Paths } from "../paths.ts";
import { problem } from "./answers.ts";
import { classify, type Failure, suspect } from "./failover.ts";
import { presentedKey, refusal } from "./guards.ts";
import type { LocalKeyHolder } from "./local_key.ts";
import type { RequestLine, RequestLog } from "./log.ts";
import { planRequest, type Strategy } from "./pick.ts";
import { parseQuota } from "./quota.ts";
import type { Recorder } from "./recorder.ts";
import { due, MIN_VALID_MS, type Refresher } from "./refresher.ts";
import { matchRoute, type ProxyRoute, routeList } from "./routes.ts";
import type { StoreView } from "./snapshot.ts";
import { clientHeaders, send, upstreamHeaders } from "./upstream.ts";
import { availableAt } from "../routing/routing.ts";

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

/** A failed answer, kept to be passed on when no profile does better. */
interface Kept {
  status: number;
  headers: Headers;
  body: string;
}

/** Reads a body up to `MAX_BODY_BYTES`; `undefined` when it is larger. */
async function readBody(request: Request): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > MAX_BODY_BYTES) return undefined;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0];
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
    const url = new URL(request.url);
    const match = matchRoute(routes, url);
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
    const body = request.method === "GET" || request.method === "HEAD"
      ? undefined
      : await readBody(request);
    if (body === undefined && request.method !== "GET" && request.method !== "HEAD") {
      return done(
        problem(shape, "too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`),
      );
    }
    const view = await deps.view.current();
    const plan = planRequest(view, route, {
      backend: deps.paths.backend,
      now: ctx.now(),
      strategy: deps.strategy,
      pinned: match.pinned,
      sticky: sticky.get(route.name),
    });
    let kept: Kept | undefined;
    let attempts = 0;
    let timedOut = false;
    for (const candidate of plan.tryOrder) {
      let profile: Profile = candidate.profile;
      let refreshed = false;
      for (;;) {
        attempts++;
        line.profile = profile.id;
        try {
          if (due(profile, ctx.now(), MIN_VALID_MS)) {
            profile = await deps.refresher.fresh(profile);
            refreshed = true;
          }
        } catch {
          break; // refreshProfile recorded why (e.g. needs_login); the next profile may serve
        }
        const secret = secretOf(profile);
        const auth = profile.type && route.auth[profile.type];
        if (secret === undefined || !auth) break;
        const sent = await send(ctx.fetch, {
          url: match.upstream,
          method: request.method,
          headers: upstreamHeaders(request.headers, auth, { profile, secret }),
          body,
          headerTimeoutMs: deps.headerTimeoutMs,
        });
        if (sent.kind === "unreachable") {
          line.retries = attempts - 1;
          const host = new URL(match.upstream).host;
          return done(problem(shape, "bad_gateway", `clawauth's proxy could not reach ${host}.`));
        }
        let failure: Failure | undefined;
        let answer: Response | undefined;
        if (sent.kind === "timeout") failure = { reason: "timeout" };
        else {
          const { response } = sent;
          const quota = parseQuota(response.headers, ctx.now());
          if (!suspect(response.status)) {
            deps.recorder.success(profile.id, plan.provider, quota);
            if (!match.pinned) sticky.set(route.name, profile.id);
            line.retries = attempts - 1;
            return done(
              new Response(response.body, {
                status: response.status,
                statusText: response.statusText,
                headers: clientHeaders(response.headers),
              }),
            );
          }
          const text = await response.text();
          if (quota) deps.recorder.observe(profile.id, quota);
          failure = classify(response.status, response.headers, text, ctx.now());
          const headers = clientHeaders(response.headers);
          headers.delete("content-length");
          if (!failure) {
            answer = new Response(text, { status: response.status, headers });
          } else {
            kept = { status: response.status, headers, body: text };
          }
        }
        if (answer) {
          line.retries = attempts - 1;
          return done(answer);
        }
        if (failure!.reason === "auth" && profile.type === "oauth" && !refreshed) {
          // One forced refresh: the provider may have revoked the access token early.
          try {
            profile = await deps.refresher.fresh(profile, true);
            refreshed = true;
            continue;
          } catch {
            // Refreshing failed too: record the auth failure below.
          }
        }
        if (sent.kind === "timeout") timedOut = true;
        await deps.recorder.failure(profile.id, failure!);
        if (sticky.get(route.name) === profile.id) sticky.delete(route.name);
        break;
      }
    }
    line.retries = Math.max(0, attempts - 1);
    if (kept) lastFailure.set(route.name, kept);
    const now = ctx.now();
    const after = planRequest(await deps.view.current(), route, {
      backend: deps.paths.backend,
      now,
      strategy: deps.strategy,
      pinned: match.pinned,
    });
    if (after.tryOrder.length === 0 && after.sidelined.length > 0) {
      // Every profile is cooling down: the provider's last word, and when to come back.
      const soonest = Math.min(...after.sidelined.map((c) => availableAt(c.usage)));
      const wait = retryAfter(soonest, now);
      const last = kept ?? (timedOut ? undefined : lastFailure.get(route.name));
      if (last) {
        const headers = new Headers(last.headers);
        headers.set("retry-after", wait);
        return done(new Response(last.body, { status: last.status, headers }));
      }
      return done(problem(
        shape,
        timedOut ? "timeout" : "rate_limited",
        timedOut
          ? `${
            new URL(match.upstream).host
          } sent no answer in time, and every ${route.provider} profile is cooling down.`
          : `Every ${route.provider} profile is cooling down.`,
        { headers: { "retry-after": wait } },
      ));
    }
    if (kept) return done(new Response(kept.body, { status: kept.status, headers: kept.headers }));
    return done(problem(
      shape,
      timedOut ? "timeout" : "no_credential",
      timedOut
        ? `${new URL(match.upstream).host} sent no answer in time.`
        : `clawauth has ${
          plan.unusable ?? `no usable ${route.provider} profile now`
        }; see clawauth status.`,
    ));
  };
}
