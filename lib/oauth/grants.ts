/**
 * The grants of a browser login and its upkeep: PKCE (RFC 7636), the
 * authorize URL and code exchange (RFC 6749 §4.1), refresh (§6) and
 * revocation (RFC 7009), each one oauth4webapi request inside
 * {@linkcode protocolStep}.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { refreshTimeoutMs } from "./http.ts";
import { protocolStep } from "./step.ts";
import type { OAuthTarget } from "./target.ts";
import { type TokenSet, tokenSet } from "./tokens.ts";

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
