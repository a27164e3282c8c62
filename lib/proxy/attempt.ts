/**
 * One profile's try at a proxied request: a fresh token if it is due, the
 * credential put in, the call, and the verdict on the answer. A provider
 * that refuses an OAuth token gets one more try after a forced refresh
 * (shared with every request waiting on that login).
 *
 * @module
 */

import type { Context } from "../context.ts";
import { type Profile, secretOf } from "../profiles.ts";
import { classify, type Failure, suspect } from "./failover.ts";
import { parseQuota, type Quota } from "./quota.ts";
import { due, FORCE, MIN_VALID_MS, type Refresher } from "./refresher.ts";
import type { RouteMatch } from "./routes.ts";
import { clientHeaders, type HeaderList, send, upstreamHeaders } from "./upstream.ts";

/** An upstream answer read whole (small: an error), to pass on or keep. */
export interface Kept {
  status: number;
  headers: HeaderList;
  body: string;
}

/** How one profile's try ended. */
export type Attempt =
  /** An answer for the client (success, or an error that is not the profile's fault). */
  | { kind: "answer"; response: Response; quota?: Quota; ok: boolean; tries: number }
  /** The profile failed: record it and try the next. */
  | { kind: "failed"; failure: Failure; kept?: Kept; quota?: Quota; tries: number }
  /** The profile could not be tried (its refresh failed; refresh.ts recorded why). */
  | { kind: "skipped"; tries: number }
  /** The upstream cannot be reached at all: no other profile would fare better. */
  | { kind: "unreachable"; tries: number }
  /** The client went away before the answer: nothing to record, nobody to answer. */
  | { kind: "cancelled"; tries: number };

/** What one try sends. */
export interface AttemptInput {
  ctx: Context;
  refresher: Refresher;
  match: RouteMatch;
  request: Request;
  body: Uint8Array<ArrayBuffer> | undefined;
  headerTimeoutMs: number;
}

/** Tries `profile` (twice at most: once more after a forced refresh on 401/403). */
export async function attempt(input: AttemptInput, profile: Profile): Promise<Attempt> {
  const { ctx, refresher, match } = input;
  let refreshed = false;
  for (let tries = 1;; tries++) {
    try {
      if (due(profile, ctx.now(), MIN_VALID_MS)) {
        profile = await refresher.fresh(profile);
        refreshed = true;
      }
    } catch {
      return { kind: "skipped", tries };
    }
    const secret = secretOf(profile);
    const auth = profile.type && match.route.auth[profile.type];
    if (secret === undefined || !auth) return { kind: "skipped", tries };
    const sent = await send(ctx.fetch, {
      url: match.upstream,
      method: input.request.method,
      headers: upstreamHeaders(input.request.headers, auth, { profile, secret }),
      body: input.body,
      headerTimeoutMs: input.headerTimeoutMs,
      client: input.request.signal,
    });
    if (sent.kind === "unreachable" || sent.kind === "cancelled") return { kind: sent.kind, tries };
    if (sent.kind === "timeout") return { kind: "failed", failure: { reason: "timeout" }, tries };
    const { response } = sent;
    const quota = parseQuota(response.headers, ctx.now());
    if (!suspect(response.status)) {
      // Streams through as it arrives; a client that goes away cancels it upstream.
      const passed = new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: clientHeaders(response.headers),
      });
      return { kind: "answer", response: passed, quota, ok: response.ok, tries };
    }
    const body = await response.text();
    const headers = clientHeaders(response.headers, true);
    const failure = classify(response.status, response.headers, body, ctx.now());
    if (!failure) {
      const passed = new Response(body, { status: response.status, headers });
      return { kind: "answer", response: passed, quota, ok: false, tries };
    }
    if (failure.reason === "auth" && profile.type === "oauth" && !refreshed) {
      try {
        // The provider may have revoked the access token early: one forced refresh.
        profile = await refresher.fresh(profile, FORCE);
        refreshed = true;
        continue;
      } catch {
        // Refreshing failed too: the auth failure stands.
      }
    }
    return {
      kind: "failed",
      failure,
      kept: { status: response.status, headers, body },
      quota,
      tries,
    };
  }
}
