/**
 * The sandbox's HTTP front: a node:http server on 127.0.0.1 that listens
 * before oidc-provider exists (the issuer URL needs the port) and answers
 * 503 until it is given a handler.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** Handles one request (the node:http way). */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A listening front. */
export interface Front {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** Routes every later request to `handler`. */
  serve(handler: Handler): void;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: an ephemeral port). */
export async function listenFront(port: number): Promise<Front> {
  let handler: Handler | undefined;
  const server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const address = server.address();
  if (address === null || typeof address === "string") {
    await close();
    throw new Error("sandbox IdP: server has no TCP address");
  }
  return {
    origin: `http://127.0.0.1:${address.port}`,
    serve(next): void {
      handler = next;
    },
    close,
  };
}
