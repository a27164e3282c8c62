/**
 * Helpers for OAuth black-box tests: a sandbox identity provider wired into
 * a temp state dir's clawauth.json, and a CLI process one can talk to.
 *
 * @module
 */

import {
  providerOverride,
  type SandboxIdp,
  type SandboxIdpOptions,
  startSandboxIdp,
} from "../scripts/sandbox_idp.ts";
import { freePort, type RunResult, type TempState } from "./helpers.ts";

export { freePort };

/**
 * Starts the sandbox IdP and points `provider` at it in the state dir's
 * clawauth.json. Close it with `await using idp = await idpFor(…)` or `close()`.
 */
export async function idpFor(
  state: TempState,
  opts: SandboxIdpOptions & { provider?: string; port?: number } = {},
): Promise<SandboxIdp & { callbackPort: number }> {
  const idp = await startSandboxIdp(opts);
  const callbackPort = opts.port ?? freePort();
  const provider = opts.provider ?? "openai-codex";
  Deno.mkdirSync(state.dir, { recursive: true });
  Deno.writeTextFileSync(
    `${state.dir}/clawauth.json`,
    JSON.stringify({
      providers: {
        [provider]: providerOverride(
          idp,
          `http://127.0.0.1:${callbackPort}/auth/callback`,
          provider === "openai-codex",
        ),
      },
    }),
  );
  return Object.assign(idp, { callbackPort });
}

/** The authorize URL line an interactive login prints (its first group is the URL). */
export const URL_LINE = /\n {2}(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)\n/;
/** The line a device login prints: where to go (first group) and the code (second). */
export const CODE_LINE = /open (\S+) and enter the code:\n\n {2}(\S+)\n/;

/** A running CLI whose stderr can be awaited line by line and whose stdin can be written. */
export interface LiveCli {
  /** Resolves with the first stderr text matching `pattern` (the match's first group, else all). */
  waitForStderr(pattern: RegExp): Promise<string>;
  /** Writes to the CLI's stdin. */
  write(text: string): Promise<void>;
  /** Closes stdin and waits for the exit. */
  result(): Promise<RunResult>;
  /** Sends a signal, as Ctrl-C (SIGINT) would. */
  kill(signal: Deno.Signal): void;
}

/** Starts the CLI without waiting for it. */
export function startCli(
  state: TempState,
  args: string[],
  env: Record<string, string> = {},
): LiveCli {
  const child = state.spawn(args, { env });
  const writer = child.stdin.getWriter();
  let stderr = "";
  const waiters: { pattern: RegExp; resolve: (s: string) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(stderr);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match[1] ?? match[0]);
      }
    }
  };
  const stderrDone = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      stderr += chunk;
      check();
    }
  })();
  const stdout = new Response(child.stdout).text();
  return {
    waitForStderr: (pattern) =>
      new Promise((resolve) => {
        waiters.push({ pattern, resolve });
        check();
      }),
    write: (text) => writer.write(new TextEncoder().encode(text)),
    kill: (signal) => child.kill(signal),
    async result() {
      await writer.close().catch(() => {});
      const [status, out] = await Promise.all([
        child.status,
        stdout,
        stderrDone,
      ]).then((
        [s, o],
      ) => [s, o] as const);
      return { code: status.code, stdout: out, stderr };
    },
  };
}

/**
 * Starts an interactive `login --provider openai-codex` plus `extra`, and
 * waits for the authorize URL it prints.
 */
export async function interactiveLogin(
  state: TempState,
  extra: string[] = [],
): Promise<{ cli: LiveCli; url: string }> {
  const cli = startCli(state, ["login", "--provider", "openai-codex", ...extra]);
  return { cli, url: await cli.waitForStderr(URL_LINE) };
}

/** A store's profiles, typed loosely for assertions. */
export function profilesOf(
  state: TempState,
  agent?: string,
): Record<string, Record<string, unknown>> {
  return (state.store(agent) as {
    profiles: Record<string, Record<string, unknown>>;
  }).profiles;
}

/** What `login --start --json` prints. */
export interface StartedLogin {
  /** The authorize URL. */
  url: string;
  /** The OAuth `state` the pending login waits for. */
  state: string;
  redirectUri: string;
  expiresAt: number;
}

/** Runs `login --provider openai-codex --start --json` plus `extra`, which must succeed. */
export async function startLogin(state: TempState, extra: string[] = []): Promise<StartedLogin> {
  const started = await state.run([
    "login",
    "--provider",
    "openai-codex",
    "--start",
    "--json",
    ...extra,
  ]);
  if (started.code !== 0) {
    throw new Error(`login --start exited ${started.code}: ${started.stderr}`);
  }
  return JSON.parse(started.stdout);
}

/** Logs in through `login --start` / `--finish` and returns the stored profile id. */
export async function loginVia(
  idp: SandboxIdp,
  state: TempState,
  extra: string[] = [],
  login?: string,
): Promise<string> {
  const { url } = await startLogin(state, extra);
  const finished = await state.run([
    "login",
    "--finish",
    await idp.approve(url, login),
    "--json",
  ]);
  if (finished.code !== 0) throw new Error(finished.stderr);
  return JSON.parse(finished.stdout).profile;
}

/** Moves a stored profile's expiry (e.g. into the past) without touching anything else. */
export function setExpires(state: TempState, id: string, expires: number): void {
  const store = state.store() as { profiles: Record<string, Record<string, unknown>> };
  store.profiles[id].expires = expires;
  state.writeStore(store);
}
