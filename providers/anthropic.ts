/**
 * Anthropic: Claude setup-tokens, API keys, and Claude Pro/Max OAuth.
 *
 * @module
 */

import type { ProviderDefinition } from "../lib/provider.ts";

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
};
