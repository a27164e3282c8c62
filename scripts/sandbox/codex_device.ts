/**
 * The sandbox's emulation of OpenAI's device login (the one Codex CLI uses),
 * in front of the real OAuth server: a user code is requested, the person
 * approves it in a browser (a real PKCE authorization at the sandbox IdP,
 * redirected to `/deviceauth/callback` on the IdP itself), and polling then
 * hands out that authorization code with its verifier, which the client
 * exchanges at the ordinary token endpoint.
 *
 * Beyond what OpenAI documents (403/404 while pending), tests can script
 * `429` answers (slow down, with `Retry-After`), deny a code
 * (`{"error": "access_denied"}`, the OAuth spelling) or expire it
 * (HTTP 410 with OpenAI's error-object spelling), so a client's handling of
 * both shapes is exercised.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { newPkce } from "../../lib/oauth/oauth.ts";

/** Routes of the emulation, relative to the issuer. */
export const CODEX_DEVICE_ROUTES = {
  userCode: "/api/accounts/deviceauth/usercode",
  token: "/api/accounts/deviceauth/token",
  verification: "/codex/device",
  callback: "/deviceauth/callback",
} as const;

/** A scripted poll answer: pending (403 or 404) or slow down (429). */
export type CodexPollAnswer = "403" | "404" | "429";

interface DeviceAuth {
  id: string;
  userCode: string;
  verifier: string;
  challenge: string;
  state: string;
  code?: string;
  refusal?: "denied" | "expired";
}

/** Test controls of the emulation. */
export interface CodexDeviceControls {
  /** Signs in (as `login`) and approves `userCode`, as the person would in a browser. */
  approveCodexDevice(userCode: string, login?: string): Promise<void>;
  /** Makes the next polls of `userCode` answer denied. */
  denyCodexDevice(userCode: string): void;
  /** Makes the next polls of `userCode` answer expired. */
  expireCodexDevice(userCode: string): void;
  /** The answers the next polls get, whatever the state (then the real state again). */
  scriptCodexPolls(answers: CodexPollAnswer[]): void;
  /** Every poll so far: when (epoch ms) and the HTTP status answered. */
  codexPolls(): { at: number; status: number }[];
}

/** The emulation: a request handler for its routes plus the test controls. */
export interface CodexDeviceEmulator extends CodexDeviceControls {
  /** Answers the request if it is one of the emulation's routes; returns whether it did. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** A random tag of `length` upper-case hex digits (ids and user codes). */
function randomTag(length: number): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, length).toUpperCase();
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/html; charset=utf-8" : "application/json",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += chunk;
  try {
    const data: unknown = JSON.parse(text);
    return typeof data === "object" && data !== null ? data as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** What {@linkcode codexDeviceEmulator} needs to know of the IdP. */
export interface CodexDeviceOptions {
  /** The IdP's issuer URL (no trailing slash). */
  issuer: string;
  /** The IdP's authorization endpoint, where an approval signs in. */
  authorizeUrl: string;
  /** The client the approval authorizes. */
  clientId: string;
  /** Every client id a user code may be requested with (`clientId` and its other ids). */
  acceptedClientIds: readonly string[];
  /** The polling interval handed out, in seconds. */
  intervalSec: number;
  /** Performs a browser's sign-in at the IdP starting from an authorize URL. */
  browse(authorizeUrl: string, login?: string): Promise<unknown>;
}

/** Creates the emulation for the IdP described by `opts`. */
export function codexDeviceEmulator(opts: CodexDeviceOptions): CodexDeviceEmulator {
  const { issuer, clientId, intervalSec, browse } = opts;
  const byId = new Map<string, DeviceAuth>();
  const byUserCode = new Map<string, DeviceAuth>();
  const byState = new Map<string, DeviceAuth>();
  const script: CodexPollAnswer[] = [];
  const polls: { at: number; status: number }[] = [];
  const known = (userCode: string): DeviceAuth => {
    const auth = byUserCode.get(userCode);
    if (!auth) throw new Error(`sandbox IdP: unknown device user code ${userCode}`);
    return auth;
  };

  async function issueUserCode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await jsonBody(req);
    if (typeof body.client_id !== "string" || !opts.acceptedClientIds.includes(body.client_id)) {
      return send(res, 400, { error: "invalid_client", error_description: "unknown client_id" });
    }
    // The server makes the PKCE pair here and hands the verifier out once approved.
    const letters = randomTag(8);
    const auth: DeviceAuth = {
      id: `deviceauth_${randomTag(24).toLowerCase()}`,
      userCode: `${letters.slice(0, 4)}-${letters.slice(4)}`,
      ...await newPkce(),
    };
    byId.set(auth.id, auth);
    byUserCode.set(auth.userCode, auth);
    byState.set(auth.state, auth);
    // OpenAI sends the interval as a string; so does the sandbox.
    send(res, 200, {
      device_auth_id: auth.id,
      user_code: auth.userCode,
      interval: String(intervalSec),
    });
  }

  async function poll(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await jsonBody(req);
    const auth = typeof body.device_auth_id === "string"
      ? byId.get(body.device_auth_id)
      : undefined;
    const answer = (status: number, data: unknown, headers?: Record<string, string>) => {
      polls.push({ at: Date.now(), status });
      send(res, status, data, headers);
    };
    const scripted = script.shift();
    if (scripted === "429") {
      return answer(429, { error: "slow_down" }, { "retry-after": "2" });
    }
    if (scripted) return answer(Number(scripted), { error: "authorization_pending" });
    if (!auth || auth.userCode !== body.user_code) {
      return answer(404, { error: { code: "deviceauth_not_found" } });
    }
    if (auth.refusal === "denied") {
      return answer(400, {
        error: "access_denied",
        error_description: "The person declined the sign-in.",
      });
    }
    if (auth.refusal === "expired") {
      return answer(410, {
        error: { code: "device_code_expired", message: "This device code has expired." },
      });
    }
    if (!auth.code) return answer(403, { error: "authorization_pending" });
    byId.delete(auth.id); // single use
    byUserCode.delete(auth.userCode);
    answer(200, {
      authorization_code: auth.code,
      code_challenge: auth.challenge,
      code_verifier: auth.verifier,
    });
  }

  function callback(url: URL, res: ServerResponse): void {
    const auth = byState.get(url.searchParams.get("state") ?? "");
    const code = url.searchParams.get("code");
    if (!auth || !code) return send(res, 400, "<!doctype html><p>Unknown device login.</p>");
    byState.delete(auth.state);
    auth.code = code;
    send(res, 200, '<!doctype html><p id="sandbox-device-success">Signed in.</p>');
  }

  return {
    handle(req, res): boolean {
      const url = new URL(req.url ?? "/", issuer);
      const route = req.method === "POST" ? url.pathname : `GET ${url.pathname}`;
      switch (route) {
        case CODEX_DEVICE_ROUTES.userCode:
          void issueUserCode(req, res);
          return true;
        case CODEX_DEVICE_ROUTES.token:
          void poll(req, res);
          return true;
        case `GET ${CODEX_DEVICE_ROUTES.callback}`:
          callback(url, res);
          return true;
        case `GET ${CODEX_DEVICE_ROUTES.verification}`:
          send(res, 200, "<!doctype html><h1>Enter the code shown in your terminal</h1>");
          return true;
      }
      return false;
    },
    async approveCodexDevice(userCode, login): Promise<void> {
      const auth = known(userCode);
      const url = new URL(opts.authorizeUrl);
      for (
        const [key, value] of Object.entries({
          response_type: "code",
          client_id: clientId,
          redirect_uri: issuer + CODEX_DEVICE_ROUTES.callback,
          scope: "openid profile email offline_access",
          code_challenge: auth.challenge,
          code_challenge_method: "S256",
          state: auth.state,
        })
      ) url.searchParams.set(key, value);
      await browse(url.href, login);
      if (!auth.code) {
        throw new Error("sandbox IdP: the device approval did not reach the callback");
      }
    },
    denyCodexDevice(userCode): void {
      known(userCode).refusal = "denied";
    },
    expireCodexDevice(userCode): void {
      known(userCode).refusal = "expired";
    },
    scriptCodexPolls(answers): void {
      script.push(...answers);
    },
    codexPolls: () => polls.map((p) => ({ ...p })),
  };
}
