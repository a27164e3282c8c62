/**
 * A fleet row that does not decrypt with the store's key (damaged, moved or
 * rolled back in the database, once the canary has shown the key is right):
 * how it is reported, and the refusal to write over it. Such a row is
 * skipped, never served; every other profile keeps working, and only
 * `clawauth remove` deletes it.
 *
 * @module
 */

import type { Context } from "../../context.ts";
import { ClawauthError, Exit } from "../../errors.ts";
import { safeText, warn } from "../../output/output.ts";

/** Damaged rows already reported by this process (`url agent id`): one warning each. */
const reported = new Set<string>();

/** Warns once per process that damaged rows are skipped (id `""`: the agent's extra keys), naming each and the way out. */
export function reportDamage(
  ctx: Context,
  url: string,
  agent: string,
  ids: readonly string[],
): void {
  const agentFlag = agent === "main" ? "" : ` --agent ${agent}`;
  for (const id of ids) {
    if (reported.has(`${url} ${agent} ${id}`)) continue;
    reported.add(`${url} ${agent} ${id}`);
    const name = id === "" ? `the extra keys of agent ${agent}` : `profile ${safeText(id, 80)}`;
    warn(
      ctx,
      `${name} in the fleet store does not decrypt with its key (damaged, moved or rolled back in the database) and is skipped; ${
        id === ""
          ? "clawauth doctor shows it"
          : `clawauth doctor lists it, clawauth remove ${safeText(id, 80)}${agentFlag} drops it`
      }.`,
    );
  }
}

/**
 * A write would replace a row that does not decrypt: refused (exit 65), since
 * what it holds is unknown. Only deleting it (`clawauth remove`) gets past.
 */
export function damagedRowError(url: string, agent: string, id: string): ClawauthError {
  const agentFlag = agent === "main" ? "" : ` --agent ${agent}`;
  return id === ""
    ? new ClawauthError(
      `The extra keys of agent ${agent} in the fleet store ${url} do not decrypt with its key, so they are not overwritten.`,
      Exit.data,
      `Restore them from a backup, or clear them in the database: UPDATE clawauth.agents SET extra = NULL WHERE agent = '${agent}'.`,
    )
    : new ClawauthError(
      `The profile ${
        safeText(id, 80)
      } of agent ${agent} in the fleet store ${url} does not decrypt with its key (damaged, moved or rolled back in the database), so it is not overwritten.`,
      Exit.data,
      `Remove it first: clawauth remove ${safeText(id, 80)}${agentFlag}, then store it again.`,
    );
}
