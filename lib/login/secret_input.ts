/**
 * Reading one secret from stdin: never from argv, never echoed on a
 * terminal, bounded in size, and checked to be a single clean line.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { cancelled } from "../interrupt.ts";

/** The largest secret clawauth accepts. */
export const MAX_SECRET_BYTES = 16 * 1024;

function bad(reason: string, what = "secret"): ClawauthError {
  return new ClawauthError(
    `The pasted ${what} ${reason}.`,
    Exit.data,
    what === "secret"
      ? "Paste exactly one token on one line, e.g.: pbpaste | clawauth paste-token --provider ID"
      : "Paste the redirect URL or code of one login, e.g.: clawauth login --finish - < answer.txt",
  );
}

/** Reads all of a stream, refusing more than `limit` bytes. */
export async function readLimited(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  what = "secret",
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        throw bad(`is longer than ${Math.floor(limit / 1024)} KiB`, what);
      }
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/**
 * Reads a line from the terminal without echo (raw mode), with Backspace and
 * Ctrl-U; Ctrl-C cancels as everywhere else (exit 130, nothing stored).
 */
async function readHidden(ctx: Context, prompt: string): Promise<Uint8Array> {
  const bytes: number[] = [];
  const buffer = new Uint8Array(1024);
  // Echo is off before the prompt shows, so nothing typed after it is echoed.
  Deno.stdin.setRaw(true);
  ctx.err(prompt);
  try {
    while (true) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x03) throw cancelled("The paste");
        if (byte === 0x15) {
          bytes.length = 0;
          continue;
        }
        if (byte === 0x0d || byte === 0x0a || byte === 0x04) {
          return new Uint8Array(bytes);
        }
        if (byte === 0x7f || byte === 0x08) bytes.pop();
        else bytes.push(byte);
        if (bytes.length > MAX_SECRET_BYTES) {
          throw bad(`is longer than ${MAX_SECRET_BYTES / 1024} KiB`);
        }
      }
    }
    return new Uint8Array(bytes);
  } finally {
    Deno.stdin.setRaw(false);
    ctx.err("\n");
  }
}

/** Checks pasted text and returns the secret without surrounding whitespace. */
export function cleanSecret(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw bad("is not valid UTF-8 text");
  }
  const secret = text.replace(/^[ \t]+|[ \t\r\n]+$/g, "");
  if (secret === "") throw bad("is empty");
  if (/[\r\n]/.test(secret)) throw bad("has more than one line");
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(secret)) {
    throw bad("contains control characters");
  }
  if (/\s/.test(secret)) throw bad("contains spaces");
  return secret;
}

/** Reads one secret from stdin: hidden on a terminal, else the whole input. */
export async function readSecret(
  ctx: Context,
  prompt: string,
): Promise<string> {
  const bytes = ctx.stdinIsTTY
    ? await readHidden(ctx, prompt)
    : await readLimited(ctx.stdin, MAX_SECRET_BYTES + 2);
  const secret = cleanSecret(bytes);
  if (new TextEncoder().encode(secret).length > MAX_SECRET_BYTES) {
    throw bad(`is longer than ${MAX_SECRET_BYTES / 1024} KiB`);
  }
  return secret;
}
