/**
 * A fake {@linkcode Context} for in-process tests of `main(ctx, argv)`: a
 * fixed clock that only moves when told (or when the code sleeps), an
 * environment map, captured stdout and stderr, stdin from a string, no
 * terminals, and no network unless a test answers the requests itself.
 *
 * @example
 * ```ts ignore
 * const ctx = fakeContext({ env: { HOME: home }, stdin: "sk-ant-oat01-…\n" });
 * const code = await main(ctx, ["paste-token", "--provider", "anthropic", "--state-dir", dir]);
 * assert.equal(code, 0, ctx.stderr());
 * ctx.advance(60_000); // a minute later, without waiting a minute
 * ```
 *
 * @module
 */

import type { Context } from "../lib/context.ts";

/** The fake clock's default start: 2026-01-01T00:00:00Z. */
export const FAKE_NOW: number = Date.UTC(2026, 0, 1);

/** Answers one request a command makes; what it returns (or throws) is what `fetch` gives. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@linkcode fakeContext}; every one has a default. */
export interface FakeContextOptions {
  /** Where the clock starts, epoch ms (default {@linkcode FAKE_NOW}). */
  now?: number;
  /** The whole environment the command sees (default: empty, so no `HOME`). */
  env?: Record<string, string>;
  /** What stdin holds; it is closed after it (default: empty). */
  stdin?: string | Uint8Array;
  /** Whether stdout is a terminal (default false). */
  stdoutIsTTY?: boolean;
  /** Whether stdin is a terminal (default false). */
  stdinIsTTY?: boolean;
  /** Whether stderr is a terminal (default false). */
  stderrIsTTY?: boolean;
  /** Whether human output may use colour (default false). */
  color?: boolean;
  /** Whether warnings on stderr may use colour (default false). */
  stderrColor?: boolean;
  /** The terminal's size (default: no terminal). */
  terminalSize?: { columns: number; rows: number };
  /** Answers HTTP requests; without it every request rejects with a TypeError "no network in this test". */
  fetch?: FetchHandler;
  /**
   * Replaces the instant sleep, e.g. with the real one (`sleep` of
   * lib/context.ts) for a wait that must outlast something; the clock then
   * moves only when told. Sleeps are still recorded in `sleeps`.
   */
  sleep?: Context["sleep"];
}

/** A {@linkcode Context} whose clock, streams and requests a test controls and inspects. */
export interface FakeContext extends Context {
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Forgets what stdout and stderr held, e.g. between two runs on one context. */
  clearOutput(): void;
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  /** Sets the clock to `epochMs`. */
  setNow(epochMs: number): void;
  /** The environment, which a test may change between runs. */
  readonly envMap: Map<string, string>;
  /** Every `sleep(ms)` so far, in order. */
  readonly sleeps: number[];
  /** Every request given to `fetch` so far, in order. */
  readonly requests: Request[];
}

/**
 * Builds a {@linkcode FakeContext}. Unless `opts.sleep` replaces it, its
 * `sleep` advances the clock by `ms` and resolves at once (a lock or login
 * deadline is therefore reached immediately); its `fetch` hands a `Request`
 * to `opts.fetch`.
 */
export function fakeContext(opts: FakeContextOptions = {}): FakeContext {
  let clock = opts.now ?? FAKE_NOW;
  let out = "";
  let err = "";
  const envMap = new Map(Object.entries(opts.env ?? {}));
  const sleeps: number[] = [];
  const requests: Request[] = [];
  const input = typeof opts.stdin === "string"
    ? new TextEncoder().encode(opts.stdin)
    : opts.stdin ?? new Uint8Array();
  let stdin: ReadableStream<Uint8Array> | undefined;
  return {
    env: (name) => envMap.get(name),
    envAll: () => Object.fromEntries(envMap),
    now: () => clock,
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    stdoutIsTTY: opts.stdoutIsTTY ?? false,
    stdinIsTTY: opts.stdinIsTTY ?? false,
    stderrIsTTY: opts.stderrIsTTY ?? false,
    color: opts.color ?? false,
    stderrColor: opts.stderrColor ?? false,
    terminalSize: () => opts.terminalSize,
    get stdin() {
      stdin ??= new ReadableStream({
        start(controller) {
          if (input.length > 0) controller.enqueue(input);
          controller.close();
        },
      });
      return stdin;
    },
    fetch(resource, init) {
      const request = new Request(resource, init);
      requests.push(request);
      if (!opts.fetch) {
        // A TypeError, as a real fetch rejects when nothing answers.
        return Promise.reject(
          new TypeError(`no network in this test (${request.method} ${request.url})`),
        );
      }
      try {
        return Promise.resolve(opts.fetch(request));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      sleeps.push(ms);
      if (opts.sleep) return opts.sleep(ms, signal);
      clock += Math.max(0, ms);
      return Promise.resolve();
    },
    stdout: () => out,
    stderr: () => err,
    clearOutput() {
      out = "";
      err = "";
    },
    advance(ms) {
      clock += ms;
    },
    setNow(epochMs) {
      clock = epochMs;
    },
    envMap,
    sleeps,
    requests,
  };
}

/** What one in-process run of `main` gave. */
export interface MainResult {
  /** The exit code `main` returned. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
  /** The context it ran with, for its clock, sleeps and requests. */
  ctx: FakeContext;
}

/** Options of {@linkcode InProcessState.run}: a context's, minus what the state sets. */
export interface InProcessRunOptions extends Omit<FakeContextOptions, "env"> {
  /** Extra environment, over `HOME` (the state's fake home). */
  env?: Record<string, string>;
}

/**
 * A temp state dir (with a fake home beside it) whose `run` calls `main`
 * in-process with `--state-dir`, on a clock shared by every run. Removed when
 * disposed (`await using state = await inProcessState()`).
 */
export interface InProcessState extends AsyncDisposable {
  /** The state dir, given to every run as `--state-dir`. */
  dir: string;
  /** The fake home, `$HOME` of every run. */
  home: string;
  /** The clock every run starts at, epoch ms; runs that sleep move it on. */
  now: number;
  /** Runs `main(ctx, ["--state-dir", dir, ...argv])` on a fresh {@linkcode fakeContext}. */
  run(argv: string[], opts?: InProcessRunOptions): Promise<MainResult>;
  /** `<state>/agents/<agent>/agent` (default agent main). */
  agentDir(agent?: string): string;
  /** Writes an agent's `auth-profiles.json`: text as is, anything else as JSON. */
  writeStore(data: unknown, agent?: string): void;
  /** The raw text of an agent's `auth-profiles.json`. */
  storeText(agent?: string): string;
  /** The parsed `auth-profiles.json` of an agent. */
  store(agent?: string): Record<string, unknown>;
  /** Writes a file under the state dir, parents created. */
  writeFile(relative: string, text: string): void;
}

/** Makes an {@linkcode InProcessState} whose clock starts at `now` (default {@linkcode FAKE_NOW}). */
export async function inProcessState(now: number = FAKE_NOW): Promise<InProcessState> {
  const { main } = await import("../main.ts");
  const root = await Deno.makeTempDir({ prefix: "clawauth-inprocess-" });
  const dir = `${root}/state`;
  const home = `${root}/home`;
  await Deno.mkdir(home);
  const agentDir = (agent = "main") => `${dir}/agents/${agent}/agent`;
  const storePath = (agent?: string) => `${agentDir(agent)}/auth-profiles.json`;
  const state: InProcessState = {
    dir,
    home,
    now,
    async run(argv, opts = {}) {
      const ctx = fakeContext({ now: state.now, ...opts, env: { HOME: home, ...opts.env } });
      const code = await main(ctx, ["--state-dir", dir, ...argv]);
      state.now = ctx.now();
      return { code, stdout: ctx.stdout(), stderr: ctx.stderr(), ctx };
    },
    agentDir,
    writeStore(data, agent) {
      Deno.mkdirSync(agentDir(agent), { recursive: true, mode: 0o700 });
      const text = typeof data === "string" ? data : JSON.stringify(data, null, 2);
      Deno.writeTextFileSync(storePath(agent), text, { mode: 0o600 });
    },
    storeText: (agent) => Deno.readTextFileSync(storePath(agent)),
    store: (agent) => JSON.parse(Deno.readTextFileSync(storePath(agent))),
    writeFile(relative, text) {
      const path = `${dir}/${relative}`;
      Deno.mkdirSync(path.replace(/\/[^/]*$/, ""), { recursive: true, mode: 0o700 });
      Deno.writeTextFileSync(path, text, { mode: 0o600 });
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
  return state;
}
