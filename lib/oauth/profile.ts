/**
 * Storing the result of an OAuth login as an `oauth` profile.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { isObject, type JsonObject } from "../json/json.ts";
import { jwtClaims } from "./jwt.ts";
import { cleanClaim, type TokenSet } from "./tokens.ts";
import { safeText } from "../output/output.ts";
import type { AgentPaths } from "../paths.ts";
import { PROFILE_NAME } from "../profiles.ts";
import { storedProviderId } from "../provider/names.ts";
import { putProfile, updateStore } from "../store.ts";

/** The profile name of a login: `--profile`, else the account e-mail, else `default` (docs/stores.md#profiles-every-backend). */
export function loginProfileName(
  requested: string | undefined,
  tokens: Pick<TokenSet, "email">,
): string {
  if (requested) return requested;
  return tokens.email && PROFILE_NAME.test(tokens.email) ? tokens.email : "default";
}

/**
 * The e-mail of the account a login came back for: the id_token's (or the
 * token response's) e-mail, else the access token's JWT `email` claim, else
 * an `email` inside one of its object claims (OpenAI's
 * `https://api.openai.com/profile`).
 */
export function accountEmail(tokens: TokenSet): string | undefined {
  if (tokens.email) return tokens.email;
  const claims = jwtClaims(tokens.access);
  if (!claims) return undefined;
  if (typeof claims.email === "string") return cleanClaim(claims.email);
  for (const value of Object.values(claims)) {
    if (isObject(value) && typeof value.email === "string") return cleanClaim(value.email);
  }
  return undefined;
}

/**
 * Login CSRF guard: the authorize URL sits in the browser opener's argv,
 * where another local user can read it and finish the login with their own
 * account first. When the requested profile name is an e-mail, the account
 * that came back must be that one (case-insensitively); else exit 65 and
 * nothing is stored. Returns false when the account's e-mail is unknown, so
 * the caller can say it could not check.
 */
export function checkLoginAccount(requested: string | undefined, tokens: TokenSet): boolean {
  if (!requested?.includes("@")) return true;
  const email = accountEmail(tokens);
  if (email === undefined) return false;
  if (email.toLowerCase() === requested.toLowerCase()) return true;
  throw new ClawauthError(
    `This login came back for ${safeText(email, 256)}, not for ${
      safeText(requested, 128)
    } as the profile name says; nothing was stored.`,
    Exit.data,
    `Log in again and sign in as ${
      safeText(requested, 128)
    } (if you did, someone else may have answered this login first), or choose a profile name without @.`,
  );
}

/**
 * Writes the login's tokens as `<provider>:<name>` (under the id the store
 * uses for that provider) and clears any `needs_login` verdict.
 */
export async function saveOAuthProfile(
  ctx: Context,
  paths: AgentPaths,
  provider: string,
  name: string,
  tokens: TokenSet,
): Promise<string> {
  const stored = storedProviderId(paths.backend, provider);
  const id = `${stored}:${name}`;
  const entry: JsonObject = { type: "oauth", provider: stored, ...tokens };
  await updateStore(ctx, paths, (store) => putProfile(store, id, entry));
  return id;
}
