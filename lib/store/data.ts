/**
 * The store document every backend reads and writes: OpenClaw's v1
 * `auth-profiles.json` shape, credentials (`profiles`) and routing state
 * (`order`, `lastGood`, `usageStats`) side by side.
 *
 * @module
 */

import type { JsonObject } from "../json/json.ts";

/** The store document; keys beyond these are kept as they are. */
export interface StoreData extends JsonObject {
  version: 1;
  profiles: JsonObject;
}

/** A fresh, empty store. */
export function emptyStore(): StoreData {
  return { version: 1, profiles: {} };
}
