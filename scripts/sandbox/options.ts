/**
 * The sandbox IdP's options, checked and with their defaults filled in.
 *
 * @module
 */

import { CLIENT_ID } from "./config.ts";
import type { SandboxIdpOptions } from "./types.ts";

/** {@linkcode SandboxIdpOptions} after {@linkcode resolveOptions}. */
export interface ResolvedOptions {
  port: number;
  accessTokenTtlSec: number;
  deviceIntervalSec: number;
  accountId: string;
  email: string;
  /** Extra ids of the one client, without duplicates and without {@linkcode CLIENT_ID}. */
  aliases: string[];
}

/** `value`, if it is a positive safe integer; a RangeError naming `name` otherwise. */
export function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`sandbox IdP: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** RFC 6749 Appendix A.1: a client_id is one or more VSCHAR (%x20-7E). */
const CLIENT_ID_SYNTAX = /^[\x20-\x7e]+$/;

/** Checks `opts` and fills in the defaults. */
export function resolveOptions(opts: SandboxIdpOptions): ResolvedOptions {
  const port = opts.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`sandbox IdP: invalid port ${port}`);
  }
  const aliases = new Set<string>();
  for (const id of opts.clientIds ?? []) {
    if (typeof id !== "string" || !CLIENT_ID_SYNTAX.test(id)) {
      throw new TypeError(`sandbox IdP: invalid client id ${JSON.stringify(id)}`);
    }
    if (id !== CLIENT_ID) aliases.add(id);
  }
  return {
    port,
    accessTokenTtlSec: positiveInt("accessTokenTtlSec", opts.accessTokenTtlSec ?? 3600),
    deviceIntervalSec: positiveInt("deviceIntervalSec", opts.deviceIntervalSec ?? 1),
    accountId: opts.accountId ?? "acct-sandbox-1",
    email: opts.email ?? "dev@example.test",
    aliases: [...aliases],
  };
}
