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

/** Headers as name-value pairs: what fetch and Response take without a second validation pass. */
export type HeaderList = [name: string, value: string][];

/** The names an auth style sets itself, besides the credential. */
const OWN_NAMES = new WeakMap<ApiAuth, ReadonlySet<string>>();

function dropsFor(auth: ApiAuth): ReadonlySet<string> {
  let names = OWN_NAMES.get(auth);
  if (!names) {
    names = new Set([
      ...HOP_BY_HOP,
      ...REPLACED,
      ...Object.keys(auth.appendHeaders ?? {}),
      ...Object.keys(auth.profileHeaders ?? {}),
    ]);
    OWN_NAMES.set(auth, names);
  }
  return names;
}

/**
 * `source` without `drop` and the headers its `Connection` names, in one
 * pass (the hot path); `keep` receives the dropped values it asks for.
 */
function forwardable(
  source: Headers,
  drop: ReadonlySet<string>,
  keep?: Map<string, string>,
): HeaderList {
  const connection = source.get("connection");
  const named = connection
    ? new Set(connection.split(",").map((h) => h.trim().toLowerCase()))
    : undefined;
  const list: HeaderList = [];
  for (const [name, value] of source) {
    if (keep?.has(name)) keep.set(name, value);
    if (!drop.has(name) && !named?.has(name)) list.push([name, value]);
  }
  return list;
}

/** The headers sent upstream: the client's, less the local key, plus the credential. */
export function upstreamHeaders(
  incoming: Headers,
  auth: ApiAuth,
  credential: { profile: Profile; secret: string },
): HeaderList {
  const appended = Object.entries(auth.appendHeaders ?? {});
  const sent = new Map(appended.map(([name]) => [name, ""]));
  const list = forwardable(incoming, dropsFor(auth), sent);
  // Deno's fetch decodes compressed bodies but keeps `content-encoding`: ask for none.
  list.push(["accept-encoding", "identity"]);
  list.push(
    auth.scheme === "bearer"
      ? ["authorization", `Bearer ${credential.secret}`]
      : ["x-api-key", credential.secret],
  );
  for (const [name, flag] of appended) {
    const flags = (sent.get(name) ?? "").split(",").map((f) => f.trim()).filter(Boolean);
    list.push([name, (flags.includes(flag) ? flags : [...flags, flag]).join(",")]);
  }
  for (const [name, field] of Object.entries(auth.profileHeaders ?? {})) {
    const value = stringAt(credential.profile.raw, field);
    if (value !== undefined) list.push([name, value]);
  }
  return list;
}

const PASSED: ReadonlySet<string> = new Set(HOP_BY_HOP);
/** A body fetch decoded, or one the proxy read whole, no longer has the upstream's encoding or length. */
const REBUILT: ReadonlySet<string> = new Set([...HOP_BY_HOP, "content-encoding", "content-length"]);

/**
 * The headers passed back to the client: the upstream's, less hop-by-hop
 * ones; `rebuilt` when the body is not the upstream's bytes as sent.
 */
export function clientHeaders(upstream: Headers, rebuilt = false): HeaderList {
  return forwardable(upstream, rebuilt || upstream.has("content-encoding") ? REBUILT : PASSED);
}

/** How an upstream call ended before its body. */
export type Sent =
  | { kind: "answer"; response: Response }
  | { kind: "timeout" }
  /** The client went away first: the upstream request was called off. */
  | { kind: "cancelled" }
  | { kind: "unreachable"; detail: string };

/** What {@linkcode send} sends. */
export interface Outgoing {
  url: string;
  method: string;
  headers: HeaderList;
  body: Uint8Array<ArrayBuffer> | undefined;
  /** How long to wait for the response headers. */
  headerTimeoutMs: number;
  /** Aborts when the client goes away; it then calls off the upstream request, body included. */
  client?: AbortSignal;
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
      signal: outgoing.client
        ? AbortSignal.any([controller.signal, outgoing.client])
        : controller.signal,
    });
    return { kind: "answer", response };
  } catch (error) {
    if (outgoing.client?.aborted) return { kind: "cancelled" };
    if (controller.signal.aborted) return { kind: "timeout" };
    return { kind: "unreachable", detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
