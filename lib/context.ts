/**
 * What a command may touch of the outside world, injected so tests can fake
 * the clock and the streams (docs/contributing.md#style).
 *
 * @module
 */

import { ClawauthError, Exit } from "./errors.ts";

/**
 * `~/<parts>` for the user of `ctx` (`$HOME`, else `%USERPROFILE%`); without
 * a home dir, exit 64 with `fix` (the variable or flag that names the place).
 */
export function homePath(ctx: Pick<Context, "env">, parts: readonly string[], fix: string): string {
  const home = ctx.env("HOME") || ctx.env("USERPROFILE");
  if (!home) {
    throw new ClawauthError(
      `Cannot find the home directory to place ~/${parts.join("/")}.`,
      Exit.usage,
      fix,
    );
  }
  return [home.replace(/\/+$/, ""), ...parts].join("/");
}

/** The collaborators every command receives. */
export interface Context {
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** The whole environment, a fresh copy (what `exec` hands its child). */
  envAll(): Record<string, string>;
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** Whether stdout is a terminal (human output is plain otherwise). */
  stdoutIsTTY: boolean;
  /** Whether stdin is a terminal (secrets are then read without echo). */
  stdinIsTTY: boolean;
  /** Whether stderr is a terminal (a login then shows a live waiting screen). */
  stderrIsTTY: boolean;
  /** The terminal's size, when there is one. */
  terminalSize(): { columns: number; rows: number } | undefined;
  /** Whether human output on stdout may use colour (a TTY and no `NO_COLOR`). */
  color: boolean;
  /** Whether warnings on stderr may use colour (stderr a TTY and no `NO_COLOR`). */
  stderrColor: boolean;
  /** The standard input stream. */
  stdin: ReadableStream<Uint8Array>;
  /** Every HTTP request clawauth itself makes goes through this `fetch`. */
  fetch: typeof globalThis.fetch;
  /**
   * Waits `ms` (a poll interval, a lock or login deadline); rejects with the
   * signal's reason if `signal` aborts first, which also clears the timer.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** {@linkcode Context.sleep} on the real clock: a `setTimeout` that `signal` cancels. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function writeAll(
  file: { writeSync(p: Uint8Array): number },
  text: string,
): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** The context of the real process. */
export function processContext(): Context {
  const stdoutIsTTY = Deno.stdout.isTerminal();
  const colorAllowed = () =>
    (Deno.env.get("NO_COLOR") ?? "") === "" && Deno.env.get("TERM") !== "dumb";
  return {
    env: (name) => Deno.env.get(name),
    envAll: () => Deno.env.toObject(),
    now: () => Date.now(),
    out: (text) => writeAll(Deno.stdout, text),
    err: (text) => writeAll(Deno.stderr, text),
    stdoutIsTTY,
    stdinIsTTY: Deno.stdin.isTerminal(),
    terminalSize: () => {
      try {
        return Deno.consoleSize();
      } catch {
        return undefined;
      }
    },
    color: stdoutIsTTY && colorAllowed(),
    // A wrapper: the global is looked up only when a request is made.
    fetch: (input, init) => fetch(input, init),
    sleep,
    // Only a login's waiting screen asks; the `token` hot path never does.
    get stderrIsTTY() {
      return Deno.stderr.isTerminal();
    },
    // Asked only when a warning is printed: `status 2>err.log` keeps the log plain.
    get stderrColor() {
      return colorAllowed() && Deno.stderr.isTerminal();
    },
    // A getter: creating the stream loads Deno's streams code, which costs
    // the `token` hot path ~2 ms and which only commands reading stdin need.
    get stdin() {
      return Deno.stdin.readable;
    },
  };
}
