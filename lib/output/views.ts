/**
 * Secret-free views of profiles, shared by `status`, `list` and `channels`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { formatSpan } from "../duration.ts";
import { type JsonObject, stringAt } from "../json/json.ts";
import { IDENTITY_FIELDS, type Profile } from "../profiles.ts";
import { type Candidate, candidatesOf } from "../routing/routing.ts";
import type { StoreData } from "../store.ts";

/** A profile with its usage and state at one moment: routing's {@linkcode Candidate}. */
export type ProfileRow = Candidate;

/** Every profile of the store with its state, optionally of one provider. */
export function profileRows(
  store: StoreData,
  now: number,
  provider?: string,
): ProfileRow[] {
  return candidatesOf(store, { now, provider });
}

/** The JSON view of a profile: never a secret (docs/commands.md). */
export function profileJson(row: ProfileRow, now: number): JsonObject {
  const { profile, usage } = row;
  const view: JsonObject = {
    id: profile.id,
    provider: profile.provider,
    type: profile.type ?? null,
    state: row.state,
    expires: profile.expires,
    expiresInMs: profile.expires === null ? null : profile.expires - now,
  };
  for (const field of IDENTITY_FIELDS) {
    const value = stringAt(profile.raw, field);
    if (value) view[field] = value;
  }
  if (profile.invalid) view.reason = profile.invalid;
  if (usage.cooldownUntil) view.cooldownUntil = usage.cooldownUntil;
  if (usage.disabledUntil) view.disabledUntil = usage.disabledUntil;
  if (usage.disabledReason) view.disabledReason = usage.disabledReason;
  if (usage.errorCount) view.errorCount = usage.errorCount;
  if (usage.lastUsed) view.lastUsed = usage.lastUsed;
  return view;
}

/** "in 3d 4h", "2h ago", or "never" for a human column. */
export function whenText(ctx: Context, at: number | null | undefined): string {
  if (at === null || at === undefined) return "never";
  const delta = at - ctx.now();
  return delta >= 0 ? `in ${formatSpan(delta)}` : `${formatSpan(delta)} ago`;
}

/** The account column: e-mail, else account id, else "-". */
export function accountText(profile: Profile): string {
  return stringAt(profile.raw, "email") ?? stringAt(profile.raw, "accountId") ??
    "-";
}
