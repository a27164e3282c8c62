/**
 * Running `clawauth proxy --port 0 --json` in a test: its URL (from the
 * first stdout line), the local key, the request lines it logs, and a stop
 * by signal that returns how it exited.
 *
 * @module
 */

import type { FakeUpstream } from "./fake_upstream.ts";
import type { RunResult, TempState } from "./helpers.ts";

/** A proxy process of a test. */
export interface RunningProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The local key clients send. */
  key: string;
  /** The request lines logged so far (parsed). */
  lines(): Record<string, unknown>[];
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
  let stderr = "";
  const listening = Promise.withResolvers<string>();
  const stdoutDone = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      let newline;
      while ((newline = stdout.indexOf("\n")) >= 0) {
        const line = JSON.parse(stdout.slice(0, newline));
        stdout = stdout.slice(newline + 1);
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
  return {
    url,
    key: keyRun.stdout.trim(),
    lines: () => lines,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
