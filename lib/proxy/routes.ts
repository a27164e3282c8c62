/**
 * The proxy's route table: `/<route>/…` to a provider's API. Built from the
 * providers' `api` definitions (providers/*.ts) and `clawauth.json`, where
 * `apiBaseUrl` moves a route (tests, corporate gateways) and a provider with
 * `apiBaseUrl` and `apiAuth` gets a route of its own. Data, not branches.
 *
 * @module
 */

import { BUILTIN_PROVIDERS } from "../../providers/index.ts";
import { readProviderConfig } from "../config.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { isObject, type JsonObject, own } from "../json/json.ts";
import { safeText } from "../output/output.ts";
import { PROFILE_NAME, type ProfileType } from "../profiles.ts";
import type { ApiAuth, ApiDefinition } from "../provider/definition.ts";

/** One route of the proxy. */
export interface ProxyRoute {
  /** The path prefix: requests to `/<name>/…` take this route. */
  name: string;
  /** The provider id a user names (`openai-codex`, not the store's `openai`). */
  provider: string;
  /** The upstream API's base URL, without a trailing slash. */
  baseUrl: string;
  /** How each credential type is sent; only these types serve the route. */
  auth: Partial<Record<ProfileType, ApiAuth>>;
  /** The error body shape of the API. */
  errors: ApiDefinition["errors"];
}

/** A request's route, the profile it pins (if any), and the upstream URL. */
export interface RouteMatch {
  route: ProxyRoute;
  /** `provider:name` when the path was `/<route>:<name>/…`. */
  pinned?: string;
  /** The upstream URL: base URL, the rest of the path, the query. */
  upstream: string;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const ALL_TYPES: readonly ProfileType[] = ["oauth", "token", "api_key"];

function badSetting(configPath: string, message: string): ClawauthError {
  return new ClawauthError(
    `The config ${configPath} is not usable: ${message}.`,
    Exit.data,
    'Fix it, e.g. {"providers": {"anthropic": {"apiBaseUrl": "https://gateway.example/anthropic"}}}',
  );
}

/**
 * A base URL the proxy may send credentials to: https, or plain http on a
 * loopback host only (a credential never crosses a network in clear text).
 */
export function checkBaseUrl(value: unknown, where: string, configPath: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash) {
    throw badSetting(configPath, `${where} is not an http(s) URL without query`);
  }
  if (url.username || url.password) {
    throw badSetting(configPath, `${where} must not hold a user or password`);
  }
  if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw badSetting(
      configPath,
      `${where} is plain http to ${safeText(url.hostname)}; only loopback may be plain http`,
    );
  }
  return url.href.replace(/\/+$/, "");
}

const AUTH_STYLES: Readonly<Record<string, ApiAuth["scheme"]>> = {
  bearer: "bearer",
  "x-api-key": "x-api-key",
};

/**
 * The route clawauth.json's settings for provider `id` make (`apiBaseUrl`,
 * `apiAuth`, `apiErrors`), if any; a bad setting is exit 65.
 */
export function configuredRoute(
  id: string,
  settings: JsonObject,
  configPath: string,
): ProxyRoute | undefined {
  const base = own(settings, "apiBaseUrl");
  if (base === undefined) return undefined;
  const baseUrl = checkBaseUrl(base, `providers.${id}.apiBaseUrl`, configPath);
  const builtin = BUILTIN_PROVIDERS.get(id)?.api;
  const style = own(settings, "apiAuth");
  if (builtin && style === undefined) return { ...fromDefinition(id, builtin), baseUrl };
  const scheme = typeof style === "string" ? AUTH_STYLES[style] : undefined;
  if (!scheme) {
    throw badSetting(configPath, `providers.${id}.apiAuth is not "bearer" or "x-api-key"`);
  }
  const errors = own(settings, "apiErrors") ?? "openai";
  if (errors !== "openai" && errors !== "anthropic") {
    throw badSetting(configPath, `providers.${id}.apiErrors is not "openai" or "anthropic"`);
  }
  return {
    name: id,
    provider: id,
    baseUrl,
    auth: Object.fromEntries(ALL_TYPES.map((type) => [type, { scheme }])),
    errors,
  };
}

function fromDefinition(provider: string, api: ApiDefinition): ProxyRoute {
  return {
    name: api.route,
    provider,
    baseUrl: api.baseUrl.replace(/\/+$/, ""),
    auth: api.auth,
    errors: api.errors,
  };
}

/**
 * Every route: the built-in providers' APIs, moved by `apiBaseUrl` where
 * configured, and the configured providers with an API of their own. A bad
 * setting is exit 65 at start, never a surprise on a request.
 */
export function routeTable(configPath: string): ProxyRoute[] {
  const config = readProviderConfig(configPath);
  const routes = new Map<string, ProxyRoute>();
  for (const [id, definition] of BUILTIN_PROVIDERS) {
    if (definition.api) routes.set(id, fromDefinition(id, definition.api));
  }
  for (const [id, settings] of Object.entries(config)) {
    if (!isObject(settings)) continue;
    const route = configuredRoute(id, settings, configPath);
    if (route) routes.set(id, route);
  }
  return [...routes.values()];
}

/** The routes as a client would write them, for the 404 answer and the start line. */
export function routeList(routes: readonly ProxyRoute[]): string[] {
  return routes.map((route) => `/${route.name}/`);
}

/**
 * Reads a request path: `/<route>/<rest>` or `/<route>:<name>/<rest>`
 * (`<route>` may also be the provider id, e.g. `/openai-codex:work/…`).
 * `undefined` for a path no route serves.
 */
export function matchRoute(
  routes: readonly ProxyRoute[],
  url: URL,
): RouteMatch | undefined {
  const path = url.pathname;
  const slash = path.indexOf("/", 1);
  let head: string;
  try {
    head = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash));
  } catch {
    return undefined; // a malformed escape names no route
  }
  const rest = slash < 0 ? "" : path.slice(slash);
  const colon = head.indexOf(":");
  const name = colon < 0 ? head : head.slice(0, colon);
  const route = routes.find((r) => r.name === name) ?? routes.find((r) => r.provider === name);
  if (!route) return undefined;
  let pinned: string | undefined;
  if (colon >= 0) {
    const profile = head.slice(colon + 1);
    if (!PROFILE_NAME.test(profile)) return undefined;
    pinned = `${route.provider}:${profile}`;
  }
  return { route, pinned, upstream: `${route.baseUrl}${rest}${url.search}` };
}
