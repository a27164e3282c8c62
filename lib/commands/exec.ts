/**
 * `clawauth exec`: run a command with fresh secrets in its environment (never
 * in argv), passing its exit code and signals through.
 *
 * @module
 */

import { definitionIdOf } from "../provider_names.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import { resolveProvider } from "../config.ts";
import { obtainCredential } from "../routing/credential.ts";
import { parseDuration } from "../duration.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { FAILURE_REASONS, type FailureReason } from "../routing/failover.ts";
import { routingOrder } from "../openclaw_config.ts";
import { safeText, warn } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { type Profile, PROVIDER_ID, splitProfileId } from "../profiles.ts";
import { parseModelSpec, type RouteRequest } from "../routing/routing.ts";
import { requestOf } from "../routing/select.ts";
import { openStore } from "../store.ts";
import { recordOutcome } from "./report.ts";

const SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** The environment variable a profile's secret goes into. */
export function envName(profile: Profile, configPath: string): string {
  const named = profile.type
    ? resolveProvider(definitionIdOf(profile), configPath)?.env[profile.type]
    : undefined;
  if (named) return named;
  const stem = profile.provider.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  return `${stem}_${profile.type === "api_key" ? "API_KEY" : "TOKEN"}`;
}

function reportCodes(specs: string[]): Map<number, FailureReason> {
  const codes = new Map<number, FailureReason>();
  for (const spec of specs) {
    const [code, reason] = spec.split("=");
    if (!/^\d{1,3}$/.test(code) || !(FAILURE_REASONS as readonly string[]).includes(reason)) {
      throw usageError(
        `--report-code ${safeText(spec)} is not CODE=${FAILURE_REASONS.join("|")}.`,
        "exec",
      );
    }
    codes.set(Number(code), reason as FailureReason);
  }
  return codes;
}

function requests(args: Parameters<Command["run"]>[1]): RouteRequest[] {
  const list: RouteRequest[] = [];
  for (const provider of args.list("provider")) {
    if (!PROVIDER_ID.test(provider)) {
      throw usageError(`${safeText(provider)} is not a provider id.`, "exec");
    }
    list.push({ provider });
  }
  for (const profileId of args.list("profile")) {
    const parts = splitProfileId(profileId);
    if (!parts) throw usageError(`${safeText(profileId)} is not a profile id.`, "exec");
    list.push({ provider: parts.provider, profileId });
  }
  // The model spec is a request of its own, beside any --provider (SPEC §2).
  const model = args.string("model");
  if (model !== undefined) {
    const fromModel = parseModelSpec(model);
    if (!fromModel) {
      throw usageError(`--model ${safeText(model)} is not Model@provider[:profile].`, "exec");
    }
    list.push(fromModel);
  }
  if (list.length === 0) list.push(requestOf(args, "exec"));
  return list;
}

async function run(cmd: readonly string[], env: Record<string, string>): Promise<number> {
  // Forward signals so Ctrl-C and kill reach the child, which decides how to
  // exit. Listening starts before the spawn: a signal that arrives while the
  // child starts is held and delivered, never left to kill clawauth.
  let child: Deno.ChildProcess | undefined;
  const held: Deno.Signal[] = [];
  const forward = new Map(
    SIGNALS.map((signal) => [signal, () => child ? child.kill(signal) : held.push(signal)]),
  );
  for (const [signal, handler] of forward) Deno.addSignalListener(signal, handler);
  try {
    try {
      child = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        env,
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (error) {
      const missing = error instanceof Deno.errors.NotFound;
      throw new ClawauthError(
        `Cannot run ${safeText(cmd[0])}: ${
          missing ? "command not found" : error instanceof Error ? error.message : error
        }.`,
        Exit.failure,
        "Check the command after --.",
      );
    }
    for (const signal of held) child.kill(signal);
    return (await child.status).code;
  } finally {
    for (const [signal, handler] of forward) Deno.removeSignalListener(signal, handler);
  }
}

/** The `exec` command. */
export const command: Command = {
  flags: {
    provider: { type: "string", multiple: true },
    profile: { type: "string", multiple: true },
    model: { type: "string" },
    "min-valid": { type: "string" },
    report: { type: "boolean" },
    "report-code": { type: "string", multiple: true },
  },
  help:
    `Usage: clawauth exec [--provider ID …] [--profile ID …] [--model SPEC] [--report] -- CMD [ARGS…]

Runs CMD with each provider's environment variable set to a fresh secret
(OPENAI_API_KEY, ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN, OPENAI_ACCESS_TOKEN,
…), refreshing OAuth tokens first. No secret is put in argv. The child's exit
code is clawauth's; SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed to it.

Flags:
  --provider ID        route among this provider's profiles (repeatable)
  --profile ID         use exactly this profile (repeatable)
  --model SPEC         OpenClaw's Model@provider[:profile]
  --min-valid SPAN     refresh tokens expiring sooner than this (default 5m)
  --report             record the outcome: exit 0 → report --ok
  --report-code N=WHY  with --report, exit code N → report --reason WHY (repeatable)
${GLOBAL_HELP}

Examples:
  clawauth exec --provider anthropic -- claude -p "hello"
  clawauth exec --provider openai --report --report-code 42=rate_limit -- ./agent.sh`,
  async run(ctx, args) {
    const cmd = args.rest ?? [];
    if (cmd.length === 0) throw usageError("exec needs a command after --.", "exec");
    if (args.positionals.length > 0) throw usageError("Put the command after --.", "exec");
    const span = args.string("min-valid");
    const minValidMs = span === undefined ? 5 * 60_000 : parseDuration(span);
    if (minValidMs === undefined) {
      throw usageError(`--min-valid ${safeText(span ?? "")} is not a duration.`, "exec");
    }
    const codes = reportCodes(args.list("report-code"));
    const paths = resolvePaths(args, ctx);
    const store = await openStore(ctx, paths);
    const externalOrder = await routingOrder(ctx, paths.openclawConfig);
    const used: Profile[] = [];
    const env: Record<string, string> = {};
    for (const request of requests(args)) {
      const { profile, secret } = await obtainCredential(ctx, paths, store, request, {
        minValidMs,
        externalOrder,
      });
      env[envName(profile, paths.config)] = secret;
      used.push(profile);
    }
    const code = await run(cmd, { ...Deno.env.toObject(), ...env });
    const outcome = code === 0 ? "ok" : codes.get(code);
    if (args.bool("report") && outcome) {
      for (const profile of used) {
        // The child's exit code is the result; a report that cannot land only warns.
        await recordOutcome(ctx, paths, profile.id, outcome).catch((error) => {
          if (!(error instanceof ClawauthError)) throw error;
          warn(ctx, `${error.message} The outcome was not recorded.`);
        });
      }
    }
    return code;
  },
};
