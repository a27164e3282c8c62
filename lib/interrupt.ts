/**
 * Signals: Ctrl-C during a wait (a login, a device code) ends it cleanly: one
 * sentence, exit 130, and nothing stored, instead of Deno's abrupt default;
 * during a refresh, signals wait until the rotated tokens are written.
 *
 * @module
 */

import { ClawauthError, Exit, type ExitCode } from "./errors.ts";

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

/** The signals that wait while rotated tokens are being written (docs/locking.md). */
const HELD_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];

/** Exit codes as shells report a death by these signals (128 + the signal number). */
const SIGNAL_EXIT: Partial<Record<Deno.Signal, ExitCode>> = {
  SIGHUP: Exit.hangup,
  SIGINT: Exit.interrupted,
  SIGTERM: Exit.terminated,
};

/** Signals held back by {@linkcode holdSignals}. */
export interface SignalHold {
  /** Stops holding; the error to end with when a signal arrived meanwhile. */
  release(): Promise<ClawauthError | undefined>;
}

/**
 * Holds SIGINT, SIGTERM and SIGHUP back from the moment a refresh request is
 * sent until its answer is written: killing the process in between would
 * lose the rotated refresh token, and with it the login.
 */
export function holdSignals(): SignalHold {
  let received: Deno.Signal | undefined;
  const handlers = HELD_SIGNALS.map((signal) => {
    const handler = () => {
      received ??= signal;
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return {
    async release() {
      // A signal that arrived just now may still wait in the event loop.
      await new Promise((resolve) => setTimeout(resolve, 0));
      // Removed, so later phases (exec forwarding signals to its child) handle their own.
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
      if (received === undefined) return undefined;
      return new ClawauthError(
        `Stopped by ${received} after the refreshed tokens were saved.`,
        SIGNAL_EXIT[received] ?? Exit.interrupted,
      );
    },
  };
}
