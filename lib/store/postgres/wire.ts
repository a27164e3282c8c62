/**
 * A minimal PostgreSQL wire-protocol reader for the fleet store's hot path (connect, one simple
 * Query, Terminate), Deno-native so `token` loads neither npm:postgres nor the Node layer; the rest
 * keeps npm:postgres. It speaks TLS, cleartext and SCRAM-SHA-256 logins and one query, no more: a
 * login the server wants by md5 (or any other method) is declined to npm:postgres. § numbers: PostgreSQL 15 manual, ch. 55 "Frontend/Backend Protocol". Errors
 * carry npm:postgres's codes, so `dbError` maps them alike.
 *
 * @module
 */

import type { PostgresTarget } from "./url.ts";

/** Declined (unverified TLS, or md5 or another authentication method): read through npm:postgres. */
export class NeedsClient extends Error {}

/** A failure with npm:postgres's `code`: an SQLSTATE, ECONNREFUSED, CONNECT_TIMEOUT, … */
export class WireError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** One row, decoded as npm:postgres's default types decode it. */
export type Row = Record<string, unknown>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (error: unknown) => error instanceof Error ? error.message : String(error);
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** A frontend message (§55.7): type, Int32 length, then String, Int32 or Byte*n parts (§55.6). */
function frame(type: string, ...parts: (string | number | Uint8Array)[]): Uint8Array {
  const bytes = parts.map((part) =>
    typeof part === "string"
      ? encoder.encode(`${part}\0`)
      : typeof part === "number"
      ? new Uint8Array([part >>> 24, part >>> 16, part >>> 8, part])
      : part
  );
  const size = bytes.reduce((n, p) => n + p.length, 4);
  const out = new Uint8Array(type.length + size);
  out.set(encoder.encode(type));
  new DataView(out.buffer).setInt32(type.length, size);
  bytes.reduce((at, part) => (out.set(part, at), at + part.length), type.length + 4);
  return out;
}

/** A connection (TCP, then TLS over it) and the bytes received but not yet read. */
class Session {
  buf = new Uint8Array(0);
  constructor(public conn: Deno.Conn) {}
  async send(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }
  /** Takes the next `n` bytes, reading as needed. */
  async take(n: number): Promise<Uint8Array> {
    while (this.buf.length < n) {
      const chunk = new Uint8Array(16384);
      const got = await this.conn.read(chunk);
      if (got === null) throw new WireError("CONNECTION_CLOSED", "connection closed");
      const joined = new Uint8Array(this.buf.length + got);
      joined.set(this.buf);
      joined.set(chunk.subarray(0, got), this.buf.length);
      this.buf = joined;
    }
    const taken = this.buf.slice(0, n);
    this.buf = this.buf.subarray(n);
    return taken;
  }
  /** The next backend message (§55.1.1 Messaging Overview): type, body, a view of the body. */
  async next(): Promise<{ type: string; bytes: Uint8Array; body: DataView }> {
    const head = await this.take(5);
    const bytes = await this.take(new DataView(head.buffer).getInt32(1) - 4);
    return { type: String.fromCharCode(head[0]), bytes, body: new DataView(bytes.buffer) };
  }
  /** The data of the next message, which must be an Authentication of `kind`. */
  async auth(kind: number): Promise<string> {
    const { type, bytes, body } = await this.next();
    if (type === "E") throw serverError(bytes);
    if (type !== "R" || body.getInt32(0) !== kind) throw new WireError("CONNECTION_CLOSED", type);
    return decoder.decode(bytes.subarray(4));
  }
}

/** An ErrorResponse (§55.8 Error and Notice Message Fields: C the SQLSTATE, M the message). */
function serverError(bytes: Uint8Array): WireError {
  const fields: Record<string, string> = {};
  for (let at = 0, end = 0; bytes[at] && end >= 0; at = end + 1) {
    end = bytes.indexOf(0, at + 1);
    fields[String.fromCharCode(bytes[at])] = decoder.decode(bytes.subarray(at + 1, end));
  }
  return new WireError(fields.C ?? "XX000", fields.M ?? "server error");
}

/** Socket failures, by the codes npm:postgres (node:net) reports. */
const SOCKET_CODES =
  /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|EAI_AGAIN)$/;

/** Any failure named as npm:postgres would name it (ours, and permission errors, unchanged). */
function socketError(error: unknown): unknown {
  if (error instanceof WireError || error instanceof NeedsClient) return error;
  if (error instanceof Deno.errors.NotCapable) return error;
  const code = String((error as { code?: unknown })?.code);
  if (SOCKET_CODES.test(code)) return new WireError(code, text(error));
  const dns = /lookup address|name resolution/i.test(text(error));
  const eof = error instanceof Deno.errors.UnexpectedEof;
  return new WireError(dns ? "ENOTFOUND" : eof ? "CONNECTION_CLOSED" : "ECONNRESET", text(error));
}

/**
 * SSLRequest, then TLS as libpq's `sslmode` says (§55.2.10): `verify-full`
 * checks chain and name, `verify-ca` (and `require` with an sslrootcert file)
 * the chain. `prefer`, `allow` and `require` want TLS unverified, which only
 * npm:postgres does: it takes over, unless an sslrootcert vouches for the
 * chain. `prefer` and `allow` go on in plain with a server without TLS.
 */
async function negotiateTls(session: Session, target: PostgresTarget): Promise<void> {
  const { sslmode, sslrootcert, host } = target;
  if (sslmode === "disable") return;
  await session.send(frame("", 80877103));
  const answer = (await session.take(1))[0];
  // Bytes behind the answer would be read as if they came over TLS (CVE-2021-23222): refused.
  if (session.buf.length) throw new WireError("ERR_SSL_DATA", "data after the SSL answer");
  if (answer !== 0x53 /* S */) {
    if (sslmode === "prefer" || sslmode === "allow") return;
    throw new WireError("ERR_SSL_REQUIRED", "the server does not support SSL, but SSL is required");
  }
  const file = sslrootcert && sslrootcert !== "system" ? sslrootcert : undefined;
  const ca = file ? await Deno.readTextFile(file).catch(() => undefined) : undefined;
  if (file && ca === undefined) throw new NeedsClient("sslrootcert"); // npm:postgres says why
  const verifying = sslmode.startsWith("verify-") || (sslmode === "require" && file !== undefined);
  // Deno's roots alone cost its TLS set-up (~24 ms) and rarely vouch for a database's certificate.
  if (!verifying && !sslrootcert) throw new NeedsClient("TLS without verification");
  try {
    const tls = await Deno.startTls(session.conn as Deno.TcpConn, {
      hostname: host,
      ...(ca ? { caCerts: [ca] } : {}),
      unsafelyDisableHostnameVerification: sslmode !== "verify-full",
    });
    session.conn = tls;
    await tls.handshake();
  } catch (error) {
    if (!verifying) throw new NeedsClient("a certificate sslrootcert does not vouch for");
    const code = /cert/i.test(text(error)) ? "ERR_TLS_CERT_REJECTED" : "ERR_SSL_HANDSHAKE";
    throw new WireError(code, text(error));
  }
}

/** HMAC-SHA-256 (Web Crypto). */
async function hmac(key: Uint8Array, data: string): Promise<Uint8Array> {
  const spec = { name: "HMAC", hash: "SHA-256" };
  const k = await crypto.subtle.importKey("raw", new Uint8Array(key), spec, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(data)));
}

/** SCRAM-SHA-256 without channel binding (§55.3.1, RFC 5802 §3, RFC 7677), server proof checked. */
async function scram(session: Session, password: string): Promise<void> {
  const nonce = b64(crypto.getRandomValues(new Uint8Array(18)));
  const first = `n=*,r=${nonce}`;
  const initial = encoder.encode(`n,,${first}`);
  await session.send(frame("p", "SCRAM-SHA-256", initial.length, initial));
  const server = await session.auth(11);
  const attr = Object.fromEntries(server.split(",").map((kv) => [kv[0], kv.slice(2)]));
  if (!attr.r?.startsWith(nonce)) throw new WireError("SASL_NONCE", "bad SCRAM server nonce");
  const salt = Uint8Array.from(atob(attr.s), (c) => c.charCodeAt(0));
  const pw = encoder.encode(password);
  const base = await crypto.subtle.importKey("raw", pw, "PBKDF2", false, ["deriveBits"]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt, iterations: Number(attr.i) };
  const salted = new Uint8Array(await crypto.subtle.deriveBits(params, base, 256));
  const clientKey = await hmac(salted, "Client Key");
  const stored = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(clientKey)));
  const final = `c=biws,r=${attr.r}`;
  const auth = `${first},${server},${final}`;
  const signature = await hmac(stored, auth);
  const proof = clientKey.map((byte, i) => byte ^ signature[i]);
  await session.send(frame("p", encoder.encode(`${final},p=${b64(proof)}`)));
  const verifier = (await session.auth(12)).split(",")[0].slice(2);
  if (verifier !== b64(await hmac(await hmac(salted, "Server Key"), auth))) {
    throw new WireError("SASL_SIGNATURE_MISMATCH", "The server's SCRAM signature is wrong");
  }
}

/**
 * StartupMessage, authentication (trust, password, SCRAM), up to ReadyForQuery (§55.2.1). Any
 * other method (md5 among them) is npm:postgres's: the reader stays as small as its job.
 */
async function startUp(session: Session, target: PostgresTarget, password = ""): Promise<void> {
  const { user, database } = target;
  const params = { user, database, application_name: "clawauth", client_encoding: "UTF8" };
  const pairs = Object.entries({ ...params, bytea_output: "hex" }).flat(); // hex: as npm:postgres
  await session.send(frame("", 196608, ...pairs, ""));
  for (;;) {
    const { type, bytes, body } = await session.next();
    if (type === "E") throw serverError(bytes);
    if (type === "Z") return;
    const kind = type === "R" ? body.getInt32(0) : 0; // else ParameterStatus, BackendKeyData…
    const mechanisms = kind === 10 ? decoder.decode(bytes.subarray(4)).split("\0") : [];
    if (kind === 3) await session.send(frame("p", password));
    else if (mechanisms.includes("SCRAM-SHA-256")) await scram(session, password);
    else if (kind !== 0) throw new NeedsClient(`authentication method ${kind}`);
  }
}

/** A text-format value as npm:postgres's default types decode it, by type OID. */
function decodeValue(oid: number, value: string): unknown {
  if (oid === 17) return Uint8Array.from(value.slice(2).match(/../g) ?? [], (h) => parseInt(h, 16));
  if (oid === 114 || oid === 3802) return JSON.parse(value);
  if (oid === 16) return value === "t";
  return [21, 23, 26, 700, 701].includes(oid) ? Number(value) : value;
}

/** One simple Query (§55.2.2): each statement's RowDescription, DataRows and CommandComplete. */
async function simpleQuery(session: Session, sql: string): Promise<Row[][]> {
  await session.send(frame("Q", sql));
  const results: Row[][] = [];
  let columns: [name: string, oid: number][] = [];
  const rows: Row[] = [];
  for (;;) {
    const { type, bytes, body } = await session.next();
    if (type === "T") {
      columns = [];
      for (let i = 0, at = 2, end = 0; i < body.getInt16(0); i++, at = end + 19) {
        end = bytes.indexOf(0, at);
        columns.push([decoder.decode(bytes.subarray(at, end)), body.getInt32(end + 7)]);
      }
    } else if (type === "D") {
      const row: Row = {};
      for (let i = 0, at = 2, size = 0; i < body.getInt16(0); i++, at += 4 + Math.max(size, 0)) {
        size = body.getInt32(at);
        const value = size < 0 ? null : decoder.decode(bytes.subarray(at + 4, at + 4 + size));
        row[columns[i][0]] = value === null ? null : decodeValue(columns[i][1], value);
      }
      rows.push(row);
    } else if (type === "C") results.push(rows.splice(0));
    else if (type === "E") throw serverError(bytes); // the connection is not reused
    else if (type === "Z") return results;
  }
}

/**
 * Runs `sql` (one simple Query) as `target`'s user: connect_timeout bounds
 * connect and login, `answerMs` the query's answer (a server that stops
 * answering is `QUERY_TIMEOUT`, never a hang).
 */
export async function wireQuery(
  target: PostgresTarget,
  password: string | undefined,
  sql: string,
  opts: { answerMs: number },
): Promise<Row[][]> {
  let session: Session | undefined;
  let timedOut: WireError | undefined;
  const close = () => {
    try {
      session?.conn.close();
    } catch { /* closed already */ }
  };
  const abort = new AbortController();
  const stop = (error: WireError) => {
    timedOut ??= error;
    abort.abort();
    close();
  };
  // Not setTimeout: its first call costs ~4 ms in Deno 2.9; this timer costs ~0.1 ms.
  const deadline = AbortSignal.timeout(target.connectTimeoutSec * 1000);
  deadline.onabort = () => stop(new WireError("CONNECT_TIMEOUT", "timed out"));
  let answer: AbortSignal | undefined;
  try {
    const { host: hostname, port } = target;
    const tcp = await Deno.connect({ hostname, port, signal: abort.signal });
    tcp.setNoDelay(true); // every message is one small write: never wait for a delayed ACK
    session = new Session(tcp);
    await negotiateTls(session, target);
    await startUp(session, target, password);
    deadline.onabort = null;
    answer = AbortSignal.timeout(opts.answerMs);
    answer.onabort = () =>
      stop(new WireError("QUERY_TIMEOUT", `no reply within ${opts.answerMs / 1000} s`));
    const results = await simpleQuery(session, sql);
    await session.send(frame("X")).catch(() => {}); // Terminate (§55.2.9)
    return results;
  } catch (error) {
    throw timedOut ?? socketError(error);
  } finally {
    deadline.onabort = null;
    if (answer) answer.onabort = null;
    close();
  }
}
