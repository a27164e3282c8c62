/**
 * Ctrl-C during a wait (a login, a device code) ends it cleanly: one
 * sentence, exit 130, and nothing stored, instead of Deno's abrupt default.
 *
 * @module
 */

import { ClawauthError, Exit } from "./errors.ts";

/** The error a cancelled wait ends with. */
export function cancelled(what: string): ClawauthError {
  return new ClawauthError(`${what} was cancelled; nothing was stored.`, Exit.interrupted);
}

/** Races `work` against SIGINT, which rejects with {@linkcode cancelled}. */
export async function untilInterrupted<T>(work: Promise<T>, what: string): Promise<T> {
  let onSignal!: () => void;
  const interrupted = new Promise<never>((_, reject) => {
    onSignal = () => reject(cancelled(what));
  });
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    return await Promise.race([work, interrupted]);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}
