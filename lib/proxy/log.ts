/**
 * The proxy's request log: one line per request, JSON with `--json`, else
 * words. It names the route, the profile, the status, the time and the
 * retries: never a secret, a header or a body.
 *
 * @module
 */

import type { Context } from "../context.ts";

/** One request as logged. */
export interface RequestLine {
  route: string | null;
  provider: string | null;
  profile: string | null;
  /** The status the client got. */
  status: number;
  /** Milliseconds until the response headers went out. */
  ms: number;
  /** Profiles tried beyond the first (and forced refreshes). */
  retries: number;
}

/** Where request lines go; `flush` writes what is still pending (at shutdown). */
export type RequestLog = ((line: RequestLine) => void) & { flush(): void };

/**
 * The log of a run: JSON lines with `--json`, else one short line each; both
 * on stdout. Lines are gathered and written once per turn of the event loop
 * (a zero timer), not inside the request: a busy proxy makes one write for
 * many requests. The write itself is synchronous, so a reader that stops
 * reading (a paused pager) stalls the proxy once the pipe is full; journald
 * and files do not.
 */
export function requestLog(ctx: Context, json: boolean): RequestLog {
  const text = json
    ? (line: RequestLine) => `${JSON.stringify({ event: "request", ...line })}\n`
    : (line: RequestLine) =>
      `${line.status} ${line.route ?? "-"} ${line.profile ?? "-"} ${line.ms} ms${
        line.retries ? ` (${line.retries} retries)` : ""
      }\n`;
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const out = pending;
    pending = "";
    if (out) ctx.out(out);
  };
  return Object.assign((line: RequestLine) => {
    pending += text(line);
    timer ??= setTimeout(flush, 0);
  }, { flush });
}
