/**
 * Doctor checks of each agent's store: it parses, its profiles are valid, none needs a new login.
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import { formatSpan } from "../duration.ts";
import { ClawauthError } from "../errors.ts";
import { readTextIfExists } from "../fs/files.ts";
import { type AgentPaths } from "../paths.ts";
import { loginCommand } from "../output/hints.ts";
import { splitProfileId } from "../profiles.ts";
import { parseStore, type StoreData } from "../store.ts";
import { profileRows } from "../output/views.ts";
import { Doctor, errorText } from "./report.ts";

/** A shell-safe spelling of a profile id for a suggested command, if it has one. */
function shellId(id: string): string | undefined {
  return /^[A-Za-z0-9._@+:-]{1,200}$/.test(id) ? id : undefined;
}

// --- store and profiles ---------------------------------------------------

/** Checks that the store parses as v1; returns it when it does (it is never rewritten). */
export function checkStore(doc: Doctor, paths: AgentPaths): StoreData | undefined {
  const base = { check: "store", agent: paths.agent, path: paths.store };
  let text: string | undefined;
  try {
    text = readTextIfExists(paths.store);
  } catch (error) {
    doc.add({
      ...base,
      severity: "error",
      message: `The store ${paths.store} cannot be read: ${errorText(error)}.`,
      fix: `check the owner and mode of ${paths.store}`,
    });
    return undefined;
  }
  if (text === undefined) {
    doc.add({ ...base, severity: "ok", message: `no store yet (${paths.store})` });
    return undefined;
  }
  const links = Deno.statSync(paths.store).nlink ?? 1;
  if (links > 1) {
    doc.add({
      ...base,
      severity: "error",
      message:
        `${paths.store} has ${links} hard links: the other names keep every secret it ever held, even after remove or a refresh`,
      fix: `find them with: find / -xdev -samefile ${paths.store}; delete the others`,
    });
  }
  try {
    const store = parseStore(text, paths.store);
    const count = Object.keys(store.profiles).length;
    doc.add({
      ...base,
      severity: "ok",
      message: `${paths.store} is a version 1 store with ${count} profile${count === 1 ? "" : "s"}`,
    });
    return store;
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    doc.add({
      ...base,
      severity: "error",
      message: `${error.message} It is left untouched.`,
      fix: `repair it by hand, or move it aside: mv ${paths.store} ${paths.store}.broken`,
    });
    return undefined;
  }
}

/** Lists invalid profiles and logins that need renewing, with the command that renews them. */
export function checkProfiles(doc: Doctor, paths: AgentPaths, store: StoreData): void {
  const now = doc.ctx.now();
  const rows = profileRows(store, now);
  const base = { agent: paths.agent, path: paths.store };
  const invalid = rows.filter((row) => row.profile.invalid);
  for (const { profile } of invalid) {
    const id = shellId(profile.id);
    doc.add({
      ...base,
      check: "profiles",
      severity: "error",
      message: `profile ${safeText(profile.id, 80)} is invalid: ${profile.invalid}`,
      fix: id && splitProfileId(id)
        ? `clawauth remove ${id} --agent ${paths.agent}, then log in again: ${
          loginCommand(splitProfileId(id)!.provider)
        }`
        : `edit or delete the entry in ${paths.store}`,
    });
  }
  if (invalid.length === 0) {
    doc.add({
      ...base,
      check: "profiles",
      severity: "ok",
      message: rows.length === 0
        ? "no profiles"
        : rows.length === 1
        ? "the profile is well-formed"
        : `all ${rows.length} profiles are well-formed`,
    });
  }
  let renew = 0;
  for (const row of rows) {
    const { profile, state } = row;
    if (state !== "needs_login" && state !== "expired" && state !== "expiring") continue;
    renew++;
    const agentFlag = paths.agent === "main" ? "" : ` --agent ${paths.agent}`;
    const fix = `${loginCommand(profile.provider, profile)}${agentFlag}`;
    const when = profile.expires === null ? "" : formatSpan(profile.expires - now);
    doc.add({
      ...base,
      check: "login",
      severity: state === "expiring" ? "warning" : "error",
      message: state === "needs_login"
        ? `${
          safeText(profile.id, 80)
        }: the provider rejected its refresh token; it needs a new login`
        : state === "expired"
        ? `${safeText(profile.id, 80)} expired ${when} ago and cannot be refreshed`
        : `${safeText(profile.id, 80)} expires in ${when} and cannot be refreshed`,
      fix,
    });
  }
  if (renew === 0 && rows.length > 0) {
    doc.add({
      ...base,
      check: "login",
      severity: "ok",
      message: "no profile needs a new login",
    });
  }
}
