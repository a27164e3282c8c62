/**
 * The built-in providers. Adding one means a file here and a line below;
 * nothing in `lib/` changes.
 *
 * @module
 */

import type { ProviderDefinition } from "../lib/provider/definition.ts";
import { anthropic } from "./anthropic.ts";
import { githubCopilot } from "./github_copilot.ts";
import { openai } from "./openai.ts";
import { openaiCodex } from "./openai_codex.ts";

/** Every built-in provider, by id. */
export const BUILTIN_PROVIDERS: ReadonlyMap<string, ProviderDefinition> = new Map(
  [openaiCodex, anthropic, openai, githubCopilot].map((p) => [p.id, p]),
);

/** A built-in provider by id, or `undefined` for one clawauth does not know. */
export function findProvider(id: string): ProviderDefinition | undefined {
  return BUILTIN_PROVIDERS.get(id);
}
