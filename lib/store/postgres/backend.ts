/**
 * The `postgres` backend (fleet mode, docs/fleet.md) as a {@linkcode Backend}: its
 * locks are database locks that span every machine and die with their
 * holder's connection. Loaded only for a fleet store.
 *
 * @module
 */

import type { Backend } from "../backend.ts";
import {
  createPostgresAgent,
  postgresAgentExists,
  postgresAgents,
  readPostgresStore,
  removePostgresAgent,
  updatePostgresStore,
  withPostgresLineageLock,
} from "./store.ts";

/** The fleet store. */
export const postgresBackend: Backend = {
  read: (ctx, paths) => readPostgresStore(ctx, paths),
  // The fleet's store lock is the agent's row lock, taken inside the transaction.
  update: (ctx, paths, { timeoutMs, change }) => updatePostgresStore(ctx, paths, timeoutMs, change),
  withLineageLock: (ctx, state, { lineage, timeoutMs, fn }) =>
    withPostgresLineageLock(ctx, state, lineage, timeoutMs, fn),
  agents: (ctx, state) => postgresAgents(ctx, state),
  agentExists: (ctx, paths) => postgresAgentExists(ctx, paths),
  createAgent: (ctx, paths, timeoutMs) => createPostgresAgent(ctx, paths, timeoutMs),
  removeAgent: (ctx, paths, timeoutMs) => removePostgresAgent(ctx, paths, timeoutMs),
  location: (_ctx, paths) => paths.url ?? "postgres",
};
