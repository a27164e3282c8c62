/**
 * Recording a request's outcome for failover (OpenClaw's cooldown rules), under the store
 * lock: what `report` does, and what the proxy does after each upstream answer.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { child, numberAt } from "../json/json.ts";
import { safeText } from "../output/output.ts";
import type { AgentPaths } from "../paths.ts";
import { splitProfileId } from "../profiles.ts";
import { updateStore } from "../store.ts";
import { type FailureReason, recordFailure, recordSuccess } from "./failover.ts";

/** A profile's failover counters after an outcome was recorded. */
export interface OutcomeResult {
  cooldownUntil?: number;
  disabledUntil?: number;
  errorCount?: number;
}

/**
 * Records `outcome` (a failure reason, or `ok`) for profile `id` under the
 * lock. `opts.until` ends a failure's cooldown when the provider said when
 * (see `recordFailure`).
 */
export function recordOutcome(
  ctx: Context,
  paths: AgentPaths,
  id: string,
  outcome: FailureReason | "ok",
  opts: { until?: number } = {},
): Promise<OutcomeResult> {
  return updateStore(ctx, paths, (store) => {
    if (!Object.hasOwn(store.profiles, id)) {
      throw new ClawauthError(
        `No profile ${safeText(id)} in agent ${paths.agent}.`,
        Exit.failure,
        "See: clawauth list",
      );
    }
    const entry = child(child(store, "usageStats"), id);
    const now = ctx.now();
    if (outcome === "ok") {
      recordSuccess(entry, now);
      const provider = splitProfileId(id)?.provider;
      if (provider) child(store, "lastGood")[provider] = id;
    } else {
      recordFailure(entry, outcome, now, opts.until);
    }
    return {
      cooldownUntil: numberAt(entry, "cooldownUntil"),
      disabledUntil: numberAt(entry, "disabledUntil"),
      errorCount: numberAt(entry, "errorCount"),
    };
  });
}
