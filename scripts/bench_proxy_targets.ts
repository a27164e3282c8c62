/**
 * The servers of the proxy section of `deno task bench`, each started as a
 * process of its own on 127.0.0.1 in front of one fake upstream
 * (scripts/bench_proxy_upstream.ts): the upstream itself, a bare Deno
 * pass-through, `clawauth proxy`, and claude-code-router (installed by
 * scripts/ccr_tools.sh into .ci/.tools/ccr on first use). A target that
 * cannot run here comes back as {@linkcode Unavailable} with the reason.
 *
 * @module
 */

import { CLI_COMMAND, cliEnv, ROOT } from "./cli_runner.ts";
import { spawn } from "./bench_runner.ts";
import { writeStore } from "./bench_util.ts";

/** A running server the load generator can be pointed at. */
export interface Target {
  /** Key in results.json. */
  key: string;
  label: string;
  /** Its Messages endpoint. */
  url: string;
  /** The credential headers a client sends it. */
  headers: Record<string, string>;
  /** The process whose memory is read. */
  pid: number;
  /** From spawn to accepting requests. */
  startMs: number;
  stop(): Promise<void>;
}

/** A target that could not be started, and why. */
export interface Unavailable {
  key: string;
  label: string;
  unavailable: string;
}

/** The pinned claude-code-router (scripts/ccr_tools.sh installs it). */
export const CCR_LABEL = "claude-code-router 2.0.0 (`Anthropic` transformer)";

/** How long the fake upstream's streams pause after their first event (a buffering proxy shows it in TTFB). */
export const STREAM_GAP_MS = 5;

const DENO = Deno.execPath();
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 12_000;
const SCRIPTS = `${ROOT}/scripts`;

/** Keeps the last `max` characters a stream carries (so a child never blocks on a full pipe). */
function tail(stream: ReadableStream<Uint8Array>, max = 2000): () => string {
  let text = "";
  const decoder = new TextDecoder();
  stream.pipeTo(
    new WritableStream({
      write(chunk) {
        text = (text + decoder.decode(chunk, { stream: true })).slice(-max);
      },
    }),
  ).catch(() => {});
  return () => text.trim();
}

/** Reads stdout up to its first line, then discards the rest as it comes. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string | undefined> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) return undefined;
    text += decoder.decode(value, { stream: true });
  }
  (async () => {
    while (!(await reader.read()).done) {
      // per-request log lines: read so the pipe never fills
    }
  })().catch(() => {});
  return text.slice(0, text.indexOf("\n"));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Every child started and not gone yet. */
const running = new Set<Deno.ChildProcess>();

/** Spawns `command`, remembered until it exits so {@linkcode killAll} can end it. */
export function spawnTracked(command: Deno.Command): Deno.ChildProcess {
  const child = command.spawn();
  running.add(child);
  child.status.finally(() => running.delete(child));
  return child;
}

/** Kills every child still running (the bench is interrupted; children outlive Deno.exit). */
export function killAll(): void {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
}

function stopper(child: Deno.ChildProcess): () => Promise<void> {
  return async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      return; // already gone
    }
    await withTimeout(child.status, STOP_TIMEOUT_MS, "no exit").catch(() => child.kill("SIGKILL"));
    await child.status;
  };
}

interface Launch {
  cmd: readonly string[];
  env: Record<string, string>;
  /** Resolves with the base URL once the server accepts requests. */
  ready(stdout: ReadableStream<Uint8Array>): Promise<string>;
}

/** Starts a server; a failure to come up throws with what it printed on stderr. */
async function launch(
  l: Launch,
): Promise<{ pid: number; base: string; ms: number; stop: () => Promise<void> }> {
  const began = performance.now();
  const child = spawnTracked(
    new Deno.Command(l.cmd[0], {
      args: l.cmd.slice(1),
      cwd: ROOT,
      clearEnv: true,
      env: cliEnv(l.env),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }),
  );
  const stop = stopper(child);
  const stderr = tail(child.stderr);
  const exited = child.status.then((s) => {
    throw new Error(`exited ${s.code} before listening`);
  });
  try {
    const base = await withTimeout(
      Promise.race([l.ready(child.stdout), exited]),
      START_TIMEOUT_MS,
      "not listening",
    );
    return { pid: child.pid, base, ms: performance.now() - began, stop };
  } catch (error) {
    await stop();
    const said = stderr().split("\n").slice(-3).join(" ");
    throw new Error(`${(error as Error).message}${said ? `: ${said}` : ""}`);
  }
}

/** `{"event":"listening","url":…}` as the first stdout line (clawauth's contract). */
async function listeningLine(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const line = await firstLine(stdout);
  const url = line && JSON.parse(line).url;
  if (typeof url !== "string") throw new Error(`printed ${JSON.stringify(line)}, no URL`);
  return url;
}

/** A Deno script of this folder (upstream, pass-through) as a started target. */
async function denoScript(
  script: string,
  args: readonly string[],
  t: Omit<Target, "url" | "pid" | "startMs" | "stop"> & { path: string },
): Promise<Target & { base: string }> {
  const { pid, base, ms, stop } = await launch({
    cmd: [DENO, "run", "--quiet", "--allow-net", `${SCRIPTS}/${script}`, ...args],
    env: {},
    ready: listeningLine,
  });
  return {
    key: t.key,
    label: t.label,
    headers: t.headers,
    url: `${base}${t.path}`,
    base,
    pid,
    startMs: ms,
    stop,
  };
}

/** The fake upstream, which also is the baseline target. */
export function startUpstream(key: string): Promise<Target & { base: string }> {
  return denoScript("bench_proxy_upstream.ts", [key, String(STREAM_GAP_MS)], {
    key: "upstream",
    label: "the upstream alone (baseline)",
    headers: { "x-api-key": key },
    path: "/v1/messages",
  });
}

/** A bare Deno pass-through to `upstream` that swaps the client's key for `key`. */
export function startPassThrough(upstream: string, key: string): Promise<Target> {
  return denoScript("bench_proxy_passthrough.ts", [upstream, key], {
    key: "passThrough",
    label: "a bare Deno pass-through (`Deno.serve` + `fetch`)",
    headers: { "x-api-key": "local" },
    path: "/v1/messages",
  });
}

const firstLineOf = (text: string): string => text.trim().split("\n")[0] ?? "";

/**
 * `clawauth proxy --port 0 --json` with one `anthropic` api_key profile and
 * `apiBaseUrl` pointed at the upstream, run as the binary runs. `main` is the
 * entry point (default this checkout's main.ts; BENCH_CLAWAUTH_MAIN can name
 * another checkout's, e.g. a branch not merged yet).
 */
export async function startClawauth(
  opts: { dir: string; upstream: string; key: string; main?: string },
): Promise<Target | Unavailable> {
  const label = opts.main ? `\`clawauth proxy\` (${opts.main})` : "`clawauth proxy`";
  const command = opts.main ? [...CLI_COMMAND.slice(0, -1), opts.main] : [...CLI_COMMAND];
  const stateDir = `${opts.dir}/state`;
  const env = { HOME: `${opts.dir}/home`, OPENCLAW_STATE_DIR: stateDir };
  Deno.mkdirSync(env.HOME, { recursive: true, mode: 0o700 });
  writeStore(stateDir, {
    version: 1,
    profiles: { "anthropic:bench": { type: "api_key", provider: "anthropic", key: opts.key } },
  });
  Deno.writeTextFileSync(
    `${stateDir}/clawauth.json`,
    JSON.stringify({ providers: { anthropic: { apiBaseUrl: opts.upstream } } }),
  );
  const key = await spawn([...command, "proxy", "key"], env, true);
  if (key.code !== 0 || !key.stdout.trim()) {
    return {
      key: "clawauth",
      label,
      unavailable: `not available: \`clawauth proxy key\` exited ${key.code} (${
        firstLineOf(key.stderr) || "no key printed"
      })`,
    };
  }
  try {
    const { pid, base, ms, stop } = await launch({
      cmd: [...command, "proxy", "--port", "0", "--json"],
      env,
      ready: listeningLine,
    });
    return {
      key: "clawauth",
      label,
      url: `${base}/anthropic/v1/messages`,
      headers: { "x-api-key": key.stdout.trim() },
      pid,
      startMs: ms,
      stop,
    };
  } catch (error) {
    return { key: "clawauth", label, unavailable: `did not start: ${(error as Error).message}` };
  }
}

/** The Node and CLI of claude-code-router: from the environment, else installed into .ci/.tools/ccr. */
async function ccrInstall(): Promise<{ node: string; cli: string } | string> {
  const node = Deno.env.get("CLAWAUTH_CCR_NODE");
  const cli = Deno.env.get("CLAWAUTH_CCR_CLI");
  if (node && cli) return { node, cli };
  const out = await spawn(
    [
      "bash",
      "-c",
      'eval "$(scripts/ccr_tools.sh .ci/.tools/ccr)" && printf "%s\\n" "$CLAWAUTH_CCR_NODE" "$CLAWAUTH_CCR_CLI"',
    ],
    { HOME: Deno.env.get("HOME") ?? "/tmp" },
    true,
  );
  const [n, c] = out.stdout.trim().split("\n");
  if (out.code !== 0 || !n || !c) {
    return `could not be installed (scripts/ccr_tools.sh: ${
      out.stderr.trim().split("\n").slice(-1)[0] ?? `exit ${out.code}`
    })`;
  }
  return { node: n, cli: c };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Polls `url` until it answers at all (claude-code-router prints nothing to wait for). */
async function answering(url: string): Promise<string> {
  for (const deadline = performance.now() + START_TIMEOUT_MS; performance.now() < deadline;) {
    try {
      await (await fetch(`${url}/`)).body?.cancel();
      return url;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${url} did not answer`);
}

/**
 * claude-code-router as a pass-through to the upstream (NOTES' config: one
 * provider with the `Anthropic` transformer, the default route on it).
 */
export async function startCcr(
  opts: { dir: string; upstream: string; key: string },
): Promise<Target | Unavailable> {
  const installed = await ccrInstall();
  if (typeof installed === "string") {
    return { key: "claudeCodeRouter", label: CCR_LABEL, unavailable: installed };
  }
  const port = freePort();
  const clientKey = `ccr-${crypto.randomUUID()}`;
  Deno.mkdirSync(`${opts.dir}/.claude-code-router`, { recursive: true, mode: 0o700 });
  Deno.writeTextFileSync(
    `${opts.dir}/.claude-code-router/config.json`,
    JSON.stringify({
      HOST: "127.0.0.1",
      PORT: port,
      APIKEY: clientKey,
      NON_INTERACTIVE_MODE: true,
      LOG: false,
      Providers: [{
        name: "fake",
        api_base_url: `${opts.upstream}/v1/messages`,
        api_key: opts.key,
        models: ["m"],
        transformer: { use: ["Anthropic"] },
      }],
      Router: { default: "fake,m" },
    }),
  );
  try {
    const base = `http://127.0.0.1:${port}`;
    const { pid, ms, stop } = await launch({
      cmd: [installed.node, installed.cli, "start"],
      env: { HOME: opts.dir },
      ready: () => answering(base),
    });
    return {
      key: "claudeCodeRouter",
      label: CCR_LABEL,
      url: `${base}/v1/messages`,
      headers: { "x-api-key": clientKey },
      pid,
      startMs: ms,
      stop,
    };
  } catch (error) {
    return {
      key: "claudeCodeRouter",
      label: CCR_LABEL,
      unavailable: `did not start: ${(error as Error).message}`,
    };
  }
}
