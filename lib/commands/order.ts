/**
 * `clawauth order get|set|clear`: the agent's routing order per provider,
 * kept in the store's `order` (OpenClaw's `models auth order`).
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { child, isObject } from "../json/json.ts";
import { routingOrder } from "../openclaw_config.ts";
import { printJson, safeText } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { orderFor } from "../routing/routing.ts";
import { openStore, updateStore } from "../store.ts";

/** The `order` command. */
export const command = defineCommand({
  positionals: { choose: "action", from: { get: [], set: ["PROFILE_ID…"], clear: [] } },
  flags: { provider: flag.provider(), json: flag.boolean() },
  help: `Usage: clawauth order get [--provider ID] [--json]
       clawauth order set --provider ID PROFILE_ID…
       clawauth order clear --provider ID

The order in which routing tries a provider's profiles. Profiles left out of a
set order are not used for that provider. Without an agent order, OpenClaw's
auth.order (openclaw.json) applies, else round robin.

Flags:
  --provider ID   the provider
  --json          (get) print {"order":{provider:[ids]},"source":{provider:"store"|"openclaw"}}
${GLOBAL_HELP}

Examples:
  clawauth order set --provider anthropic anthropic:work anthropic:default
  clawauth order get --provider anthropic`,
  async run(ctx, args) {
    const { provider } = args;
    const paths = resolvePaths(args, ctx);
    if (args.action === "get") {
      const store = await openStore(ctx, paths);
      const external = await routingOrder(ctx, paths.openclawConfig);
      const providers = provider ? [provider] : [
        ...new Set([
          ...Object.keys(isObject(store.order) ? store.order : {}),
          ...Object.keys(isObject(external) ? external : {}),
        ]),
      ];
      const order: Record<string, string[]> = {};
      const source: Record<string, string> = {};
      for (const p of providers) {
        const own = orderFor(store.order, p);
        const ids = own ?? orderFor(external, p);
        if (!ids) continue;
        order[p] = ids;
        source[p] = own ? "store" : "openclaw";
      }
      if (args.json) printJson(ctx, { order, source });
      else if (Object.keys(order).length === 0) {
        ctx.out("No order set; routing uses round robin.\n");
      } else {
        for (const [p, list] of Object.entries(order)) {
          ctx.out(
            `${p}: ${list.join(", ")}${source[p] === "openclaw" ? "  (from openclaw.json)" : ""}\n`,
          );
        }
      }
      return 0;
    }
    if (!provider) throw usageError(`order ${args.action} needs --provider ID.`, "order");
    if (args.action === "clear") {
      await updateStore(ctx, paths, (store) => {
        if (isObject(store.order)) delete store.order[provider];
      });
      ctx.out(`Cleared the ${provider} order of agent ${paths.agent}.\n`);
      return 0;
    }
    const unique = [...new Set(args.positionals)];
    const foreign = unique.find((id) => !id.startsWith(`${provider}:`));
    if (foreign) {
      throw usageError(
        `${safeText(foreign)} is not a ${provider} profile.`,
        "order",
      );
    }
    await updateStore(ctx, paths, (store) => {
      const missing = unique.find((id) => !Object.hasOwn(store.profiles, id));
      if (missing) {
        throw new ClawauthError(
          `No profile ${safeText(missing)} in agent ${paths.agent}.`,
          Exit.failure,
          "See the profiles: clawauth list",
        );
      }
      child(store, "order")[provider] = unique;
    });
    ctx.out(`${provider}: ${unique.join(", ")}\n`);
    return 0;
  },
});
