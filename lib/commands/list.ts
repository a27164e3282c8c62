/**
 * `clawauth list`: the agent's profiles, without secrets.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { flag } from "../flags.ts";
import { printJson, safeText, table } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { openStore } from "../store.ts";
import { accountText, profileJson, profileRows, whenText } from "../output/views.ts";

/** The `list` command. */
export const command = defineCommand({
  flags: { provider: flag.provider(), json: flag.boolean() },
  help: `Usage: clawauth list [--provider ID] [--json]

Lists the agent's profiles: id, type, expiry and account. Never a secret.

Flags:
  --provider ID   only this provider's profiles
  --json          print {"agent","profiles":[{"id","provider","type","state","expires",…}]}
${GLOBAL_HELP}

Example:
  clawauth list --agent work`,
  async run(ctx, args) {
    const paths = resolvePaths(args, ctx);
    const store = await openStore(ctx, paths);
    const now = ctx.now();
    const rows = profileRows(store, now, args.provider);
    if (args.json) {
      printJson(ctx, {
        agent: paths.agent,
        profiles: rows.map((row) => profileJson(row, now)),
      });
    } else if (rows.length === 0) {
      ctx.out(`No profiles in agent ${paths.agent}.\n`);
    } else {
      ctx.out(table(
        ["PROFILE", "TYPE", "EXPIRES", "ACCOUNT"],
        rows.map(({ profile }) => [
          safeText(profile.id, 60),
          profile.type ?? "invalid",
          profile.expires === null ? "-" : whenText(ctx, profile.expires),
          safeText(accountText(profile), 60),
        ]),
      ));
    }
    return 0;
  },
});
