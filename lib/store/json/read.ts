/**
 * Reading the `json` backend's store, `<agent dir>/auth-profiles.json`: a
 * store that does not parse is exit 65 naming the file, and is never
 * overwritten.
 *
 * @module
 */

import { ClawauthError, Exit } from "../../errors.ts";
import { readTextIfExists } from "../../fs/files.ts";
import { isObject, parseJson } from "../../json/json.ts";
import type { AgentPaths } from "../../paths.ts";
import { emptyStore, type StoreData } from "../data.ts";

/** Parses store text; anything but a v1 store is exit 65 naming the file. */
export function parseStore(text: string, path: string): StoreData {
  const data = parseJson(text, (reason) => badStore(path, reason));
  if (!isObject(data)) {
    throw badStore(path, "the top level is not a JSON object");
  }
  if (data.version !== 1) {
    throw badStore(path, `version is ${versionText(data.version)}, expected 1`);
  }
  if (!isObject(data.profiles)) {
    throw badStore(path, '"profiles" is not an object');
  }
  return data as StoreData;
}

/** Names a wrong `version` without printing what it holds (it may be huge, deep or hostile). */
function versionText(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  return typeof value === "string" ? "a string" : Array.isArray(value) ? "an array" : "an object";
}

function badStore(path: string, reason: string): ClawauthError {
  return new ClawauthError(
    `The store ${path} cannot be read: ${reason}.`,
    Exit.data,
    "Fix or move the file aside; clawauth never overwrites a store it cannot parse.",
  );
}

/** Reads an agent's JSON store; a missing file is an empty store. */
export function readJsonStore(paths: AgentPaths): StoreData {
  const text = readTextIfExists(paths.store);
  return text === undefined ? emptyStore() : parseStore(text, paths.store);
}
