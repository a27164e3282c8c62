/**
 * Writing the `json` backend's store: read-modify-write of
 * `auth-profiles.json` (the caller holds the store lock), atomically, then the
 * runtime cache `auth.json`; the legacy `credentials/oauth.json` is adopted
 * while the main agent has no store yet.
 *
 * @module
 */

import { writeCache } from "../cache.ts";
import type { Context } from "../../context.ts";
import { ClawauthError, Exit } from "../../errors.ts";
import { readTextIfExists, writeFileAtomic } from "../../fs/files.ts";
import type { AgentPaths } from "../../paths.ts";
import { importLegacy } from "../../sources.ts";
import { emptyStore, type StoreData } from "../data.ts";
import { parseStore } from "./read.ts";

/** Re-reads the store, lets `change` edit it, and writes it only if it changed. */
export async function updateJsonStore<T>(
  ctx: Context,
  paths: AgentPaths & { legacy?: string },
  change: (store: StoreData) => T | Promise<T>,
): Promise<T> {
  const text = readTextIfExists(paths.store);
  const store = text === undefined ? emptyStore() : parseStore(text, paths.store);
  const before = serialize(store, paths.store);
  const legacy = text === undefined && paths.agent === "main" ? paths.legacy : undefined;
  const legacyText = legacy && readTextIfExists(legacy);
  if (legacy && legacyText !== undefined) {
    importLegacy(store, legacyText, legacy);
  }
  const result = await change(store);
  const after = serialize(store, paths.store);
  if (after !== before) {
    writeFileAtomic(paths.store, `${after}\n`);
    writeCache(paths, store, JSON.parse(before), ctx.now());
  }
  return result;
}

/** The store as written; one nested too deeply to serialize is exit 65, never a crash. */
function serialize(store: StoreData, path: string): string {
  try {
    return JSON.stringify(store, null, 2);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ClawauthError(
      `The store ${path} is nested too deeply to be rewritten safely.`,
      Exit.data,
      "Fix or move the file aside; clawauth never overwrites a store it cannot parse.",
    );
  }
}
