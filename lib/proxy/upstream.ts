/**
 * One upstream call: the client's request with the local key and the
 * hop-by-hop headers taken out and the profile's credential put in, sent
 * with a deadline for the response headers only (a stream may then run as
 * long as it runs). The answer's body is passed on as it arrives; a client
 * that goes away cancels it, which closes the upstream connection.
 *
 * @module
 */

import { stringAt } from "../json/json.ts";
import type { Profile } from "../profiles.ts";
import type { ApiAuth } from "../provider/definition.ts";

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** Request headers the proxy sets itself: the host, the body length, every credential. */
const REPLACED = ["host", "content-length", "authorization", "x-api-key", "accept-encoding"];

function withoutHopByHop(source: Headers, also: readonly string[]): Headers {
  const headers = new Headers(source);
  const named = (source.get("connection") ?? "").split(",").map((h) => h.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...also, ...named]) if (name) headers.delete(name);
  return headers;
}

/** The headers sent upstream: the client's, less the local key, plus the credential. */
export function upstreamHeaders(
  incoming: Headers,
  auth: ApiAuth,
  credential: { profile: Profile; secret: string },
): Headers {
  const headers = withoutHopByHop(incoming, REPLACED);
  // Deno's fetch decodes compressed bodies but keeps `content-encoding`: ask for none.
  headers.set("accept-encoding", "identity");
  if (auth.scheme === "bearer") headers.set("authorization", `Bearer ${credential.secret}`);
  else headers.set("x-api-key", credential.secret);
  for (const [name, flag] of Object.entries(auth.appendHeaders ?? {})) {
    const list = (headers.get(name) ?? "").split(",").map((f) => f.trim()).filter(Boolean);
    if (!list.includes(flag)) headers.set(name, [...list, flag].join(","));
  }
  for (const [name, field] of Object.entries(auth.profileHeaders ?? {})) {
    const value = stringAt(credential.profile.raw, field);
    if (value !== undefined) headers.set(name, value);
    else headers.delete(name);
  }
  return headers;
}

/** The headers passed back to the client: the upstream's, less hop-by-hop ones. */
export function clientHeaders(upstream: Headers): Headers {
  // A body fetch decoded no longer has the upstream's encoding or length.
  const decoded = upstream.has("content-encoding") ? ["content-encoding", "content-length"] : [];
  return withoutHopByHop(upstream, decoded);
}

/** How an upstream call ended before its body. */
export type Sent =
  | { kind: "answer"; response: Response }
  | { kind: "timeout" }
  | { kind: "unreachable"; detail: string };

/** What {@linkcode send} sends. */
export interface Outgoing {
  url: string;
  method: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer> | undefined;
  /** How long to wait for the response headers. */
  headerTimeoutMs: number;
}

/** Sends one request; the headers deadline is lifted once they arrive. */
export async function send(
  fetch: typeof globalThis.fetch,
  outgoing: Outgoing,
): Promise<Sent> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("", "TimeoutError")),
    outgoing.headerTimeoutMs,
  );
  try {
    const response = await fetch(outgoing.url, {
      method: outgoing.method,
      headers: outgoing.headers,
      body: outgoing.body,
      redirect: "manual",
      signal: controller.signal,
    });
    return { kind: "answer", response };
  } catch (error) {
    if (controller.signal.aborted) return { kind: "timeout" };
    return { kind: "unreachable", detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
