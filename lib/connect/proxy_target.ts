/**
 * `connect … --proxy`: instead of a command that fetches a provider's token,
 * a tool is given the URL of `clawauth proxy` on loopback (the provider's
 * route, or a pinned profile's) and the proxy's local key, which works on
 * 127.0.0.1 and nowhere else. The tool then holds no provider secret at all,
 * and the proxy picks a profile, a fresh token and a failover per request.
 *
 * @module
 */

import { findProvider } from "../../providers/index.ts";
import { ensureLocalKey, LOCAL_KEY_PREFIX, readLocalKey } from "../proxy/local_key.ts";
import type { RouteRequest } from "../routing/routing.ts";

/** The port `clawauth proxy` listens on unless given `--port`. */
export const DEFAULT_PROXY_PORT = 8787;

/** Where the proxy is and the key it wants. */
export interface ProxyTarget {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** The local key. */
  key: string;
}

/** How the local key reads in reports: it is a credential, if a local one. */
export const KEY_SHOWN = `${LOCAL_KEY_PREFIX}… (clawauth proxy key)`;

/**
 * What a provider's client libraries keep in the base URL beyond the API's
 * root: OpenAI's SDKs (Codex, pi) append `/responses` to `…/v1`, Anthropic's
 * append `/v1/messages` to the root.
 */
const CLIENT_SUFFIX: Readonly<Record<string, string>> = { openai: "/v1" };

/**
 * The proxy of a state dir on `port`; its local key is made if there is none
 * (not on a dry run, which writes nothing and shows the key masked anyway).
 */
export function proxyTarget(
  stateDir: string,
  opts: { port: number; dryRun: boolean },
): ProxyTarget {
  const key = opts.dryRun ? readLocalKey(stateDir) ?? LOCAL_KEY_PREFIX : ensureLocalKey(stateDir);
  return { url: `http://127.0.0.1:${opts.port}`, key };
}

/**
 * The base URL a tool is given for `request`: the provider's route
 * (`/anthropic`, `/codex`, `/openai/v1`, `/<provider>`), or `/<route>:<name>`
 * when a profile is pinned.
 */
export function proxyBaseUrl(
  target: ProxyTarget,
  request: RouteRequest & { provider: string },
): string {
  const { provider, profileId } = request;
  const route = findProvider(provider)?.api?.route ?? provider;
  const pin = profileId === undefined ? "" : `:${profileId.slice(provider.length + 1)}`;
  return `${target.url}/${route}${pin}${CLIENT_SUFFIX[provider] ?? ""}`;
}

/** `value` as a report shows it: the local key masked. */
export function shownValue(target: ProxyTarget, value: unknown): unknown {
  return value === target.key ? KEY_SHOWN : value;
}

/** What each tool's report says about the proxy. */
export function proxyCaching(target: ProxyTarget): string {
  return `Requests go to clawauth proxy at ${target.url}, which must be running (clawauth proxy${
    target.url.endsWith(`:${DEFAULT_PROXY_PORT}`) ? "" : ` --port ${target.url.split(":").pop()}`
  }; --print-unit keeps it running): it picks a profile and a fresh token per request and fails over on a rate limit.`;
}
