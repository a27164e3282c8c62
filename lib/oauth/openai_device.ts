/**
 * OpenAI's device login, as Codex CLI does it (`codex login --device-auth`):
 * not RFC 8628 but a PKCE authorization whose code the server hands out by
 * polling. Ask for a user code, let the person enter it on the verification
 * page, poll until the server returns `authorization_code` and
 * `code_verifier`, then exchange them at the ordinary token endpoint (through
 * oauth4webapi) with the device redirect URI. Selected by a provider's
 * `deviceUserCodeUrl`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { isObject, type JsonObject } from "../json/json.ts";
import type { DevicePrompt } from "./device_grant.ts";
import { exchangeCode } from "./grants.ts";
import { endpoint, httpTimeoutMs, providerFetch } from "./http.ts";
import { protocolStep } from "./step.ts";
import type { OAuthTarget } from "./target.ts";
import type { TokenSet } from "./tokens.ts";
import { safeText } from "../output/output.ts";

/** Codex CLI gives up after 15 minutes; so does clawauth. */
export const OPENAI_DEVICE_LIMIT_MS = 15 * 60_000;
const DEFAULT_INTERVAL_S = 5;
/** A server asking to wait longer than this between polls is capped (and timers stay in range). */
const MAX_INTERVAL_S = 60;
/** RFC 7636 §4.1: a code verifier is 43-128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An authorization code or device id: visible ASCII, and not a megabyte of it. */
const OPAQUE_VALUE = /^[\x21-\x7e]{1,2048}$/;

const SETTINGS = {
  userCode: "deviceUserCodeUrl",
  token: "deviceTokenUrl",
  verification: "deviceVerificationUrl",
  redirect: "deviceRedirectUri",
} as const;

/** The endpoints of the flow, checked like every other endpoint. */
function endpoints(target: OAuthTarget): Record<keyof typeof SETTINGS, string> {
  const urls = Object.entries(SETTINGS).map(([key, name]) => {
    const url = endpoint(target.providerId, name, target.settings[name]);
    if (url === undefined) {
      throw new ClawauthError(
        `The ${name} of ${target.providerId} is not set.`,
        Exit.data,
        "Fix it in clawauth.json.",
      );
    }
    return [key, url];
  });
  return Object.fromEntries(urls);
}

/** Seconds from a number or a numeric string (OpenAI sends `"5"`); 1 to 60. */
function seconds(value: unknown, fallback: number): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n >= 0
    ? Math.min(Math.max(1, n), MAX_INTERVAL_S)
    : fallback;
}

/** The error code of an answer, in OAuth's spelling or OpenAI's error object. */
function errorCode(data: unknown): string {
  if (!isObject(data)) return "";
  const error = data.error;
  if (typeof error === "string") return error;
  return isObject(error) && typeof error.code === "string" ? error.code : "";
}

function postJson(
  ctx: Context,
  target: OAuthTarget,
  step: string,
  url: string,
  body: JsonObject,
): Promise<{ status: number; data: unknown; retryAfter: unknown }> {
  return protocolStep(target.providerId, step, async () => {
    // providerFetch: a redirect would re-post the body elsewhere and let that
    // origin hand back a code and verifier of its choosing.
    const response = await providerFetch(ctx.fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(httpTimeoutMs(ctx)),
    });
    const text = await response.text();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined; // the status alone still says enough
    }
    return { status: response.status, data, retryAfter: response.headers.get("retry-after") };
  });
}

function refused(target: OAuthTarget, step: string, status: number, data: unknown): ClawauthError {
  const code = errorCode(data);
  return new ClawauthError(
    `${target.providerId} refused the ${step} (HTTP ${status}${
      code ? `, ${safeText(code, 80)}` : ""
    }).`,
    Exit.unavailable,
    status === 404 && step === "device code request"
      ? "This server has no device login; log in without --device."
      : "Retry later, or log in without --device.",
  );
}

const ENDINGS: [RegExp, string][] = [
  [/denied|declined|rejected/, "The login was denied at the provider"],
  [/expired/, "The device code expired before it was approved"],
];

/** What one poll answer means: keep waiting, slow down, the code, or an error. */
function pollOutcome(
  target: OAuthTarget,
  answer: { status: number; data: unknown; retryAfter: unknown },
  interval: number,
): { wait: number } | { code: string; verifier: string } {
  const { status, data } = answer;
  const code = errorCode(data);
  if (status >= 200 && status < 300) {
    if (
      isObject(data) && typeof data.authorization_code === "string" &&
      typeof data.code_verifier === "string" && OPAQUE_VALUE.test(data.authorization_code) &&
      CODE_VERIFIER.test(data.code_verifier)
    ) {
      return { code: data.authorization_code, verifier: data.code_verifier };
    }
    throw new ClawauthError(
      `${target.providerId} gave an unusable answer to the device login (no well-formed authorization_code and code_verifier); nothing was stored.`,
      Exit.unavailable,
      "The provider may be down; retry later.",
    );
  }
  if (status === 429 || code === "slow_down") {
    // Retry-After when the server gives one, else RFC 8628's five seconds more.
    return { wait: Math.max(seconds(answer.retryAfter, interval + 5), interval) };
  }
  // OpenAI answers 403 or 404 until the person has entered the code.
  if (status === 403 || status === 404 || code === "authorization_pending") {
    return { wait: interval };
  }
  const ending = ENDINGS.find(([pattern]) => pattern.test(code));
  if (ending) throw new ClawauthError(`${ending[1]}.`, Exit.failure, "Start the login again.");
  throw refused(target, "device login", status, data);
}

/**
 * Runs the device login: shows the code through `show`, polls at the
 * server's interval (longer after a 429) for at most `limitMs`, and returns
 * the exchanged tokens.
 */
export async function openaiDeviceLogin(
  ctx: Context,
  target: OAuthTarget,
  show: (prompt: DevicePrompt) => void,
  limitMs: number = OPENAI_DEVICE_LIMIT_MS,
): Promise<TokenSet> {
  const urls = endpoints(target);
  const issued = await postJson(ctx, target, "device code request", urls.userCode, {
    client_id: target.client.client_id,
  });
  const data = issued.data;
  const userCode = isObject(data) ? data.user_code ?? data.usercode : undefined;
  if (
    issued.status !== 200 || !isObject(data) || typeof data.device_auth_id !== "string" ||
    !OPAQUE_VALUE.test(data.device_auth_id)
  ) {
    throw refused(target, "device code request", issued.status, data);
  }
  if (typeof userCode !== "string" || !/^[\x21-\x7e]{1,64}$/.test(userCode)) {
    throw refused(target, "device code request", issued.status, data);
  }
  show({ userCode, verificationUri: urls.verification, expiresIn: limitMs / 1000 });
  const deadline = ctx.now() + limitMs;
  let interval = seconds(data.interval, DEFAULT_INTERVAL_S);
  let wait = interval;
  while (ctx.now() < deadline) {
    const pause = Math.min(wait * 1000, deadline - ctx.now());
    await ctx.sleep(pause);
    const answer = await postJson(ctx, target, "device login", urls.token, {
      device_auth_id: data.device_auth_id,
      user_code: userCode,
    });
    const outcome = pollOutcome(target, answer, interval);
    if ("code" in outcome) {
      return exchangeCode(
        ctx,
        target,
        new URLSearchParams({ code: outcome.code }),
        urls.redirect,
        outcome.verifier,
      );
    }
    interval = Math.max(interval, outcome.wait);
    wait = outcome.wait;
  }
  throw new ClawauthError(
    `The device code was not approved within ${
      limitMs >= 120_000
        ? `${Math.round(limitMs / 60_000)} minutes`
        : `${Math.round(limitMs / 1000)} s`
    }.`,
    Exit.failure,
    "Start the login again.",
  );
}
