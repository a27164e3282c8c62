/**
 * The loopback listener that receives the browser's redirect (SPEC §3):
 * 127.0.0.1 only, one exact path, constant-time `state` check, a short
 * escaped page under `Content-Security-Policy: default-src 'none'`, and it
 * closes after the first valid callback.
 *
 * @module
 */

import { checkState } from "./callback_input.ts";

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

/** A running callback listener. */
export interface CallbackServer {
  /** Settles with the first callback's parameters (or its refusal). */
  result: Promise<URLSearchParams>;
  /** Stops listening. */
  close(): Promise<void>;
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
  let settle!: {
    resolve: (p: URLSearchParams) => void;
    reject: (e: unknown) => void;
  };
  const result = new Promise<URLSearchParams>((
    resolve,
    reject,
  ) => (settle = { resolve, reject }));
  let done = false;
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port,
      signal: controller.signal,
      onListen: () => {},
    },
    (request) => {
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
      const error = params.get("error");
      try {
        checkState(params, state);
      } catch (refusal) {
        done = true;
        settle.reject(refusal);
        return page(
          400,
          "Login refused",
          "The answer does not belong to this login (state mismatch). Nothing was stored.",
        );
      }
      done = true;
      settle.resolve(params);
      return error
        ? page(
          400,
          "Login failed",
          `The provider said: ${error} ${params.get("error_description") ?? ""}`
            .slice(0, 300),
        )
        : page(
          200,
          "Signed in",
          "clawauth received the login. You can close this tab and return to the terminal.",
        );
    },
  );
  return {
    result,
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}
