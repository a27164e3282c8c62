/**
 * OpenClaw's exec SecretRef provider protocol, version 1 (docs/helpers.md), as
 * OpenClaw 2026.9 documents and parses it (`docs/gateway/secrets/
 * secretref-contract.md`, `parseExecValues` in its `dist/resolve-*.mjs`):
 *
 * - request on stdin: `{"protocolVersion":1,"provider":"<alias>","ids":["…"]}`;
 * - answer on stdout: `{"protocolVersion":1,"values":{"<id>":"<secret>"},
 *   "errors":{"<id>":{"code":"NOT_FOUND","message":"…"}}}`, exit 0.
 *
 * The protocol has no request-level error answer: OpenClaw treats a non-zero
 * exit, or stdout that is not such an object, as a failure of the whole
 * provider. Pure: no I/O, no clock.
 *
 * @module
 */

import { ClawauthError, Exit } from "./errors.ts";
import { isObject, parseJson } from "./json/json.ts";
import { safeText } from "./output/output.ts";
import { PROVIDER_ID, splitProfileId } from "./profiles.ts";

/** The only protocol version OpenClaw speaks (and checks in the answer). */
export const PROTOCOL_VERSION = 1;

/**
 * The largest request read from stdin. OpenClaw itself never sends more than
 * 256 KiB (its `maxBatchBytes`); anything far beyond is not OpenClaw.
 */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** The most ids one request may name: OpenClaw's own `maxRefsPerProvider`. */
export const MAX_IDS = 512;

/**
 * OpenClaw's grammar for exec ref ids; ids it would never send are answered
 * per id as `INVALID_REQUEST`, not refused as a whole request.
 */
export const EXEC_REF_ID = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$/;

/**
 * Per-id error codes. OpenClaw shows `NOT_FOUND` (and `AMBIGUOUS_DUPLICATE_KEY`,
 * unused here) by name and reports every other code as a provider error;
 * the rest are for people reading the raw answer.
 */
export type SecretErrorCode =
  | "NOT_FOUND"
  | "INVALID_REQUEST"
  | "NEEDS_LOGIN"
  | "UNAVAILABLE"
  | "INVALID_DATA"
  | "FAILED";

/** One per-id error of an answer. */
export interface SecretError {
  /** Machine-readable reason. */
  code: SecretErrorCode;
  /** One sentence for a person; never a secret. */
  message: string;
}

/** A parsed, well-formed request. */
export interface SecretRequest {
  /** The provider alias OpenClaw configured (informational), if it sent one. */
  provider?: string;
  /** The ids asked for, duplicates removed, in order. */
  ids: string[];
}

/** The answer written to stdout. */
export interface SecretResponse {
  protocolVersion: typeof PROTOCOL_VERSION;
  /** Secrets by id. */
  values: Record<string, string>;
  /** Failures by id. */
  errors: Record<string, SecretError>;
}

/** What an id asks clawauth for: a provider to route among, or one pinned profile. */
export interface SecretTarget {
  provider: string;
  profileId?: string;
}

/** The error for a request that is not protocol v1: exit 65, one sentence naming `reason`. */
export function malformedRequest(reason: string): ClawauthError {
  return new ClawauthError(
    `The request on stdin ${reason}.`,
    Exit.data,
    'Send {"protocolVersion":1,"provider":"clawauth","ids":["anthropic:work"]} on stdin (clawauth openclaw-secret --help).',
  );
}

/** The error for a request over {@linkcode MAX_REQUEST_BYTES}. */
export function requestTooLarge(): ClawauthError {
  return malformedRequest(`is larger than ${MAX_REQUEST_BYTES / 1024 / 1024} MiB`);
}

/**
 * Parses a request; a request that is not protocol v1 (not UTF-8 JSON, not an
 * object, another `protocolVersion`, `ids` not an array of at most
 * {@linkcode MAX_IDS} strings) is a {@linkcode ClawauthError} with exit 65.
 */
export function parseSecretRequest(bytes: Uint8Array): SecretRequest {
  if (bytes.length > MAX_REQUEST_BYTES) throw requestTooLarge();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw malformedRequest("is not UTF-8 text");
  }
  if (text.trim() === "") throw malformedRequest("is empty");
  // Not the parser's message: engines quote the text, which may hold a secret.
  const data = parseJson(text, () => malformedRequest("is not JSON"));
  if (!isObject(data)) throw malformedRequest("is not a JSON object");
  if (data.protocolVersion !== PROTOCOL_VERSION) {
    throw malformedRequest(`does not have "protocolVersion": ${PROTOCOL_VERSION}`);
  }
  const { ids, provider } = data;
  if (provider !== undefined && typeof provider !== "string") {
    throw malformedRequest('has a "provider" that is not a string');
  }
  if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === "string")) {
    throw malformedRequest('does not have "ids" as an array of strings');
  }
  if (ids.length > MAX_IDS) throw malformedRequest(`asks for more than ${MAX_IDS} ids`);
  return { ...(provider === undefined ? {} : { provider }), ids: [...new Set(ids)] };
}

/**
 * What an id names: `provider:name` pins that profile, a bare provider id
 * routes like `clawauth token --provider ID`; `undefined` when it is neither.
 */
export function secretTargetOf(id: string): SecretTarget | undefined {
  if (!EXEC_REF_ID.test(id)) return undefined;
  if (!id.includes(":")) {
    return PROVIDER_ID.test(id) ? { provider: id } : undefined;
  }
  const split = splitProfileId(id);
  return split ? { provider: split.provider, profileId: id } : undefined;
}

/** The per-id code for a failure that ended with `exitCode` (docs/commands.md#exit-codes). */
export function errorCodeOf(exitCode: number): SecretErrorCode {
  switch (exitCode) {
    case Exit.noCredential:
      return "NEEDS_LOGIN";
    case Exit.unavailable:
    case Exit.lockTimeout:
      return "UNAVAILABLE";
    case Exit.data:
      return "INVALID_DATA";
    case Exit.usage:
      return "INVALID_REQUEST";
    default:
      return "FAILED";
  }
}

/** A per-id error whose message is one safe line (no control or bidi characters, bounded). */
export function secretError(code: SecretErrorCode, message: string): SecretError {
  return { code, message: safeText(message, 300) };
}

/**
 * Builds the answer. Maps go through `Object.fromEntries`, which defines own
 * properties, so no id (not even `__proto__`) can reach a prototype.
 */
export function secretResponse(
  values: ReadonlyMap<string, string>,
  errors: ReadonlyMap<string, SecretError>,
): SecretResponse {
  return {
    protocolVersion: PROTOCOL_VERSION,
    values: Object.fromEntries(values),
    errors: Object.fromEntries(errors),
  };
}
