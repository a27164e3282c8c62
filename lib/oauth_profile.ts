/**
 * Storing the result of an OAuth login as an `oauth` profile.
 *
 * @module
 */

import type { Context } from "./context.ts";
import type { JsonObject } from "./json.ts";
import type { TokenSet } from "./oauth.ts";
import type { AgentPaths } from "./paths.ts";
import { PROFILE_NAME } from "./profiles.ts";
import { putProfile, updateStore } from "./store.ts";

/** The profile name of a login: `--profile`, else the account e-mail, else `default` (SPEC §1). */
export function loginProfileName(
  requested: string | undefined,
  tokens: TokenSet,
): string {
  if (requested) return requested;
  return tokens.email && PROFILE_NAME.test(tokens.email) ? tokens.email : "default";
}

/** Writes the login's tokens as `<provider>:<name>` and clears any `needs_login` verdict. */
export async function saveOAuthProfile(
  ctx: Context,
  paths: AgentPaths,
  provider: string,
  name: string,
  tokens: TokenSet,
): Promise<string> {
  const id = `${provider}:${name}`;
  const entry: JsonObject = { type: "oauth", provider, ...tokens };
  await updateStore(ctx, paths, (store) => putProfile(store, id, entry));
  return id;
}
