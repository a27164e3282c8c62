/**
 * `clawauth channels list --json`: OpenClaw's spelling, one entry per
 * profile, never a secret.
 *
 * @module
 */

import { type Command, GLOBAL_HELP } from "../command.ts";
import { usageError } from "../errors.ts";
import { printJson, safeText, table } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { openStore } from "../store.ts";
import { profileJson, profileRows } from "../output/views.ts";

/** The `channels` command. */
export const command: Command = {
  positionals: true,
  flags: { json: { type: "boolean" } },
  help: `Usage: clawauth channels list [--json]

OpenClaw's channels view: {"chat": {}, "auth": [one entry per profile]}.
clawauth has no chat channels; the auth entries carry no secret.

${GLOBAL_HELP}`,
  async run(ctx, args) {
    const [action, ...extra] = args.positionals;
    if (action !== "list" || extra.length > 0) {
      throw usageError("Use: channels list [--json].", "channels");
    }
    const paths = resolvePaths(args, ctx);
    const store = await openStore(ctx, paths);
    const now = ctx.now();
    const auth = profileRows(store, now).map((row) => profileJson(row, now));
    if (args.bool("json")) printJson(ctx, { chat: {}, auth });
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
};
