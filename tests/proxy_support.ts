/**
 * Running `clawauth proxy --port 0 --json` in a test: its URL (from the
 * first stdout line), the local key, the request lines it logs, and a stop
 * by signal that returns how it exited.
 *
 * @module
 */

import type { FakeUpstream } from "./fake_upstream.ts";
import { fakeSecret, type RunResult, type TempState } from "./helpers.ts";

/** A proxy process of a test. */
export interface RunningProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The local key clients send. */
  key: string;
  /** The request lines logged so far (parsed). */
  lines(): Record<string, unknown>[];
  /** POSTs `init.body` (default {@linkcode MESSAGES_BODY}) to `path` with the local key as `x-api-key`. */
  post(
    path?: string,
    init?: { headers?: Record<string, string>; body?: string },
  ): Promise<Response>;
  /** {@linkcode RunningProxy.post}, the answer's body discarded: its status. */
  status(
    path?: string,
    init?: { headers?: Record<string, string>; body?: string },
  ): Promise<number>;
  /** Sends `signal` without waiting. */
  signal(signal: Deno.Signal): void;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<RunResult>;
}

/** Points the built-in providers' APIs (or those named) at `upstream` in clawauth.json, keeping other settings. */
export function routeTo(
  state: TempState,
  upstream: Pick<FakeUpstream, "url">,
  providers: readonly string[] = ["anthropic", "openai", "openai-codex"],
): void {
  const path = `${state.dir}/clawauth.json`;
  let config: { providers?: Record<string, Record<string, unknown>> } = {};
  try {
    config = JSON.parse(Deno.readTextFileSync(path));
  } catch { /* none yet */ }
  const settings = config.providers ?? {};
  for (const id of providers) settings[id] = { ...settings[id], apiBaseUrl: upstream.url };
  state.writeFile("clawauth.json", JSON.stringify({ ...config, providers: settings }));
}

/** Stores one Anthropic API key, `anthropic:k`, and returns it. */
export function oneAnthropicKey(state: TempState): string {
  const key = fakeSecret("sk-ant-api03-");
  state.writeStore({
    version: 1,
    profiles: { "anthropic:k": { type: "api_key", provider: "anthropic", key } },
  });
  return key;
}

/** Starts the proxy on a free port and waits until it listens. */
export async function startProxy(
  state: TempState,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningProxy> {
  const keyRun = await state.run(["proxy", "key"], { env });
  if (keyRun.code !== 0) throw new Error(`proxy key exited ${keyRun.code}: ${keyRun.stderr}`);
  const child = state.spawn(["proxy", "--port", "0", "--json", ...args], {
    env,
    stdin: "null",
  });
  const lines: Record<string, unknown>[] = [];
  let stdout = "";
  let pending = "";
  let stderr = "";
  const listening = Promise.withResolvers<string>();
  const stdoutDone = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = JSON.parse(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        if (line.event === "listening") listening.resolve(line.url);
        else lines.push(line);
      }
    }
    listening.reject(new Error(`the proxy exited before listening: ${stderr}`));
  })();
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  const url = await listening.promise;
  let result: Promise<RunResult> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") =>
    result ??= (async () => {
      try {
        child.kill(signal);
      } catch { /* exited already */ }
      const status = await child.status;
      await Promise.all([stdoutDone, stderrDone]);
      return { code: status.code, stdout, stderr };
    })();
  const key = keyRun.stdout.trim();
  const post = (
    path = "/anthropic/v1/messages",
    init: { headers?: Record<string, string>; body?: string } = {},
  ) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: init.headers ?? keyed(key),
      body: init.body ?? MESSAGES_BODY,
    });
  return {
    url,
    key,
    lines: () => lines,
    post,
    signal: (signal) => child.kill(signal),
    async status(path, init) {
      const response = await post(path, init);
      await response.body?.cancel();
      return response.status;
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** An HTTP/1.1 request written by hand, for headers fetch will not send (a foreign `Host`). */
export async function rawRequest(
  url: string,
  lines: { method: string; path: string; headers: Record<string, string> },
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head = Object.entries({ ...lines.headers, Connection: "close" })
    .map(([name, value]) => `${name}: ${value}\r\n`).join("");
  await conn.write(
    new TextEncoder().encode(`${lines.method} ${lines.path} HTTP/1.1\r\n${head}\r\n`),
  );
  // Up to the end of the head: a proxy that refuses early need not wait for a body.
  let text = "";
  const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
  while (!text.includes("\r\n\r\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel().catch(() => {});
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), text };
}

/** Headers that carry the local key as `x-api-key`, and JSON. */
export function keyed(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { "x-api-key": key, "content-type": "application/json", ...extra };
}

/** A small Messages API body. */
export const MESSAGES_BODY: string = JSON.stringify({
  model: "claude-fake",
  max_tokens: 5,
  stream: true,
  messages: [{ role: "user", content: "ping" }],
});
