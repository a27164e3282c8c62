/**
 * `clawauth remove` (alias `logout`): delete a profile and every reference
 * to it in `order`, `lastGood` and `usageStats`.
 *
 * @module
 */

import { printable } from "../args.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { isObject, type JsonObject } from "../json.ts";
import { warn } from "../output.ts";
import { resolvePaths } from "../paths.ts";
import type { StoreData } from "../store.ts";
import { updateStore } from "../store.ts";

/** Removes `id` and the references to it; returns whether it existed. */
export function removeProfile(store: StoreData, id: string): boolean {
  if (!Object.hasOwn(store.profiles, id)) return false;
  delete store.profiles[id];
  if (isObject(store.order)) {
    const order: JsonObject = store.order;
    for (const [provider, ids] of Object.entries(order)) {
      if (!Array.isArray(ids)) continue;
      const kept = ids.filter((entry) => entry !== id);
      if (kept.length > 0) order[provider] = kept;
      else delete order[provider];
    }
  }
  if (isObject(store.lastGood)) {
    const lastGood: JsonObject = store.lastGood;
    for (const [provider, entry] of Object.entries(lastGood)) {
      if (entry === id) delete lastGood[provider];
    }
  }
  if (isObject(store.usageStats)) delete store.usageStats[id];
  return true;
}

/** The `remove` command. */
export const command: Command = {
  flags: { revoke: { type: "boolean" } },
  help: `Usage: clawauth remove PROFILE_ID [--revoke]      (alias: logout)

Deletes a profile from the agent's store, with its routing order entry and
failover state.

Flags:
  --revoke   also revoke the credential at the provider (RFC 7009) where the
             provider supports it
${GLOBAL_HELP}

Example:
  clawauth remove anthropic:work`,
  async run(ctx, args) {
    const [id, ...extra] = args.positionals;
    if (!id || extra.length > 0) {
      throw usageError("remove takes exactly one PROFILE_ID.", "remove");
    }
    const paths = resolvePaths(args, ctx);
    const existed = await updateStore(
      ctx,
      paths,
      (store) => removeProfile(store, id),
    );
    if (!existed) {
      throw new ClawauthError(
        `No profile ${printable(id)} in agent ${paths.agent}.`,
        Exit.failure,
        "See the profiles: clawauth list",
      );
    }
    if (args.bool("revoke")) {
      warn(
        ctx,
        `${printable(id)} was removed locally; its provider offers no revocation to clawauth.`,
      );
    }
    ctx.out(`Removed ${id} from agent ${paths.agent}.\n`);
    return 0;
  },
};
