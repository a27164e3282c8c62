/**
 * Reading a JWT's payload without verifying it: for facts about our own
 * tokens (expiry, account id) that arrived over TLS from the provider.
 *
 * @module
 */

import { isObject, type JsonObject } from "../json/json.ts";

/** Tokens longer than this are not decoded (clawauth refuses to store them anyway). */
const MAX_JWT_LENGTH = 64 * 1024;

/** The decoded payload of a JWT, or `undefined` when it is not one. */
export function jwtClaims(token: string | undefined): JsonObject | undefined {
  if (token === undefined || token.length > MAX_JWT_LENGTH) return undefined;
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const binary = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const payload: unknown = JSON.parse(text);
    return isObject(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}
