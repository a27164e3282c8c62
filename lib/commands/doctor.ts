/**
 * `clawauth doctor`: checks what can go wrong around the store (file
 * validity, profiles, permissions, stale pending logins, the lock, logins
 * that need renewing, the config, the clock) and, with `--fix`, repairs what
 * is safe to repair: file modes, stale pending logins and temp files that
 * interrupted writes left behind. A store that does not parse is never
 * rewritten.
 *
 * @module
 */

import { printable } from "../args.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import { readProviderConfig, resolveProvider } from "../config.ts";
import type { Context } from "../context.ts";
import { formatSpan, parseDuration } from "../duration.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { readTextIfExists } from "../files.ts";
import { endpointProblem } from "../endpoints.ts";
import { isObject, type JsonObject, numberAt } from "../json.ts";
import { readOpenclawOrder } from "../openclaw_config.ts";
import { paint, printJson } from "../output.ts";
import { agentIds, type AgentPaths, agentPaths, join, stateDirOf } from "../paths.ts";
import { pendingDir } from "../pending.ts";
import { loginCommand } from "../hints.ts";
import { splitProfileId } from "../profiles.ts";
import { parseStore, type StoreData } from "../store.ts";
import { profileRows } from "../views.ts";
import { collectCopies, copyEntry, copyLabel, type LinkCopy, type StoreCopy } from "../lineage.ts";
import { credentialOf, writeToCopies } from "../lineage_sync.ts";

const POSIX = Deno.build.os !== "windows";
/** Clock skew beyond this is a warning: tokens look expired, or not yet valid. */
const MAX_SKEW_MS = 5 * 60_000;
/** A temp or claimed file this old belongs to no running writer. */
const ABANDONED_AFTER_MS = 60_000;
const DEFAULT_HTTP_TIMEOUT_MS = 5_000;

/** How bad a finding is. */
export type Severity = "ok" | "warning" | "error";

/** One result of a check. */
export interface Finding {
  /** The check that produced it, e.g. `store` or `permissions`. */
  check: string;
  /** `error` makes `doctor` exit 1. */
  severity: Severity;
  /** One line a person can read. */
  message: string;
  /** The command (or step) that fixes it. */
  fix?: string;
  /** The agent it concerns, when it concerns one. */
  agent?: string;
  /** The file or directory it concerns, when there is one. */
  path?: string;
}

/** One repair `--fix` made. */
export interface Repair {
  /** The check whose finding was repaired. */
  check: string;
  /** What was done. */
  message: string;
  /** The file or directory repaired. */
  path: string;
}

/** What a doctor run found and repaired. */
export interface DoctorReport {
  /** The agent given with `--agent`, or `null` when every agent was checked. */
  agent: string | null;
  /** The agents checked. */
  agents: string[];
  /** The state dir. */
  stateDir: string;
  /** Every finding, in check order. */
  findings: Finding[];
  /** What `--fix` repaired. */
  fixed: Repair[];
}

/** Options of {@linkcode runDoctor}. */
export interface DoctorOptions {
  /** The state dir. */
  stateDir: string;
  /** Check only this agent; every agent of the state dir when absent. */
  agent?: string;
  /** clawauth's config file. */
  configPath: string;
  /** Repair what is safe to repair. */
  fix: boolean;
  /** Compare the local clock with the OAuth providers' `Date` header. */
  online: boolean;
}

/** Collects findings and repairs for one run. */
class Doctor {
  readonly findings: Finding[] = [];
  readonly fixed: Repair[] = [];
  constructor(readonly ctx: Context, readonly fix: boolean) {}

  add(finding: Finding): void {
    this.findings.push(finding);
  }

  /** Runs `repair` when `--fix` is on; reports the problem (or the repair). */
  repairable(
    finding: Finding & { path: string },
    repair: () => void,
    done: string,
  ): void {
    if (!this.fix) {
      this.add({ ...finding, fix: "clawauth doctor --fix" });
      return;
    }
    try {
      repair();
    } catch (error) {
      this.add({
        ...finding,
        message: `${finding.message}; --fix failed: ${errorText(error)}`,
      });
      return;
    }
    this.fixed.push({ check: finding.check, message: done, path: finding.path });
    this.add({ ...finding, severity: "ok", message: `${finding.message}; fixed: ${done}` });
  }
}

function errorText(error: unknown): string {
  return printable(error instanceof Error ? error.message : String(error), 200);
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function listDir(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** A shell-safe spelling of a profile id for a suggested command, if it has one. */
function shellId(id: string): string | undefined {
  return /^[A-Za-z0-9._@+:-]{1,200}$/.test(id) ? id : undefined;
}

// --- store and profiles ---------------------------------------------------

function checkStore(doc: Doctor, paths: AgentPaths): StoreData | undefined {
  const base = { check: "store", agent: paths.agent, path: paths.store };
  let text: string | undefined;
  try {
    text = readTextIfExists(paths.store);
  } catch (error) {
    doc.add({
      ...base,
      severity: "error",
      message: `The store ${paths.store} cannot be read: ${errorText(error)}.`,
      fix: `check the owner and mode of ${paths.store}`,
    });
    return undefined;
  }
  if (text === undefined) {
    doc.add({ ...base, severity: "ok", message: `no store yet (${paths.store})` });
    return undefined;
  }
  try {
    const store = parseStore(text, paths.store);
    const count = Object.keys(store.profiles).length;
    doc.add({
      ...base,
      severity: "ok",
      message: `${paths.store} is a version 1 store with ${count} profile${count === 1 ? "" : "s"}`,
    });
    return store;
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    doc.add({
      ...base,
      severity: "error",
      message: `${error.message} It is left untouched.`,
      fix: `repair it by hand, or move it aside: mv ${paths.store} ${paths.store}.broken`,
    });
    return undefined;
  }
}

function checkProfiles(doc: Doctor, paths: AgentPaths, store: StoreData): void {
  const now = doc.ctx.now();
  const rows = profileRows(store, now);
  const base = { agent: paths.agent, path: paths.store };
  const invalid = rows.filter((row) => row.profile.invalid);
  for (const { profile } of invalid) {
    const id = shellId(profile.id);
    doc.add({
      ...base,
      check: "profiles",
      severity: "error",
      message: `profile ${printable(profile.id, 80)} is invalid: ${profile.invalid}`,
      fix: id && splitProfileId(id)
        ? `clawauth remove ${id} --agent ${paths.agent}, then log in again: ${
          loginCommand(splitProfileId(id)!.provider)
        }`
        : `edit or delete the entry in ${paths.store}`,
    });
  }
  if (invalid.length === 0) {
    doc.add({
      ...base,
      check: "profiles",
      severity: "ok",
      message: rows.length === 0 ? "no profiles" : `all ${rows.length} profiles are well-formed`,
    });
  }
  let renew = 0;
  for (const row of rows) {
    const { profile, state } = row;
    if (state !== "needs_login" && state !== "expired" && state !== "expiring") continue;
    renew++;
    const agentFlag = paths.agent === "main" ? "" : ` --agent ${paths.agent}`;
    const fix = `${loginCommand(profile.provider, profile)}${agentFlag}`;
    const when = profile.expires === null ? "" : formatSpan(profile.expires - now);
    doc.add({
      ...base,
      check: "login",
      severity: state === "expiring" ? "warning" : "error",
      message: state === "needs_login"
        ? `${
          printable(profile.id, 80)
        }: the provider rejected its refresh token; it needs a new login`
        : state === "expired"
        ? `${printable(profile.id, 80)} expired ${when} ago and cannot be refreshed`
        : `${printable(profile.id, 80)} expires in ${when} and cannot be refreshed`,
      fix,
    });
  }
  if (renew === 0 && rows.length > 0) {
    doc.add({
      ...base,
      check: "login",
      severity: "ok",
      message: "no profile needs a new login",
    });
  }
}

// --- permissions ----------------------------------------------------------

function checkMode(
  doc: Doctor,
  path: string,
  want: 0o600 | 0o700,
  agent: string | undefined,
): boolean {
  const info = statOrUndefined(path);
  if (!info || info.mode === null || info.isSymlink) return true;
  const mode = info.mode & 0o777;
  if ((mode & 0o077) === 0) return true;
  const octal = (n: number) => n.toString(8).padStart(4, "0");
  doc.repairable(
    {
      check: "permissions",
      severity: "warning",
      message: `${path} is ${octal(mode)}: ${
        mode & 0o044 ? "readable" : "accessible"
      } by group or others (want ${octal(want)})`,
      path,
      ...(agent ? { agent } : {}),
    },
    () => Deno.chmodSync(path, want),
    `chmod ${octal(want)}`,
  );
  return false;
}

function checkStatePermissions(doc: Doctor, stateDir: string): void {
  if (!POSIX) return;
  const dirs = [stateDir, join(stateDir, "agents")];
  const good = dirs.map((dir) => checkMode(doc, dir, 0o700, undefined)).every(Boolean);
  if (good && statOrUndefined(stateDir)) {
    doc.add({
      check: "permissions",
      severity: "ok",
      message: `${stateDir} is private (0700)`,
      path: stateDir,
    });
  }
}

function checkAgentPermissions(doc: Doctor, paths: AgentPaths): void {
  if (!POSIX || !statOrUndefined(paths.dir)) return;
  const pending = pendingDir(paths.dir);
  const checks: [string, 0o600 | 0o700][] = [
    [paths.dir.replace(/\/agent$/, ""), 0o700],
    [paths.dir, 0o700],
    [paths.store, 0o600],
    [paths.cache, 0o600],
    [paths.lock, 0o600],
    [pending, 0o700],
    ...listDir(pending)
      .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
      .map((entry): [string, 0o600] => [join(pending, entry.name), 0o600]),
  ];
  const good = checks.map(([path, want]) => checkMode(doc, path, want, paths.agent))
    .every(Boolean);
  if (good) {
    doc.add({
      check: "permissions",
      severity: "ok",
      message: "files are 0600 and directories 0700",
      agent: paths.agent,
      path: paths.dir,
    });
  }
}

// --- pending logins, the lock, temp files ---------------------------------

function pendingProblem(path: string, now: number): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(readTextIfExists(path) ?? "");
  } catch {
    return "cannot be read";
  }
  const expiresAt = isObject(data) ? numberAt(data, "expiresAt") : undefined;
  if (expiresAt === undefined) return "has no expiry";
  return expiresAt <= now ? `expired ${formatSpan(now - expiresAt)} ago` : undefined;
}

function abandoned(path: string, now: number): boolean {
  const mtime = statOrUndefined(path)?.mtime?.getTime();
  return mtime !== undefined && now - mtime > ABANDONED_AFTER_MS;
}

function checkPending(doc: Doctor, paths: AgentPaths): void {
  const dir = pendingDir(paths.dir);
  const now = doc.ctx.now();
  let stale = 0;
  for (const entry of listDir(dir)) {
    if (!entry.isFile) continue;
    const path = join(dir, entry.name);
    const problem = entry.name.endsWith(".json")
      ? pendingProblem(path, now)
      : /\.json\.claimed-\d+$/.test(entry.name)
      ? "was claimed by a login --finish that did not complete"
      : entry.name.endsWith(".tmp") && abandoned(path, now)
      ? "is a temp file of an interrupted login --start"
      : undefined;
    if (problem === undefined) continue;
    stale++;
    doc.repairable(
      {
        check: "pending",
        severity: "warning",
        message: `stale pending login ${printable(entry.name, 80)} ${problem}`,
        agent: paths.agent,
        path,
      },
      () => Deno.removeSync(path),
      "deleted",
    );
  }
  if (stale === 0) {
    doc.add({
      check: "pending",
      severity: "ok",
      message: "no stale pending logins",
      agent: paths.agent,
      path: dir,
    });
  }
}

/** Leftover `*.tmp` files of writes that never reached their rename. */
function checkTemps(doc: Doctor, paths: AgentPaths, lockHeld: boolean): void {
  const now = doc.ctx.now();
  // Writers keep the lock while their temp file exists, so with the lock in
  // our hand every temp file is a leftover; otherwise only old ones are.
  const temps = listDir(paths.dir)
    .filter((entry) => entry.isFile && entry.name.endsWith(".tmp"))
    .map((entry) => join(paths.dir, entry.name))
    .filter((path) => lockHeld || abandoned(path, now));
  for (const path of temps) {
    doc.repairable(
      {
        check: "temp-files",
        severity: "warning",
        message: `${printable(path, 200)} is left over from an interrupted write`,
        agent: paths.agent,
        path,
      },
      () => Deno.removeSync(path),
      "deleted",
    );
  }
}

/** Tries the store lock without waiting; never breaks a lock someone holds. */
function checkLock(doc: Doctor, paths: AgentPaths): void {
  const base = { check: "lock", agent: paths.agent, path: paths.lock };
  if (!statOrUndefined(paths.lock)) {
    doc.add({ ...base, severity: "ok", message: "the store lock is free" });
    checkTemps(doc, paths, true);
    return;
  }
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(paths.lock, { read: true });
  } catch (error) {
    doc.add({
      ...base,
      severity: "warning",
      message: `${paths.lock} cannot be opened: ${errorText(error)}`,
      fix: `check the owner and mode of ${paths.lock}`,
    });
    checkTemps(doc, paths, false);
    return;
  }
  try {
    if (file.tryLockSync(true)) {
      try {
        doc.add({ ...base, severity: "ok", message: "the store lock is free" });
        checkTemps(doc, paths, true);
      } finally {
        file.unlockSync();
      }
    } else {
      doc.add({
        ...base,
        severity: "warning",
        message: `${paths.lock} is held by another process right now (left alone)`,
        fix: `wait for that process; if the lock stays held, find it with: fuser -v ${paths.lock}`,
      });
      checkTemps(doc, paths, false);
    }
  } finally {
    file.close();
  }
}

// --- config and clock -----------------------------------------------------

const URL_KEYS = [
  "issuer",
  "authorizeUrl",
  "tokenUrl",
  "revocationUrl",
  "deviceAuthorizationUrl",
  "deviceUserCodeUrl",
  "deviceTokenUrl",
];

/** Checks clawauth.json; returns the ids of the providers it declares. */
function checkConfig(doc: Doctor, configPath: string): string[] {
  const base = { check: "config", path: configPath };
  let providers: JsonObject;
  try {
    providers = readProviderConfig(configPath);
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    doc.add({ ...base, severity: "error", message: error.message, fix: `edit ${configPath}` });
    return [];
  }
  const ids = Object.keys(providers);
  let bad = 0;
  for (const id of ids) {
    const problem = providerProblem(id, configPath, providers[id]);
    if (problem === undefined) continue;
    bad++;
    doc.add({
      ...base,
      severity: "error",
      message: `${configPath}: provider ${printable(id, 64)}: ${problem}`,
      fix: `edit ${configPath}`,
    });
  }
  if (bad === 0) {
    doc.add({
      ...base,
      severity: "ok",
      message: readTextIfExists(configPath) === undefined
        ? `no ${configPath} (built-in providers only)`
        : `${configPath} is valid (${ids.length} provider${ids.length === 1 ? "" : "s"})`,
    });
  }
  return ids;
}

function providerProblem(id: string, configPath: string, entry: unknown): string | undefined {
  try {
    resolveProvider(id, configPath);
  } catch (error) {
    return error instanceof ClawauthError ? error.message : errorText(error);
  }
  if (!isObject(entry)) return "not an object";
  for (const key of URL_KEYS) {
    const value = entry[key];
    const problem = typeof value === "string" ? endpointProblem(value) : undefined;
    if (problem) return `${key} ${problem}`;
  }
  return undefined;
}

async function checkOpenclawConfig(doc: Doctor, stateDir: string): Promise<void> {
  const path = join(stateDir, "openclaw.json");
  if (readTextIfExists(path) === undefined) return;
  try {
    await readOpenclawOrder(path);
    doc.add({ check: "config", severity: "ok", message: `${path} parses`, path });
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    doc.add({
      check: "config",
      severity: "error",
      message: error.message,
      fix: error.hint ?? `edit ${path}`,
      path,
    });
  }
}

/** The token URL of every OAuth provider in use or declared, one per host. */
function clockTargets(ids: Iterable<string>, configPath: string): URL[] {
  const byHost = new Map<string, URL>();
  for (const id of ids) {
    let value: string | undefined;
    try {
      const oauth = resolveProvider(id, configPath)?.oauth;
      value = oauth?.tokenUrl ?? oauth?.issuer;
    } catch {
      continue; // the config check reports it
    }
    if (!value || endpointProblem(value)) continue;
    const url = new URL(value);
    if (!byHost.has(url.host)) byHost.set(url.host, url);
  }
  return [...byHost.values()];
}

async function checkClock(doc: Doctor, targets: URL[]): Promise<void> {
  const timeout = parseDuration(doc.ctx.env("CLAWAUTH_HTTP_TIMEOUT") ?? "") ??
    DEFAULT_HTTP_TIMEOUT_MS;
  await Promise.all(targets.map(async (url) => {
    let date: string | null;
    const sent = doc.ctx.now();
    try {
      const response = await fetch(url, {
        method: "HEAD",
        redirect: "manual",
        signal: AbortSignal.timeout(timeout),
      });
      await response.body?.cancel();
      date = response.headers.get("date");
    } catch {
      return; // offline or unreachable: nothing to compare with
    }
    const server = date === null ? NaN : Date.parse(date);
    if (Number.isNaN(server)) return;
    // The Date header has whole seconds; compare with the middle of the request.
    const skew = (sent + doc.ctx.now()) / 2 - (server + 500);
    const text = `${formatSpan(skew)} ${skew >= 0 ? "ahead of" : "behind"} ${url.host}`;
    doc.add({
      check: "clock",
      severity: Math.abs(skew) > MAX_SKEW_MS ? "warning" : "ok",
      message: Math.abs(skew) > MAX_SKEW_MS
        ? `the local clock is ${text}: tokens will look expired or not yet valid`
        : `the local clock agrees with ${url.host} (${formatSpan(skew)} apart)`,
      ...(Math.abs(skew) > MAX_SKEW_MS
        ? { fix: "sync the clock, e.g. sudo timedatectl set-ntp true" }
        : {}),
    });
  }));
}

// --- the run ----------------------------------------------------------------

/** Runs every check and, with `fix`, the safe repairs. */
/**
 * Copies of one login (agents, linked files) that hold different tokens:
 * `--fix` writes the freshest copy's credential into the others.
 */
async function checkLineages(doc: Doctor, stateDir: string, agents: string[]): Promise<void> {
  for (const [key, copies] of collectCopies(stateDir)) {
    if (copies.length < 2) continue;
    if (!copies.some((c) => c.kind === "store" && agents.includes(c.agent))) continue;
    const label = copies.map(copyLabel).join(", ");
    const fingerprint = (c: StoreCopy | LinkCopy) => {
      const entry = copyEntry(c);
      return `${entry.access}\n${entry.refresh}`;
    };
    if (new Set(copies.map(fingerprint)).size === 1) {
      doc.add({
        check: "lineage",
        severity: "ok",
        message: `one login, ${copies.length} copies in step: ${label}`,
      });
      continue;
    }
    const best = copies.reduce((a, b) =>
      (Number(copyEntry(b).expires) || 0) > (Number(copyEntry(a).expires) || 0) ? b : a
    );
    const message = `copies of one login differ: ${label}; the freshest is ${copyLabel(best)}`;
    if (!doc.fix) {
      doc.add({ check: "lineage", severity: "warning", message, fix: "clawauth doctor --fix" });
      continue;
    }
    const stale = copies.filter((c) => c !== best && fingerprint(c) !== fingerprint(best));
    const failed = await writeToCopies(doc.ctx, stale, key, credentialOf(copyEntry(best)));
    if (failed.length > 0) {
      const why = failed.map((f) => `${copyLabel(f.copy)} (${f.error})`).join(", ");
      doc.add({
        check: "lineage",
        severity: "warning",
        message: `${message}; --fix failed for ${why}`,
      });
      continue;
    }
    const done = `copied the freshest tokens into ${stale.map(copyLabel).join(", ")}`;
    doc.fixed.push({ check: "lineage", message: done, path: copyLabel(best) });
    doc.add({ check: "lineage", severity: "ok", message: `${message}; fixed: ${done}` });
  }
}

export async function runDoctor(ctx: Context, opts: DoctorOptions): Promise<DoctorReport> {
  const doc = new Doctor(ctx, opts.fix);
  const found = agentIds(opts.stateDir);
  const agents = opts.agent !== undefined ? [opts.agent] : found.length > 0 ? found : ["main"];
  const all = agents.map((agent) => agentPaths(opts.stateDir, agent));
  checkStatePermissions(doc, opts.stateDir);
  const oauthProviders = new Set<string>();
  for (const paths of all) {
    const store = checkStore(doc, paths);
    if (store) {
      checkProfiles(doc, paths, store);
      for (const row of profileRows(store, ctx.now())) {
        if (row.profile.type === "oauth") oauthProviders.add(row.profile.provider);
      }
    }
    checkAgentPermissions(doc, paths);
    checkPending(doc, paths);
    checkLock(doc, paths);
  }
  await checkLineages(doc, opts.stateDir, agents);
  const declared = checkConfig(doc, opts.configPath);
  await checkOpenclawConfig(doc, opts.stateDir);
  if (opts.online) {
    await checkClock(doc, clockTargets([...declared, ...oauthProviders], opts.configPath));
  }
  return {
    agent: opts.agent ?? null,
    agents,
    stateDir: opts.stateDir,
    findings: doc.findings,
    fixed: doc.fixed,
  };
}

const MARK = {
  ok: { symbol: "✓", plain: "ok  ", color: "green" },
  warning: { symbol: "!", plain: "warn", color: "yellow" },
  error: { symbol: "✗", plain: "FAIL", color: "red" },
} as const;

function printHuman(ctx: Context, report: DoctorReport, fix: boolean): void {
  const scope = report.agent === null
    ? `agents: ${report.agents.join(", ")}`
    : `agent ${report.agent}`;
  ctx.out(`clawauth doctor · ${report.stateDir} (${scope})\n\n`);
  for (const finding of report.findings) {
    const mark = MARK[finding.severity];
    const symbol = ctx.color ? paint(ctx, mark.color, mark.symbol) : mark.plain;
    const where = finding.agent && report.agents.length > 1 ? `[${finding.agent}] ` : "";
    const fixText = finding.fix ? ` (fix: ${finding.fix})` : "";
    ctx.out(`${symbol} ${where}${finding.check}: ${finding.message}${fixText}\n`);
  }
  const count = (severity: Severity) =>
    report.findings.filter((f) => f.severity === severity).length;
  const errors = count("error");
  const warnings = count("warning");
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  ctx.out(`\n${plural(errors, "error")}, ${plural(warnings, "warning")}`);
  if (report.fixed.length > 0) ctx.out(`; fixed ${report.fixed.length}`);
  const fixable = report.findings.some((f) => f.fix === "clawauth doctor --fix");
  ctx.out(fixable && !fix ? `. Run clawauth doctor --fix to repair what it can.\n` : ".\n");
}

/** The `doctor` command. */
export const command: Command = {
  flags: {
    fix: { type: "boolean" },
    json: { type: "boolean" },
    online: { type: "boolean" },
  },
  help: `Usage: clawauth doctor [--fix] [--online] [--json]

Checks every agent of the state dir (only the one given with --agent, if
given on the command line; $CLAWAUTH_AGENT does not narrow it):
  store        the store parses and is version 1 (a broken store is never rewritten)
  profiles     every profile is well-formed (invalid ones are listed with the reason)
  login        profiles that are expired, expiring or need a new login, with the command
  permissions  directories 0700, auth-profiles.json, auth.json, the lock and
               pending logins 0600 (POSIX)
  pending      pending logins past their 15 minutes, or damaged
  lock         whether another process holds auth-profiles.lock now (never broken)
  temp-files   temp files that interrupted writes left beside the store
  config       clawauth.json (and openclaw.json) parse; endpoints use https
  clock        with --online only: the local clock against the Date header of
               each OAuth provider's token endpoint; a warning beyond 5 minutes

Exits 0 when nothing is an error (warnings allowed), 1 otherwise.

Flags:
  --fix      chmod what is too open, delete stale pending logins and leftover
             temp files; nothing else is changed
  --online   also check the clock against the providers (network)
  --json     print {"agent","agents","stateDir","findings":[{"check","severity",
             "message","fix"?,"agent"?,"path"?}],"fixed":[{"check","message","path"}]}
             ("agent" is null when every agent was checked)
${GLOBAL_HELP}

Examples:
  clawauth doctor
  clawauth doctor --fix
  clawauth doctor --agent work --online --json`,
  async run(ctx, args) {
    const stateDir = stateDirOf(args, ctx);
    const agent = args.string("agent");
    if (agent !== undefined) agentPaths(stateDir, agent); // a bad id is a usage error
    const report = await runDoctor(ctx, {
      stateDir,
      agent,
      configPath: ctx.env("CLAWAUTH_CONFIG") || join(stateDir, "clawauth.json"),
      fix: args.bool("fix"),
      online: args.bool("online"),
    });
    if (args.bool("json")) printJson(ctx, report);
    else printHuman(ctx, report, args.bool("fix"));
    return report.findings.some((f) => f.severity === "error") ? Exit.failure : Exit.ok;
  },
};
