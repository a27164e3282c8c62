/**
 * OpenClaw's own config, `<state>/openclaw.json` (JSON5), read-only: clawauth
 * only takes `auth.order` from it.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { ClawauthError, Exit } from "./errors.ts";
import { readTextIfExists } from "./fs/files.ts";
import { isObject, jsonErrorText, own } from "./json/json.ts";
import { json5AsJson } from "./json/json5_fast.ts";
import { load } from "./lazy.ts";
import { warn } from "./output/output.ts";

/** `auth.order` of OpenClaw's config, or `undefined` when there is none. */
export async function readOpenclawOrder(path: string): Promise<unknown> {
  const text = readTextIfExists(path);
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = await parseJson5(text, path);
  }
  const auth = isObject(data) ? own(data, "auth") : undefined;
  return isObject(auth) ? own(auth, "order") : undefined;
}

/**
 * Parses JSON5: its common subset (comments, bare keys, trailing commas) as
 * rewritten JSON, the rest with the json5 package, which costs ~3 ms to load.
 */
async function parseJson5(text: string, path: string): Promise<unknown> {
  const json = json5AsJson(text);
  if (json !== undefined) {
    try {
      return JSON.parse(json);
    } catch {
      // Not the common subset after all: the package decides and words the error.
    }
  }
  const json5 = await load("json/json5.ts");
  try {
    return json5.parseJson5(text);
  } catch (error) {
    throw new ClawauthError(
      `OpenClaw's config ${path} cannot be read: ${jsonErrorText(error)}.`,
      Exit.data,
      "Fix the file with OpenClaw (openclaw doctor) or move it aside.",
    );
  }
}

/**
 * `auth.order` for routing: another tool's file, needed only to rank a
 * provider's profiles, so a pinned profile never reads it and a file that
 * cannot be read is a warning, not a failure.
 */
export async function routingOrder(
  ctx: Context,
  path: string,
  request: { profileId?: string } = {},
): Promise<unknown> {
  if (request.profileId) return undefined;
  try {
    return await readOpenclawOrder(path);
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    warn(ctx, `${error.message} Going on without its auth.order.`);
    return undefined;
  }
}
