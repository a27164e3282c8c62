/**
 * The `json` backend: `auth-profiles.json` per agent, the layout of OpenClaw
 * up to 2026.5 and of clawauth alone (docs/files.md).
 *
 * @module
 */

import { fileBackend } from "../file_backend.ts";
import type { Backend } from "../backend.ts";
import { readJsonStore } from "./read.ts";
import { load } from "../../lazy.ts";

/** The `json` backend: `auth-profiles.json` per agent (read on the hot path without imports). */
export const jsonBackend: Backend = fileBackend({
  read: readJsonStore,
  async write(ctx, paths, { change }) {
    const { updateJsonStore } = await load("store/json/store.ts");
    return await updateJsonStore(ctx, paths, change);
  },
  location: (paths) => paths.store,
});
