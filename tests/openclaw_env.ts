/**
 * The real OpenClaw for black-box tests: `scripts/openclaw_tools.sh DIR`
 * installs Node 24 and OpenClaw (pinned) and prints `CLAWAUTH_NODE24_BIN` and
 * `CLAWAUTH_OPENCLAW_BIN`; `.ci/run` exports them. Without them the install
 * at `.ci/.tools/openclaw` is used when present, else the tests are ignored
 * and {@linkcode skipReason} says why.
 *
 * `openclaw doctor --fix --non-interactive` on an empty state dir takes seconds
 * to tens of seconds, so it runs once: the prepared state dir is kept as a
 * template beside the install (`<install>/template-<version>/state`, reused by
 * later runs while its checksum still matches) and every test works on a copy
 * ({@linkcode openclawState}).
 *
 * @module
 */

import { ROOT } from "../scripts/cli_runner.ts";
import { ignoredSuffix, isFile, outputOf, type TempState, tempState } from "./helpers.ts";

/** What one OpenClaw run printed and how it exited. */
export interface OpenclawResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runOpenclaw}. */
export interface OpenclawRunOptions {
  /** Text given on stdin (stdin is closed either way). */
  stdin?: string;
  /** Extra environment on top of the clean one. */
  env?: Record<string, string>;
  /** The private HOME; default `<stateDir>/../home`. */
  home?: string;
  /** Kill OpenClaw after this long; default 180 s. */
  timeoutMs?: number;
}

interface Install {
  node: string;
  entry: string;
  /** The install dir, where templates are kept. */
  dir: string;
  version: string;
}

function findInstall(): Install | string {
  let node = Deno.env.get("CLAWAUTH_NODE24_BIN");
  let entry = Deno.env.get("CLAWAUTH_OPENCLAW_BIN");
  if (!node && !entry) {
    const dir = `${ROOT}/.ci/.tools/openclaw/node_modules`;
    const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
    node = `${dir}/node-linux-${arch}/bin/node`;
    entry = `${dir}/openclaw/openclaw.mjs`;
    if (!isFile(node) || !isFile(entry)) {
      return 'OpenClaw is not installed: run `eval "$(scripts/openclaw_tools.sh .ci/.tools/openclaw)"` (.ci/run does)';
    }
  }
  if (!node || !isFile(node)) return `CLAWAUTH_NODE24_BIN (${node ?? "unset"}) is not a file`;
  if (!entry || !isFile(entry)) return `CLAWAUTH_OPENCLAW_BIN (${entry ?? "unset"}) is not a file`;
  const packageDir = entry.replace(/\/[^/]*$/, "");
  let version = "unknown";
  try {
    version = String(JSON.parse(Deno.readTextFileSync(`${packageDir}/package.json`)).version);
  } catch { /* keep "unknown" */ }
  // <dir>/node_modules/openclaw/openclaw.mjs → <dir>
  const dir = packageDir.replace(/\/node_modules\/[^/]*$/, "");
  return { node, entry, dir, version };
}

const found = findInstall();
const install: Install | undefined = typeof found === "string" ? undefined : found;

/** Why the OpenClaw tests are ignored, or `undefined` when OpenClaw is here. */
export const skipReason: string | undefined = typeof found === "string" ? found : undefined;
/** Whether the real OpenClaw can be run. */
export const openclawAvailable: boolean = install !== undefined;
/**
 * Whether a test of the real OpenClaw is ignored, and the suffix its name
 * carries saying why (like `testCluster` in tests/postgres_env.ts).
 */
export const openclawTests: { ignore: boolean; suffix: string } = {
  ignore: !openclawAvailable,
  suffix: ignoredSuffix(skipReason),
};
/** The installed OpenClaw version (`package.json`), or `unknown`. */
export const openclawVersion: string = install?.version ?? "unknown";

if (skipReason) console.error(`OpenClaw tests ignored: ${skipReason}.`);

function requireInstall(): Install {
  if (!install) throw new Error(`OpenClaw is unavailable: ${skipReason}`);
  return install;
}

/** OpenClaw's Node and entry point, as found (env or `.ci/.tools/openclaw`); throws when absent. */
export function openclawCommand(): { node: string; entry: string } {
  const { node, entry } = requireInstall();
  return { node, entry };
}

/**
 * The clean environment OpenClaw runs with on `stateDir`: Node on PATH, a
 * private HOME (default `<stateDir>/../home`), `OPENCLAW_STATE_DIR`, no
 * colour, no update check, no telemetry, no Bonjour; `env` on top.
 */
export function openclawEnv(
  stateDir: string,
  opts: { home?: string; env?: Record<string, string> } = {},
): Record<string, string> {
  const nodeDir = openclawCommand().node.replace(/\/[^/]*$/, "");
  return {
    PATH: `${nodeDir}:/usr/bin:/bin`,
    HOME: opts.home ?? `${stateDir}/../home`,
    OPENCLAW_STATE_DIR: stateDir,
    NO_COLOR: "1",
    OPENCLAW_NO_AUTO_UPDATE: "1",
    OPENCLAW_TELEMETRY: "0",
    OPENCLAW_DISABLE_BONJOUR: "1",
    DO_NOT_TRACK: "1",
    ...opts.env,
  };
}

/**
 * Runs the real OpenClaw CLI on `stateDir` with a clean environment
 * ({@linkcode openclawEnv}). It needs no network.
 */
export async function runOpenclaw(
  stateDir: string,
  args: string[],
  opts: OpenclawRunOptions = {},
): Promise<OpenclawResult> {
  const { node, entry } = openclawCommand();
  const child = new Deno.Command(node, {
    args: [entry, ...args],
    cwd: stateDir,
    clearEnv: true,
    env: openclawEnv(stateDir, opts),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 180_000),
  }).spawn();
  return await outputOf(child, opts.stdin);
}

/** The files whose checksums vouch for a template. */
const TEMPLATE_FILES = ["openclaw.json", "state/openclaw.sqlite"];

async function checksums(stateDir: string): Promise<Record<string, string>> {
  const sums: Record<string, string> = {};
  for (const file of TEMPLATE_FILES) {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      await Deno.readFile(`${stateDir}/${file}`),
    );
    sums[file] = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  return sums;
}

/** Whether `dir` is a complete template whose files still match their checksums. */
async function validTemplate(dir: string, version: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await Deno.readTextFile(`${dir}/template.json`));
    if (marker.openclaw !== version) return false;
    const wal = `${dir}/state/state/openclaw.sqlite-wal`;
    if (isFile(wal) && Deno.statSync(wal).size > 0) return false;
    return JSON.stringify(await checksums(`${dir}/state`)) === JSON.stringify(marker.sha256);
  } catch {
    return false;
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch { /* already gone */ }
}

/** Runs doctor on a fresh state dir under `<install>/template-<version>.tmp-…`, then renames it into place. */
async function buildTemplate(target: string, version: string): Promise<void> {
  const work = `${target}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(`${work}/home`, { recursive: true, mode: 0o700 });
  await Deno.mkdir(`${work}/state`, { mode: 0o700 });
  try {
    const doctor = await runOpenclaw(`${work}/state`, ["doctor", "--fix", "--non-interactive"]);
    const db = `${work}/state/state/openclaw.sqlite`;
    if (doctor.code !== 0 || !isFile(db)) {
      throw new Error(
        `openclaw doctor --fix did not prepare a state dir (exit ${doctor.code}):\n${doctor.stdout}\n${doctor.stderr}`,
      );
    }
    const wal = `${db}-wal`;
    if (isFile(wal) && Deno.statSync(wal).size > 0) {
      throw new Error(`openclaw doctor left an unmerged WAL (${wal}); cannot use it as a template`);
    }
    await removeQuietly(`${work}/state/tmp`);
    await Deno.writeTextFile(
      `${work}/template.json`,
      JSON.stringify({ openclaw: version, sha256: await checksums(`${work}/state`) }),
    );
    try {
      await Deno.rename(work, target);
    } catch {
      // Another test process got there first (or a stale template is in the
      // way): use a valid one, else replace it.
      if (!(await validTemplate(target, version))) {
        await removeQuietly(target);
        await Deno.rename(work, target);
      }
    }
  } finally {
    await removeCoordinatorLocks(`${work}/state/state/openclaw.sqlite`);
    await removeQuietly(work);
  }
}

let prepared: Promise<string> | undefined;

/**
 * A state dir that `openclaw doctor --fix --non-interactive` prepared from
 * empty (state DB with `auth.sharedStore` = state-db, no profiles). Built once
 * per OpenClaw version and kept beside the install; never change it, copy it
 * ({@linkcode copyState}).
 */
export function preparedStateDir(): Promise<string> {
  return prepared ??= (async () => {
    const { dir, version } = requireInstall();
    const target = `${dir}/template-${version.replace(/[^A-Za-z0-9._-]/g, "_")}`;
    if (!(await validTemplate(target, version))) await buildTemplate(target, version);
    if (!(await validTemplate(target, version))) {
      throw new Error(`the OpenClaw template ${target} is not valid after building it`);
    }
    return `${target}/state`;
  })();
}

/** A copy of a prepared state dir, removed when disposed. */
export interface OpenclawState extends TempState {
  /** Runs OpenClaw on this state dir. */
  openclaw(args: string[], opts?: OpenclawRunOptions): Promise<OpenclawResult>;
  /** `<state>/state/openclaw.sqlite`. */
  stateDb: string;
}

/** Copies `template` (a state dir) into a new temp state dir with a private HOME beside it. */
export async function copyState(template: string): Promise<OpenclawState> {
  const state = await tempState();
  const copy = await new Deno.Command("cp", {
    args: ["-a", template, state.dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!copy.success) {
    await state[Symbol.asyncDispose]();
    throw new Error(`cp -a ${template}: ${new TextDecoder().decode(copy.stderr)}`);
  }
  const home = state.home;
  const stateDb = `${state.dir}/state/openclaw.sqlite`;
  return {
    ...state,
    home,
    stateDb,
    openclaw: (args, opts = {}) => runOpenclaw(state.dir, args, { home, ...opts }),
    async [Symbol.asyncDispose]() {
      await removeCoordinatorLocks(stateDb);
      await state[Symbol.asyncDispose]();
    },
  };
}

/** A fresh copy of the prepared state dir ({@linkcode preparedStateDir}, doctor runs once). */
export async function openclawState(): Promise<OpenclawState> {
  return await copyState(await preparedStateDir());
}

/**
 * OpenClaw keeps one empty SQLite file per state DB and lock family in
 * `/tmp/openclaw-state-locks-<uid>/<family>.<sha256(db path)[:8]>.lock.sqlite`
 * (its write coordinators); removes this state dir's, which nothing else uses.
 */
async function removeCoordinatorLocks(stateDb: string): Promise<void> {
  let path = stateDb;
  try {
    path = await Deno.realPath(stateDb);
  } catch { /* the copy is gone already */ }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(path));
  const hash = [...new Uint8Array(digest).slice(0, 4)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  const dir = `/tmp/openclaw-state-locks-${Deno.uid() ?? ""}`.replace(/-$/, "");
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.name.endsWith(`.${hash}.lock.sqlite`)) await removeQuietly(`${dir}/${entry.name}`);
    }
  } catch { /* no such dir */ }
}
