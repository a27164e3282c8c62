/**
 * The `postgres` backend (fleet mode, SPEC §8) as a {@linkcode Backend}: its
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
  read: (_ctx, paths) => readPostgresStore(paths),
  // The fleet's store lock is the agent's row lock, taken inside the transaction.
  update: (_ctx, paths, { timeoutMs, change }) => updatePostgresStore(paths, timeoutMs, change),
  withLineageLock: (_ctx, state, { lineage, timeoutMs, fn }) =>
    withPostgresLineageLock(state, lineage, timeoutMs, fn),
  agents: (_ctx, state) => postgresAgents(state),
  agentExists: (_ctx, paths) => postgresAgentExists(paths),
  createAgent: (_ctx, paths, timeoutMs) => createPostgresAgent(paths, timeoutMs),
  removeAgent: (_ctx, paths, timeoutMs) => removePostgresAgent(paths, timeoutMs),
  location: (_ctx, paths) => paths.url ?? "postgres",
};
