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

/** Where request lines go. */
export type RequestLog = (line: RequestLine) => void;

/** The log of a run: JSON lines with `--json`, else one short line each; both on stdout. */
export function requestLog(ctx: Context, json: boolean): RequestLog {
  return json
    ? (line) => ctx.out(`${JSON.stringify({ event: "request", ...line })}\n`)
    : (line) =>
      ctx.out(
        `${line.status} ${line.route ?? "-"} ${line.profile ?? "-"} ${line.ms} ms${
          line.retries ? ` (${line.retries} retries)` : ""
        }\n`,
      );
}
