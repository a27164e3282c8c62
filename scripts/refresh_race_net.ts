/**
 * The network side of the OpenClaw refresh race test
 * (tests/cli/openclaw_race_test.ts): run inside a network namespace whose
 * `/etc/hosts` sends `auth.openai.com` and `chatgpt.com` to 198.18.0.1 (an
 * address on the namespace's own `lo`), it plays OpenAI for everyone in
 * that namespace:
 *
 * - the sandbox IdP (scripts/sandbox_idp.ts) on 127.0.0.1;
 * - a TLS front on 198.18.0.1:443 with a throwaway CA made here with
 *   openssl (`<dir>/ca.pem`; give it to Node as `NODE_EXTRA_CA_CERTS`, to
 *   Deno as `DENO_CERT`) and one leaf for both names. It forwards
 *   `auth.openai.com` to the IdP and answers
 *   `chatgpt.com/backend-api/wham/usage` with a harmless usage document.
 *
 * OpenClaw sends its hard-coded client id `app_EMoamEEZ73f0CkXaXp7hrann`;
 * the IdP knows it as another id of its one client (`clientIds`), so
 * OpenClaw refreshes the logins clawauth makes as `clawauth-test`. The front
 * logs which client id each token request came with, so the test can tell
 * who refreshed. Every refresh grant can be held `--token-delay` ms before
 * it is forwarded (network latency, the same for every client), which widens
 * the race windows, or held until the test opens a gate.
 *
 * Run: `ip netns exec NS deno run -A scripts/refresh_race_net.ts --dir DIR
 * [--token-delay MS]`. It prints one JSON line when ready
 * (`{"ready":true,"issuer",…,"ca"}`), then answers JSON requests, one per
 * stdin line, with one JSON line each (same `id`):
 *
 * - `{"id":1,"op":"approve","url":AUTHORIZE_URL}` → `{"id":1,"url":CALLBACK}`
 * - `{"id":2,"op":"log"}` → `{"id":2,"counts":{…},"token":[…],"usage":[…]}`
 * - `{"id":3,"op":"delay","ms":N}` → `{"id":3,"ms":N}`: the new `--token-delay`
 * - `{"id":4,"op":"gate","open":false}` → `{"id":4,"open":false}`: refresh grants
 *   wait at the front (after the delay) until `{"op":"gate","open":true}`
 *
 * It stops at stdin's end or on SIGTERM/SIGINT.
 *
 * @module
 */

import { type SandboxIdp, startSandboxIdp } from "./sandbox_idp.ts";

/** OpenClaw's (and Codex CLI's) OAuth client id for ChatGPT logins. */
export const OPENCLAW_CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
/** The address the namespace's hosts file gives both names. */
export const FRONT_ADDRESS = "198.18.0.1";
/** The names the front's certificate is for. */
export const FRONT_NAMES = ["auth.openai.com", "chatgpt.com"] as const;

/** One request to the token endpoint, as the front saw it. */
export interface TokenRequest {
  /** `Date.now()` when it arrived. */
  at: number;
  /** The client id it was sent with. */
  client: string;
  grant: string;
  /** First 12 hex digits of the SHA-256 of the refresh token sent (refresh grants). */
  refresh?: string;
  /** The IdP's HTTP status. */
  status: number;
  /** The OAuth `error` of a failed answer. */
  error?: string;
  /** Digests of the tokens issued. */
  issuedAccess?: string;
  issuedRefresh?: string;
  /** `Date.now()` when the answer was sent. */
  answeredAt: number;
}

/** One usage request at chatgpt.com. */
export interface UsageRequest {
  at: number;
  /** Digest of the bearer token. */
  access: string;
  accountId?: string;
}

/** First 12 hex digits of a secret's SHA-256: enough to tell tokens apart in a log. */
export async function digest12(secret: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(hash)].slice(0, 6).map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** A throwaway CA and one leaf for {@linkcode FRONT_NAMES}, in `dir`. */
export async function makeCertificates(
  dir: string,
): Promise<{ ca: string; cert: string; key: string }> {
  const p = (name: string) => `${dir}/${name}`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=clawauth race test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl([
    "req",
    "-new",
    ...ec,
    "-keyout",
    p("leaf.key"),
    "-out",
    p("leaf.csr"),
    "-subj",
    `/CN=${FRONT_NAMES[0]}`,
  ]);
  Deno.writeTextFileSync(
    p("leaf.ext"),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${FRONT_NAMES.map((n) => `DNS:${n}`).join(",")}`,
      "",
    ].join("\n"),
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    p("leaf.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p("leaf.pem"),
    "-days",
    "2",
    "-sha256",
    "-extfile",
    p("leaf.ext"),
  ]);
  return { ca: p("ca.pem"), cert: p("leaf.pem"), key: p("leaf.key") };
}

/** What OpenClaw's usage view needs to print something and move on. */
const USAGE_BODY = JSON.stringify({
  plan_type: "plus",
  rate_limit: {
    primary_window: { used_percent: 1, limit_window_seconds: 18000, reset_at: 4102444800 },
  },
});

/** The running network side. */
export interface RaceNet {
  idp: SandboxIdp;
  ca: string;
  token: TokenRequest[];
  usage: UsageRequest[];
  /** Holds every later refresh grant this long before forwarding it. */
  setTokenDelay(ms: number): void;
  /** Closed, refresh grants wait (after the delay) until it is opened again. */
  setGate(open: boolean): void;
  close(): Promise<void>;
}

/** Starts the IdP and the TLS front (the namespace must already have {@linkcode FRONT_ADDRESS}). */
export async function startRaceNet(
  opts: { dir: string; tokenDelayMs?: number; hostname?: string; port?: number },
): Promise<RaceNet> {
  const { ca, cert, key } = await makeCertificates(opts.dir);
  const idp = await startSandboxIdp({
    accessTokenTtlSec: 3600,
    clientIds: [OPENCLAW_CODEX_CLIENT_ID],
  });
  const token: TokenRequest[] = [];
  const usage: UsageRequest[] = [];
  let delay = opts.tokenDelayMs ?? 0;
  let gate: { opened: Promise<void>; open: () => void } | undefined;

  const forward = async (request: Request, body?: BodyInit): Promise<Response> => {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const h of ["host", "content-length", "connection", "accept-encoding"]) headers.delete(h);
    const answer = await fetch(`${idp.issuer}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: body ??
        (request.method === "GET" || request.method === "HEAD"
          ? undefined
          : await request.arrayBuffer()),
      redirect: "manual",
    });
    const out = new Headers(answer.headers);
    for (const h of ["content-length", "content-encoding", "transfer-encoding", "connection"]) {
      out.delete(h);
    }
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: out });
  };

  const tokenRequest = async (request: Request): Promise<Response> => {
    const at = Date.now();
    const body = await request.text();
    const form = new URLSearchParams(body);
    const client = form.get("client_id") ?? "";
    const grant = form.get("grant_type") ?? "";
    const refresh = form.get("refresh_token");
    const entry: TokenRequest = {
      at,
      client,
      grant,
      ...(refresh ? { refresh: await digest12(refresh) } : {}),
      status: 0,
      answeredAt: 0,
    };
    token.push(entry);
    if (grant === "refresh_token" && delay > 0) {
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    if (grant === "refresh_token" && gate) await gate.opened;
    const answer = await forward(request, body);
    const text = await answer.text();
    entry.status = answer.status;
    try {
      const json = JSON.parse(text);
      if (typeof json.error === "string") entry.error = json.error;
      if (typeof json.access_token === "string") {
        entry.issuedAccess = await digest12(json.access_token);
      }
      if (typeof json.refresh_token === "string") {
        entry.issuedRefresh = await digest12(json.refresh_token);
      }
    } catch { /* not JSON: logged by status only */ }
    entry.answeredAt = Date.now();
    return new Response(text, { status: answer.status, headers: answer.headers });
  };

  const usageRequest = async (request: Request): Promise<Response> => {
    const bearer = (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
    usage.push({
      at: Date.now(),
      access: await digest12(bearer),
      ...(request.headers.get("chatgpt-account-id")
        ? { accountId: request.headers.get("chatgpt-account-id")! }
        : {}),
    });
    return new Response(USAGE_BODY, { headers: { "content-type": "application/json" } });
  };

  const server = Deno.serve({
    hostname: opts.hostname ?? FRONT_ADDRESS,
    port: opts.port ?? 443,
    cert: Deno.readTextFileSync(cert),
    key: Deno.readTextFileSync(key),
    onListen: () => {},
  }, async (request) => {
    try {
      const url = new URL(request.url);
      const host = (request.headers.get("host") ?? url.host).replace(/:\d+$/, "");
      if (host === "auth.openai.com") {
        if (request.method === "POST" && url.pathname === "/oauth/token") {
          return await tokenRequest(request);
        }
        return await forward(request);
      }
      if (host === "chatgpt.com" && url.pathname.startsWith("/backend-api/wham/usage")) {
        return await usageRequest(request);
      }
      return new Response("not here\n", { status: 404 });
    } catch (error) {
      console.error("race front:", error);
      return new Response("front error\n", { status: 502 });
    }
  });

  return {
    idp,
    ca,
    token,
    usage,
    setTokenDelay(ms) {
      delay = ms;
    },
    setGate(open) {
      if (open) {
        gate?.open();
        gate = undefined;
      } else if (!gate) {
        let open = () => {};
        const opened = new Promise<void>((resolve) => open = resolve);
        gate = { opened, open };
      }
    },
    async close() {
      await server.shutdown();
      await idp.close();
    },
  };
}

function parseArgs(args: string[]): { dir: string; tokenDelayMs: number } | undefined {
  let dir: string | undefined;
  let tokenDelayMs = 0;
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1];
    if (value === undefined) return undefined;
    if (args[i] === "--dir") dir = value;
    else if (args[i] === "--token-delay" && /^\d+$/.test(value)) tokenDelayMs = Number(value);
    else return undefined;
  }
  return dir ? { dir, tokenDelayMs } : undefined;
}

async function main(): Promise<void> {
  const parsed = parseArgs(Deno.args);
  if (!parsed) {
    console.error("usage: refresh_race_net.ts --dir DIR [--token-delay MS]");
    Deno.exit(2);
  }
  const net = await startRaceNet(parsed);
  const { idp } = net;
  const say = (value: unknown) =>
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(value) + "\n"));
  say({
    ready: true,
    issuer: idp.issuer,
    clientId: idp.clientId,
    authorizeUrl: idp.authorizeUrl,
    revocationUrl: idp.revocationUrl,
    ca: net.ca,
  });
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop.abort());
  }
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const handle = async (line: string) => {
    let id: unknown = null;
    try {
      const request = JSON.parse(line);
      id = request.id;
      if (request.op === "approve") {
        say({ id, url: await idp.approve(String(request.url), request.login) });
      } else if (request.op === "delay" && Number.isSafeInteger(request.ms) && request.ms >= 0) {
        net.setTokenDelay(request.ms);
        say({ id, ms: request.ms });
      } else if (request.op === "gate" && typeof request.open === "boolean") {
        net.setGate(request.open);
        say({ id, open: request.open });
      } else if (request.op === "log") {
        say({ id, counts: idp.counts(), token: net.token, usage: net.usage });
      } else {
        say({ id, error: `unknown op ${request.op}` });
      }
    } catch (error) {
      say({ id, error: String(error) });
    }
  };
  const reading = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      buffered += value;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) void handle(line);
      }
    }
  })();
  await Promise.race([
    reading,
    new Promise((resolve) => stop.signal.addEventListener("abort", resolve)),
  ]);
  await net.close();
  Deno.exit(0);
}

if (import.meta.main) await main();
