/**
 * `clawauth agents add|list|remove`: agents are separate stores under
 * `<state>/agents/<id>/agent/`.
 *
 * @module
 */

import { printable } from "../args.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { ensurePrivateDir, writeFileAtomic } from "../files.ts";
import { lockTimeoutMs, withLock } from "../lock.ts";
import { printJson, table } from "../output.ts";
import { AGENT_ID, agentPaths, join, stateDirOf } from "../paths.ts";
import { readStore } from "../store.ts";
import type { Context } from "../context.ts";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function agentIds(stateDir: string): string[] {
  try {
    return [...Deno.readDirSync(join(stateDir, "agents"))]
      .filter((entry) => entry.isDirectory && AGENT_ID.test(entry.name))
      .map((entry) => entry.name)
      .filter((id) => exists(join(stateDir, "agents", id, "agent")))
      .sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

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

/** The `agents` command. */
export const command: Command = {
  flags: { json: { type: "boolean" } },
  help: `Usage: clawauth agents add ID
       clawauth agents list [--json]
       clawauth agents remove ID

Agents are separate credential stores (<state>/agents/<id>/agent/). Use one
per machine role or person; select one with --agent ID or $CLAWAUTH_AGENT.

Flags:
  --json   (list) print {"stateDir","agents":[{"id","dir","profiles","current"}]}
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
      ensurePrivateDir(paths.dir);
      await withLock(paths.lock, lockTimeoutMs(ctx), () => {
        if (!exists(paths.store)) {
          writeFileAtomic(
            paths.store,
            `${JSON.stringify({ version: 1, profiles: {} }, null, 2)}\n`,
          );
        }
      });
      ctx.out(`Added agent ${id} (${paths.dir}).\n`);
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
