/**
 * Fleet-store URLs (docs/fleet.md): `postgres://USER@HOST[:PORT]/DB[?sslmode=…]`.
 * Parsed when the backend is chosen, so it must stay cheap (no database
 * client here). A password in the URL is refused: it would sit in argv, in
 * shell history and in every message that names the store; it comes from
 * `PGPASSWORD`, `~/.pgpass` or `passfile` instead.
 *
 * @module
 */

import { ClawauthError, Exit } from "../../errors.ts";

/** libpq's `sslmode` values, weakest first. */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;

/** One of {@linkcode SSL_MODES}. */
export type SslMode = typeof SSL_MODES[number];

/** The libpq URL parameters clawauth understands; any other is a typo worth refusing. */
const PARAMETERS = ["sslmode", "sslrootcert", "passfile", "connect_timeout", "application_name"];

/** A fleet store, as its URL names it. */
export interface PostgresTarget {
  /** The URL as every message shows it: normalised, and never with a password. */
  url: string;
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** TCP port (default 5432). */
  port: number;
  /** Database name. */
  database: string;
  /** Role to log in as. */
  user: string;
  /** TLS policy; libpq's default is `prefer`. */
  sslmode: SslMode;
  /** CA bundle for `verify-ca`/`verify-full` (`system`: the system roots). */
  sslrootcert?: string;
  /** A pgpass-format file to take the password from. */
  passfile?: string;
  /** Seconds to wait for a connection (libpq's `connect_timeout`; default 10). */
  connectTimeoutSec: number;
}

/** Whether `text` names a PostgreSQL store. */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/**
 * `text` with any password blanked, for a message about a store we refuse,
 * whatever else is wrong with it: the user info runs to the last `@` (a
 * password may hold `?`, `#`, `/` or `@`), under any scheme (`postgress://`
 * too), and everything from its first `:` is hidden.
 */
export function withoutPassword(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? "";
  const rest = text.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  const colon = rest.indexOf(":");
  const shown = at > 0 && colon >= 0 && colon < at
    ? `${rest.slice(0, colon)}:***${rest.slice(at)}`
    : rest;
  return `${scheme}${shown}`.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

function refuse(problem: string, hint: string): ClawauthError {
  return new ClawauthError(problem, Exit.usage, hint);
}

const FORM = "Write it as postgres://USER@HOST[:PORT]/DATABASE[?sslmode=verify-full].";

/**
 * Parses and checks a fleet-store URL; a malformed one, or one carrying a
 * password, is a usage error (exit 64) that never echoes the password.
 */
export function parsePostgresUrl(text: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(text.replace(/^postgres(ql)?:/i, "http:"));
  } catch {
    throw refuse(`The store URL ${withoutPassword(text)} is not a valid URL.`, FORM);
  }
  if (url.password !== "") {
    throw refuse(
      `The store URL ${
        withoutPassword(text)
      } carries a password, which clawauth never takes from a URL.`,
      "Drop it from the URL; put it in PGPASSWORD, ~/.pgpass (0600) or the file named by ?passfile=.",
    );
  }
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!user || !host || !database || database.includes("/") || url.hash) {
    throw refuse(
      `The store URL ${withoutPassword(text)} must name a user, a host and a database.`,
      FORM,
    );
  }
  for (const name of url.searchParams.keys()) {
    if (!PARAMETERS.includes(name)) {
      throw refuse(
        `The store URL parameter ${name.slice(0, 40)} is not one clawauth understands.`,
        `Use only ${PARAMETERS.join(", ")}.`,
      );
    }
  }
  const sslmode = url.searchParams.get("sslmode") ?? "prefer";
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw refuse(
      `sslmode=${sslmode.slice(0, 20)} is not a libpq sslmode.`,
      `Use one of ${SSL_MODES.join(", ")} (verify-full for a database across a network).`,
    );
  }
  const timeout = url.searchParams.get("connect_timeout") ?? "10";
  if (!/^\d{1,4}$/.test(timeout) || Number(timeout) < 1) {
    throw refuse("connect_timeout must be a whole number of seconds, at least 1.", FORM);
  }
  const port = url.port === "" ? 5432 : Number(url.port);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const query = url.search === "" ? "" : url.search;
  return {
    url: `postgres://${encodeURIComponent(user)}@${shownHost}:${port}/${
      encodeURIComponent(database)
    }${query}`,
    host,
    port,
    database,
    user,
    sslmode: sslmode as SslMode,
    sslrootcert: url.searchParams.get("sslrootcert") ?? undefined,
    passfile: url.searchParams.get("passfile") ?? undefined,
    connectTimeoutSec: Number(timeout),
  };
}

/** Whether `host` is this machine (TLS then protects nothing the kernel does not). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
