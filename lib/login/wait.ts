/**
 * Waiting for the answer of a browser login (docs/login.md): the loopback
 * listener raced against a pasted answer, a deadline and Ctrl-C. On a
 * terminal the paste is read in raw mode, so the spinner never garbles what
 * is typed and the code is not left in the scrollback.
 *
 * @module
 */

import { checkState, parseCallbackInput } from "./callback_input.ts";
import { type CallbackServer, listenForCallback } from "./callback_server.ts";
import type { Context } from "../context.ts";
import { isLoopback } from "../oauth/endpoints.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { cancelled, untilInterrupted } from "../interrupt.ts";
import { type Spinner, startSpinner } from "./screen.ts";
import { safeText } from "../output/output.ts";
import { describeOwner, portOwner } from "./port_owner.ts";
import { MAX_SECRET_BYTES } from "./secret_input.ts";

const CTRL_C = 0x03;
const ENTER = [0x0d, 0x0a];
const ERASE = [0x7f, 0x08];
const CTRL_U = 0x15;
const CTRL_D = 0x04;

/**
 * Listens on the redirect URI's loopback port, or says why it cannot (with
 * the `ssh -L` hint) and returns undefined: the login then goes on by paste.
 */
export function tryListen(
  ctx: Context,
  redirectUri: string,
  state: string,
): CallbackServer | undefined {
  const url = new URL(redirectUri);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  if (url.protocol !== "http:" || !isLoopback(url)) return undefined;
  try {
    return listenForCallback(port, url.pathname, state);
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? `is in use by ${safeText(describeOwner(portOwner(port)), 80)}`
      : "cannot be opened";
    ctx.err(
      `Port ${port} on 127.0.0.1 ${why}, so the browser cannot come back here; paste the answer instead.\n` +
        `Or forward the port from the machine with the browser: ssh -L ${port}:127.0.0.1:${port} <this-host>\n`,
    );
    return undefined;
  }
}

/** Lines piped on stdin (not a terminal), until EOF or `signal`. */
async function* pipedLines(ctx: Context, signal: AbortSignal): AsyncGenerator<string> {
  const reader = ctx.stdin.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
  let buffer = "";
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer = (buffer + value).slice(-MAX_SECRET_BYTES);
    const lines = buffer.split(/\r?\n/);
    buffer = lines.pop() ?? "";
    yield* lines;
  }
}

/**
 * Lines typed on the terminal, which is in raw mode: no echo, Backspace and
 * Ctrl-U edit, Ctrl-C cancels, Ctrl-D stops reading; `typed` hears how many characters are waiting.
 */
async function* typedLines(
  signal: AbortSignal,
  typed: (count: number) => void,
): AsyncGenerator<string> {
  const buffer = new Uint8Array(4096);
  let line: number[] = [];
  while (!signal.aborted) {
    const n = await Deno.stdin.read(buffer);
    if (n === null || signal.aborted) return;
    for (const byte of buffer.subarray(0, n)) {
      if (byte === CTRL_C) throw cancelled("The login");
      if (byte === CTRL_D) return; // no more typing; the listener may still answer
      if (ENTER.includes(byte)) {
        if (line.length > 0) yield new TextDecoder().decode(new Uint8Array(line));
        line = [];
      } else if (ERASE.includes(byte)) line.pop();
      else if (byte === CTRL_U) line = [];
      else if (line.length < MAX_SECRET_BYTES) line.push(byte);
    }
    typed(line.length);
  }
}

/** Reads pasted answers line by line until one parses; EOF leaves the listener to answer. */
async function pastedAnswer(
  ctx: Context,
  state: string,
  signal: AbortSignal,
  spinner: Spinner,
): Promise<URLSearchParams> {
  const lines = ctx.stdinIsTTY
    ? typedLines(
      signal,
      (n) => spinner.note(n > 0 ? `${n} characters pasted, Enter uses them` : ""),
    )
    : pipedLines(ctx, signal);
  for await (const raw of lines) {
    // Terminals send arrow keys and bracketed-paste markers as escape sequences.
    // deno-lint-ignore no-control-regex
    const line = raw.replace(/\x1b\[[0-9;]*[~A-Za-z]/g, "");
    if (line.trim() === "") continue;
    let params: URLSearchParams;
    try {
      params = parseCallbackInput(line);
    } catch (error) {
      spinner.say(`${error instanceof Error ? error.message : error} Paste it again.\n`);
      continue;
    }
    if (params.has("state")) checkState(params, state);
    else params.set("state", state); // a bare code: the person vouches for it
    return params;
  }
  return new Promise<never>(() => {});
}

/** What {@linkcode waitForAnswer} waits for. */
export interface Wait {
  server: CallbackServer | undefined;
  state: string;
  /** Epoch ms after which the login is abandoned. */
  deadline: number;
  /** What to show first: the URL and the ways to answer. */
  intro: string;
  /** The spinner's words, e.g. "Waiting for the browser". */
  label: string;
}

/**
 * Shows the intro, then waits for the first valid answer: the browser's
 * redirect, or a pasted one. A terminal goes into raw mode before anything
 * invites typing, so no keystroke is ever echoed, and comes back out however
 * the wait ends.
 */
export async function waitForAnswer(ctx: Context, wait: Wait): Promise<URLSearchParams> {
  if (ctx.stdinIsTTY) Deno.stdin.setRaw(true);
  const abort = new AbortController();
  let spinner: Spinner | undefined;
  try {
    ctx.err(wait.intro);
    spinner = startSpinner(ctx, wait.label, wait.deadline);
    if (wait.server) {
      // Said once: whoever sends stray requests must not flood the terminal.
      let told = false;
      const say = spinner.say;
      wait.server.onRefused = () => {
        if (told) return;
        told = true;
        say(
          "The listener turned away a request that is not this login's answer " +
            "(wrong state or host); still waiting.\n",
        );
      };
    }
    const seconds = Math.round((wait.deadline - ctx.now()) / 1000);
    // Aborting `abort` (below) also clears this timer.
    const timeout = ctx.sleep(wait.deadline - ctx.now(), abort.signal).then((): never => {
      throw new ClawauthError(
        `No answer within ${seconds} s; the login was abandoned.`,
        Exit.failure,
        "Run it again (--timeout SEC gives more time), or use login --start / --finish.",
      );
    });
    return await untilInterrupted(
      Promise.race([
        ...(wait.server ? [wait.server.result] : []),
        pastedAnswer(ctx, wait.state, abort.signal, spinner),
        timeout,
      ]),
      "The login",
    );
  } finally {
    abort.abort();
    spinner?.stop();
    if (ctx.stdinIsTTY) Deno.stdin.setRaw(false);
    await wait.server?.close();
  }
}
