/**
 * Anthropic: Claude setup-tokens, API keys, and the Claude Pro/Max OAuth
 * flow (PKCE; the person pastes `code#state`; JSON token requests).
 *
 * @module
 */

import type { ProviderDefinition } from "../lib/provider/definition.ts";

/** The `anthropic` provider. */
export const anthropic: ProviderDefinition = {
  id: "anthropic",
  name: "Anthropic",
  login: "setup-token",
  env: {
    oauth: "CLAUDE_CODE_OAUTH_TOKEN",
    token: "CLAUDE_CODE_OAUTH_TOKEN",
    api_key: "ANTHROPIC_API_KEY",
  },
  prefixes: { token: ["sk-ant-oat01-"], api_key: ["sk-ant-api03-"] },
  pasteTypes: ["token", "api_key"],
  oauth: {
    authorizeUrl: "https://claude.ai/oauth/authorize",
    tokenUrl: "https://console.anthropic.com/v1/oauth/token",
    clientId: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
    scopes: "org:create_api_key user:profile user:inference",
    // Not loopback: the page shows `code#state` for the person to paste.
    redirectUri: "https://console.anthropic.com/oauth/code/callback",
    extraAuthorizeParams: { code: "true" },
    accountFromResponse: { email: ["account", "email_address"], accountId: ["account", "uuid"] },
    tokenEncoding: "json",
    exchangeSendsState: true,
  },
  api: {
    route: "anthropic",
    baseUrl: "https://api.anthropic.com",
    errors: "anthropic",
    auth: {
      api_key: { scheme: "x-api-key" },
      // Subscription tokens need Anthropic's OAuth beta flag beside the client's own flags.
      token: { scheme: "bearer", appendHeaders: { "anthropic-beta": "oauth-2025-04-20" } },
      oauth: { scheme: "bearer", appendHeaders: { "anthropic-beta": "oauth-2025-04-20" } },
    },
  },
};
