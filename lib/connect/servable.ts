/**
 * Whether clawauth can serve a request right now, checked when a tool is
 * connected: a missing login is a warning (the user may log in next), never
 * a failure, and nothing is refreshed here.
 *
 * @module
 */

import { ClawauthError } from "../errors.ts";
import { safeText, warn } from "../output/output.ts";
import type { RouteRequest } from "../routing/routing.ts";
import { selectProfile, storedRequest } from "../routing/select.ts";
import { openStore } from "../store.ts";
import type { ToolRun } from "./tool.ts";

/** Why `clawauth token` could not serve `request` right now, or `undefined` when it could. */
async function whyUnservable(
  run: ToolRun,
  request: RouteRequest,
): Promise<ClawauthError | undefined> {
  try {
    const store = await openStore(run.ctx, run.paths);
    selectProfile(store, storedRequest(run.paths.backend, request), run.ctx.now());
    return undefined;
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    return error;
  }
}

/** Whether `clawauth token` could serve `request` right now. */
export async function canServe(run: ToolRun, request: RouteRequest): Promise<boolean> {
  return await whyUnservable(run, request) === undefined;
}

/** Warns when `clawauth token` could not serve `request` yet, with the next step. */
export async function warnIfUnservable(run: ToolRun, request: RouteRequest): Promise<void> {
  const error = await whyUnservable(run, request);
  if (!error) return;
  const what = request.profileId ?? request.provider ?? "this request";
  warn(
    run.ctx,
    `clawauth cannot serve ${safeText(what)} yet (${error.message})${
      error.hint ? ` ${error.hint}` : ""
    }`,
  );
}
