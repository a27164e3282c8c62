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
};
