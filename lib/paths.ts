/**
 * Where clawauth's files live (docs/files.md): the state dir, the agent, and the
 * files of an agent.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { ClawauthError, Exit, usageError } from "./errors.ts";
import { exists } from "./fs/files.ts";
import { chooseStore, type StoreKind } from "./store/kind.ts";

/** Agent ids as docs/files.md#paths allows them. */
export const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A state dir and the store backend chosen for this run. */
export interface StateRef {
  /** The state dir. */
  stateDir: string;
  /** Where profiles live: the JSON files, OpenClaw's SQLite store, or a PostgreSQL fleet store. */
  backend: StoreKind;
  /**
   * The fleet store's URL (never with a password), when `backend` is `postgres`;
   * its password and key come from the run's environment (the `Context` every
   * backend method gets).
   */
  url?: string;
}

/** The files of one agent. */
export interface AgentPaths extends StateRef {
  /** The agent id. */
  agent: string;
  /** `<state>/agents/<agent>/agent`. */
  dir: string;
  /** The store, `auth-profiles.json`. */
  store: string;
  /** The runtime cache, `auth.json`. */
  cache: string;
  /** The lock file, `auth-profiles.lock`. */
  lock: string;
}

/** Every path a command may need. */
export interface Paths extends AgentPaths {
  /** The legacy `credentials/oauth.json`. */
  legacy: string;
  /** clawauth's own config. */
  config: string;
  /** OpenClaw's config (read-only). */
  openclawConfig: string;
}

/** Joins path parts with `/`, which every platform Deno runs on accepts. */
export function join(...parts: string[]): string {
  return parts.join("/").replace(/\/{2,}/g, "/");
}

/** The files of `agent` in a state dir. */
export function agentPaths(state: StateRef, agent: string): AgentPaths {
  const { stateDir, backend, url } = state;
  if (!AGENT_ID.test(agent)) {
    throw usageError(
      "An agent id is 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit.",
    );
  }
  const dir = join(stateDir, "agents", agent, "agent");
  return {
    agent,
    stateDir,
    backend,
    ...(url === undefined ? {} : { url }),
    dir,
    store: join(dir, "auth-profiles.json"),
    cache: join(dir, "auth.json"),
    lock: join(dir, "auth-profiles.lock"),
  };
}

/** The global flags that place the files (`--state-dir`, `--store`, `--agent`), as parsed. */
export interface StateFlags {
  /** `--state-dir DIR`. */
  readonly "state-dir"?: string;
  /** `--store STORE`. */
  readonly store?: string;
  /** `--agent ID`. */
  readonly agent?: string;
}

/** The directories from the state dir down to an agent's dir, each of which must be private. */
export function agentDirChain(paths: AgentPaths): string[] {
  const agents = join(paths.stateDir, "agents");
  return [paths.stateDir, agents, join(agents, paths.agent), paths.dir];
}

/** The state dir: `--state-dir` > `$OPENCLAW_STATE_DIR` > `~/.openclaw`. */
export function stateDirOf(flags: StateFlags, ctx: Context): string {
  const explicit = flags["state-dir"] || ctx.env("OPENCLAW_STATE_DIR");
  if (explicit) return explicit;
  const home = ctx.env("HOME") || ctx.env("USERPROFILE");
  if (!home) {
    throw new ClawauthError(
      "Cannot find the home directory to place ~/.openclaw.",
      Exit.usage,
      "Pass --state-dir DIR or set OPENCLAW_STATE_DIR.",
    );
  }
  return join(home, ".openclaw");
}

/** The config path: `$CLAWAUTH_CONFIG` > `<state>/clawauth.json`. */
function configOf(ctx: Context, stateDir: string): string {
  return ctx.env("CLAWAUTH_CONFIG") || join(stateDir, "clawauth.json");
}

/** The state dir and its store backend: `--store` > `$CLAWAUTH_STORE` > config > detection. */
export function stateRefOf(flags: StateFlags, ctx: Context): StateRef {
  const stateDir = stateDirOf(flags, ctx);
  const { backend, url } = chooseStore({
    stateDir,
    flag: flags.store,
    env: ctx.env("CLAWAUTH_STORE"),
    configPath: configOf(ctx, stateDir),
  });
  return url === undefined ? { stateDir, backend } : { stateDir, backend, url };
}

/** The agent: `--agent` > `$CLAWAUTH_AGENT` > `main`. */
export function agentOf(flags: StateFlags, ctx: Context): string {
  return flags.agent || ctx.env("CLAWAUTH_AGENT") || "main";
}

/** Resolves every path for this command line (docs/files.md). */
export function resolvePaths(flags: StateFlags, ctx: Context): Paths {
  const state = stateRefOf(flags, ctx);
  const agent = agentOf(flags, ctx);
  return {
    ...agentPaths(state, agent),
    legacy: join(state.stateDir, "credentials", "oauth.json"),
    config: configOf(ctx, state.stateDir),
    openclawConfig: join(state.stateDir, "openclaw.json"),
  };
}

/** The state-wide lock file of a lineage (the `json` and `openclaw` stores). */
export function lineageLockPath(stateDir: string, id: string): string {
  return join(stateDir, "locks", `${id}.lock`);
}

/**
 * The agents of a state dir: `agents/<id>/agent` directories with a valid id,
 * sorted. A fleet store lists its agents itself (`storeAgents` in lib/store.ts).
 */
export function agentIds(stateDir: string): string[] {
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
