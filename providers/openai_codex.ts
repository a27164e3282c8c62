/**
 * OpenAI Codex (ChatGPT subscription) via OAuth PKCE, with the client id,
 * redirect and authorize parameters that Codex CLI sends.
 *
 * @module
 */

import type { ProviderDefinition } from "../lib/provider/definition.ts";

/** The `openai-codex` provider. */
export const openaiCodex: ProviderDefinition = {
  id: "openai-codex",
  name: "OpenAI Codex (ChatGPT)",
  login: "oauth",
  env: { oauth: "OPENAI_ACCESS_TOKEN" },
  // OpenClaw 2026.9 keeps ChatGPT logins as `openai:<name>` oauth profiles.
  storedAs: { provider: "openai", type: "oauth" },
  oauth: {
    issuer: "https://auth.openai.com",
    authorizeUrl: "https://auth.openai.com/oauth/authorize",
    tokenUrl: "https://auth.openai.com/oauth/token",
    clientId: "app_EMoamEEZ73f0CkXaXp7hrann",
    scopes: "openid profile email offline_access",
    redirectUri: "http://localhost:1455/auth/callback",
    // The device login of Codex CLI (`codex login --device-auth`).
    deviceUserCodeUrl: "https://auth.openai.com/api/accounts/deviceauth/usercode",
    deviceTokenUrl: "https://auth.openai.com/api/accounts/deviceauth/token",
    deviceVerificationUrl: "https://auth.openai.com/codex/device",
    deviceRedirectUri: "https://auth.openai.com/deviceauth/callback",
    extraAuthorizeParams: {
      id_token_add_organizations: "true",
      codex_cli_simplified_flow: "true",
      originator: "codex_cli_rs",
    },
    accountIdClaim: ["https://api.openai.com/auth", "chatgpt_account_id"],
  },
  // The ChatGPT Codex backend, called as Codex CLI calls it with a ChatGPT login.
  api: {
    route: "codex",
    baseUrl: "https://chatgpt.com/backend-api/codex",
    errors: "openai",
    auth: { oauth: { scheme: "bearer", profileHeaders: { "chatgpt-account-id": "accountId" } } },
  },
};
