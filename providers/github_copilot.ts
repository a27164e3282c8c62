/**
 * GitHub Copilot: the OAuth device authorization grant (RFC 8628) with the
 * Copilot editor client, as Copilot's own plugins log in.
 *
 * @module
 */

import type { ProviderDefinition } from "../lib/provider/definition.ts";

/** The `github-copilot` provider. */
export const githubCopilot: ProviderDefinition = {
  id: "github-copilot",
  name: "GitHub Copilot",
  login: "oauth",
  env: { oauth: "COPILOT_GITHUB_TOKEN", token: "COPILOT_GITHUB_TOKEN" },
  prefixes: { token: ["ghu_", "gho_"] },
  oauth: {
    issuer: "https://github.com",
    deviceAuthorizationUrl: "https://github.com/login/device/code",
    tokenUrl: "https://github.com/login/oauth/access_token",
    clientId: "Iv1.b507a08c87ecfe98",
    scopes: "read:user",
    defaultFlow: "device",
    errorsWithStatus200: true,
  },
};
