/**
 * `clawauth channels list --json`: OpenClaw's spelling, one entry per
 * profile, never a secret.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { flag } from "../flags.ts";
import { printJson, safeText, table } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { openStore } from "../store.ts";
import { profileJson, profileRows } from "../output/views.ts";

/** The `channels` command. */
export const command = defineCommand({
  positionals: { choose: "action", from: { list: [] } },
  flags: { json: flag.boolean() },
  help: `Usage: clawauth channels list [--json]

OpenClaw's channels view: {"chat": {}, "auth": [one entry per profile]}.
clawauth has no chat channels; the auth entries carry no secret.

${GLOBAL_HELP}`,
  async run(ctx, args) {
    const paths = resolvePaths(args, ctx);
    const store = await openStore(ctx, paths);
    const now = ctx.now();
    const auth = profileRows(store, now).map((row) => profileJson(row, now));
    if (args.json) printJson(ctx, { chat: {}, auth });
    else {
      ctx.out(table(
        ["AUTH PROFILE", "PROVIDER", "TYPE", "STATE"],
        auth.map((
          a,
        ) => [safeText(String(a.id), 60), String(a.provider), String(a.type), String(a.state)]),
      ));
    }
    return 0;
  },
});
