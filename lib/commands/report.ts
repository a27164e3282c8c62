/**
 * `clawauth report`: feed a request's outcome back into rotation (docs/routing.md).
 *
 * @module
 */

import { storedProfileId } from "../provider/names.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { FAILURE_REASONS, type FailureReason } from "../routing/failover.ts";
import { recordOutcome } from "../routing/outcome.ts";
import { printJson } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";

/** The `report` command. */
export const command = defineCommand({
  positionals: ["PROFILE_ID"],
  flags: { reason: flag.oneOf(FAILURE_REASONS), ok: flag.boolean(), json: flag.boolean() },
  help: `Usage: clawauth report PROFILE_ID --reason ${FAILURE_REASONS.join("|")} [--json]
       clawauth report PROFILE_ID --ok

Feeds a request's outcome back into routing, by OpenClaw's rules: a failure
puts the profile in cooldown for 1 min, 5 min, 25 min, then 1 h (by error
count); billing disables it for 5 h, doubling to 24 h; counters reset after
24 h without failure. --ok clears them and records the profile as lastGood.

${GLOBAL_HELP}

Examples:
  clawauth report anthropic:work --reason rate_limit
  clawauth report anthropic:work --ok`,
  async run(ctx, args) {
    const [id] = args.positionals;
    const { reason } = args;
    if (args.ok === (reason !== undefined)) {
      throw usageError("Give either --reason REASON or --ok.", "report");
    }
    const outcome: FailureReason | "ok" = reason ?? "ok";
    const paths = resolvePaths(args, ctx);
    const result = await recordOutcome(ctx, paths, storedProfileId(paths.backend, id), outcome);
    if (args.json) printJson(ctx, { profile: id, outcome, ...result });
    else if (outcome === "ok") ctx.out(`${id}: ok; failover counters cleared.\n`);
    else {
      const until = result.disabledUntil ?? result.cooldownUntil;
      const what = outcome === "billing" ? "disabled" : "in cooldown";
      ctx.out(
        `${id}: ${what} until ${
          new Date(until ?? 0).toISOString()
        } (errors: ${result.errorCount}).\n`,
      );
    }
    return 0;
  },
});
