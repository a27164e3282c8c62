/**
 * Times, inside its own process, what the fleet wire reader does on `token`:
 * TCP, TLS, start-up, authentication, `SELECT 1`, Terminate. Prints
 * `connected MS`. Run by scripts/bench_layouts.ts (the fleet connect rows)
 * with the store URL as its argument and the password in `PGPASSWORD`.
 *
 * A file of its own rather than text written at run time, so `deno task
 * check` sees the reader's signature change with it.
 *
 * @module
 */

import { HTTP_TIMEOUT_DEFAULT_MS } from "../lib/oauth/http_timeout.ts";
import { parsePostgresUrl } from "../lib/store/postgres/url.ts";
import { wireQuery } from "../lib/store/postgres/wire.ts";

const start = performance.now();
await wireQuery(parsePostgresUrl(Deno.args[0]), Deno.env.get("PGPASSWORD"), "SELECT 1", {
  answerMs: HTTP_TIMEOUT_DEFAULT_MS,
});
console.log(`connected ${(performance.now() - start).toFixed(3)}`);
// As main.ts does: the reader's deadline timers would otherwise hold the process up to their end.
Deno.exit(0);
