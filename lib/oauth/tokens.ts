/**
 * What a token response may hand clawauth (RFC 6749 §5.1): tokens checked
 * before anything stores or prints them, an expiry that is always set, and
 * the account id and e-mail cleaned for display.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { isObject } from "../json/json.ts";
import { safeText, stripUnsafe } from "../output/output.ts";
import { jwtClaims } from "./jwt.ts";
import { unusableAnswer } from "./step.ts";
import type { OAuthTarget } from "./target.ts";

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
 * The longest access or refresh token accepted: 16 KiB. JWT access tokens
 * with many claims run to several KB; a longer value is an attack or a bug.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** The longest account id or e-mail kept from a provider's answer. */
export const MAX_CLAIM_LENGTH = 256;

/** RFC 6749 appendix A: access_token and refresh_token are 1*VSCHAR (%x20-7E). */
const VSCHAR_TOKEN = new RegExp(`^[\\x20-\\x7e]{1,${MAX_TOKEN_LENGTH}}$`);

/** Fresh credentials from a token response. */
export interface TokenSet {
  access: string;
  refresh?: string;
  /** Epoch ms: from `expires_in`, else the JWT's `exp`, else {@linkcode DEFAULT_TOKEN_LIFETIME_MS}. */
  expires: number;
  accountId?: string;
  email?: string;
}

/** The non-empty string at `path` in a claim set or a token response, if there is one. */
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
  return unusableAnswer(target.providerId, step, `its ${name} ${why}`);
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
    unusableAnswer(
      target.providerId,
      step,
      `its expires_in (${safeText(String(expiresIn), 40)}) is unusable`,
    );
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
