/**
 * Reading an upstream answer for failover: is it a failure of this profile
 * (rate limit, overload, billing, auth), and when did the provider say to
 * come back (`retry-after`, `anthropic-ratelimit-unified-reset`,
 * `x-codex-*-reset-at`)? Pure: the clock is an argument.
 *
 * @module
 */

import type { FailureReason } from "../routing/failover.ts";

/** An upstream answer judged a failure of the profile that sent it. */
export interface Failure {
  reason: FailureReason;
  /** When the provider said the profile may come back (epoch ms), if it did. */
  until?: number;
}

/** The latest a provider's reset time may sideline a profile (the billing cap). */
const MAX_WAIT_MS = 24 * 3_600_000;

/** Statuses whose body may decide the verdict (billing hides in 400, 403 and 429 bodies). */
const READ_BODY = new Set([400, 402, 403, 429, 503]);

/** Whether the body of an answer with `status` must be read (it is small) to judge it. */
export function needsBody(status: number): boolean {
  return READ_BODY.has(status);
}

/** Statuses that may be a failure of the profile; everything else goes to the client. */
const SUSPECT = new Set([400, 401, 402, 403, 429, 503, 529]);

/** Whether an answer with `status` may be a failure of the profile. */
export function suspect(status: number): boolean {
  return SUSPECT.has(status);
}

const BILLING = /credit balance|insufficient_quota|billing|payment required|quota exceeded/i;
const OVERLOADED = /overloaded/i;

/** The verdict on an answer: a {@linkcode Failure}, or `undefined` for one the client should get. */
export function classify(
  status: number,
  headers: Headers,
  body: string,
  now: number,
): Failure | undefined {
  const reason = reasonOf(status, body);
  if (reason === undefined) return undefined;
  // A reset days out is more likely a bad header than a plan: the longest sidelining is 24 h.
  const until = comeBackAt(headers, now);
  return until === undefined ? { reason } : { reason, until: Math.min(until, now + MAX_WAIT_MS) };
}

function reasonOf(status: number, body: string): FailureReason | undefined {
  if (status === 402 || (needsBody(status) && BILLING.test(body))) return "billing";
  if (status === 429 || status === 529) return "rate_limit";
  if (status === 503 && OVERLOADED.test(body)) return "rate_limit";
  if (status === 401 || status === 403) return "auth";
  return undefined;
}

function epochSeconds(text: string | null): number | undefined {
  if (text === null || !/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  return Number(text) * 1000;
}

/**
 * When the provider said to come back, from `retry-after` (seconds or an
 * HTTP date), else `anthropic-ratelimit-unified-reset`, else the reset of
 * each exhausted Codex window (the latest), in epoch ms.
 */
export function comeBackAt(headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return now + Number(retryAfter) * 1000;
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return date;
  }
  const unified = epochSeconds(headers.get("anthropic-ratelimit-unified-reset"));
  if (unified !== undefined) return unified;
  const exhausted = ["primary", "secondary"].flatMap((slot) => {
    const used = Number(headers.get(`x-codex-${slot}-used-percent`));
    const reset = epochSeconds(headers.get(`x-codex-${slot}-reset-at`));
    return used >= 100 && reset !== undefined ? [reset] : [];
  });
  return exhausted.length > 0 ? Math.max(...exhausted) : undefined;
}
