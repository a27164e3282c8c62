/**
 * The exact command that gets a user a credential again.
 *
 * @module
 */

import { findProvider } from "../../providers/index.ts";
import type { Profile } from "../profiles.ts";
import { splitProfileId } from "../profiles.ts";
import { definitionIdOf } from "../provider/names.ts";

const LOGIN_VERB = {
  oauth: "login",
  "setup-token": "setup-token",
  paste: "paste-token",
} as const;

/** The command that creates (or renews) a credential for `provider`. */
export function loginCommand(stored: string, profile?: Profile): string {
  // A ChatGPT login kept as `openai` in OpenClaw's store is logged into as openai-codex.
  const provider = profile ? definitionIdOf(profile) : stored;
  const name = profile ? splitProfileId(profile.id)?.name : undefined;
  const named = name && name !== "default" ? ` --profile ${name}` : "";
  if (profile?.type === "api_key") {
    return `clawauth paste-token --provider ${provider}${named} --type api-key`;
  }
  const builtin = findProvider(provider)?.login;
  // A provider clawauth does not ship can only come from clawauth.json, which
  // declares OAuth providers; a pasted token of one is pasted again.
  const how = profile?.type === "oauth"
    ? "oauth"
    : profile?.type === "token"
    ? builtin === "setup-token" ? "setup-token" : "paste"
    : builtin ?? "oauth";
  return `clawauth ${LOGIN_VERB[how]} --provider ${provider}${named}`;
}
