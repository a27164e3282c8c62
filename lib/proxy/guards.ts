/**
 * What a request must show before anything is forwarded: a `Host` of this
 * proxy on loopback (a DNS-rebinding page names its own host), no `Origin`
 * (browsers send one; coding tools do not), and the local key.
 *
 * @module
 */

/** The `Host` values this proxy answers to on `port`. */
export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** Why a request is refused before routing (403), or `undefined` when it may go on. */
export function refusal(headers: Headers, hosts: ReadonlySet<string>): string | undefined {
  if (headers.has("origin")) {
    return "Requests from web pages (with an Origin header) are refused by clawauth's proxy.";
  }
  const host = headers.get("host")?.toLowerCase();
  if (host === undefined || !hosts.has(host)) {
    return "clawauth's proxy answers only to 127.0.0.1, localhost or [::1] with its own port.";
  }
  return undefined;
}

/** The key a client sent: `x-api-key`, else `Authorization: Bearer`. */
export function presentedKey(headers: Headers): string | undefined {
  const key = headers.get("x-api-key");
  if (key) return key.trim();
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  return bearer?.[1];
}
