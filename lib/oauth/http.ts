/**
 * Every HTTP request clawauth makes to a provider: how long it may take
 * (`CLAWAUTH_HTTP_TIMEOUT`, and less under the store lock), which endpoint
 * URLs are acceptable (docs/login.md), and a `fetch` that never follows a redirect
 * and smooths the quirks of providers that bend OAuth.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { isObject } from "../json/json.ts";
import type { OAuthSettings } from "../provider/definition.ts";
import { lockTimeoutMs } from "../store/lock.ts";
import { endpointProblem } from "./endpoints.ts";
import { httpTimeoutMs } from "./http_timeout.ts";

export { HTTP_TIMEOUT_DEFAULT_MS, HTTP_TIMEOUT_MAX_MS, httpTimeoutMs } from "./http_timeout.ts";

/** The shortest HTTP timeout {@linkcode httpTimeoutBelowLock} clamps to. */
const MIN_LOCKED_HTTP_MS = 1_000;

/**
 * An HTTP timeout for a request made while holding a lock that others wait
 * up to `lockWaitMs` for: at most two thirds of that wait (never under 1 s),
 * so one slow provider cannot make every queued writer time out.
 */
export function httpTimeoutBelowLock(httpMs: number, lockWaitMs: number): number {
  return Math.min(httpMs, Math.max(MIN_LOCKED_HTTP_MS, Math.floor(lockWaitMs * 2 / 3)));
}

/** The HTTP timeout of a refresh: {@linkcode httpTimeoutMs} clamped below the lock wait. */
export function refreshTimeoutMs(ctx: Context): number {
  return httpTimeoutBelowLock(httpTimeoutMs(ctx), lockTimeoutMs(ctx));
}

/** A provider endpoint as a URL, or exit 65 naming the setting when it is unusable (docs/login.md). */
export function endpoint(
  providerId: string,
  name: string,
  value: string | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  const problem = endpointProblem(value);
  if (problem) {
    throw new ClawauthError(
      `The ${name} of ${providerId} ${problem}.`,
      Exit.data,
      "Fix it in clawauth.json.",
    );
  }
  return new URL(value).href;
}

/** A provider answered with a redirect; clawauth never follows one (docs/providers.md#clawauthjson). */
export class RedirectRefused extends Error {
  /** The endpoint that answered, without its query. */
  readonly endpoint: string;
  /** The 3xx status (0 for an opaque redirect). */
  readonly status: number;

  /** Records which endpoint redirected. */
  constructor(endpoint: string, status: number) {
    super(`redirect from ${endpoint}`);
    this.endpoint = endpoint;
    this.status = status;
  }
}

function endpointName(input: RequestInfo | URL): string {
  const url = new URL(input instanceof Request ? input.url : String(input));
  return `${url.origin}${url.pathname}`;
}

/** The `fetch` a provider request goes through: {@linkcode Context.fetch}, or a wrapper of it. */
export type Fetch = typeof globalThis.fetch;

/**
 * Wraps `fetcher` (the command's {@linkcode Context.fetch}) into the `fetch`
 * for every provider request: redirects are never followed (a 307 would
 * re-send the body, code, verifier or refresh token to wherever the Location
 * points) and a 3xx answer is a {@linkcode RedirectRefused} naming the endpoint.
 */
export function providerFetch(fetcher: Fetch): Fetch {
  return async (input, init) => {
    const response = await fetcher(input, { ...init, redirect: "manual" });
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => {});
      throw new RedirectRefused(endpointName(input), response.status);
    }
    return response;
  };
}

/**
 * The fetch oauth4webapi uses: {@linkcode providerFetch} of `fetcher`, plus
 * the quirks of providers that bend OAuth: JSON token requests (Anthropic)
 * and errors answered with HTTP 200 (GitHub), turned back into what
 * oauth4webapi's checks expect.
 */
export function guardedFetch(settings: OAuthSettings, fetcher: Fetch): Fetch {
  const send = providerFetch(fetcher);
  return async (input, init) => {
    let request = init;
    if (settings.tokenEncoding === "json" && init?.body instanceof URLSearchParams) {
      const headers = new Headers(init.headers);
      headers.set("content-type", "application/json");
      request = { ...init, headers, body: JSON.stringify(Object.fromEntries(init.body)) };
    }
    const response = await send(input, request);
    if (!settings.errorsWithStatus200 || response.status !== 200) return response;
    const body = await response.text();
    let error = false;
    try {
      const data: unknown = JSON.parse(body);
      error = isObject(data) && typeof data.error === "string";
    } catch {
      // Not JSON: leave the verdict to oauth4webapi.
    }
    return new Response(body, { status: error ? 400 : 200, headers: response.headers });
  };
}
