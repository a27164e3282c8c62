/**
 * `clawauth agents add|list|remove`: agents are separate stores under
 * `<state>/agents/<id>/agent/`.
 *
 * @module
 */

import { printable } from "../args.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { ensurePrivateDir, exists, writeFileAtomic } from "../files.ts";
import { lockTimeoutMs, withLock } from "../lock.ts";
import { printJson, table } from "../output.ts";
import { AGENT_ID, agentIds, agentPaths, join, stateDirOf } from "../paths.ts";
import { emptyStore, readStore, type StoreData, updateStore } from "../store.ts";
import { isObject } from "../json.ts";
import type { Context } from "../context.ts";

function profileCount(stateDir: string, id: string): number | null {
  try {
    return Object.keys(readStore(agentPaths(stateDir, id)).profiles).length;
  } catch {
    return null;
  }
}

function list(
  ctx: Context,
  stateDir: string,
  current: string,
  json: boolean,
): number {
  const agents = agentIds(stateDir).map((id) => ({
    id,
    dir: agentPaths(stateDir, id).dir,
    profiles: profileCount(stateDir, id),
    current: id === current,
  }));
  if (json) printJson(ctx, { stateDir, agents });
  else if (agents.length === 0) {
    ctx.out(
      `No agents in ${stateDir} yet; the first store write creates "main".\n`,
    );
  } else {
    ctx.out(table(
      ["AGENT", "PROFILES", "DIR"],
      agents.map((
        a,
      ) => [
        `${a.id}${a.current ? " *" : ""}`,
        a.profiles === null ? "unreadable" : String(a.profiles),
        a.dir,
      ]),
    ));
  }
  return 0;
}

/** The store of an existing agent to copy from. */
function copySource(stateDir: string, from: string): StoreData {
  if (!AGENT_ID.test(from) || !exists(agentPaths(stateDir, from).dir)) {
    throw new ClawauthError(
      `No agent ${printable(from)} to copy from.`,
      Exit.failure,
      "See: clawauth agents list",
    );
  }
  return readStore(agentPaths(stateDir, from));
}

/** The `agents` command. */
export const command: Command = {
  positionals: true,
  flags: { json: { type: "boolean" }, from: { type: "string" } },
  help: `Usage: clawauth agents add ID [--from AGENT]
       clawauth agents list [--json]
       clawauth agents remove ID

Agents are separate credential stores (<state>/agents/<id>/agent/). Use one
per machine role or person; select one with --agent ID or $CLAWAUTH_AGENT.

Flags:
  --from AGENT   (add) copy AGENT's profiles and order; the copies stay one
                 login each, refreshed once for all holders
  --json         (list) print {"stateDir","agents":[{"id","dir","profiles","current"}]}
${GLOBAL_HELP}

Examples:
  clawauth agents add work
  clawauth --agent work status`,
  async run(ctx, args) {
    const [action, id, ...extra] = args.positionals;
    const stateDir = stateDirOf(args, ctx);
    const current = args.string("agent") || ctx.env("CLAWAUTH_AGENT") || "main";
    if (action === "list" && id === undefined) {
      return list(ctx, stateDir, current, args.bool("json"));
    }
    if (
      (action !== "add" && action !== "remove") || id === undefined ||
      extra.length > 0
    ) {
      throw usageError(
        "Use: agents add ID | agents list | agents remove ID.",
        "agents",
      );
    }
    if (!AGENT_ID.test(id)) {
      throw usageError(
        `${printable(id)} is not an agent id (a-z, 0-9, _ and -).`,
        "agents",
      );
    }
    const paths = agentPaths(stateDir, id);
    const present = exists(paths.dir);
    if (action === "add") {
      if (present) {
        throw new ClawauthError(
          `Agent ${id} already exists.`,
          Exit.failure,
          "See: clawauth agents list",
        );
      }
      const from = args.string("from");
      const source = from === undefined ? undefined : copySource(stateDir, from);
      ensurePrivateDir(paths.dir);
      await withLock(paths.lock, lockTimeoutMs(ctx), () => {
        if (!exists(paths.store)) {
          writeFileAtomic(paths.store, `${JSON.stringify(emptyStore(), null, 2)}\n`);
        }
      });
      if (source) {
        // The copies share their logins' lineage: each is refreshed once for all.
        await updateStore(ctx, paths, (store) => {
          store.profiles = structuredClone(source.profiles);
          if (isObject(source.order)) store.order = structuredClone(source.order);
        });
      }
      ctx.out(
        `Added agent ${id} (${paths.dir})${
          source ? ` with ${Object.keys(source.profiles).length} profiles of ${from}` : ""
        }.\n`,
      );
      return 0;
    }
    if (id === "main") {
      throw new ClawauthError(
        "The main agent cannot be removed.",
        Exit.failure,
        "Remove its profiles instead: clawauth remove PROFILE_ID",
      );
    }
    if (!present) {
      throw new ClawauthError(
        `No agent ${id}.`,
        Exit.failure,
        "See: clawauth agents list",
      );
    }
    // Hold the agent's lock so no writer is mid-rename while its files go.
    await withLock(paths.lock, lockTimeoutMs(ctx), () => {
      Deno.removeSync(join(stateDir, "agents", id), { recursive: true });
    });
    ctx.out(`Removed agent ${id} and its credentials.\n`);
    return 0;
  },
};
