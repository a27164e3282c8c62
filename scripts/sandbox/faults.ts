/**
 * Faults injected in front of the token endpoint: the next N token requests
 * are answered (or held) here and never reach oidc-provider, so no grant
 * happens and no refresh token is spent.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { positiveInt } from "./options.ts";
import { page } from "./pages.ts";
import type { TokenFault } from "./types.ts";

const FAULT_BODIES: Record<Exclude<TokenFault, "hang">, {
  status: number;
  type: string;
  body: string;
}> = {
  "500": {
    status: 500,
    type: "application/json",
    body: JSON.stringify({
      error: "server_error",
      error_description: "sandbox IdP injected fault",
    }),
  },
  html: {
    status: 200,
    type: "text/html; charset=utf-8",
    body: page("Service temporarily unavailable", "<p>Please try again later.</p>"),
  },
  truncated: {
    status: 200,
    type: "application/json",
    body: '{"access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3Mi',
  },
};

/** The pending faults of one token endpoint. */
export interface TokenFaults {
  /** `SandboxIdp.setTokenFault`: the next `times` token requests get `fault`; `null` clears. */
  set(fault: TokenFault | null, times?: number): void;
  /** Answers (or holds) `req` if it is a token request and a fault is pending; returns whether it did. */
  intercept(req: IncomingMessage, res: ServerResponse): boolean;
  /** Clears pending faults and drops held ("hang") requests. */
  close(): void;
}

/** Faults for the token endpoint at `tokenPath`; `onFault` is called for each request they take. */
export function tokenFaults(tokenPath: string, onFault: () => void): TokenFaults {
  let fault: TokenFault | null = null;
  let times = 0;
  const hung = new Set<ServerResponse>();
  return {
    set(next, count = 1): void {
      if (next === null) {
        fault = null;
        times = 0;
        return;
      }
      if (!(next in FAULT_BODIES) && next !== "hang") {
        throw new TypeError(`sandbox IdP: unknown fault ${String(next)}`);
      }
      if (count !== Infinity) positiveInt("times", count);
      fault = next;
      times = count;
    },
    intercept(req, res): boolean {
      const path = (req.url ?? "/").split("?", 1)[0];
      if (!fault || times <= 0 || req.method !== "POST" || path !== tokenPath) return false;
      const current = fault;
      if (--times === 0) fault = null;
      onFault();
      req.resume(); // drain the request body
      if (current === "hang") {
        hung.add(res);
        res.on("close", () => hung.delete(res));
        return true;
      }
      const { status, type, body } = FAULT_BODIES[current];
      res.writeHead(status, {
        "content-type": type,
        "content-length": String(new TextEncoder().encode(body).length),
        "cache-control": "no-store",
      });
      res.end(body);
      return true;
    },
    close(): void {
      fault = null;
      times = 0;
      for (const res of hung) res.destroy();
      hung.clear();
    },
  };
}
