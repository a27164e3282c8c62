/**
 * The device authorization grant (RFC 8628): a user code the person enters
 * on another device while clawauth polls.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { endpointProblem } from "./endpoints.ts";
import { describeError, protocolStep, unusableAnswer } from "./step.ts";
import type { OAuthTarget } from "./target.ts";
import { type TokenSet, tokenSet } from "./tokens.ts";

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

/** What a refused poll means, for the errors RFC 8628 §3.5 names. */
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
      providerId,
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
    await ctx.sleep(interval * 1000);
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
