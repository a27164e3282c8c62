/**
 * The rule for provider endpoints (SPEC §3): https, or plain http on a
 * loopback host only.
 *
 * @module
 */

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Whether a URL points at this machine. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** Why `value` is not an acceptable endpoint, or `undefined` when it is. */
export function endpointProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return "is not a URL";
  const url = new URL(value);
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url))) return undefined;
  return "must use https (plain http only on loopback hosts)";
}
