/**
 * `clawauth resolve`: which profile a request would use, and why every other
 * candidate was passed over (OpenClaw's reason codes).
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { flag } from "../flags.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { routingOrder } from "../openclaw_config.ts";
import { printJson, safeText, table } from "../output/output.ts";
import { resolvePaths } from "../paths.ts";
import { PROVIDER_ID, splitProfileId } from "../profiles.ts";
import {
  availableAt,
  type Candidate,
  parseModelSpec,
  rankProvider,
  type RouteRequest,
} from "../routing/routing.ts";
import { selectProfile, storedRequest } from "../routing/select.ts";
import { openStore } from "../store.ts";

function requestFrom(spec: string): RouteRequest | undefined {
  if (PROVIDER_ID.test(spec)) return { provider: spec };
  const parts = splitProfileId(spec);
  if (parts) return { provider: parts.provider, profileId: spec };
  return parseModelSpec(spec);
}

function sidelinedReason(candidate: Candidate): string | null {
  return candidate.state === "cooldown" || candidate.state === "disabled" ? candidate.state : null;
}

/** The `resolve` command. */
export const command = defineCommand({
  positionals: ["SPEC"],
  flags: { json: flag.boolean() },
  help: `Usage: clawauth resolve SPEC [--json]

Shows which profile a request would use and why each other candidate was
passed over (excluded_by_auth_order, missing_credential, expired,
invalid_expires, cooldown, disabled, needs_login). SPEC is a provider
(anthropic), a profile (anthropic:work) or a model spec (opus@anthropic:work).

Flags:
  --json   print {"request","profile","source","candidates":[{"id","state","rank","reason","availableAt"}]}
${GLOBAL_HELP}

Example:
  clawauth resolve opus@anthropic`,
  async run(ctx, args) {
    const [spec] = args.positionals;
    const asked = requestFrom(spec);
    if (!asked?.provider) {
      throw usageError(
        `${safeText(spec)} is not a provider, profile or Model@provider[:profile].`,
        "resolve",
      );
    }
    const paths = resolvePaths(args, ctx);
    const request = storedRequest(paths.backend, asked);
    const store = await openStore(ctx, paths);
    const external = await routingOrder(ctx, paths.openclawConfig);
    const now = ctx.now();
    const provider = request.provider ?? asked.provider;
    const ranking = rankProvider(store, provider, now, external, request.types);
    let chosen: string | null = null;
    let failure: ClawauthError | undefined;
    try {
      chosen = selectProfile(store, request, now, external).profile.id;
    } catch (error) {
      if (!(error instanceof ClawauthError) || error.exitCode !== Exit.noCredential) throw error;
      failure = error;
    }
    const candidates = [
      ...ranking.usable.map((c, i) => ({
        id: c.profile.id,
        state: c.state,
        rank: i + 1,
        reason: c.profile.id === chosen
          ? null
          : request.profileId && c.profile.id !== request.profileId
          ? "not_requested"
          : sidelinedReason(c),
        ...(sidelinedReason(c) ? { availableAt: availableAt(c.usage) } : {}),
      })),
      ...ranking.skipped.map((s) => ({
        id: s.candidate.profile.id,
        state: s.candidate.state,
        rank: null,
        // A pin beats the order: the pinned profile is chosen, not passed over.
        reason: s.candidate.profile.id === chosen ? null : s.reason,
      })),
    ];
    const source = request.profileId ? "explicit" : ranking.source;
    if (args.json) {
      printJson(ctx, { request, profile: chosen, source, candidates });
    } else {
      ctx.out(chosen ? `${chosen}  (${source})\n` : `No usable profile for ${request.provider}.\n`);
      if (candidates.length > 0) {
        ctx.out(table(
          ["CANDIDATE", "STATE", "RANK", "WHY NOT"],
          candidates.map((
            c,
          ) => [
            safeText(c.id, 60),
            c.state,
            c.rank === null ? "-" : String(c.rank),
            c.id === chosen ? "(chosen)" : c.reason ?? "lower in order",
          ]),
        ));
      }
    }
    if (failure) throw failure;
    return 0;
  },
});
