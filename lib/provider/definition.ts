/**
 * The shape of a provider definition. Providers are data (`providers/`);
 * behaviour that truly differs is a small named hook on the definition.
 *
 * @module
 */

import type { ProfileType } from "../profiles.ts";

/**
 * OAuth endpoints and client settings. The names are those `clawauth.json`
 * overrides use (docs/providers.md#clawauthjson), so an override is a plain merge.
 */
export interface OAuthSettings {
  /** Issuer identifier; enables discovery when endpoints are not given. */
  issuer?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  /** RFC 8628 device authorization endpoint. */
  deviceAuthorizationUrl?: string;
  /** OpenAI's device login (Codex CLI's): where a user code is requested. */
  deviceUserCodeUrl?: string;
  /** OpenAI's device login: polled until it hands out an authorization code. */
  deviceTokenUrl?: string;
  /** OpenAI's device login: the page where the person enters the code. */
  deviceVerificationUrl?: string;
  /** OpenAI's device login: the redirect URI the code exchange names. */
  deviceRedirectUri?: string;
  clientId?: string;
  /** Space-separated scopes. */
  scopes?: string;
  /** Where the browser returns; its host and port are where the listener binds. */
  redirectUri?: string;
  /** Extra authorize parameters a provider expects (e.g. Codex CLI's). */
  extraAuthorizeParams?: Record<string, string>;
  /** Path of the account id inside the access token's JWT payload. */
  accountIdClaim?: readonly string[];
  /** Paths of the account e-mail and id inside the token response (e.g. Anthropic's `account`). */
  accountFromResponse?: { email?: readonly string[]; accountId?: readonly string[] };
  /** How to log in when no flag says otherwise: PKCE in a browser, or the device flow. */
  defaultFlow?: "pkce" | "device";
  /** Token requests as JSON instead of a form (Anthropic's token endpoint). */
  tokenEncoding?: "form" | "json";
  /** The code exchange also carries `state` (Anthropic's token endpoint wants it). */
  exchangeSendsState?: boolean;
  /** The provider answers OAuth errors with HTTP 200 (GitHub's device flow). */
  errorsWithStatus200?: boolean;
}

/** The override names `clawauth.json` may set for a provider (docs/providers.md#clawauthjson). */
export const OVERRIDE_KEYS = [
  "issuer",
  "authorizeUrl",
  "tokenUrl",
  "revocationUrl",
  "deviceAuthorizationUrl",
  "deviceUserCodeUrl",
  "deviceTokenUrl",
  "deviceVerificationUrl",
  "deviceRedirectUri",
  "clientId",
  "scopes",
  "redirectUri",
] as const;

/** How a profile's secret is sent upstream by the proxy (`clawauth proxy`). */
export interface ApiAuth {
  /** `bearer`: `Authorization: Bearer <secret>`; `x-api-key`: the secret as `x-api-key`. */
  scheme: "bearer" | "x-api-key";
  /** Flags added to a comma-separated header the client may already send (e.g. `anthropic-beta`). */
  appendHeaders?: Readonly<Record<string, string>>;
  /** Headers whose value is a field of the stored profile (e.g. `chatgpt-account-id` ← `accountId`). */
  profileHeaders?: Readonly<Record<string, string>>;
}

/** The HTTP API a provider's credentials are for, as the proxy serves it. */
export interface ApiDefinition {
  /** The proxy's path prefix: `/<route>/…`. */
  route: string;
  /** Where `/<route>/<rest>` goes: `<baseUrl>/<rest>`; `apiBaseUrl` in clawauth.json overrides it. */
  baseUrl: string;
  /** How each credential type is sent; a type not listed never serves this API. */
  auth: Partial<Record<ProfileType, ApiAuth>>;
  /** The error body shape clients of this API read: Anthropic's or OpenAI's. */
  errors: "anthropic" | "openai";
}

/** One provider: how to recognise, log into and hand out its credentials. */
export interface ProviderDefinition {
  /** Provider id as it appears in profile ids, e.g. `openai-codex`. */
  id: string;
  /** Human name. */
  name: string;
  /** How a user gets a credential: OAuth `login`, `setup-token`, or `paste`. */
  login: "oauth" | "setup-token" | "paste";
  /** Environment variable `exec` sets, per credential type. */
  env: Partial<Record<ProfileType, string>>;
  /** Known secret prefixes, per type, used only for warnings when pasting. */
  prefixes?: Partial<Record<ProfileType, string[]>>;
  /** The credential types `paste-token` may store for this provider. */
  pasteTypes?: ProfileType[];
  /** OAuth settings, for providers that log in with OAuth. */
  oauth?: OAuthSettings;
  /**
   * How OpenClaw ≥ 2026.9 names this provider's credentials when it differs:
   * a Codex (ChatGPT) login is provider `openai`, type `oauth` there.
   */
  storedAs?: { provider: string; type: ProfileType };
  /** The API its credentials call, for `clawauth proxy`. */
  api?: ApiDefinition;
}
