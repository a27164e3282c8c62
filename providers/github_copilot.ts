/**
 * GitHub Copilot via the OAuth device authorization grant.
 *
 * @module
 */

import type { ProviderDefinition } from "../lib/provider.ts";

/** The `github-copilot` provider. */
export const githubCopilot: ProviderDefinition = {
  id: "github-copilot",
  name: "GitHub Copilot",
  login: "oauth",
  env: { oauth: "COPILOT_GITHUB_TOKEN", token: "COPILOT_GITHUB_TOKEN" },
  prefixes: { token: ["ghu_", "gho_"] },
};
