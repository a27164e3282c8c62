/**
 * OpenAI Platform API keys.
 *
 * @module
 */

import type { ProviderDefinition } from "../lib/provider/definition.ts";

/** The `openai` provider. */
export const openai: ProviderDefinition = {
  id: "openai",
  name: "OpenAI Platform",
  login: "paste",
  env: { api_key: "OPENAI_API_KEY" },
  prefixes: { api_key: ["sk-"] },
  pasteTypes: ["api_key"],
  // API keys only: a ChatGPT login is never sent as an API key.
  api: {
    route: "openai",
    baseUrl: "https://api.openai.com",
    errors: "openai",
    auth: { api_key: { scheme: "bearer" } },
  },
};
