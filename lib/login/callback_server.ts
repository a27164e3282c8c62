/**
 * The loopback listener that receives the browser's redirect (docs/login.md):
 * 127.0.0.1 only, one exact path, constant-time `state` check, a short
 * escaped page under `Content-Security-Policy: default-src 'none'`, and it
 * closes after the first valid callback.
 *
 * Only a request carrying this login's `state` settles the login. Anything
 * else on the callback path (an `<img>` on some web page, a local process,
 * a stale tab of an earlier login) gets a 400 page and the wait goes on, so
 * a stray request can neither end nor block a login. Requests whose `Host`
 * is not this listener's loopback name and port (DNS rebinding) are
 * refused the same way.
 *
 * @module
 */

import { safeEqual } from "./callback_input.ts";
import { safeText } from "../output/output.ts";

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(status: number, title: string, message: string): Response {
  const body = `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`;
  return new Response(body, { status, headers: HEADERS });
}

/** Why a request to the listener was turned away without ending the login. */
export type Refusal = "host" | "state";

/** A running callback listener. */
export interface CallbackServer {
  /** Settles with the first callback that carries this login's `state`. */
  result: Promise<URLSearchParams>;
  /** Hears of each request turned away (wrong host, wrong or missing state); set by the waiter. */
  onRefused?: (why: Refusal) => void;
  /** Stops listening. */
  close(): Promise<void>;
}

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/**
 * The `Host` values a browser sends to this listener: its loopback names
 * with its port (without it too on port 80, where browsers leave it out).
 */
function allowedHosts(port: number): Set<string> {
  return new Set([
    ...LOOPBACK_NAMES.map((host) => `${host}:${port}`),
    ...(port === 80 ? LOOPBACK_NAMES : []),
  ]);
}

/**
 * Listens on 127.0.0.1:`port` for `path`. Throws `Deno.errors.AddrInUse`
 * (or another bind error) when the port cannot be had.
 */
export function listenForCallback(
  port: number,
  path: string,
  state: string,
): CallbackServer {
  const controller = new AbortController();
  const hosts = allowedHosts(port);
  let settle!: (p: URLSearchParams) => void;
  const result = new Promise<URLSearchParams>((resolve) => (settle = resolve));
  let done = false;
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port,
      signal: controller.signal,
      onListen: () => {},
    },
    (request) => {
      // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends
      // its own name; only our loopback names with our port are ours.
      const host = (request.headers.get("host") ?? "").toLowerCase();
      if (!hosts.has(host)) {
        listener.onRefused?.("host");
        return page(
          400,
          "Wrong host",
          "This is clawauth's login listener; it answers only to its loopback address.",
        );
      }
      const url = new URL(request.url);
      if (url.pathname !== path || request.method !== "GET") {
        return page(404, "Not found", "This is clawauth's login listener.");
      }
      if (done) {
        return page(
          410,
          "Already done",
          "This login has finished; you can close this tab.",
        );
      }
      const params = url.searchParams;
      const given = params.get("state");
      if (given === null || !safeEqual(given, state)) {
        listener.onRefused?.("state");
        return page(
          400,
          "Not this login",
          "This answer does not belong to the login clawauth is waiting for (its state does not " +
            "match). Nothing was stored; the login is still waiting.",
        );
      }
      done = true;
      settle(params);
      const error = params.get("error");
      return error
        ? page(
          400,
          "Login failed",
          safeText(
            `The provider said: ${error} ${params.get("error_description") ?? ""}`,
            300,
          ),
        )
        : page(
          200,
          "Signed in",
          "clawauth received the login. You can close this tab and return to the terminal.",
        );
    },
  );
  const listener: CallbackServer = {
    result,
    async close() {
      controller.abort();
      await server.finished;
    },
  };
  return listener;
}
