/**
 * The real coding-agent clients for black-box tests: Claude Code, Codex CLI
 * and pi (pinned in `scripts/clients_tools.sh`) with Node 24, from npm into
 * `.ci/.tools/clients` (ignored by git). `.ci/run` installs them and exports
 * `CLAWAUTH_CLIENTS_NODE`, `CLAWAUTH_CLAUDE_BIN`, `CLAWAUTH_CODEX_BIN` and
 * `CLAWAUTH_PI_BIN`; without those the install in `.ci/.tools/clients` is
 * used, installed first by the same script when missing (about 25 s, once).
 * Only when npm cannot install them are the client tests ignored, and
 * {@linkcode clientsSkipReason} says why.
 *
 * Each runner gives its client a clean environment that keeps it offline
 * (each client's docs, checked against the pinned versions): no update checks, no telemetry, no plugin sync, a
 * private HOME, and the model API at a loopback URL.
 *
 * @module
 */

import { DENO_DIR, ROOT } from "../scripts/cli_runner.ts";
import assert from "node:assert/strict";
import { isFile, type RunResult, type TempState } from "./helpers.ts";

/** The installed clients. */
interface Clients {
  node: string;
  claude: string;
  codex: string;
  pi: string;
}

/** What one client run printed and how it exited. */
export interface ClientResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of a client run. */
export interface ClientRunOptions {
  /** The private HOME (also where the client keeps its state unless told otherwise). */
  home: string;
  /** Extra environment on top of the clean one. */
  env?: Record<string, string>;
  /** Kill the client after this long; default 90 s. */
  timeoutMs?: number;
}

const CLIENTS_DIR = `${ROOT}/.ci/.tools/clients`;

function parseExports(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const match of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) {
    // printf %q leaves plain paths unquoted; quoted ones are not expected here.
    vars[match[1]] = match[2].replace(/^'(.*)'$/, "$1");
  }
  return vars;
}

/** Runs scripts/clients_tools.sh (install or reuse) and reads its exports. */
async function install(): Promise<Clients | string> {
  const out = await new Deno.Command("bash", {
    args: [`${ROOT}/scripts/clients_tools.sh`, CLIENTS_DIR],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) {
    return `npm could not install the clients (${stderr.split("\n").pop() ?? "no message"})`;
  }
  const vars = parseExports(new TextDecoder().decode(out.stdout));
  return fromVars(vars) ?? "scripts/clients_tools.sh printed no paths";
}

function fromVars(vars: Record<string, string | undefined>): Clients | undefined {
  const clients = {
    node: vars.CLAWAUTH_CLIENTS_NODE ?? "",
    claude: vars.CLAWAUTH_CLAUDE_BIN ?? "",
    codex: vars.CLAWAUTH_CODEX_BIN ?? "",
    pi: vars.CLAWAUTH_PI_BIN ?? "",
  };
  return Object.values(clients).every(isFile) ? clients : undefined;
}

async function findClients(): Promise<Clients | string> {
  // .ci/run tried already and npm failed: do not wait for it twice.
  const unavailable = Deno.env.get("CLAWAUTH_CLIENTS_UNAVAILABLE");
  if (unavailable) return unavailable;
  const fromEnv = fromVars({
    CLAWAUTH_CLIENTS_NODE: Deno.env.get("CLAWAUTH_CLIENTS_NODE"),
    CLAWAUTH_CLAUDE_BIN: Deno.env.get("CLAWAUTH_CLAUDE_BIN"),
    CLAWAUTH_CODEX_BIN: Deno.env.get("CLAWAUTH_CODEX_BIN"),
    CLAWAUTH_PI_BIN: Deno.env.get("CLAWAUTH_PI_BIN"),
  });
  return fromEnv ?? await install();
}

const found = await findClients();
const clients: Clients | undefined = typeof found === "string" ? undefined : found;

/** Why the client tests are ignored, or `undefined` when the clients are here. */
export const clientsSkipReason: string | undefined = typeof found === "string" ? found : undefined;

if (clientsSkipReason) console.error(`Client tests ignored: ${clientsSkipReason}.`);

/** The pinned versions as installed (`package.json`), for test names and reports. */
export function clientVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (
    const [name, pkg] of [
      ["claude-code", "@anthropic-ai/claude-code"],
      ["codex", "@openai/codex"],
      ["pi", "@mariozechner/pi-coding-agent"],
    ]
  ) {
    try {
      versions[name] = JSON.parse(
        Deno.readTextFileSync(`${CLIENTS_DIR}/node_modules/${pkg}/package.json`),
      ).version;
    } catch {
      versions[name] = "unknown";
    }
  }
  return versions;
}

function requireClients(): Clients {
  if (!clients) throw new Error(`the clients are unavailable: ${clientsSkipReason}`);
  return clients;
}

async function runClient(
  command: { program: string; args: string[] },
  opts: ClientRunOptions,
): Promise<ClientResult> {
  const { program, args } = command;
  const { node } = requireClients();
  const nodeDir = node.replace(/\/[^/]*$/, "");
  const out = await new Deno.Command(program, {
    args,
    cwd: opts.home,
    clearEnv: true,
    env: {
      // Node 24 first; /usr/bin for /bin/sh, git and friends the clients call.
      PATH: `${nodeDir}:/usr/local/bin:/usr/bin:/bin`,
      HOME: opts.home,
      // The helper runs clawauth from source: Deno's cache must be the suite's.
      DENO_DIR,
      NO_COLOR: "1",
      DO_NOT_TRACK: "1",
      ...opts.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 90_000),
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * `claude -p PROMPT` with `CLAUDE_CONFIG_DIR` and `ANTHROPIC_BASE_URL`
 * (`opts.baseUrl`; without it, what settings.json says), updates and
 * non-essential traffic off.
 */
export function runClaude(
  configDir: string,
  opts: ClientRunOptions & { baseUrl?: string; prompt?: string },
): Promise<ClientResult> {
  return runClient({ program: requireClients().claude, args: ["-p", opts.prompt ?? "hi"] }, {
    ...opts,
    env: {
      CLAUDE_CONFIG_DIR: configDir,
      ...(opts.baseUrl === undefined ? {} : { ANTHROPIC_BASE_URL: opts.baseUrl }),
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      ...opts.env,
    },
  });
}

/** `codex exec --skip-git-repo-check --ephemeral PROMPT` with `CODEX_HOME`. */
export function runCodex(
  codexHome: string,
  opts: ClientRunOptions & { prompt?: string },
): Promise<ClientResult> {
  const { node, codex } = requireClients();
  return runClient({
    program: node,
    args: [codex, "exec", "--skip-git-repo-check", "--ephemeral", opts.prompt ?? "hi"],
  }, { ...opts, env: { CODEX_HOME: codexHome, ...opts.env } });
}

/** What keeps Codex offline: no update check, analytics or plugin sync. */
export const CODEX_OFFLINE_TOML = `check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false
remote_plugin = false
apps = false
`;

/** `pi --no-session ARGS…` (`opts.args`) with `PI_CODING_AGENT_DIR` and `PI_OFFLINE=1`. */
export function runPi(
  agentDir: string,
  opts: ClientRunOptions & { args: string[] },
): Promise<ClientResult> {
  const { node, pi } = requireClients();
  return runClient({ program: node, args: [pi, "--no-session", ...opts.args] }, {
    ...opts,
    env: { PI_CODING_AGENT_DIR: agentDir, PI_OFFLINE: "1", ...opts.env },
  });
}

/** Runs `clawauth ARGS…` (connect, disconnect) with the tool's config env over the state's HOME, and asserts success. */
export async function clawauth(
  state: TempState,
  args: string[],
  env: Record<string, string>,
): Promise<RunResult> {
  const result = await state.run(args, { env: { HOME: state.home, ...env } });
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result;
}

/** A Codex home (`~/.codex`) whose config keeps Codex offline and names a model; returns it and its text. */
export function codexHome(state: TempState): { dir: string; text: string } {
  const dir = `${state.home}/.codex`;
  Deno.mkdirSync(dir);
  const text = `# my Codex settings\nmodel = "fake-model"\n\n${CODEX_OFFLINE_TOML}`;
  Deno.writeTextFileSync(`${dir}/config.toml`, text);
  return { dir, text };
}
