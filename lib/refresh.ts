/**
 * Refreshing an OAuth profile exactly once (SPEC §4): take the store lock,
 * re-read, reuse a token another process already refreshed, else make one
 * token request and write the rotated tokens before releasing the lock.
 *
 * @module
 */

import { resolveProvider } from "./config.ts";
import type { Context } from "./context.ts";
import { ClawauthError, Exit } from "./errors.ts";
import { loginCommand } from "./hints.ts";
import { child, type JsonObject, own, stringAt } from "./json.ts";
import { isRejectedGrant, oauthTarget, refreshTokens } from "./oauth.ts";
import { warn } from "./output.ts";
import type { Paths } from "./paths.ts";
import { canRefresh, type Profile, readProfile, usageOf } from "./profiles.ts";
import { updateStore } from "./store.ts";

type Outcome =
  | { kind: "fresh"; profile: Profile }
  | { kind: "gone" }
  | { kind: "needs_login"; profile: Profile; reason: string }
  | { kind: "failed"; profile: Profile; error: ClawauthError };

/**
 * Returns `profile` with an access token valid for at least `minValidMs`,
 * refreshing it under the lock when needed.
 */
export async function refreshProfile(
  ctx: Context,
  paths: Paths,
  profile: Profile,
  minValidMs: number,
): Promise<Profile> {
  const outcome = await updateStore(
    ctx,
    paths,
    async (store): Promise<Outcome> => {
      if (!Object.hasOwn(store.profiles, profile.id)) return { kind: "gone" };
      const current = readProfile(profile.id, own(store.profiles, profile.id));
      if (usageOf(store.usageStats, profile.id).needsLogin) {
        return {
          kind: "needs_login",
          profile: current,
          reason: "its refresh token was rejected earlier",
        };
      }
      // Another process may have refreshed while this one waited for the
      // lock; its token is as fresh as the provider makes them: use it.
      const rotated = stringAt(current.raw, "access") !== stringAt(profile.raw, "access");
      if (
        rotated || current.expires === null ||
        current.expires - ctx.now() >= minValidMs
      ) {
        return { kind: "fresh", profile: current };
      }
      const refresh = stringAt(current.raw, "refresh");
      if (!canRefresh(current) || !refresh) {
        return {
          kind: "needs_login",
          profile: current,
          reason: "it has no refresh token",
        };
      }
      try {
        const provider = resolveProvider(current.provider, paths.config);
        if (!provider) {
          throw new ClawauthError(
            `Unknown provider ${current.provider}.`,
            Exit.data,
            `Declare it in ${paths.config}.`,
          );
        }
        const tokens = await refreshTokens(
          ctx,
          await oauthTarget(ctx, provider),
          refresh,
        );
        const raw: JsonObject = { ...current.raw, ...tokens };
        store.profiles[profile.id] = raw;
        return { kind: "fresh", profile: readProfile(profile.id, raw) };
      } catch (error) {
        if (isRejectedGrant(error)) {
          // Keep the data (another copy may still be adopted); mark the verdict.
          child(child(store, "usageStats"), profile.id).needsLogin = ctx.now();
          return {
            kind: "needs_login",
            profile: current,
            reason: (error as ClawauthError).message,
          };
        }
        if (error instanceof ClawauthError) {
          return {
            kind: "failed",
            profile: current,
            error,
          };
        }
        throw error;
      }
    },
  );
  switch (outcome.kind) {
    case "fresh":
      return outcome.profile;
    case "gone":
      throw new ClawauthError(
        `Profile ${profile.id} was removed meanwhile.`,
        Exit.noCredential,
        `Run: ${loginCommand(profile.provider, profile)}`,
      );
    case "needs_login":
      throw new ClawauthError(
        `${profile.id} needs a new login: ${outcome.reason.replace(/\.$/, "")}.`,
        Exit.noCredential,
        `Run: ${loginCommand(profile.provider, profile)}`,
      );
    case "failed": {
      const { expires } = outcome.profile;
      if (expires !== null && expires > ctx.now()) {
        warn(
          ctx,
          `${outcome.error.message} Using the current token, valid for ${
            Math.round((expires - ctx.now()) / 1000)
          } s more.`,
        );
        return outcome.profile;
      }
      throw outcome.error;
    }
  }
}
