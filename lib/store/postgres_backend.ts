/**
 * The `postgres` backend (fleet mode, SPEC §8) as a {@linkcode Backend}: its
 * locks are database locks that span every machine and die with their
 * holder's connection. Loaded only for a fleet store.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import {
  createPostgresAgent,
  postgresAgentExists,
  postgresAgents,
  readPostgresStore,
  removePostgresAgent,
  updatePostgresStore,
  withPostgresLineageLock,
} from "./postgres_store.ts";

/** The fleet store. */
export const postgresBackend: Backend = {
  read: readPostgresStore,
  // The fleet's store lock is the agent's row lock, taken inside the transaction.
  update: (_ctx, paths, { timeoutMs, change }) => updatePostgresStore(paths, timeoutMs, change),
  withLineageLock: (state, { lineage, timeoutMs, fn }) =>
    withPostgresLineageLock(state, lineage, timeoutMs, fn),
  agents: postgresAgents,
  agentExists: postgresAgentExists,
  createAgent: createPostgresAgent,
  removeAgent: removePostgresAgent,
  location: (paths) => paths.url ?? "postgres",
};
