/**
 * Black-box test helpers: spawn the CLI as a user would, with exactly the
 * compiled binary's permissions, against a temp state dir.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCli, type RunResult, spawnCli, type SpawnOptions } from "../scripts/cli_runner.ts";

export { CLI_COMMAND, ROOT, runCli, type RunResult } from "../scripts/cli_runner.ts";

/** Options of {@linkcode TempState.run}. */
export interface RunOptions {
  /** Text (or bytes) given on stdin; stdin is closed either way. */
  stdin?: string | Uint8Array;
  /** Extra environment; the base has only PATH, HOME, DENO_DIR, NO_COLOR and the state dir. */
  env?: Record<string, string>;
  /**
   * A command the CLI is started through, which must `exec "$@"`, e.g.
   * `["sh", "-c", 'umask 000; exec "$@"', "sh"]`.
   */
  wrap?: readonly string[];
}

/**
 * A {@linkcode RunOptions.wrap} that runs the CLI with `deno run --no-npm`:
 * any npm package the command loads fails it, so a test can show a path
 * loads none.
 */
export const NO_NPM: readonly string[] = [
  "sh",
  "-c",
  'deno="$1"; shift 2; exec "$deno" run --no-npm "$@"',
  "sh",
];

/** A temp state dir, removed when disposed (`await using state = await tempState()`). */
export interface TempState extends AsyncDisposable {
  /** The state dir. */
  dir: string;
  /** The private HOME beside it (`<dir>/../home`), which every run gets. */
  home: string;
  /** Runs the CLI with this state dir as `$OPENCLAW_STATE_DIR`. */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts the CLI with this state dir, without waiting for it. */
  spawn(args: string[], opts?: SpawnOptions & { env?: Record<string, string> }): Deno.ChildProcess;
  /** The parsed store of an agent (default main). */
  store(agent?: string): Record<string, unknown>;
  /** The raw text of an agent's store. */
  storeText(agent?: string): string;
  /** Writes an agent's store as given (text or a value to JSON-encode). */
  writeStore(data: unknown, agent?: string): void;
  /** `<state>/agents/<agent>/agent`. */
  agentDir(agent?: string): string;
  /** Writes a file under the state dir (parents created), e.g. `openclaw.json`. */
  writeFile(relative: string, text: string): void;
}

/** Makes a temp state dir with a private fake HOME beside it. */
export async function tempState(): Promise<TempState> {
  const root = await Deno.makeTempDir({ prefix: "clawauth-test-" });
  const dir = `${root}/state`;
  const home = `${root}/home`;
  await Deno.mkdir(home);
  const agentDir = (agent = "main") => `${dir}/agents/${agent}/agent`;
  const run = (args: string[], opts: RunOptions = {}) =>
    runCli(
      args,
      { HOME: home, OPENCLAW_STATE_DIR: dir, ...opts.env },
      opts.stdin,
      opts.wrap,
    );
  return {
    dir,
    home,
    spawn: (args, opts = {}) =>
      spawnCli(args, { HOME: home, OPENCLAW_STATE_DIR: dir, ...opts.env }, opts),
    run,
    store: (agent) =>
      JSON.parse(
        Deno.readTextFileSync(`${agentDir(agent)}/auth-profiles.json`),
      ),
    storeText: (agent) => Deno.readTextFileSync(`${agentDir(agent)}/auth-profiles.json`),
    writeStore(data, agent) {
      Deno.mkdirSync(agentDir(agent), { recursive: true });
      const text = typeof data === "string" ? data : JSON.stringify(data, null, 2);
      Deno.writeTextFileSync(`${agentDir(agent)}/auth-profiles.json`, text);
    },
    agentDir,
    writeFile(relative, text) {
      const path = `${dir}/${relative}`;
      Deno.mkdirSync(path.replace(/\/[^/]*$/, ""), { recursive: true });
      Deno.writeTextFileSync(path, text);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Whether `path` is a regular file (following links). */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The absolute path of `name` on PATH (the PATH the CLI gets too), if any. */
export function which(name: string): string | undefined {
  return (Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/${name}`)
    .find(isFile);
}

/** python3, which drives the pty tests (tests/fixtures/pty_*.py), if this machine has it. */
export const python: string | undefined = ["/usr/bin/python3", "/usr/local/bin/python3"].find(
  isFile,
);

/** A free TCP port on 127.0.0.1 (released before it is returned). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A fresh random secret: `prefix` and 48 characters no other output holds. */
export function fakeSecret(prefix = "sk-ant-oat01-"): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(48));
  return prefix + [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

/**
 * Whether `text` leaks `secret` beyond its public `prefix`: any 9 characters
 * in a row of it that reach past the prefix count. The one allowed mask,
 * first 8 … last 8 (docs/commands.md), shows at most 8 in a row, so it passes.
 */
export function leaks(text: string, secret: string, prefix: string): boolean {
  for (let i = Math.max(0, prefix.length - 8); i + 9 <= secret.length; i++) {
    if (text.includes(secret.slice(i, i + 9))) return true;
  }
  return false;
}

/** `flock -x` on `path`, held until released; resolves once it holds the lock. */
export async function holdFlock(
  path: string,
): Promise<{ release(): Promise<void> }> {
  const child = new Deno.Command("flock", {
    args: ["-x", path, "-c", "echo locked; read _ || true"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let seen = "";
  while (!seen.includes("locked\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("flock exited before taking the lock");
    seen += value;
  }
  return {
    async release() {
      await child.stdin.close();
      await reader.cancel();
      assert.equal((await child.status).code, 0);
    },
  };
}

/** Writes a clawauth.json that configures the one provider `id` with `settings`. */
export function writeProviderConfig(
  state: Pick<TempState, "writeFile">,
  id: string,
  settings: Record<string, unknown>,
): void {
  state.writeFile("clawauth.json", JSON.stringify({ providers: { [id]: settings } }));
}

/**
 * A clawauth.json whose openai-codex endpoints are on loopback: the token
 * endpoint at `tokenUrl`, by default one where nothing listens. Takes a
 * {@linkcode TempState} or an in-process state (tests/fake_context.ts).
 */
export function writeLoopbackConfig(
  state: Pick<TempState, "writeFile">,
  tokenUrl = "http://127.0.0.1:9/token",
): void {
  writeProviderConfig(state, "openai-codex", {
    authorizeUrl: "http://127.0.0.1:9/authorize",
    tokenUrl,
    clientId: "loopback-test",
  });
}

/** `order set --provider <provider> <ids…>`: the order in which `token` picks profiles. */
export function setOrder(
  state: Pick<TempState, "run">,
  provider: string,
  ...ids: string[]
): Promise<RunResult> {
  return state.run(["order", "set", "--provider", provider, ...ids]);
}

/** Writes `stdin` (when given) to a spawned child and closes it, then collects what it printed. */
export async function outputOf(child: Deno.ChildProcess, stdin?: string): Promise<RunResult> {
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The suffix a skipped test's name carries, saying why: ` (ignored: REASON)`, or nothing. */
export function ignoredSuffix(reason: string | undefined): string {
  return reason ? ` (ignored: ${reason})` : "";
}
