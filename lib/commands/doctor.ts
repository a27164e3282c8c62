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

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import type { Context } from "../context.ts";
import { Exit } from "../errors.ts";
import { flag } from "../flags.ts";
import { paint, printJson } from "../output/output.ts";
import { agentPaths, join, type StateRef, stateRefOf } from "../paths.ts";
import { storeAgents } from "../store.ts";
import { profileRows } from "../output/views.ts";
import { Doctor, type DoctorOptions, type DoctorReport, type Severity } from "../doctor/report.ts";
import { checkProfiles, checkStore } from "../doctor/store_checks.ts";
import {
  checkAgentPermissions,
  checkLock,
  checkPending,
  checkStatePermissions,
} from "../doctor/file_checks.ts";
import {
  checkClock,
  checkConfig,
  checkOpenclawConfig,
  clockTargets,
} from "../doctor/config_checks.ts";
import { checkLineages } from "../doctor/lineage_check.ts";
import {
  checkOpenclawStore,
  checkRetiredFiles,
  checkRetiredProfileIds,
} from "../doctor/openclaw_checks.ts";
import { checkFleet, checkFleetAgent } from "../doctor/postgres_checks.ts";

// --- the run ----------------------------------------------------------------

/** Runs every check and, with `fix`, the safe repairs. */
export async function runDoctor(
  ctx: Context,
  opts: DoctorOptions & Pick<StateRef, "url">,
): Promise<DoctorReport> {
  const doc = new Doctor(ctx, opts.fix);
  checkStatePermissions(doc, opts.stateDir, opts.backend);
  // A fleet store is checked once (connection, TLS, schema, key); its agents only when readable.
  const fleet = opts.backend === "postgres";
  const readable = fleet ? await checkFleet(doc, opts) : true;
  const found = readable ? await storeAgents(ctx, opts) : [];
  const agents = opts.agent !== undefined ? [opts.agent] : found.length > 0 ? found : ["main"];
  const all = agents.map((agent) => agentPaths(opts, agent));
  const oauthProviders = new Set<string>();
  for (const paths of all) {
    // Before the store is read: --fix repairs the modes that make a read refuse.
    checkAgentPermissions(doc, paths);
    if (paths.backend === "openclaw") await checkRetiredFiles(doc, paths);
    const store = fleet
      ? readable ? await checkFleetAgent(doc, paths) : undefined
      : paths.backend === "openclaw"
      ? await checkOpenclawStore(doc, paths)
      : checkStore(doc, paths);
    if (store) {
      checkProfiles(doc, paths, store);
      if (paths.backend === "openclaw") await checkRetiredProfileIds(doc, paths, store);
      for (const row of profileRows(store, ctx.now())) {
        if (row.profile.type === "oauth") oauthProviders.add(row.profile.provider);
      }
    }
    checkPending(doc, paths);
    // A fleet store's locks are rows in the database, which no local file shows.
    if (!fleet) checkLock(doc, paths);
  }
  if (readable) await checkLineages(doc, opts, agents);
  const declared = checkConfig(doc, opts.configPath);
  await checkOpenclawConfig(doc, opts.stateDir);
  if (opts.online) {
    await checkClock(doc, clockTargets([...declared, ...oauthProviders], opts.configPath));
  }
  return {
    agent: opts.agent ?? null,
    agents,
    stateDir: opts.stateDir,
    store: opts.backend,
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
  ctx.out(`clawauth doctor · ${report.stateDir} · ${report.store} store (${scope})\n\n`);
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
export const command = defineCommand({
  flags: {
    fix: flag.boolean(),
    json: flag.boolean(),
    online: flag.boolean(),
  },
  help: `Usage: clawauth doctor [--fix] [--online] [--json]

Checks every agent of the state dir (only the one given with --agent, if
given on the command line; $CLAWAUTH_AGENT does not narrow it):
  store        the store parses and is version 1 (a broken store is never rewritten)
  profiles     every profile is well-formed (invalid ones are listed with the reason)
  login        profiles that are expired, expiring or need a new login, with the command
  permissions  directories 0700, auth-profiles.json, auth.json, the lock and
               pending logins 0600 (POSIX); for the openclaw store also
               state/ 0700 and OpenClaw's databases (with -wal, -shm) 0600
  pending      pending logins past their 15 minutes, or damaged
  lock         whether another process holds auth-profiles.lock now (never broken)
  temp-files   temp files that interrupted writes left beside the store
  openclaw     (openclaw store) no retired JSON store beside the database, and
               no profile under an id OpenClaw retires (openai:codex-cli)
  config       clawauth.json (and openclaw.json) parse; endpoints use https
  fleet store  (postgres://…) connection, TLS mode, schema version, the key
               (its canary row) and profiles whose secrets do not decrypt
  clock        with --online only: the local clock against the Date header of
               each OAuth provider's token endpoint; a warning beyond 5 minutes

Exits 0 when nothing is an error (warnings allowed), 1 otherwise.

Flags:
  --fix      chmod what is too open, delete stale pending logins and leftover
             temp files; in the openclaw store also move a retired JSON
             store's profiles in and rename a retired profile id as OpenClaw
             would; nothing else is changed
  --online   also check the clock against the providers (network)
  --json     print {"agent","agents","stateDir","store","findings":[{"check","severity",
             "message","fix"?,"agent"?,"path"?}],"fixed":[{"check","message","path"}]}
             ("agent" is null when every agent was checked)
${GLOBAL_HELP}

Examples:
  clawauth doctor
  clawauth doctor --fix
  clawauth doctor --agent work --online --json`,
  async run(ctx, args) {
    const state = stateRefOf(args, ctx);
    const { stateDir } = state;
    const { agent } = args;
    if (agent !== undefined) agentPaths(state, agent); // a bad id is a usage error
    const report = await runDoctor(ctx, {
      ...state,
      agent,
      configPath: ctx.env("CLAWAUTH_CONFIG") || join(stateDir, "clawauth.json"),
      fix: args.fix,
      online: args.online,
    });
    if (args.json) printJson(ctx, report);
    else printHuman(ctx, report, args.fix);
    return report.findings.some((f) => f.severity === "error") ? Exit.failure : Exit.ok;
  },
});
