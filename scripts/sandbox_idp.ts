/**
 * Sandbox identity provider for clawauth's black-box tests and benchmarks.
 *
 * A real OAuth 2.0 / OpenID Connect provider (`npm:oidc-provider@9`) bound to
 * 127.0.0.1 only. It never contacts any other host. It knows one public PKCE
 * client, `clawauth-test`, issues JWT access tokens that carry an
 * OpenAI-style `chatgpt_account_id` claim, rotates refresh tokens on every
 * use, supports the RFC 8628 device flow and RFC 7009 revocation, counts
 * grants, and can inject faults in front of its token endpoint.
 *
 * Module use:
 * ```ts
 * const idp = await startSandboxIdp({ accessTokenTtlSec: 60 });
 * const callback = await idp.approve(authorizeUrlBuiltByClawauth);
 * await idp.close();
 * ```
 *
 * Script use (prints one JSON line to stdout, runs until SIGINT/SIGTERM):
 * `deno run -A scripts/sandbox_idp.ts [--port N] [--ttl SEC]`
 *
 * @module
 */

// @ts-types="npm:@types/oidc-provider@9"
import type * as OidcProviderModule from "oidc-provider";
import type {
  Account,
  Adapter,
  AdapterFactory,
  AdapterPayload,
  Configuration,
  KoaContextWithOIDC,
  ResourceServer,
} from "oidc-provider";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CODEX_DEVICE_ROUTES,
  type CodexDeviceControls,
  codexDeviceEmulator,
} from "./sandbox_codex_device.ts";

/** Options for {@link startSandboxIdp}. */
export interface SandboxIdpOptions {
  /** TCP port on 127.0.0.1; default 0 (an ephemeral port). */
  port?: number;
  /** Access-token lifetime in seconds (`expires_in`); default 3600. */
  accessTokenTtlSec?: number;
  /**
   * Value of the access-token (and id_token) claim
   * `{"https://api.openai.com/auth": {"chatgpt_account_id": accountId}}`;
   * default `"acct-sandbox-1"`.
   */
  accountId?: string;
  /** The user's `email` claim (id_token, access token profile claim); default `"dev@example.test"`. */
  email?: string;
  /**
   * `interval` (seconds) advertised in device authorization responses;
   * default 1. oidc-provider itself does not enforce a polling rate.
   */
  deviceIntervalSec?: number;
}

/** Grant counters of a {@link SandboxIdp}. */
export interface SandboxIdpCounts {
  /** Successful authorization_code grants. */
  authorization_code: number;
  /** Successful refresh_token grants. */
  refresh_token: number;
  /** Successful device_code grants (tokens issued). */
  device_code: number;
  /** Failed refresh_token grants (e.g. `invalid_grant` on reuse). */
  refreshErrors: number;
  /** Tokens actually revoked at the revocation endpoint (unknown tokens are not counted). */
  revocations: number;
  /** Token-endpoint requests answered (or held, for "hang") by an injected fault. */
  faults: number;
}

/** A fault that the token endpoint can be told to answer with. */
export type TokenFault = "500" | "html" | "truncated" | "hang";

/**
 * Rewrites a successful token-endpoint answer (its JSON body, a copy) before
 * it is sent: drop `expires_in`, swap in hostile token values, and so on.
 */
export type TokenResponseEdit = (body: Record<string, unknown>) => Record<string, unknown>;

/** A running sandbox identity provider (with OpenAI's device login emulated in front of it). */
export interface SandboxIdp extends CodexDeviceControls {
  /** Issuer URL, e.g. `http://127.0.0.1:43123` (no trailing slash). */
  issuer: string;
  /** The registered public client: `clawauth-test`. */
  clientId: string;
  /** Authorization endpoint. */
  authorizeUrl: string;
  /** Token endpoint. */
  tokenUrl: string;
  /** Revocation endpoint (RFC 7009). */
  revocationUrl: string;
  /** Device authorization endpoint (RFC 8628). */
  deviceAuthorizationUrl: string;
  /** OpenAI-style device login: user code, polling, verification page and the exchange's redirect. */
  deviceUserCodeUrl: string;
  deviceTokenUrl: string;
  deviceVerificationUrl: string;
  deviceRedirectUri: string;
  /** A snapshot of the grant counters. */
  counts(): SandboxIdpCounts;
  /**
   * Make the next `times` (default 1) token-endpoint answers faulty:
   * "500" (HTTP 500 JSON error), "html" (200 text/html page), "truncated"
   * (200 application/json with a cut-off body), "hang" (never answers until
   * close or until the client gives up). `null` clears any pending fault.
   * Other endpoints are never affected.
   */
  setTokenFault(fault: TokenFault | null, times?: number): void;
  /**
   * Rewrite every successful token-endpoint answer (all grants) with `edit`
   * until called again with `null`. The grant itself still happens (counts
   * move, refresh tokens rotate); only what the client receives changes.
   */
  setTokenResponseEdit(edit: TokenResponseEdit | null): void;
  /**
   * Given an authorize URL that clawauth built (pointing at this IdP),
   * perform the user's browser part headlessly with fetch + a fresh cookie
   * jar (devInteractions login form with any login, consent skipped) and
   * return the final redirect URL (the callback URL with code & state, or
   * with an OAuth error) WITHOUT fetching it. `login` picks the account:
   * the default one carries the configured `accountId`/`email`; any other
   * login `x` is a different account, `acct-x` / `x@example.test`.
   */
  approve(authorizeUrl: string, login?: string): Promise<string>;
  /** Approve a device-flow user code as the user would on the verification page. */
  approveDevice(userCode: string): Promise<void>;
  /** Stop listening, drop open connections (including hung requests). Idempotent. */
  close(): Promise<void>;
}

const CLIENT_ID = "clawauth-test";
const SCOPES = ["openid", "profile", "email", "offline_access"];
/** The login `approve()` uses unless told otherwise: the configured account. */
const DEFAULT_LOGIN = "sandbox-user";
const RESOURCE = "https://api.openai.com/v1";
const AUTH_CLAIM = "https://api.openai.com/auth";
const PROFILE_CLAIM = "https://api.openai.com/profile";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const ROUTES = {
  authorization: "/oauth/authorize",
  token: "/oauth/token",
  revocation: "/oauth/revoke",
  device_authorization: "/oauth/device/code",
  code_verification: "/device",
  jwks: "/jwks",
  end_session: "/session/end",
  introspection: "/oauth/introspect",
} as const;

// ---------------------------------------------------------------------------
// Loading oidc-provider quietly

type OidcModule = typeof OidcProviderModule;

/**
 * oidc-provider prints notices with console.info (stdout) and warnings with
 * console.warn. stdout is reserved, so its messages are filtered: the
 * expected ones for a development sandbox are dropped, anything else goes
 * to stderr once.
 */
const EXPECTED_MESSAGES = [
  "Unsupported runtime",
  "devInteractions is enabled",
];
const PROVIDER_MESSAGE = /oidc-provider (NOTICE|WARNING):/;
let consoleFiltered = false;
function filterProviderConsole(): void {
  if (consoleFiltered) return;
  consoleFiltered = true;
  const seen = new Set<string>();
  const wrap = (
    original: (...data: unknown[]) => void,
  ): (...data: unknown[]) => void =>
  (...data: unknown[]): void => {
    const first = data[0];
    if (typeof first === "string" && PROVIDER_MESSAGE.test(first)) {
      if (EXPECTED_MESSAGES.some((m) => first.includes(m))) return;
      if (seen.has(first)) return;
      seen.add(first);
      console.error(...data);
      return;
    }
    original.apply(console, data);
  };
  console.info = wrap(console.info);
  console.warn = wrap(console.warn);
}

let oidcModule: Promise<OidcModule> | undefined;
function loadOidcProvider(): Promise<OidcModule> {
  filterProviderConsole();
  // Imported lazily so that the filter is in place before oidc-provider's
  // import-time warning, and so importing this file stays cheap.
  oidcModule ??= import("oidc-provider") as Promise<OidcModule>;
  return oidcModule;
}

// ---------------------------------------------------------------------------
// Signing key (one per process: RSA key generation is the slow part)

interface SigningJwk {
  kty: string;
  kid: string;
  use: "sig";
  alg: "RS256";
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

let signingKey: Promise<SigningJwk> | undefined;
function getSigningKey(): Promise<SigningJwk> {
  signingKey ??= (async (): Promise<SigningJwk> => {
    const pair = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    );
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const part = (v: string | undefined): string => {
      if (!v) throw new Error("sandbox IdP: incomplete RSA JWK");
      return v;
    };
    return {
      kty: "RSA",
      kid: `sandbox-${crypto.randomUUID().slice(0, 8)}`,
      use: "sig",
      alg: "RS256",
      n: part(jwk.n),
      e: part(jwk.e),
      d: part(jwk.d),
      p: part(jwk.p),
      q: part(jwk.q),
      dp: part(jwk.dp),
      dq: part(jwk.dq),
      qi: part(jwk.qi),
    };
  })();
  return signingKey;
}

// ---------------------------------------------------------------------------
// Unbounded in-memory adapter (oidc-provider's dev adapter is an LRU of ~1000)

interface StoredEntry {
  payload: AdapterPayload;
  expiresAt: number | undefined; // epoch ms
}

function mapAdapterFactory(): AdapterFactory {
  const entries = new Map<string, StoredEntry>();
  const byGrant = new Map<string, Set<string>>();
  const byUserCode = new Map<string, string>();
  const byUid = new Map<string, string>();
  let writes = 0;

  const live = (key: string | undefined): AdapterPayload | undefined => {
    if (key === undefined) return undefined;
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  const sweep = (): void => {
    const now = Date.now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
        entries.delete(key);
      }
    }
    for (const [grantId, keys] of byGrant) {
      for (const key of keys) if (!entries.has(key)) keys.delete(key);
      if (keys.size === 0) byGrant.delete(grantId);
    }
    for (const index of [byUserCode, byUid]) {
      for (const [k, key] of index) if (!entries.has(key)) index.delete(k);
    }
  };

  return (name: string): Adapter => {
    const keyFor = (id: string): string => `${name}:${id}`;
    return {
      upsert(id, payload, expiresIn): Promise<void> {
        const key = keyFor(id);
        entries.set(key, {
          payload: { ...payload },
          expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
        });
        if (payload.grantId) {
          let keys = byGrant.get(payload.grantId);
          if (!keys) byGrant.set(payload.grantId, keys = new Set());
          keys.add(key);
        }
        if (payload.userCode) byUserCode.set(payload.userCode, key);
        if (payload.uid) byUid.set(payload.uid, key);
        if (++writes % 5000 === 0) sweep();
        return Promise.resolve();
      },
      find(id): Promise<AdapterPayload | undefined> {
        return Promise.resolve(live(keyFor(id)));
      },
      findByUserCode(userCode): Promise<AdapterPayload | undefined> {
        return Promise.resolve(live(byUserCode.get(userCode)));
      },
      findByUid(uid): Promise<AdapterPayload | undefined> {
        return Promise.resolve(live(byUid.get(uid)));
      },
      consume(id): Promise<void> {
        const payload = live(keyFor(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy(id): Promise<void> {
        entries.delete(keyFor(id));
        return Promise.resolve();
      },
      revokeByGrantId(grantId): Promise<void> {
        for (const key of byGrant.get(grantId) ?? []) entries.delete(key);
        byGrant.delete(grantId);
        return Promise.resolve();
      },
    };
  };
}

// ---------------------------------------------------------------------------
// Minimal pages (replace oidc-provider's defaults, which load web fonts and
// print "you SHOULD change it" notices)

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${
    escapeHtml(title)
  }</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

// ---------------------------------------------------------------------------
// A tiny headless "browser": fetch + cookie jar + HTML form submission

class CookieJar {
  #cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expired = value === "";
      for (const attribute of attributes) {
        const [k, v = ""] = attribute.split("=", 2).map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === "max-age" && Number(v) <= 0) expired = true;
        if (key === "expires" && Date.parse(v) <= Date.now()) expired = true;
      }
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

interface HtmlForm {
  action: string;
  fields: Map<string, string>;
  /** Names of visible inputs that have no value (text/password). */
  empty: string[];
}

function decodeEntities(s: string): string {
  return s
    .replace(
      /&#x([0-9a-f]+);/gi,
      (_, h: string) => String.fromCodePoint(parseInt(h, 16)),
    )
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*"([^"]*)"/g)) {
    out.set(m[1].toLowerCase(), decodeEntities(m[2]));
  }
  return out;
}

function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1]);
    const fields = new Map<string, string>();
    const empty: string[] = [];
    for (const input of m[2].matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]);
      const name = a.get("name");
      if (!name) continue;
      const value = a.get("value");
      if (value !== undefined) fields.set(name, value);
      else if (a.get("type") !== "hidden") empty.push(name);
    }
    forms.push({ action: attrs.get("action") ?? "", fields, empty });
  }
  return forms;
}

type BrowseResult =
  | { kind: "redirect"; url: string }
  | { kind: "page"; html: string };

/**
 * Follow redirects and submit forms within `origin` until a redirect leaves
 * it (returned unfetched) or a page without a form is reached.
 */
async function browse(
  origin: string,
  start: string,
  login: string,
): Promise<BrowseResult> {
  const jar = new CookieJar();
  let url = new URL(start);
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 30; step++) {
    if (url.origin !== origin) {
      throw new Error(
        `sandbox IdP: refusing to fetch ${url.origin} (not ${origin})`,
      );
    }
    const headers = new Headers({ accept: "text/html" });
    const cookie = jar.header();
    if (cookie) headers.set("cookie", cookie);
    const res = await fetch(url, {
      method: body ? "POST" : "GET",
      body,
      headers,
      redirect: "manual",
    });
    jar.store(res);
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = res.headers.get("location");
      if (!location) {
        throw new Error(
          `sandbox IdP: ${res.status} without Location at ${url}`,
        );
      }
      const next = new URL(location, url);
      if (next.origin !== origin) return { kind: "redirect", url: next.href };
      url = next;
      body = undefined;
      continue;
    }
    const html = await res.text();
    const errorText = /<p id="sandbox-error">([\s\S]*?)<\/p>/.exec(html);
    if (!res.ok || errorText) {
      const detail = errorText?.[1] ??
        html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim().slice(0, 300);
      throw new Error(
        `sandbox IdP: ${url.pathname} answered ${res.status}: ${decodeEntities(detail)}`,
      );
    }
    const [form] = parseForms(html);
    if (!form) return { kind: "page", html };
    const fields = new URLSearchParams([...form.fields]);
    for (const name of form.empty) {
      if (name === "login") fields.set("login", login);
      else if (name === "password") fields.set("password", "sandbox");
      else {throw new Error(
          `sandbox IdP: unexpected form field "${name}" at ${url.pathname}`,
        );}
    }
    url = new URL(form.action || url.href, url);
    body = fields;
  }
  throw new Error("sandbox IdP: too many steps in the browser flow");
}

// ---------------------------------------------------------------------------
// The provider

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
    body: page(
      "Service temporarily unavailable",
      "<p>Please try again later.</p>",
    ),
  },
  truncated: {
    status: 200,
    type: "application/json",
    body: '{"access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3Mi',
  },
};

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `sandbox IdP: ${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}

/**
 * Start a sandbox identity provider on 127.0.0.1.
 *
 * Needs `--allow-net=127.0.0.1` and `--allow-env` (oidc-provider's
 * dependencies read environment variables such as NODE_ENV and DEBUG).
 */
export async function startSandboxIdp(
  opts: SandboxIdpOptions = {},
): Promise<SandboxIdp> {
  const port = opts.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`sandbox IdP: invalid port ${port}`);
  }
  const ttl = positiveInt("accessTokenTtlSec", opts.accessTokenTtlSec ?? 3600);
  const deviceInterval = positiveInt(
    "deviceIntervalSec",
    opts.deviceIntervalSec ?? 1,
  );
  const chatgptAccountId = opts.accountId ?? "acct-sandbox-1";
  const email = opts.email ?? "dev@example.test";

  const [{ Provider, interactionPolicy, errors }, jwk] = await Promise.all([
    loadOidcProvider(),
    getSigningKey(),
  ]);

  // Listen first (the issuer needs the port), dispatch once the provider exists.
  const router: {
    dispatch?: (req: IncomingMessage, res: ServerResponse) => void;
  } = {};
  const server: Server = createServer((req, res) => {
    if (router.dispatch) router.dispatch(req, res);
    else {
      res.statusCode = 503;
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address: string | AddressInfo | null = server.address();
  if (address === null || typeof address === "string") {
    server.close();
    throw new Error("sandbox IdP: server has no TCP address");
  }
  const issuer = `http://127.0.0.1:${address.port}`;

  const counts: SandboxIdpCounts = {
    authorization_code: 0,
    refresh_token: 0,
    device_code: 0,
    refreshErrors: 0,
    revocations: 0,
    faults: 0,
  };

  const policy = interactionPolicy.base();
  // Native clients are asked for consent on every authorization by default;
  // the sandbox user has always consented (see loadExistingGrant).
  policy.get("consent")?.checks.remove("native_client_prompt");

  // The default login is the configured account; any other login is another account.
  const accountOf = (sub: string | undefined) =>
    sub === undefined || sub === DEFAULT_LOGIN
      ? { accountId: chatgptAccountId, email }
      : { accountId: `acct-${sub}`, email: `${sub}@example.test` };
  const findAccount = (_ctx: KoaContextWithOIDC, sub: string): Account => ({
    accountId: sub,
    claims: () => ({
      sub,
      email: accountOf(sub).email,
      email_verified: true,
      name: "Sandbox Developer",
      [AUTH_CLAIM]: { chatgpt_account_id: accountOf(sub).accountId },
    }),
  });

  const resourceServer: ResourceServer = {
    scope: SCOPES.join(" "),
    audience: RESOURCE,
    accessTokenTTL: ttl,
    accessTokenFormat: "jwt",
    jwt: { sign: { alg: "RS256" } },
  };

  const configuration: Configuration = {
    adapter: mapAdapterFactory(),
    jwks: { keys: [jwk] },
    cookies: {
      keys: [crypto.randomUUID(), crypto.randomUUID()],
    },
    routes: ROUTES,
    clients: [{
      client_id: CLIENT_ID,
      client_name: "clawauth (sandbox)",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT],
      response_types: ["code"],
      redirect_uris: [
        "http://localhost:1455/auth/callback",
        "http://127.0.0.1:1455/auth/callback",
        "http://localhost/callback",
        "http://127.0.0.1/callback",
        issuer + CODEX_DEVICE_ROUTES.callback,
      ],
    }],
    scopes: SCOPES,
    responseTypes: ["code"],
    claims: {
      openid: ["sub", AUTH_CLAIM],
      email: ["email", "email_verified"],
      profile: ["name"],
    },
    // Put scope claims (email, account) into the id_token of the code flow.
    conformIdTokenClaims: false,
    extraParams: [
      "id_token_add_organizations",
      "codex_cli_simplified_flow",
      "originator",
    ],
    pkce: { required: () => true },
    findAccount,
    interactions: { policy },
    loadExistingGrant: async (ctx) => {
      const { provider, session, client } = ctx.oidc;
      const clientId = client?.clientId ?? CLIENT_ID;
      const grantId = ctx.oidc.result?.consent?.grantId ??
        session?.grantIdFor(clientId);
      if (grantId) {
        const existing = await provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new provider.Grant({
        clientId,
        accountId: session?.accountId,
      });
      grant.addOIDCScope(SCOPES.join(" "));
      grant.addOIDCClaims(["email", "email_verified", "name", AUTH_CLAIM]);
      grant.addResourceScope(RESOURCE, SCOPES.join(" "));
      await grant.save();
      return grant;
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: () => true,
    expiresWithSession: () => false,
    extraTokenClaims: (_ctx, token) => {
      const account = accountOf((token as { accountId?: string }).accountId);
      return {
        [AUTH_CLAIM]: { chatgpt_account_id: account.accountId },
        [PROFILE_CLAIM]: { email: account.email, email_verified: true },
      };
    },
    ttl: {
      AccessToken: ttl,
      AuthorizationCode: 600,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 365 * 24 * 3600,
    },
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = page(
        "Error",
        `<p id="sandbox-error">${escapeHtml(`${out.error}: ${out.error_description ?? ""}`)}</p>`,
      );
    },
    features: {
      devInteractions: { enabled: true },
      // UserInfo would only accept opaque tokens without an audience; every
      // access token here is a JWT for RESOURCE, so the endpoint is off.
      userinfo: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => {
          if (token.clientId !== client.clientId) return false;
          counts.revocations++;
          return true;
        },
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, out, err) => {
          const error = err || out
            ? `<p id="sandbox-error">${
              escapeHtml(
                `user code rejected: ${out?.error ?? "error"}: ${
                  out?.error_description ?? String(err)
                }`,
              )
            }</p>`
            : "";
          ctx.body = page("Enter code", `${error}${form}`);
        },
        userCodeConfirmSource: (ctx, form, _client, _deviceInfo, userCode) => {
          ctx.body = page(
            "Confirm device",
            `<p>${escapeHtml(userCode)}</p>${form}`,
          );
        },
        successSource: (ctx) => {
          ctx.body = page(
            "Sign-in Success",
            '<p id="sandbox-device-success">ok</p>',
          );
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return resourceServer;
        },
      },
    },
  };

  let provider: InstanceType<typeof Provider>;
  try {
    provider = new Provider(issuer, configuration);
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }

  provider.on("grant.success", (ctx: KoaContextWithOIDC) => {
    switch (ctx.oidc.params?.grant_type) {
      case "authorization_code":
        counts.authorization_code++;
        break;
      case "refresh_token":
        counts.refresh_token++;
        break;
      case DEVICE_GRANT:
        counts.device_code++;
        break;
    }
  });
  provider.on("grant.error", (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc?.params?.grant_type === "refresh_token") {
      counts.refreshErrors++;
    }
  });
  provider.on("server_error", (_ctx: KoaContextWithOIDC, err: unknown) => {
    console.error("sandbox IdP: server_error:", err);
  });
  // RFC 8628 interval (oidc-provider omits it, so clients would wait 5 s).
  provider.use(async (ctx, next) => {
    await next();
    if (
      ctx.oidc?.route === "device_authorization" && ctx.status === 200 &&
      typeof ctx.body === "object" && ctx.body !== null
    ) {
      ctx.body = { ...ctx.body, interval: deviceInterval };
    }
  });

  let tokenEdit: TokenResponseEdit | null = null;
  provider.use(async (ctx, next) => {
    await next();
    if (
      tokenEdit && ctx.oidc?.route === "token" && ctx.status === 200 &&
      typeof ctx.body === "object" && ctx.body !== null
    ) {
      ctx.body = tokenEdit({ ...(ctx.body as Record<string, unknown>) });
    }
  });

  const handler = provider.callback();
  let fault: TokenFault | null = null;
  let faultTimes = 0;
  const hung = new Set<ServerResponse>();

  const codexDevice = codexDeviceEmulator(
    issuer,
    CLIENT_ID,
    deviceInterval,
    (url, login = DEFAULT_LOGIN) => browse(new URL(issuer).origin, url, login),
  );

  router.dispatch = (req, res) => {
    if (codexDevice.handle(req, res)) return;
    const path = (req.url ?? "/").split("?", 1)[0];
    if (
      fault && faultTimes > 0 && req.method === "POST" && path === ROUTES.token
    ) {
      const current = fault;
      if (--faultTimes === 0) fault = null;
      counts.faults++;
      req.resume(); // drain the request body
      if (current === "hang") {
        hung.add(res);
        res.on("close", () => hung.delete(res));
        return;
      }
      const { status, type, body } = FAULT_BODIES[current];
      res.writeHead(status, {
        "content-type": type,
        "content-length": String(new TextEncoder().encode(body).length),
        "cache-control": "no-store",
      });
      res.end(body);
      return;
    }
    void handler(req, res);
  };

  let closing: Promise<void> | undefined;

  return {
    issuer,
    clientId: CLIENT_ID,
    authorizeUrl: issuer + ROUTES.authorization,
    tokenUrl: issuer + ROUTES.token,
    revocationUrl: issuer + ROUTES.revocation,
    deviceAuthorizationUrl: issuer + ROUTES.device_authorization,
    deviceUserCodeUrl: issuer + CODEX_DEVICE_ROUTES.userCode,
    deviceTokenUrl: issuer + CODEX_DEVICE_ROUTES.token,
    deviceVerificationUrl: issuer + CODEX_DEVICE_ROUTES.verification,
    deviceRedirectUri: issuer + CODEX_DEVICE_ROUTES.callback,
    approveCodexDevice: codexDevice.approveCodexDevice,
    denyCodexDevice: codexDevice.denyCodexDevice,
    expireCodexDevice: codexDevice.expireCodexDevice,
    scriptCodexPolls: codexDevice.scriptCodexPolls,
    codexPolls: codexDevice.codexPolls,
    counts: () => ({ ...counts }),
    setTokenFault(next, times = 1): void {
      if (next === null) {
        fault = null;
        faultTimes = 0;
        return;
      }
      if (!(next in FAULT_BODIES) && next !== "hang") {
        throw new TypeError(`sandbox IdP: unknown fault ${String(next)}`);
      }
      if (times !== Infinity) positiveInt("times", times);
      fault = next;
      faultTimes = times;
    },
    setTokenResponseEdit(edit): void {
      tokenEdit = edit;
    },
    async approve(authorizeUrl, login = DEFAULT_LOGIN): Promise<string> {
      const result = await browse(new URL(issuer).origin, authorizeUrl, login);
      if (result.kind !== "redirect") {
        throw new Error(
          "sandbox IdP: the authorization flow ended without a redirect to the client",
        );
      }
      return result.url;
    },
    async approveDevice(userCode): Promise<void> {
      const start = new URL(issuer + ROUTES.code_verification);
      start.searchParams.set("user_code", userCode);
      const result = await browse(
        new URL(issuer).origin,
        start.href,
        DEFAULT_LOGIN,
      );
      if (
        result.kind !== "page" ||
        !result.html.includes("sandbox-device-success")
      ) {
        throw new Error(
          `sandbox IdP: device approval did not succeed (${
            result.kind === "redirect" ? `redirected to ${result.url}` : "unexpected page"
          })`,
        );
      }
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        fault = null;
        for (const res of hung) res.destroy();
        hung.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------
// Script mode

const USAGE = "usage: sandbox_idp.ts [--port N] [--ttl SEC]";

/** Parses `--port N` / `--ttl SEC`; undefined on any other argument. */
function parseArgs(
  args: string[],
): { port?: number; ttl?: number } | undefined {
  const out: { port?: number; ttl?: number } = {};
  for (let i = 0; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (args[i + 1] === undefined || !Number.isSafeInteger(value)) {
      return undefined;
    }
    if (args[i] === "--port") out.port = value;
    else if (args[i] === "--ttl") out.ttl = value;
    else return undefined;
  }
  return out;
}

async function main(args: string[]): Promise<void> {
  const parsed = parseArgs(args);
  if (!parsed) {
    console.error(USAGE);
    Deno.exit(2);
  }
  const idp = await startSandboxIdp({
    port: parsed.port,
    accessTokenTtlSec: parsed.ttl,
  });
  const {
    issuer,
    clientId,
    authorizeUrl,
    tokenUrl,
    revocationUrl,
    deviceAuthorizationUrl,
  } = idp;
  console.log(JSON.stringify({
    issuer,
    clientId,
    authorizeUrl,
    tokenUrl,
    revocationUrl,
    deviceAuthorizationUrl,
  }));
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGINT", resolve);
    Deno.addSignalListener("SIGTERM", resolve);
  });
  await idp.close();
  Deno.exit(0);
}

if (import.meta.main) {
  await main(Deno.args);
}

/**
 * The `clawauth.json` provider entry (SPEC §3 overrides) that points a
 * provider at this sandbox, with the given redirect URI. `openaiDevice` adds
 * the OpenAI device-login endpoints, which then take precedence over RFC 8628
 * (openai-codex has them built in, so its entry must point them here too).
 */
export function providerOverride(
  idp: SandboxIdp,
  redirectUri: string,
  openaiDevice = false,
): Record<string, string> {
  return {
    issuer: idp.issuer,
    authorizeUrl: idp.authorizeUrl,
    tokenUrl: idp.tokenUrl,
    revocationUrl: idp.revocationUrl,
    deviceAuthorizationUrl: idp.deviceAuthorizationUrl,
    ...(openaiDevice
      ? {
        deviceUserCodeUrl: idp.deviceUserCodeUrl,
        deviceTokenUrl: idp.deviceTokenUrl,
        deviceVerificationUrl: idp.deviceVerificationUrl,
        deviceRedirectUri: idp.deviceRedirectUri,
      }
      : {}),
    clientId: idp.clientId,
    redirectUri,
  };
}
