/**
 * clawauth's own config, `clawauth.json`: provider overrides and generic
 * OIDC providers declared by issuer (docs/providers.md).
 *
 * @module
 */

import { findProvider } from "../providers/index.ts";
import { type ClawauthError, unusableFile } from "./errors.ts";
import { readJsonFile } from "./fs/files.ts";
import { isObject, type JsonObject, own } from "./json/json.ts";
import {
  type OAuthSettings,
  OVERRIDE_KEYS,
  type ProviderDefinition,
} from "./provider/definition.ts";

function badConfig(path: string, reason: string): ClawauthError {
  return unusableFile({
    what: "config",
    path,
    hint: 'Fix it: {"providers": {"<id>": {"clientId": "…", "tokenUrl": "…"}}}',
  }, reason);
}

/** Reads `providers` of the config file; a missing file is an empty config. */
export function readProviderConfig(path: string): JsonObject {
  const data = readJsonFile(path, (reason) => badConfig(path, reason));
  if (data === undefined) return {};
  if (!isObject(data)) {
    throw badConfig(path, "the top level is not a JSON object");
  }
  const providers = own(data, "providers") ?? {};
  if (!isObject(providers)) {
    throw badConfig(path, '"providers" is not an object');
  }
  return providers;
}

/**
 * The definition of `id`: the built-in one with the config's overrides
 * merged in, or a generic OIDC provider declared in the config.
 */
export function resolveProvider(
  id: string,
  configPath: string,
): ProviderDefinition | undefined {
  const overrides = own(readProviderConfig(configPath), id);
  const builtin = findProvider(id);
  if (overrides === undefined) return builtin;
  if (!isObject(overrides)) {
    throw badConfig(configPath, `providers.${id} is not an object`);
  }
  const settings: OAuthSettings = { ...builtin?.oauth };
  for (const key of OVERRIDE_KEYS) {
    const value = own(overrides, key);
    if (value === undefined) continue;
    if (typeof value !== "string" || value === "") {
      throw badConfig(
        configPath,
        `providers.${id}.${key} is not a non-empty string`,
      );
    }
    settings[key] = value;
  }
  return {
    id,
    name: builtin?.name ?? id,
    login: builtin?.login ?? "oauth",
    env: builtin?.env ??
      { oauth: `${id.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_ACCESS_TOKEN` },
    ...(builtin?.prefixes ? { prefixes: builtin.prefixes } : {}),
    ...(builtin?.pasteTypes ? { pasteTypes: builtin.pasteTypes } : {}),
    oauth: settings,
  };
}
