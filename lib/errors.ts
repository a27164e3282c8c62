/**
 * The one error type clawauth raises: a sentence a user can act on, the next
 * step, and the exit code of docs/commands.md#exit-codes.
 *
 * @module
 */

/** Exit codes of docs/commands.md#exit-codes, by name. */
export const Exit = {
  ok: 0,
  failure: 1,
  expiring: 2,
  usage: 64,
  data: 65,
  unavailable: 69,
  lockTimeout: 75,
  noCredential: 77,
  /** SIGHUP during a refresh, once its tokens are saved: 128 + 1. */
  hangup: 129,
  /** Ctrl-C: 128 + SIGINT, as shells report it. */
  interrupted: 130,
  /** SIGTERM during a refresh, once its tokens are saved: 128 + 15. */
  terminated: 143,
} as const;

/** One of the exit codes in {@linkcode Exit}. */
export type ExitCode = typeof Exit[keyof typeof Exit];

/**
 * Why a provider request failed, where callers act on it: the provider
 * rejected the grant for good, or the request went out and no answer came
 * back (the provider may have acted on it anyway).
 */
export type ErrorReason = "rejected_grant" | "no_answer";

/** An error meant for the user: `message` is one sentence, `hint` the next step. */
export class ClawauthError extends Error {
  /** The process exit code this error maps to. */
  readonly exitCode: ExitCode;
  /** The next step, e.g. the exact command to run; printed after the message. */
  readonly hint?: string;
  /** What callers may act on, beyond the exit code. */
  readonly reason?: ErrorReason;

  /** Builds an error with its exit code, optional hint and reason. */
  constructor(message: string, exitCode: ExitCode, hint?: string, reason?: ErrorReason) {
    super(message);
    this.name = "ClawauthError";
    this.exitCode = exitCode;
    this.hint = hint;
    this.reason = reason;
  }
}

/** Shorthand for a usage error (exit 64) with a pointer to `--help`. */
export function usageError(message: string, command = ""): ClawauthError {
  const help = command ? `clawauth ${command} --help` : "clawauth --help";
  return new ClawauthError(message, Exit.usage, `See: ${help}`);
}

/** A file clawauth reads but cannot use, for {@linkcode unusableFile}. */
export interface UnusableFile {
  /** What the file is to the user, e.g. `config` or `connect record`. */
  what: string;
  path: string;
  /** How to fix it. */
  hint: string;
}

/** The data error (exit 65) for a file that clawauth reads but cannot use, and why. */
export function unusableFile(file: UnusableFile, reason: string): ClawauthError {
  return new ClawauthError(
    `The ${file.what} ${file.path} is not usable: ${reason}.`,
    Exit.data,
    file.hint,
  );
}
