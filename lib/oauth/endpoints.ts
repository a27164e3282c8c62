/**
 * The rule for every URL clawauth sends a secret to, or has another tool send
 * one to (docs/login.md): https, or plain http on a loopback host only. Provider
 * endpoints, `connect --base-url` and git's helper origins all ask here.
 *
 * @module
 */

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Whether a URL points at this machine. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** Whether a secret may go to `url`: over https, or plain http to this machine. */
export function carriesSecrets(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url));
}

/** Why `value` is not an acceptable endpoint, or `undefined` when it is. */
export function endpointProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return "is not a URL";
  if (carriesSecrets(new URL(value))) return undefined;
  return "must use https (plain http only on loopback hosts)";
}
