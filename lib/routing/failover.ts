/**
 * OpenClaw's failover bookkeeping (docs/routing.md): cooldowns of 1, 5, 25 minutes
 * then a 1 h cap by error count; billing disables for 5 h, doubling to a 24 h
 * cap; counters reset after 24 h without failure. Pure: the clock is an
 * argument, the entry is edited in place.
 *
 * @module
 */

import { child, type JsonObject, numberAt } from "../json/json.ts";

/** The reasons `report` accepts. */
export const FAILURE_REASONS = [
  "rate_limit",
  "auth",
  "billing",
  "timeout",
  "format",
  "unknown",
] as const;

/** One of {@linkcode FAILURE_REASONS}. */
export type FailureReason = typeof FAILURE_REASONS[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const COOLDOWN_CAP = HOUR;
const BILLING_BASE = 5 * HOUR;
const BILLING_CAP = 24 * HOUR;
const RESET_AFTER = 24 * HOUR;

/** The cooldown after the `errorCount`-th failure: 1 min × 5^(n-1), capped at 1 h. */
export function cooldownMs(errorCount: number): number {
  return Math.min(COOLDOWN_CAP, MINUTE * 5 ** Math.max(0, errorCount - 1));
}

/** The billing disable after the `count`-th billing failure: 5 h × 2^(n-1), capped at 24 h. */
export function billingDisableMs(count: number): number {
  return Math.min(BILLING_CAP, BILLING_BASE * 2 ** Math.max(0, count - 1));
}

/**
 * Records a failure of a profile in its `usageStats` entry. `until`, when
 * the provider said when to come back (`retry-after`, a rate-limit reset),
 * ends the cooldown (or the billing disable) then instead of by the count.
 */
export function recordFailure(
  entry: JsonObject,
  reason: FailureReason,
  now: number,
  until?: number,
): void {
  const last = numberAt(entry, "lastFailureAt") ?? 0;
  if (now - last > RESET_AFTER) {
    entry.errorCount = 0;
    delete entry.failureCounts;
  }
  const errorCount = (numberAt(entry, "errorCount") ?? 0) + 1;
  const counts = child(entry, "failureCounts");
  const count = (numberAt(counts, reason) ?? 0) + 1;
  counts[reason] = count;
  entry.errorCount = errorCount;
  entry.lastFailureAt = now;
  const told = until !== undefined && until > now ? until : undefined;
  if (reason === "billing") {
    entry.disabledUntil = told ?? now + billingDisableMs(count);
    entry.disabledReason = "billing";
  } else {
    entry.cooldownUntil = told ?? now + cooldownMs(errorCount);
  }
}

/** Records a success: counters and sidelining cleared, `lastUsed` set. */
export function recordSuccess(entry: JsonObject, now: number): void {
  for (
    const key of [
      "cooldownUntil",
      "disabledUntil",
      "disabledReason",
      "failureCounts",
      "lastFailureAt",
      "needsLogin",
    ]
  ) {
    delete entry[key];
  }
  entry.errorCount = 0;
  entry.lastUsed = now;
}
