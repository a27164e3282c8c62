/**
 * `clawauth remove` (alias `logout`): delete a profile and every reference
 * to it in `order`, `lastGood` and `usageStats`.
 *
 * @module
 */

import { definitionIdOf, storedProfileId } from "../provider/names.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { flag } from "../flags.ts";
import { isObject, type JsonObject, own, stringAt } from "../json/json.ts";
import { safeText, warn } from "../output/output.ts";
import { type Paths, resolvePaths } from "../paths.ts";
import { type Profile, readProfile } from "../profiles.ts";
import { resolveProvider } from "../config.ts";
import type { Context } from "../context.ts";
import { load } from "../lazy.ts";
import { openStore, type StoreData, updateStore } from "../store.ts";

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

/**
 * Revokes an OAuth profile's refresh (else access) token where the provider
 * has a revocation endpoint; returns whether a revocation was made.
 */
async function revoke(ctx: Context, paths: Paths, profile: Profile): Promise<boolean> {
  if (profile.type !== "oauth") return false;
  const provider = resolveProvider(definitionIdOf(profile), paths.config);
  if (!provider?.oauth?.clientId) return false;
  const { oauthTarget, revokeToken } = await load("oauth/oauth.ts");
  const target = await oauthTarget(ctx, provider);
  if (!target.as.revocation_endpoint) return false;
  const refresh = stringAt(profile.raw, "refresh");
  const access = stringAt(profile.raw, "access");
  try {
    if (refresh) await revokeToken(target, refresh, "refresh_token");
    else if (access) await revokeToken(target, access, "access_token");
  } catch (error) {
    if (error instanceof ClawauthError) {
      throw new ClawauthError(
        `${error.message.replace(/\.$/, "")}; ${profile.id} was kept.`,
        error.exitCode,
        `Retry later, or remove it locally only: clawauth remove ${profile.id}`,
      );
    }
    throw error;
  }
  ctx.err(`Revoked ${profile.id} at ${provider.name}.\n`);
  return true;
}

/** The `remove` command. */
export const command = defineCommand({
  positionals: ["PROFILE_ID"],
  flags: { revoke: flag.boolean() },
  help: `Usage: clawauth remove PROFILE_ID [--revoke]      (alias: logout)

Deletes a profile from the agent's store, with its routing order entry and
failover state.

Flags:
  --revoke   first revoke the credential at the provider (RFC 7009) where the
             provider supports it; if revocation fails, nothing is removed
${GLOBAL_HELP}

Example:
  clawauth remove anthropic:work`,
  async run(ctx, args) {
    const [asked] = args.positionals;
    const paths = resolvePaths(args, ctx);
    const id = storedProfileId(paths.backend, asked);
    const notFound = () =>
      new ClawauthError(
        `No profile ${safeText(id)} in agent ${paths.agent}.`,
        Exit.failure,
        "See the profiles: clawauth list",
      );
    if (args.revoke) {
      const store = await openStore(ctx, paths);
      if (!Object.hasOwn(store.profiles, id)) throw notFound();
      // Revoke first: if it fails the profile stays, with the token needed to retry.
      const revoked = await revoke(ctx, paths, readProfile(id, own(store.profiles, id)));
      if (!revoked) {
        warn(
          ctx,
          `${safeText(id)} cannot be revoked by clawauth; revoke it in the provider's console.`,
        );
      }
    }
    const existed = await updateStore(ctx, paths, (store) => removeProfile(store, id));
    if (!existed) throw notFound();
    ctx.out(`Removed ${id} from agent ${paths.agent}.\n`);
    return 0;
  },
});
