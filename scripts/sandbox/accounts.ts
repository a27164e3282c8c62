/**
 * The sandbox's accounts and the claims its tokens carry. The default login
 * is the configured account; any other login `x` is another account,
 * `acct-x` / `x@example.test`. Access tokens and id_tokens carry OpenAI's
 * claims (`https://api.openai.com/auth` with `chatgpt_account_id`, and the
 * profile's email) so that clients read an account id as they would from
 * OpenAI's tokens.
 *
 * @module
 */

// @ts-types="npm:@types/oidc-provider@9"
import type { Account, Configuration, KoaContextWithOIDC } from "oidc-provider";

/** The login `approve()` uses unless told otherwise: the configured account. */
export const DEFAULT_LOGIN = "sandbox-user";
/** OpenAI's account claim: `{"chatgpt_account_id": …}`. */
export const AUTH_CLAIM = "https://api.openai.com/auth";
/** OpenAI's profile claim in access tokens: `{"email", "email_verified"}`. */
export const PROFILE_CLAIM = "https://api.openai.com/profile";

/** What a login stands for. */
export interface SandboxAccount {
  /** The `chatgpt_account_id`. */
  accountId: string;
  email: string;
}

/** The accounts, as oidc-provider's configuration hooks. */
export interface SandboxAccounts {
  /** The account a login (a session's `sub`) stands for; `undefined` is the default one. */
  of(sub: string | undefined): SandboxAccount;
  /** oidc-provider's `findAccount`: id_token claims of a login. */
  findAccount: NonNullable<Configuration["findAccount"]>;
  /** oidc-provider's `extraTokenClaims`: OpenAI's claims in every access token. */
  extraTokenClaims: NonNullable<Configuration["extraTokenClaims"]>;
}

/** The accounts, the default login being `defaultAccount`. */
export function sandboxAccounts(defaultAccount: SandboxAccount): SandboxAccounts {
  const of = (sub: string | undefined): SandboxAccount =>
    sub === undefined || sub === DEFAULT_LOGIN
      ? { ...defaultAccount }
      : { accountId: `acct-${sub}`, email: `${sub}@example.test` };
  return {
    of,
    findAccount: (_ctx: KoaContextWithOIDC, sub: string): Account => ({
      accountId: sub,
      claims: () => ({
        sub,
        email: of(sub).email,
        email_verified: true,
        name: "Sandbox Developer",
        [AUTH_CLAIM]: { chatgpt_account_id: of(sub).accountId },
      }),
    }),
    extraTokenClaims: (_ctx, token) => {
      const account = of((token as { accountId?: string }).accountId);
      return {
        [AUTH_CLAIM]: { chatgpt_account_id: account.accountId },
        [PROFILE_CLAIM]: { email: account.email, email_verified: true },
      };
    },
  };
}
