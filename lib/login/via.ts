/**
 * `login --via [user@]host`, run on the machine with the browser: logs the
 * remote host in over ssh. The callback port is forwarded
 * (`ssh -L PORT:127.0.0.1:PORT`), the remote `clawauth login` runs with
 * `--no-browser --forwarded`, the authorize URL it prints is opened here,
 * and the browser's redirect travels through the tunnel to the remote
 * listener. The remote's messages, output and exit code pass through; ssh's
 * options come from the user's own ssh config.
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import { openBrowser } from "./browser.ts";
import type { Context } from "../context.ts";
import { isLoopback } from "../oauth/endpoints.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { describeOwner, portOwner } from "./port_owner.ts";

/** A destination ssh takes as a host, never as an option. */
const DESTINATION = /^(?:[A-Za-z0-9._+%-]+@)?(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$/;
/**
 * The one line a `--forwarded` login prints for the machine that started it
 * (`VIA_PREFIX` + JSON `{url, listening}`), so rewording its human messages
 * cannot break `--via`. It is kept out of what the person sees.
 */
export const VIA_PREFIX = "clawauth-via: ";

/** What the remote login tells the laptop. */
export interface ViaAnnouncement {
  /** The authorize URL to open. */
  url: string;
  /** Whether it listens on the forwarded port (else a redirect would reach another process). */
  listening: boolean;
}

/** Parses a {@linkcode VIA_PREFIX} line, or `undefined` when it is not a well-formed one. */
export function parseViaLine(line: string): ViaAnnouncement | undefined {
  if (!line.startsWith(VIA_PREFIX)) return undefined;
  try {
    const data: unknown = JSON.parse(line.slice(VIA_PREFIX.length));
    if (typeof data !== "object" || data === null) return undefined;
    const { url, listening } = data as Record<string, unknown>;
    if (typeof url !== "string" || !/^https?:\/\//.test(url) || typeof listening !== "boolean") {
      return undefined;
    }
    return { url, listening };
  } catch {
    return undefined;
  }
}
/** ssh's own failures (connection, authentication, forwarding) exit 255. */
const SSH_FAILED = 255;
/** A POSIX shell's "command not found". */
const NOT_FOUND = 127;

/** Quotes one word for the remote POSIX shell; a leading `~/` stays expandable. */
export function shellWord(word: string): string {
  const quote = (w: string) =>
    /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
  return word.startsWith("~/") ? `~/${quote(word.slice(2))}` : quote(word);
}

/** How the remote login runs, beyond its provider and port (the `login` flags it passes on). */
export interface ViaOptions {
  /** clawauth on the host (`--remote-bin`); default `clawauth` on its PATH. */
  remoteBin?: string;
  /** `--profile NAME`. */
  profile?: string;
  /** `--timeout`, in milliseconds. */
  timeoutMs?: number;
  /** `--agent ID`. */
  agent?: string;
  /** `--json`. */
  json?: boolean;
  /** Whether the authorize URL is opened here (no `--no-browser`). */
  openBrowser?: boolean;
}

/** The remote command line: `<remote-bin> login --provider ID --no-browser --forwarded --port N …`. */
export function remoteCommand(opts: ViaOptions & { providerId: string; port: number }): string {
  const words = [
    opts.remoteBin ?? "clawauth",
    "login",
    "--provider",
    opts.providerId,
    "--no-browser",
    "--forwarded",
    "--port",
    String(opts.port),
  ];
  if (opts.profile !== undefined) words.push("--profile", opts.profile);
  // In whole seconds: what every clawauth version reads.
  if (opts.timeoutMs !== undefined) {
    words.push("--timeout", String(Math.ceil(opts.timeoutMs / 1000)));
  }
  if (opts.agent !== undefined) words.push("--agent", opts.agent);
  if (opts.json) words.push("--json");
  return words.map(shellWord).join(" ");
}

function callbackPort(redirectUri: string): number {
  const url = new URL(redirectUri);
  if (url.protocol !== "http:" || !isLoopback(url) || !url.port) {
    throw new ClawauthError(
      `The provider's redirect (${
        safeText(redirectUri, 200)
      }) is not a loopback port, so there is nothing to forward.`,
      Exit.usage,
      "Log in on the host with --device, or paste the answer there.",
    );
  }
  return Number(url.port);
}

/** Fails with the holder's name when the local end of the tunnel is taken. */
function ensurePortFree(port: number): void {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new ClawauthError(
      `Port ${port} on this machine is in use by ${
        safeText(describeOwner(portOwner(port)), 80)
      }, so the tunnel cannot open.`,
      Exit.failure,
      "Stop that process and retry, or choose another port with --port N (if the provider accepts it).",
    );
  }
}

/**
 * Passes the remote's stderr through and opens the first authorize URL it
 * prints, once; not when the remote could not listen, since the tunnel
 * would then hand the redirect to whatever holds the server's port.
 */
async function relayStderr(
  ctx: Context,
  stderr: ReadableStream<Uint8Array>,
  host: string,
  port: number,
  openLocally: boolean,
): Promise<void> {
  let pending = "";
  let done = false;
  const announced = (via: ViaAnnouncement) => {
    if (done) return;
    done = true;
    const through = `returns to ${host} through ssh (port ${port})`;
    ctx.err(
      !via.listening
        ? `clawauth: ${host} cannot listen on port ${port}, so no browser was opened here; open the URL yourself and paste the address it ends on here.\n`
        : openLocally && openBrowser(ctx, via.url)
        ? `clawauth: opened your browser here; the sign-in ${through}.\n`
        : `clawauth: open that URL in a browser on this machine; the sign-in ${through}.\n`,
    );
  };
  for await (const chunk of stderr.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const via = parseViaLine(line);
      if (via) announced(via);
      else ctx.err(`${line}\n`);
    }
    // A prompt without a newline shows at once, unless it may still become the machine line.
    if (pending !== "" && !VIA_PREFIX.startsWith(pending.slice(0, VIA_PREFIX.length))) {
      ctx.err(pending);
      pending = "";
    }
  }
  if (pending !== "") ctx.err(pending);
}

function outcome(status: Deno.CommandStatus, host: string, bin: string): number {
  if (status.signal) {
    if (status.signal === "SIGINT") {
      throw new ClawauthError("The login was cancelled.", Exit.interrupted);
    }
    throw new ClawauthError(`ssh ended on ${status.signal}.`, Exit.failure);
  }
  if (status.code === SSH_FAILED) {
    throw new ClawauthError(
      `ssh to ${host} failed (exit 255); its message above says why.`,
      Exit.unavailable,
      `Check that \`ssh ${host}\` works; ssh options come from ~/.ssh/config.`,
    );
  }
  if (status.code === NOT_FOUND) {
    throw new ClawauthError(
      `${safeText(bin, 120)} was not found on ${host}.`,
      Exit.failure,
      "Install clawauth there, or name it with --remote-bin PATH.",
    );
  }
  return status.code;
}

/** Runs the remote login through ssh; returns the remote's exit code. */
export async function loginVia(
  ctx: Context,
  opts: ViaOptions & { host: string; redirectUri: string; providerId: string },
): Promise<number> {
  const { host, redirectUri } = opts;
  if (!DESTINATION.test(host)) {
    throw usageError(`${safeText(host, 80)} is not an ssh destination ([user@]host).`, "login");
  }
  const port = callbackPort(redirectUri);
  ensurePortFree(port);
  ctx.err(`Logging in on ${host} over ssh, with port ${port} forwarded from here …\n`);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("ssh", {
      args: [
        "-o",
        "ExitOnForwardFailure=yes",
        "-L",
        `${port}:127.0.0.1:${port}`,
        "--",
        host,
        remoteCommand({ ...opts, port }),
      ],
      stdin: "inherit",
      stdout: "inherit",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new ClawauthError(
      "ssh is not installed here.",
      Exit.unavailable,
      "Install an OpenSSH client, or log in on the host with --device.",
    );
  }
  // Ctrl-C reaches ssh too (same process group); wait for it to end the session.
  const ignore = () => {};
  Deno.addSignalListener("SIGINT", ignore);
  try {
    const [status] = await Promise.all([
      child.status,
      relayStderr(ctx, child.stderr, host, port, opts.openBrowser ?? true),
    ]);
    return outcome(status, host, opts.remoteBin ?? "clawauth");
  } finally {
    Deno.removeSignalListener("SIGINT", ignore);
  }
}
