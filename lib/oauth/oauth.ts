/**
 * The OAuth protocol steps clawauth composes (RFC 6749, RFC 7636 PKCE,
 * RFC 8628, RFC 7009), all through oauth4webapi, plus the one place where its
 * errors become {@linkcode ClawauthError}s. Loaded only by login and refresh.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { isObject } from "../json.ts";
import { durationSettingMs } from "../duration.ts";
import { jwtClaims } from "./jwt.ts";
import { endpointProblem } from "./endpoints.ts";
import { lockTimeoutMs } from "../store/lock.ts";
import { safeText, stripUnsafe } from "../output/output.ts";
import type { OAuthSettings, ProviderDefinition } from "../provider.ts";

/** Ten years: an `expires_in` beyond this is a provider bug, not a credential. */
const MAX_EXPIRES_IN_S = 10 * 365 * 86_400;

/**
 * The lifetime assumed for an access token when the provider's answer has no
 * `expires_in` (RFC 6749 §5.1 makes it optional) and the token is not a JWT
 * with an `exp` claim: one hour. Without it the old, past expiry would stay
 * and every `token` call would refresh (and rotate the refresh token) again.
 */
export const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60_000;

/**
 * Default of `CLAWAUTH_HTTP_TIMEOUT`: 20 s, clearly below the 30 s default
 * lock wait, because a refresh makes its request while holding the store
 * lock that queued writers wait for.
 */
export const HTTP_TIMEOUT_DEFAULT_MS = 20_000;

/** The largest `CLAWAUTH_HTTP_TIMEOUT` honoured (10 min); larger values are capped to it. */
export const HTTP_TIMEOUT_MAX_MS = 10 * 60_000;

/**
 * The longest access or refresh token accepted: 16 KiB. JWT access tokens
 * with many claims run to several KB; a longer value is an attack or a bug.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** The longest account id or e-mail kept from a provider's answer. */
export const MAX_CLAIM_LENGTH = 256;

/** RFC 6749 appendix A: access_token and refresh_token are 1*VSCHAR (%x20-7E). */
const VSCHAR_TOKEN = new RegExp(`^[\\x20-\\x7e]{1,${MAX_TOKEN_LENGTH}}$`);

/** A provider's authorization server and client, ready for oauth4webapi. */
export interface OAuthTarget {
  providerId: string;
  settings: OAuthSettings;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  options: oauth.TokenEndpointRequestOptions;
}

/** Fresh credentials from a token response. */
export interface TokenSet {
  access: string;
  refresh?: string;
  /** Epoch ms: from `expires_in`, else the JWT's `exp`, else {@linkcode DEFAULT_TOKEN_LIFETIME_MS}. */
  expires: number;
  accountId?: string;
  email?: string;
}

/**
 * How long one HTTP request to a provider may take: `CLAWAUTH_HTTP_TIMEOUT`
 * (seconds or a duration), default {@linkcode HTTP_TIMEOUT_DEFAULT_MS},
 * capped at {@linkcode HTTP_TIMEOUT_MAX_MS}; junk is exit 64.
 */
export function httpTimeoutMs(ctx: Context): number {
  return durationSettingMs("CLAWAUTH_HTTP_TIMEOUT", ctx.env("CLAWAUTH_HTTP_TIMEOUT"), {
    defaultMs: HTTP_TIMEOUT_DEFAULT_MS,
    maxMs: HTTP_TIMEOUT_MAX_MS,
  });
}

/** The shortest HTTP timeout {@linkcode httpTimeoutBelowLock} clamps to. */
const MIN_LOCKED_HTTP_MS = 1_000;

/**
 * An HTTP timeout for a request made while holding a lock that others wait
 * up to `lockWaitMs` for: at most two thirds of that wait (never under 1 s),
 * so one slow provider cannot make every queued writer time out.
 */
export function httpTimeoutBelowLock(httpMs: number, lockWaitMs: number): number {
  return Math.min(httpMs, Math.max(MIN_LOCKED_HTTP_MS, Math.floor(lockWaitMs * 2 / 3)));
}

/** The HTTP timeout of a refresh: {@linkcode httpTimeoutMs} clamped below the lock wait. */
export function refreshTimeoutMs(ctx: Context): number {
  return httpTimeoutBelowLock(httpTimeoutMs(ctx), lockTimeoutMs(ctx));
}

/** A provider endpoint as a URL, or exit 65 naming the setting when it is unusable (SPEC §3). */
export function endpoint(
  providerId: string,
  name: string,
  value: string | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  const problem = endpointProblem(value);
  if (problem) {
    throw new ClawauthError(
      `The ${name} of ${providerId} ${problem}.`,
      Exit.data,
      "Fix it in clawauth.json.",
    );
  }
  return new URL(value).href;
}

/** A provider answered with a redirect; clawauth never follows one (SPEC §3 endpoint rule). */
class RedirectRefused extends Error {
  /** The endpoint that answered, without its query. */
  readonly endpoint: string;
  /** The 3xx status (0 for an opaque redirect). */
  readonly status: number;

  /** Records which endpoint redirected. */
  constructor(endpoint: string, status: number) {
    super(`redirect from ${endpoint}`);
    this.endpoint = endpoint;
    this.status = status;
  }
}

function endpointName(input: RequestInfo | URL): string {
  const url = new URL(input instanceof Request ? input.url : String(input));
  return `${url.origin}${url.pathname}`;
}

/**
 * `fetch` for every provider request: redirects are never followed (a 307
 * would re-send the body, code, verifier or refresh token to wherever the
 * Location points) and a 3xx answer is a provider failure naming the endpoint.
 */
export async function providerFetch(
  input: RequestInfo | URL,
  init?: RequestInit,
): Promise<Response> {
  const response = await fetch(input, { ...init, redirect: "manual" });
  if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
    await response.body?.cancel().catch(() => {});
    throw new RedirectRefused(endpointName(input), response.status);
  }
  return response;
}

/**
 * The fetch oauth4webapi uses: {@linkcode providerFetch}, plus the quirks of
 * providers that bend OAuth: JSON token requests (Anthropic) and errors
 * answered with HTTP 200 (GitHub), turned back into what oauth4webapi's
 * checks expect.
 */
function guardedFetch(settings: OAuthSettings): typeof fetch {
  return async (input, init) => {
    let request = init;
    if (settings.tokenEncoding === "json" && init?.body instanceof URLSearchParams) {
      const headers = new Headers(init.headers);
      headers.set("content-type", "application/json");
      request = { ...init, headers, body: JSON.stringify(Object.fromEntries(init.body)) };
    }
    const response = await providerFetch(input, request);
    if (!settings.errorsWithStatus200 || response.status !== 200) return response;
    const body = await response.text();
    let error = false;
    try {
      const data: unknown = JSON.parse(body);
      error = isObject(data) && typeof data.error === "string";
    } catch {
      // Not JSON: leave the verdict to oauth4webapi.
    }
    return new Response(body, { status: error ? 400 : 200, headers: response.headers });
  };
}

/**
 * Builds the oauth4webapi view of a provider, discovering endpoints from its
 * issuer when needed. `opts.timeoutMs` bounds each request (default
 * {@linkcode httpTimeoutMs}; a refresh under the store lock passes
 * {@linkcode refreshTimeoutMs}).
 */
export async function oauthTarget(
  ctx: Context,
  provider: ProviderDefinition,
  opts: { timeoutMs?: number } = {},
): Promise<OAuthTarget> {
  const settings = provider.oauth;
  if (!settings?.clientId) {
    throw new ClawauthError(
      `Provider ${provider.id} has no OAuth client configured.`,
      Exit.data,
      `Declare it in clawauth.json: {"providers": {"${provider.id}": {"issuer": "…", "clientId": "…"}}}`,
    );
  }
  const timeout = opts.timeoutMs ?? httpTimeoutMs(ctx);
  const insecure = [settings.issuer, settings.tokenUrl, settings.authorizeUrl]
    .some((u) => u !== undefined && URL.canParse(u) && new URL(u).protocol === "http:");
  const options: oauth.TokenEndpointRequestOptions = {
    signal: () => AbortSignal.timeout(timeout),
    [oauth.allowInsecureRequests]: insecure,
    [oauth.customFetch]: guardedFetch(settings),
  };
  let as: oauth.AuthorizationServer;
  const incomplete = !settings.tokenUrl ||
    (!settings.authorizeUrl && !settings.deviceAuthorizationUrl);
  if (settings.issuer && incomplete) {
    const issuer = new URL(endpoint(provider.id, "issuer", settings.issuer)!);
    as = await protocolStep(
      provider.id,
      "discovery",
      async () =>
        oauth.processDiscoveryResponse(
          issuer,
          await oauth.discoveryRequest(issuer, {
            signal: options.signal,
            [oauth.allowInsecureRequests]: insecure,
            [oauth.customFetch]: guardedFetch(settings),
          }),
        ),
    );
  } else {
    as = {
      issuer: settings.issuer ??
        new URL(settings.tokenUrl ?? "https://invalid").origin,
    };
  }
  const pick = (
    name: string,
    own: string | undefined,
    discovered: string | undefined,
  ) => endpoint(provider.id, name, own ?? discovered);
  as = {
    ...as,
    authorization_endpoint: pick(
      "authorizeUrl",
      settings.authorizeUrl,
      as.authorization_endpoint,
    ),
    token_endpoint: pick("tokenUrl", settings.tokenUrl, as.token_endpoint),
    revocation_endpoint: pick(
      "revocationUrl",
      settings.revocationUrl,
      as.revocation_endpoint,
    ),
    device_authorization_endpoint: pick(
      "deviceAuthorizationUrl",
      settings.deviceAuthorizationUrl,
      as.device_authorization_endpoint,
    ),
  };
  return {
    providerId: provider.id,
    settings,
    as,
    client: { client_id: settings.clientId },
    options,
  };
}

/** Runs one protocol step, turning every failure into a user-facing error. */
export async function protocolStep<T>(
  providerId: string,
  step: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw describeError(providerId, step, error);
  }
}

/** Whether the provider rejected a refresh token for good (RFC 6749 §5.2). */
export function isRejectedGrant(error: unknown): boolean {
  return error instanceof ClawauthError && error.reason === "rejected_grant";
}

function describeError(
  providerId: string,
  step: string,
  error: unknown,
): ClawauthError {
  if (error instanceof ClawauthError) return error;
  if (error instanceof RedirectRefused) {
    return new ClawauthError(
      `${providerId} answered the ${step} with a redirect (HTTP ${error.status} from ${
        safeText(error.endpoint, 200)
      }), which clawauth does not follow.`,
      Exit.unavailable,
      "Nothing was sent to where it pointed; if the endpoint moved, set its new URL in clawauth.json.",
    );
  }
  if (error instanceof oauth.ResponseBodyError) {
    const detail = safeText(
      `${error.error}${error.error_description ? `: ${error.error_description}` : ""}`,
      200,
    );
    const invalidGrant = error.status < 500 &&
      ["invalid_grant", "refresh_token_reused", "refresh_token_expired"].includes(error.error);
    if (invalidGrant && step !== "token refresh") {
      // A code that expired or was used already: the pasted answer is unusable.
      return new ClawauthError(
        `${providerId} refused the ${step} (HTTP ${error.status}, ${detail}).`,
        Exit.data,
        "Codes are single-use and short-lived: start the login again.",
      );
    }
    return new ClawauthError(
      `${providerId} refused the ${step} (HTTP ${error.status}, ${detail}).`,
      invalidGrant ? Exit.noCredential : Exit.unavailable,
      invalidGrant ? undefined : "Check the provider settings, or retry later.",
      invalidGrant ? "rejected_grant" : undefined,
    );
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    const detail = safeText(
      `${error.error}${error.error_description ? `: ${error.error_description}` : ""}`,
      200,
    );
    return new ClawauthError(
      `${providerId} ended the login with an error (${detail}).`,
      Exit.failure,
      "Start the login again.",
    );
  }
  if (
    error instanceof DOMException &&
    (error.name === "TimeoutError" || error.name === "AbortError")
  ) {
    return new ClawauthError(
      `${providerId} did not answer the ${step} in time.`,
      Exit.unavailable,
      "Retry later, or raise CLAWAUTH_HTTP_TIMEOUT.",
      "no_answer",
    );
  }
  if (
    error instanceof oauth.OperationProcessingError ||
    error instanceof oauth.UnsupportedOperationError
  ) {
    return new ClawauthError(
      `${providerId} gave an unusable answer to the ${step} (${safeText(error.message, 160)}).`,
      Exit.unavailable,
      "The provider may be down; retry later.",
    );
  }
  if (error instanceof TypeError) {
    return new ClawauthError(
      `Could not reach ${providerId} for the ${step} (${safeText(error.message, 160)}).`,
      Exit.unavailable,
      "Check the network connection, then retry.",
    );
  }
  return new ClawauthError(
    `The ${step} with ${providerId} failed (${
      safeText(error instanceof Error ? error.message : String(error), 160)
    }).`,
    Exit.unavailable,
    "Retry later; set CLAWAUTH_DEBUG=1 for details.",
  );
}

/** A fresh PKCE verifier (32 random bytes), its S256 challenge, and a random state. */
export async function newPkce(): Promise<
  { verifier: string; challenge: string; state: string }
> {
  const verifier = oauth.generateRandomCodeVerifier();
  return {
    verifier,
    challenge: await oauth.calculatePKCECodeChallenge(verifier),
    state: oauth.generateRandomState(),
  };
}

/** The authorize URL the person opens (RFC 6749 §4.1.1 with RFC 7636). */
export function authorizeUrl(
  target: OAuthTarget,
  request: { redirectUri: string; challenge: string; state: string },
): string {
  const base = target.as.authorization_endpoint;
  if (!base) {
    throw new ClawauthError(
      `Provider ${target.providerId} has no authorize URL.`,
      Exit.data,
      "Set authorizeUrl in clawauth.json.",
    );
  }
  const url = new URL(base);
  const params: Record<string, string> = {
    response_type: "code",
    client_id: target.client.client_id,
    redirect_uri: request.redirectUri,
    scope: target.settings.scopes ?? "openid",
    code_challenge: request.challenge,
    code_challenge_method: "S256",
    state: request.state,
    ...target.settings.extraAuthorizeParams,
  };
  for (const [key, value] of Object.entries(params)) {
    url.searchParams.set(key, value);
  }
  return url.href;
}

function claimAt(payload: unknown, path: readonly string[]): string | undefined {
  let value: unknown = payload;
  for (const key of path) {
    value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
  }
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * A token the provider sent, checked before anything stores or prints it:
 * 1 to {@linkcode MAX_TOKEN_LENGTH} characters of VSCHAR (RFC 6749
 * appendix A). A violation is a provider failure; the value is never quoted.
 */
function checkedToken(target: OAuthTarget, step: string, name: string, value: unknown): string {
  if (typeof value === "string" && VSCHAR_TOKEN.test(value)) return value;
  const why = typeof value !== "string"
    ? "is not a string"
    : value.length > MAX_TOKEN_LENGTH
    ? `is longer than ${MAX_TOKEN_LENGTH / 1024} KiB`
    : value === ""
    ? "is empty"
    : "holds characters no OAuth token may contain (controls or non-ASCII)";
  return unusableAnswer(target, step, `its ${name} ${why}`);
}

function unusableAnswer(target: OAuthTarget, step: string, why: string): never {
  throw new ClawauthError(
    `${target.providerId} gave an unusable answer to the ${step}: ${why}; nothing was stored.`,
    Exit.unavailable,
    "The provider may be misbehaving; retry later, or check the provider settings in clawauth.json.",
  );
}

/**
 * An account id or e-mail from a provider, fit to store and print: control,
 * bidi and invisible formatting characters removed; dropped when empty or
 * longer than {@linkcode MAX_CLAIM_LENGTH} (a cut value could name someone else).
 */
export function cleanClaim(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = stripUnsafe(value).trim();
  return trimmed !== "" && trimmed.length <= MAX_CLAIM_LENGTH ? trimmed : undefined;
}

/**
 * When the access token expires: `expires_in` when given; else the access
 * token's JWT `exp` when it is a JWT whose `exp` lies ahead; else
 * {@linkcode DEFAULT_TOKEN_LIFETIME_MS} from now.
 */
function expiryOf(access: string, expiresIn: number | undefined, now: number): number {
  if (expiresIn !== undefined) return now + expiresIn * 1000;
  const exp = jwtClaims(access)?.exp;
  if (
    typeof exp === "number" && Number.isFinite(exp) && exp * 1000 > now &&
    exp * 1000 <= now + MAX_EXPIRES_IN_S * 1000
  ) {
    return Math.floor(exp * 1000);
  }
  return now + DEFAULT_TOKEN_LIFETIME_MS;
}

/** The credential fields of a token response (RFC 6749 §5.1), checked. */
export function tokenSet(
  target: OAuthTarget,
  response: oauth.TokenEndpointResponse,
  now: number,
  step = "token request",
): TokenSet {
  const access = checkedToken(target, step, "access_token", response.access_token);
  const refresh = response.refresh_token === undefined || response.refresh_token === ""
    ? undefined
    : checkedToken(target, step, "refresh_token", response.refresh_token);
  const expiresIn = response.expires_in;
  if (
    expiresIn !== undefined &&
    (!(expiresIn > 0) || expiresIn > MAX_EXPIRES_IN_S)
  ) {
    unusableAnswer(target, step, `its expires_in (${safeText(String(expiresIn), 40)}) is unusable`);
  }
  const claims = oauth.getValidatedIdTokenClaims(response);
  const { accountIdClaim, accountFromResponse: fromBody } = target.settings;
  const accountId = cleanClaim(
    (accountIdClaim && claimAt(jwtClaims(access), accountIdClaim)) ||
      (fromBody?.accountId && claimAt(response, fromBody.accountId)) || undefined,
  );
  const email = cleanClaim(
    (typeof claims?.email === "string" && claims.email !== "" ? claims.email : undefined) ||
      (fromBody?.email && claimAt(response, fromBody.email)) || undefined,
  );
  return {
    access,
    ...(refresh ? { refresh } : {}),
    expires: expiryOf(access, expiresIn, now),
    ...(accountId ? { accountId } : {}),
    ...(email ? { email } : {}),
  };
}

/** Exchanges an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export function exchangeCode(
  ctx: Context,
  target: OAuthTarget,
  callback: URLSearchParams,
  redirectUri: string,
  verifier: string,
): Promise<TokenSet> {
  return protocolStep(target.providerId, "code exchange", async () => {
    const params = oauth.validateAuthResponse(
      target.as,
      target.client,
      callback,
      oauth.skipStateCheck,
    );
    const state = callback.get("state");
    const response = await oauth.authorizationCodeGrantRequest(
      target.as,
      target.client,
      oauth.None(),
      params,
      redirectUri,
      verifier,
      target.settings.exchangeSendsState && state
        ? { ...target.options, additionalParameters: { state } }
        : target.options,
    );
    return tokenSet(
      target,
      await oauth.processAuthorizationCodeResponse(
        target.as,
        target.client,
        response,
      ),
      ctx.now(),
      "code exchange",
    );
  });
}

/**
 * Uses a refresh token (RFC 6749 §6). The request is bounded by
 * `timeoutMs`, by default {@linkcode refreshTimeoutMs}: the caller holds the
 * store lock, and writers queued behind it must not time out first.
 */
export function refreshTokens(
  ctx: Context,
  target: OAuthTarget,
  refresh: string,
  timeoutMs?: number,
): Promise<TokenSet> {
  return protocolStep(target.providerId, "token refresh", async () => {
    const timeout = timeoutMs ?? refreshTimeoutMs(ctx);
    const response = await oauth.refreshTokenGrantRequest(
      target.as,
      target.client,
      oauth.None(),
      refresh,
      { ...target.options, signal: () => AbortSignal.timeout(timeout) },
    );
    return tokenSet(
      target,
      await oauth.processRefreshTokenResponse(
        target.as,
        target.client,
        response,
      ),
      ctx.now(),
      "token refresh",
    );
  });
}

/** What the person must do to approve a device login (RFC 8628 §3.2). */
export interface DevicePrompt {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresIn: number;
}

/** A user code short and plain enough to show on a terminal line. */
const USER_CODE = /^[\x21-\x7e]{1,64}$/;
/** Polling faster than every second, or slower than every minute, is not a real server's ask. */
const MAX_DEVICE_INTERVAL_S = 60;
/** RFC 8628 servers give 5-30 minutes; longer is capped. */
const MAX_DEVICE_EXPIRES_IN_S = 60 * 60;

/** The page a device login sends the person to, when it is an acceptable endpoint. */
function verificationPage(value: string | undefined): string | undefined {
  return value !== undefined && endpointProblem(value) === undefined
    ? new URL(value).href
    : undefined;
}

const DEVICE_REFUSALS: Record<string, string> = {
  expired_token: "The device code expired before it was approved",
  access_denied: "The login was denied at the provider",
};

/**
 * The device authorization grant (RFC 8628): asks for a user code, shows it,
 * then polls at the server's interval (slower after `slow_down`) until the
 * person approves, denies, or the code expires.
 */
export async function deviceLogin(
  ctx: Context,
  target: OAuthTarget,
  show: (prompt: DevicePrompt) => void,
): Promise<TokenSet> {
  const { as, client, options, providerId } = target;
  const grant = await protocolStep(
    providerId,
    "device authorization",
    async () =>
      oauth.processDeviceAuthorizationResponse(
        as,
        client,
        await oauth.deviceAuthorizationRequest(as, client, oauth.None(), {
          scope: target.settings.scopes ?? "openid",
        }, options),
      ),
  );
  // The code and the page are printed and the page is opened: both must be plain.
  const verificationUri = verificationPage(grant.verification_uri);
  if (!USER_CODE.test(grant.user_code) || verificationUri === undefined) {
    unusableAnswer(
      target,
      "device authorization",
      verificationUri === undefined
        ? "its verification_uri is not an https URL"
        : "its user_code is not a short code of visible ASCII",
    );
  }
  const expiresIn = Math.min(grant.expires_in, MAX_DEVICE_EXPIRES_IN_S);
  show({
    userCode: grant.user_code,
    verificationUri,
    verificationUriComplete: verificationPage(grant.verification_uri_complete),
    expiresIn,
  });
  let interval = Math.min(Math.max(grant.interval ?? 5, 1), MAX_DEVICE_INTERVAL_S);
  const deadline = ctx.now() + expiresIn * 1000;
  while (ctx.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    try {
      const response = await oauth.deviceCodeGrantRequest(
        as,
        client,
        oauth.None(),
        grant.device_code,
        options,
      );
      return tokenSet(
        target,
        await oauth.processDeviceCodeResponse(as, client, response),
        ctx.now(),
        "device login",
      );
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) {
        throw describeError(providerId, "device login", error);
      }
      if (error.error === "authorization_pending") continue;
      if (error.error === "slow_down") {
        interval = Math.min(interval + 5, MAX_DEVICE_INTERVAL_S); // RFC 8628 §3.5
        continue;
      }
      const refusal = DEVICE_REFUSALS[error.error];
      if (refusal) throw new ClawauthError(`${refusal}.`, Exit.failure, "Start the login again.");
      throw describeError(providerId, "device login", error);
    }
  }
  throw new ClawauthError(
    DEVICE_REFUSALS.expired_token + ".",
    Exit.failure,
    "Start the login again.",
  );
}

/** Revokes a token at the provider (RFC 7009); revoking the refresh token ends the grant. */
export function revokeToken(
  target: OAuthTarget,
  token: string,
  hint: "refresh_token" | "access_token",
): Promise<void> {
  return protocolStep(target.providerId, "revocation", async () => {
    const response = await oauth.revocationRequest(target.as, target.client, oauth.None(), token, {
      ...target.options,
      additionalParameters: { token_type_hint: hint },
    });
    await oauth.processRevocationResponse(response);
  });
}
