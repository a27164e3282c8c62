/**
 * The one place where a failed protocol step (oauth4webapi's errors, a
 * refused redirect, a timeout, an unreachable host) becomes a
 * {@linkcode ClawauthError} with an exit code and a next step.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { ClawauthError, Exit } from "../errors.ts";
import { safeText } from "../output/output.ts";
import { RedirectRefused } from "./http.ts";

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

/** The user-facing error for a failed `step` with `providerId` (RFC 6749 §5.2 errors by name). */
export function describeError(
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

/** Refuses an answer that passed oauth4webapi but that clawauth will not store. */
export function unusableAnswer(providerId: string, step: string, why: string): never {
  throw new ClawauthError(
    `${providerId} gave an unusable answer to the ${step}: ${why}; nothing was stored.`,
    Exit.unavailable,
    "The provider may be misbehaving; retry later, or check the provider settings in clawauth.json.",
  );
}
