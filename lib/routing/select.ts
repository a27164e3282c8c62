/**
 * Turns `--provider`, `--profile` and `--model` into one profile to use, or
 * an error that says why none can serve and what to run (docs/routing.md).
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import type { Kind } from "../args.ts";
import { flag } from "../flags.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { loginCommand } from "../output/hints.ts";
import { own } from "../json/json.ts";
import { listProfiles, readProfile } from "../profiles.ts";
import {
  availableAt,
  type Candidate,
  candidateOf,
  parseModelSpec,
  rankProvider,
  type RouteRequest,
} from "./routing.ts";
import type { StoreData } from "../store.ts";
import type { StoreKind } from "../store/kind.ts";
import { storedProfileId, storedRoute } from "../provider/names.ts";

/** `--model`: OpenClaw's `Model@provider[:profile]`, read into a request. */
const MODEL_SPEC: Kind<RouteRequest> = {
  what: "Model@provider[:profile]",
  read: parseModelSpec,
};

/** The flags that name what a request wants. */
export const SELECT_FLAGS = {
  provider: flag.provider(),
  profile: flag.profileId(),
  model: flag.value(MODEL_SPEC),
};

/** What `--provider`, `--profile` and `--model` named, as parsed (any may be unset). */
export interface Selection {
  /** A provider id. */
  readonly provider?: string;
  /** A profile id, `provider:name`. */
  readonly profile?: string;
  /** The request a model spec names. */
  readonly model?: RouteRequest;
}

/** Merges `--provider`, `--profile` and `--model` into one request, refusing a mismatch. */
export function requestOf(selection: Selection, command: string): RouteRequest {
  const fromModel = selection.model ?? {};
  const profileId = selection.profile ?? fromModel.profileId;
  const provider = selection.provider ?? fromModel.provider ?? profileId?.split(":")[0];
  if (profileId !== undefined && !profileId.startsWith(`${provider}:`)) {
    throw usageError(
      `Profile ${safeText(profileId)} does not belong to provider ${provider}.`,
      command,
    );
  }
  return { provider, profileId, model: fromModel.model };
}

/**
 * The request as the store names things: in OpenClaw's store `openai-codex`
 * is `openai` profiles of type `oauth`, and `openai` means API keys only.
 */
export function storedRequest(backend: StoreKind, request: RouteRequest): RouteRequest {
  const route = request.provider === undefined ? undefined : storedRoute(backend, request.provider);
  return {
    ...request,
    ...(route ? { provider: route.provider } : {}),
    ...(route?.types ? { types: route.types } : {}),
    ...(request.profileId ? { profileId: storedProfileId(backend, request.profileId) } : {}),
  };
}

/** The single provider of a store, when it holds exactly one. */
function onlyProvider(store: StoreData): string | undefined {
  const providers = new Set(
    listProfiles(store.profiles).map((p) => p.provider),
  );
  return providers.size === 1 ? [...providers][0] : undefined;
}

const until = (ms: number) => new Date(ms).toISOString();

/**
 * Picks the profile for `request`: a pinned profile is used or refused, never
 * rotated away; otherwise the provider's first usable profile.
 */
export function selectProfile(
  store: StoreData,
  request: RouteRequest,
  now: number,
  externalOrder?: unknown,
): Candidate {
  if (request.profileId !== undefined) {
    return pinned(store, request.profileId, now);
  }
  const provider = request.provider ?? onlyProvider(store);
  if (provider === undefined) {
    throw usageError(
      "Name a provider with --provider ID, --profile ID or --model SPEC.",
    );
  }
  const ranking = rankProvider(store, provider, now, externalOrder, request.types);
  const chosen = ranking.usable[0];
  if (chosen) return chosen;
  const reasons = ranking.skipped.map((s) => `${s.candidate.profile.id} ${s.reason}`);
  const first = ranking.skipped.find((s) => s.reason !== "excluded_by_auth_order");
  throw new ClawauthError(
    reasons.length === 0
      ? `No credential for provider ${provider}.`
      : `No usable credential for provider ${provider} (${safeText(reasons.join(", "), 300)}).`,
    Exit.noCredential,
    `Run: ${loginCommand(provider, first?.candidate.profile)}`,
  );
}

function pinned(store: StoreData, id: string, now: number): Candidate {
  const provider = id.split(":")[0];
  if (!Object.hasOwn(store.profiles, id)) {
    throw new ClawauthError(
      `No profile ${safeText(id)} in this agent.`,
      Exit.noCredential,
      `Run: ${loginCommand(provider)} (or see clawauth list)`,
    );
  }
  const candidate = candidateOf(store, readProfile(id, own(store.profiles, id)), now);
  const { profile, usage, state } = candidate;
  if (state === "ok" || state === "expiring") return candidate;
  const sidelined = state === "cooldown" || state === "disabled";
  throw new ClawauthError(
    sidelined
      ? `Profile ${id} is in ${state} until ${
        until(availableAt(usage))
      }; a pinned profile is never rotated away.`
      : `Profile ${safeText(id)} cannot be used: it is ${state}${
        profile.invalid ? ` (${profile.invalid})` : ""
      }.`,
    Exit.noCredential,
    sidelined
      ? `Wait, pick another profile, or clear it: clawauth report ${id} --ok`
      : `Run: ${loginCommand(provider, profile)}`,
  );
}
