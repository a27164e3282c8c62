/**
 * Provider ids as each store names them (docs/stores.md): OpenClaw ≥ 2026.9 keeps a
 * Codex (ChatGPT) login as provider `openai`, type `oauth`, beside OpenAI API
 * keys of the same provider. The user keeps saying `openai-codex`; a request
 * for `openai` never gets a ChatGPT token, and an `openai` OAuth profile is
 * refreshed with the Codex definition. All of it follows from the providers'
 * `storedAs` data.
 *
 * @module
 */

import { BUILTIN_PROVIDERS } from "../../providers/index.ts";
import type { ProfileType } from "../profiles.ts";
import type { StoreKind } from "../store/kind.ts";

const ALL_TYPES: readonly ProfileType[] = ["oauth", "token", "api_key"];

/** A provider as a store holds it: its id there, and the credential types it may take. */
export interface StoredRoute {
  provider: string;
  /** Only these types serve the request; all types when absent. */
  types?: ProfileType[];
}

/** The provider id new credentials of `provider` are stored under in `backend`. */
export function storedProviderId(backend: StoreKind, provider: string): string {
  const storedAs = BUILTIN_PROVIDERS.get(provider)?.storedAs;
  return backend === "openclaw" && storedAs ? storedAs.provider : provider;
}

/**
 * Where a request for `provider` looks in a `backend` store: `openai-codex`
 * becomes `openai` profiles of type `oauth` in OpenClaw's store, and `openai`
 * excludes the types another provider is stored as (ChatGPT logins).
 */
export function storedRoute(backend: StoreKind, provider: string): StoredRoute {
  const storedAs = BUILTIN_PROVIDERS.get(provider)?.storedAs;
  if (backend === "openclaw" && storedAs) {
    return { provider: storedAs.provider, types: [storedAs.type] };
  }
  const borrowed = [...BUILTIN_PROVIDERS.values()]
    .flatMap((p) => p.storedAs?.provider === provider ? [p.storedAs.type] : []);
  return borrowed.length === 0
    ? { provider }
    : { provider, types: ALL_TYPES.filter((type) => !borrowed.includes(type)) };
}

/** A profile id as a store holds it: `openai-codex:me` is `openai:me` in OpenClaw's store. */
export function storedProfileId(backend: StoreKind, id: string): string {
  const colon = id.indexOf(":");
  if (colon < 0) return id;
  return `${storedProviderId(backend, id.slice(0, colon))}${id.slice(colon)}`;
}

/** The definition that logs in and refreshes a stored profile: `openai` + `oauth` is Codex. */
export function definitionIdOf(profile: { provider: string; type?: ProfileType }): string {
  for (const definition of BUILTIN_PROVIDERS.values()) {
    const storedAs = definition.storedAs;
    if (storedAs?.provider === profile.provider && storedAs.type === profile.type) {
      return definition.id;
    }
  }
  return profile.provider;
}
