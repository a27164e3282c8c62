/**
 * The OAuth protocol steps clawauth composes (RFC 6749, RFC 7636 PKCE,
 * RFC 8628, RFC 7009), all through oauth4webapi, plus the one place where its
 * errors become {@linkcode ClawauthError}s. Loaded only by login and refresh.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { printable } from "./args.ts";
import type { Context } from "./context.ts";
import { ClawauthError, Exit } from "./errors.ts";
import { isObject } from "./json.ts";
import { parseDuration } from "./duration.ts";
import { jwtClaims } from "./jwt.ts";
import { endpointProblem } from "./endpoints.ts";
import type { OAuthSettings, ProviderDefinition } from "./provider.ts";

/** Ten years: an `expires_in` beyond this is a provider bug, not a credential. */
const MAX_EXPIRES_IN_S = 10 * 365 * 86_400;

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
  expires?: number;
  accountId?: string;
  email?: string;
}

/** How long one HTTP request to a provider may take (`CLAWAUTH_HTTP_TIMEOUT`, default 30 s). */
export function httpTimeoutMs(ctx: Context): number {
  return parseDuration(ctx.env("CLAWAUTH_HTTP_TIMEOUT") ?? "") ?? 30_000;
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

/**
 * A fetch for providers that bend OAuth: JSON token requests (Anthropic) and
 * errors answered with HTTP 200 (GitHub), turned back into what
 * oauth4webapi's checks expect.
 */
function quirkFetch(settings: OAuthSettings): typeof fetch {
  return async (input, init) => {
    let request = init;
    if (settings.tokenEncoding === "json" && init?.body instanceof URLSearchParams) {
      const headers = new Headers(init.headers);
      headers.set("content-type", "application/json");
      request = { ...init, headers, body: JSON.stringify(Object.fromEntries(init.body)) };
    }
    const response = await fetch(input, request);
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

/** Builds the oauth4webapi view of a provider, discovering endpoints from its issuer when needed. */
export async function oauthTarget(
  ctx: Context,
  provider: ProviderDefinition,
): Promise<OAuthTarget> {
  const settings = provider.oauth;
  if (!settings?.clientId) {
    throw new ClawauthError(
      `Provider ${provider.id} has no OAuth client configured.`,
      Exit.data,
      `Declare it in clawauth.json: {"providers": {"${provider.id}": {"issuer": "…", "clientId": "…"}}}`,
    );
  }
  const timeout = httpTimeoutMs(ctx);
  const insecure = [settings.issuer, settings.tokenUrl, settings.authorizeUrl]
    .some((u) => u !== undefined && URL.canParse(u) && new URL(u).protocol === "http:");
  const options: oauth.TokenEndpointRequestOptions = {
    signal: () => AbortSignal.timeout(timeout),
    [oauth.allowInsecureRequests]: insecure,
    ...(settings.tokenEncoding === "json" || settings.errorsWithStatus200
      ? { [oauth.customFetch]: quirkFetch(settings) }
      : {}),
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
  return error instanceof ClawauthError && error.cause === "rejected_grant";
}

function describeError(
  providerId: string,
  step: string,
  error: unknown,
): ClawauthError {
  if (error instanceof ClawauthError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    const detail = printable(
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
    const rejected = invalidGrant;
    const result = new ClawauthError(
      `${providerId} refused the ${step} (HTTP ${error.status}, ${detail}).`,
      rejected ? Exit.noCredential : Exit.unavailable,
      rejected ? undefined : "Check the provider settings, or retry later.",
    );
    if (rejected) result.cause = "rejected_grant";
    return result;
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    const detail = printable(
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
    );
  }
  if (
    error instanceof oauth.OperationProcessingError ||
    error instanceof oauth.UnsupportedOperationError
  ) {
    return new ClawauthError(
      `${providerId} gave an unusable answer to the ${step} (${printable(error.message, 160)}).`,
      Exit.unavailable,
      "The provider may be down; retry later.",
    );
  }
  if (error instanceof TypeError) {
    return new ClawauthError(
      `Could not reach ${providerId} for the ${step} (${printable(error.message, 160)}).`,
      Exit.unavailable,
      "Check the network connection, then retry.",
    );
  }
  return new ClawauthError(
    `The ${step} with ${providerId} failed (${
      printable(error instanceof Error ? error.message : String(error), 160)
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

/** The credential fields of a token response (RFC 6749 §5.1). */
export function tokenSet(
  target: OAuthTarget,
  response: oauth.TokenEndpointResponse,
  now: number,
): TokenSet {
  const expiresIn = response.expires_in;
  if (
    expiresIn !== undefined &&
    (!(expiresIn > 0) || expiresIn > MAX_EXPIRES_IN_S)
  ) {
    throw new ClawauthError(
      `${target.providerId} answered with an unusable expires_in (${
        printable(String(expiresIn), 40)
      }).`,
      Exit.unavailable,
      "The provider may be misbehaving; retry later.",
    );
  }
  const claims = oauth.getValidatedIdTokenClaims(response);
  const { accountIdClaim, accountFromResponse: fromBody } = target.settings;
  const accountId = (accountIdClaim && claimAt(jwtClaims(response.access_token), accountIdClaim)) ||
    (fromBody?.accountId && claimAt(response, fromBody.accountId)) || undefined;
  const email = (typeof claims?.email === "string" ? claims.email : undefined) ||
    (fromBody?.email && claimAt(response, fromBody.email)) || undefined;
  return {
    access: response.access_token,
    ...(response.refresh_token ? { refresh: response.refresh_token } : {}),
    ...(expiresIn !== undefined ? { expires: now + expiresIn * 1000 } : {}),
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
    );
  });
}

/** Uses a refresh token (RFC 6749 §6). */
export function refreshTokens(
  ctx: Context,
  target: OAuthTarget,
  refresh: string,
): Promise<TokenSet> {
  return protocolStep(target.providerId, "token refresh", async () => {
    const response = await oauth.refreshTokenGrantRequest(
      target.as,
      target.client,
      oauth.None(),
      refresh,
      target.options,
    );
    return tokenSet(
      target,
      await oauth.processRefreshTokenResponse(
        target.as,
        target.client,
        response,
      ),
      ctx.now(),
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
  show({
    userCode: grant.user_code,
    verificationUri: grant.verification_uri,
    verificationUriComplete: grant.verification_uri_complete,
    expiresIn: grant.expires_in,
  });
  let interval = grant.interval ?? 5;
  const deadline = ctx.now() + grant.expires_in * 1000;
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
      );
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) {
        throw describeError(providerId, "device login", error);
      }
      if (error.error === "authorization_pending") continue;
      if (error.error === "slow_down") {
        interval += 5; // RFC 8628 §3.5
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
