/**
 * The proxy's own answers, in the error shape of the API a client called:
 * Anthropic's `{"type":"error","error":{"type","message"}}` or OpenAI's
 * `{"error":{"message","type","code"}}`, so each client shows the message
 * as its provider would say it.
 *
 * @module
 */

import type { ApiDefinition } from "../provider/definition.ts";

/** What went wrong, by the proxy's own reckoning. */
export type ProblemKind =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "too_large"
  | "bad_gateway"
  | "timeout"
  | "no_credential"
  | "rate_limited";

const STATUS: Record<ProblemKind, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  bad_gateway: 502,
  timeout: 504,
  no_credential: 503,
  rate_limited: 429,
};

const ANTHROPIC_TYPE: Record<ProblemKind, string> = {
  unauthorized: "authentication_error",
  forbidden: "permission_error",
  not_found: "not_found_error",
  too_large: "request_too_large",
  bad_gateway: "api_error",
  timeout: "api_error",
  no_credential: "api_error",
  rate_limited: "rate_limit_error",
};

const OPENAI_TYPE: Record<ProblemKind, [type: string, code: string]> = {
  unauthorized: ["invalid_request_error", "invalid_api_key"],
  forbidden: ["invalid_request_error", "forbidden"],
  not_found: ["invalid_request_error", "unknown_route"],
  too_large: ["invalid_request_error", "request_too_large"],
  bad_gateway: ["server_error", "upstream_unreachable"],
  timeout: ["server_error", "upstream_timeout"],
  no_credential: ["server_error", "no_credential"],
  rate_limited: ["rate_limit_error", "rate_limit_exceeded"],
};

/** The proxy's answer for `kind`, shaped as `shape`'s API errors. */
export function problem(
  shape: ApiDefinition["errors"],
  kind: ProblemKind,
  message: string,
  extra: { headers?: HeadersInit; fields?: Record<string, unknown> } = {},
): Response {
  const [type, code] = OPENAI_TYPE[kind];
  const body = shape === "anthropic"
    ? { type: "error", error: { type: ANTHROPIC_TYPE[kind], message }, ...extra.fields }
    : { error: { message, type, code }, ...extra.fields };
  return Response.json(body, { status: STATUS[kind], headers: extra.headers });
}
