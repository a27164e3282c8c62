/**
 * `CLAWAUTH_HTTP_TIMEOUT`, on its own: the fleet store's hot read bounds its
 * wait for the database by it, and must not load the rest of the HTTP layer.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { durationSettingMs } from "../duration.ts";

/**
 * Default of `CLAWAUTH_HTTP_TIMEOUT`: 20 s, clearly below the 30 s default
 * lock wait, because a refresh makes its request while holding the store
 * lock that queued writers wait for.
 */
export const HTTP_TIMEOUT_DEFAULT_MS = 20_000;

/** The largest `CLAWAUTH_HTTP_TIMEOUT` honoured (10 min); larger values are capped to it. */
export const HTTP_TIMEOUT_MAX_MS = 10 * 60_000;

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
