/**
 * `clawauth agents add|list|remove`: agents are separate stores under
 * `<state>/agents/<id>/agent/`, or namespaces of a fleet store.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { printJson, safeText, table } from "../output/output.ts";
import { AGENT_ID, agentOf, agentPaths, type StateRef, stateRefOf } from "../paths.ts";
import {
  agentExists,
  createAgent,
  readStore,
  removeAgent,
  storeAgents,
  type StoreData,
  storeLocation,
  updateStore,
} from "../store.ts";
import { isObject } from "../json/json.ts";
import type { Context } from "../context.ts";

async function profileCount(ctx: Context, state: StateRef, id: string): Promise<number | null> {
  try {
    return Object.keys((await readStore(ctx, agentPaths(state, id))).profiles).length;
  } catch {
    return null;
  }
}

async function list(
  ctx: Context,
  state: StateRef,
  current: string,
  json: boolean,
): Promise<number> {
  const { stateDir } = state;
  // A fleet store's agents live in the database: "dir" is then the store's URL.
  const where = async (id: string) =>
    state.backend === "postgres"
      ? await storeLocation(ctx, agentPaths(state, id))
      : agentPaths(state, id).dir;
  const agents = await Promise.all(
    (await storeAgents(ctx, state)).map(async (id) => ({
      id,
      dir: await where(id),
      profiles: await profileCount(ctx, state, id),
      current: id === current,
    })),
  );
  if (json) printJson(ctx, { stateDir, agents });
  else if (agents.length === 0) {
    ctx.out(
      `No agents in ${
        state.backend === "postgres" ? state.url : stateDir
      } yet; the first store write creates "main".\n`,
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
async function copySource(ctx: Context, state: StateRef, from: string): Promise<StoreData> {
  if (!AGENT_ID.test(from) || !(await agentExists(ctx, agentPaths(state, from)))) {
    throw new ClawauthError(
      `No agent ${safeText(from)} to copy from.`,
      Exit.failure,
      "See: clawauth agents list",
    );
  }
  return await readStore(ctx, agentPaths(state, from));
}

/** The `agents` command. */
export const command = defineCommand({
  positionals: { choose: "action", from: { add: ["ID"], list: [], remove: ["ID"] } },
  flags: { json: flag.boolean(), from: flag.string() },
  help: `Usage: clawauth agents add ID [--from AGENT]
       clawauth agents list [--json]
       clawauth agents remove ID

Agents are separate credential stores (<state>/agents/<id>/agent/, or
namespaces of a fleet store, shared by every machine). Use one per machine
role or person; select one with --agent ID or $CLAWAUTH_AGENT.

Flags:
  --from AGENT   (add) copy AGENT's profiles and order; the copies stay one
                 login each, refreshed once for all holders
  --json         (list) print {"stateDir","agents":[{"id","dir","profiles","current"}]}
${GLOBAL_HELP}

Examples:
  clawauth agents add work
  clawauth --agent work status`,
  async run(ctx, args) {
    const state = stateRefOf(args, ctx);
    if (args.action === "list") return await list(ctx, state, agentOf(args, ctx), args.json);
    const { action } = args;
    const [id] = args.positionals;
    if (!AGENT_ID.test(id)) {
      throw usageError(
        `${safeText(id)} is not an agent id (a-z, 0-9, _ and -).`,
        "agents",
      );
    }
    const paths = agentPaths(state, id);
    if (state.backend === "openclaw") {
      // Agents of OpenClaw's store carry its databases, sessions and config: OpenClaw owns them.
      throw new ClawauthError(
        `In OpenClaw's store, agents are OpenClaw's to ${action}.`,
        Exit.failure,
        `Run: openclaw agents ${action === "add" ? "add" : "delete"} ${id}`,
      );
    }
    if (action === "add") {
      const exists = () =>
        new ClawauthError(`Agent ${id} already exists.`, Exit.failure, "See: clawauth agents list");
      if (await agentExists(ctx, paths)) throw exists();
      const { from } = args;
      const source = from === undefined ? undefined : await copySource(ctx, state, from);
      if (!(await createAgent(ctx, paths))) throw exists();
      if (source) {
        // The copies share their logins' lineage: each is refreshed once for all.
        await updateStore(ctx, paths, (store) => {
          store.profiles = structuredClone(source.profiles);
          if (isObject(source.order)) store.order = structuredClone(source.order);
        });
      }
      ctx.out(
        `Added agent ${id} (${
          state.backend === "postgres" ? await storeLocation(ctx, paths) : paths.dir
        })${source ? ` with ${Object.keys(source.profiles).length} profiles of ${from}` : ""}.\n`,
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
    if (!(await removeAgent(ctx, paths))) {
      throw new ClawauthError(
        `No agent ${id}.`,
        Exit.failure,
        "See: clawauth agents list",
      );
    }
    ctx.out(`Removed agent ${id} and its credentials.\n`);
    return 0;
  },
});
