/**
 * `clawauth exec`: run a command with fresh secrets in its environment (never
 * in argv), passing its exit code and signals through.
 *
 * @module
 */

import { definitionIdOf } from "../provider/names.ts";
import type { Kind } from "../args.ts";
import type { Context } from "../context.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { resolveProvider } from "../config.ts";
import { obtainCredential } from "../routing/credential.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { FAILURE_REASONS, type FailureReason } from "../routing/failover.ts";
import { routingOrder } from "../openclaw_config.ts";
import { safeText, warn } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { type Profile, splitProfileId } from "../profiles.ts";
import type { RouteRequest } from "../routing/routing.ts";
import { requestOf, SELECT_FLAGS } from "../routing/select.ts";
import { openStore } from "../store.ts";
import { recordOutcome } from "../routing/outcome.ts";

/**
 * clawauth's own secrets, which no child has any business with: the fleet
 * store's key and its database password. `CLAWAUTH_STORE_KEY_FILE` stays: a
 * path is no secret, and the file's owner and 0600 mode guard the key.
 */
const OWN_SECRETS = ["CLAWAUTH_STORE_KEY", "PGPASSWORD"];

/** The child's environment: this one without clawauth's own secrets, plus the fresh ones. */
function childEnv(ctx: Context, secrets: Record<string, string>): Record<string, string> {
  const env = ctx.envAll();
  for (const name of OWN_SECRETS) delete env[name];
  return { ...env, ...secrets };
}

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

/** `--report-code N=WHY`: an exit code and the failure it reports. */
const REPORT_CODE: Kind<readonly [number, FailureReason]> = {
  what: `CODE=${FAILURE_REASONS.join("|")}`,
  read(text) {
    const [code, reason] = text.split("=");
    const why = FAILURE_REASONS.find((r) => r === reason);
    return /^\d{1,3}$/.test(code) && why ? [Number(code), why] : undefined;
  },
};

/** One request per `--provider` and `--profile`, plus the model spec's (docs/commands.md). */
function requests(
  providers: readonly string[],
  profiles: readonly string[],
  model: RouteRequest | undefined,
): RouteRequest[] {
  const list: RouteRequest[] = [
    ...providers.map((provider) => ({ provider })),
    ...profiles.map((profileId) => ({ provider: splitProfileId(profileId)?.provider, profileId })),
    // The model spec is a request of its own, beside any --provider.
    ...(model ? [model] : []),
  ];
  return list.length > 0 ? list : [requestOf({}, "exec")];
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
        // The whole environment is given, so what it leaves out stays out.
        clearEnv: true,
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
export const command = defineCommand({
  argumentNote: "put the command after --",
  flags: {
    provider: flag.list(SELECT_FLAGS.provider),
    profile: flag.list(SELECT_FLAGS.profile),
    model: SELECT_FLAGS.model,
    "min-valid": flag.duration({ default: "5m" }),
    report: flag.boolean(),
    "report-code": flag.list(flag.value(REPORT_CODE)),
  },
  help:
    `Usage: clawauth exec [--provider ID …] [--profile ID …] [--model SPEC] [--report] -- CMD [ARGS…]

Runs CMD with each provider's environment variable set to a fresh secret
(OPENAI_API_KEY, ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN, OPENAI_ACCESS_TOKEN,
…), refreshing OAuth tokens first. No secret is put in argv, and clawauth's
own (CLAWAUTH_STORE_KEY, PGPASSWORD) are taken out of CMD's environment. The
child's exit code is clawauth's; SIGINT, SIGTERM, SIGHUP and SIGQUIT are
passed to it.

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
    const codes = new Map(args["report-code"]);
    const paths = resolvePaths(args, ctx);
    const store = await openStore(ctx, paths);
    const externalOrder = await routingOrder(ctx, paths.openclawConfig);
    const used: Profile[] = [];
    const env: Record<string, string> = {};
    for (const request of requests(args.provider, args.profile, args.model)) {
      const { profile, secret } = await obtainCredential(ctx, paths, store, request, {
        minValidMs: args["min-valid"],
        externalOrder,
      });
      env[envName(profile, paths.config)] = secret;
      used.push(profile);
    }
    const code = await run(cmd, childEnv(ctx, env));
    const outcome = code === 0 ? "ok" : codes.get(code);
    if (args.report && outcome) {
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
});
