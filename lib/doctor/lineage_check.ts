/**
 * Doctor check of logins held in several places: copies that diverge, reconciled by --fix.
 *
 * @module
 */

import {
  collectCopies,
  copyEntry,
  copyLabel,
  type LinkCopy,
  type StoreCopy,
} from "../routing/lineage.ts";
import { credentialOf, writeToCopies } from "../routing/lineage_sync.ts";
import { CREDENTIAL_FIELDS } from "../profiles.ts";
import type { StateRef } from "../paths.ts";
import { Doctor } from "./report.ts";

/**
 * Copies of one login (agents, linked files) that hold different tokens:
 * `--fix` writes the freshest copy's credential into the others.
 */
export async function checkLineages(
  doc: Doctor,
  state: StateRef,
  agents: string[],
): Promise<void> {
  for (const [key, copies] of await collectCopies(doc.ctx, state)) {
    if (copies.length < 2) continue;
    if (!copies.some((c) => c.kind === "store" && agents.includes(c.agent))) continue;
    const label = copies.map(copyLabel).join(", ");
    const { secret, refresh } = CREDENTIAL_FIELDS.oauth;
    const fingerprint = (c: StoreCopy | LinkCopy) => {
      const entry = copyEntry(c);
      return `${entry[secret]}\n${entry[refresh]}`;
    };
    if (new Set(copies.map(fingerprint)).size === 1) {
      doc.add({
        check: "lineage",
        severity: "ok",
        message: `one login, ${copies.length} copies in step: ${label}`,
      });
      continue;
    }
    const best = copies.reduce((a, b) =>
      (Number(copyEntry(b).expires) || 0) > (Number(copyEntry(a).expires) || 0) ? b : a
    );
    const message = `copies of one login differ: ${label}; the freshest is ${copyLabel(best)}`;
    if (!doc.fix) {
      doc.add({ check: "lineage", severity: "warning", message, fix: "clawauth doctor --fix" });
      continue;
    }
    const stale = copies.filter((c) => c !== best && fingerprint(c) !== fingerprint(best));
    const failed = await writeToCopies(doc.ctx, stale, key, credentialOf(copyEntry(best)));
    if (failed.length > 0) {
      const why = failed.map((f) => `${copyLabel(f.copy)} (${f.error})`).join(", ");
      doc.add({
        check: "lineage",
        severity: "warning",
        message: `${message}; --fix failed for ${why}`,
      });
      continue;
    }
    const done = `copied the freshest tokens into ${stale.map(copyLabel).join(", ")}`;
    doc.fixed.push({ check: "lineage", message: done, path: copyLabel(best) });
    doc.add({ check: "lineage", severity: "ok", message: `${message}; fixed: ${done}` });
  }
}
