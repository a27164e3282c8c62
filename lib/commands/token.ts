/**
 * `clawauth token`: print the usable secret, and nothing else, on stdout;
 * refreshes an OAuth token first when it expires within `--min-valid`.
 * This is the hot path: it imports nothing heavy unless a refresh is due.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { flag } from "../flags.ts";
import { routingOrder } from "../openclaw_config.ts";
import { printJson } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { requestOf, SELECT_FLAGS } from "../routing/select.ts";
import { openStore } from "../store.ts";
import { obtainCredential } from "../routing/credential.ts";

/** The `token` command. */
export const command = defineCommand({
  flags: {
    ...SELECT_FLAGS,
    "min-valid": flag.duration({ default: "5m" }),
    json: flag.boolean(),
  },
  help:
    `Usage: clawauth token [--provider ID | --profile ID | --model SPEC] [--min-valid 5m] [--json]

Prints the usable secret of the chosen profile, and nothing else, on stdout.
An OAuth access token that expires within --min-valid is refreshed first,
exactly once however many processes ask at the same moment.

Flags:
  --provider ID     route among this provider's profiles (order, then round robin)
  --profile ID      use exactly this profile, e.g. anthropic:work
  --model SPEC      OpenClaw's Model@provider[:profile], e.g. opus@anthropic:work
  --min-valid SPAN  refresh when the token expires sooner than this (default 5m)
  --json            print {"profile","provider","type","token","expires"}
${GLOBAL_HELP}

Examples:
  export ANTHROPIC_API_KEY="$(clawauth token --provider anthropic)"
  curl -H "Authorization: Bearer $(clawauth token --profile openai-codex:default)" …`,
  async run(ctx, args) {
    const request = requestOf(args, "token");
    const paths = resolvePaths(args, ctx);
    const store = await openStore(ctx, paths);
    const { profile, secret } = await obtainCredential(ctx, paths, store, request, {
      minValidMs: args["min-valid"],
      externalOrder: await routingOrder(ctx, paths.openclawConfig, request),
    });
    if (args.json) {
      printJson(ctx, {
        profile: profile.id,
        provider: profile.provider,
        type: profile.type,
        token: secret,
        expires: profile.expires,
        ...(request.model ? { model: request.model } : {}),
      });
    } else {
      ctx.out(`${secret}\n`);
    }
    return 0;
  },
});
