/**
 * `clawauth openclaw-secret`: an OpenClaw exec SecretRef provider (protocol
 * v1, docs/helpers.md). OpenClaw writes the ids it needs on stdin; each id is a
 * profile id (pinned) or a provider id (routed), and its secret is obtained
 * exactly as `clawauth token` obtains it. Per-id failures are answered under
 * `errors`; only a request that is not protocol v1 fails the whole run.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import type { Context } from "../context.ts";
import { obtainCredential } from "../routing/credential.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { flag } from "../flags.ts";
import { exists } from "../fs/files.ts";
import { routingOrder } from "../openclaw_config.ts";
import { safeText, warn } from "../output/output.ts";
import { type Paths, resolvePaths, type StateFlags } from "../paths.ts";
import { listProfiles } from "../profiles.ts";
import { storedProfileId, storedRoute } from "../provider/names.ts";
import {
  errorCodeOf,
  MAX_REQUEST_BYTES,
  parseSecretRequest,
  requestTooLarge,
  type SecretError,
  secretError,
  secretResponse,
  type SecretTarget,
  secretTargetOf,
} from "../secret_protocol.ts";
import { readLimited } from "../login/secret_input.ts";
import { openStore, type StoreData } from "../store.ts";

/** Reads the request from stdin, refusing more than OpenClaw could ever send. */
async function readRequest(ctx: Context): Promise<Uint8Array> {
  try {
    return await readLimited(ctx.stdin, MAX_REQUEST_BYTES, "request");
  } catch (error) {
    // readLimited's own wording is about pasted secrets; its only refusal is the size.
    if (error instanceof ClawauthError) throw requestTooLarge();
    throw error;
  }
}

/** Whether a path is absolute on POSIX or Windows. */
function isAbsolute(path: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path);
}

/**
 * The paths, refusing what cannot work under OpenClaw: it runs the command
 * with an empty environment (no HOME) and with the command's own dir as the
 * working dir, so the state dir must be given, and absolutely.
 */
function pathsFor(ctx: Context, flags: StateFlags): Paths {
  const hint =
    "OpenClaw runs exec providers with an empty environment: add --state-dir /absolute/path to the provider's args, or list OPENCLAW_STATE_DIR in its passEnv.";
  let paths: Paths;
  try {
    paths = resolvePaths(flags, ctx);
  } catch (error) {
    if (error instanceof ClawauthError && error.exitCode === Exit.usage) {
      throw new ClawauthError(error.message, Exit.usage, hint);
    }
    throw error;
  }
  if (!isAbsolute(paths.stateDir)) {
    throw new ClawauthError(
      `The state dir ${
        safeText(paths.stateDir)
      } is relative; OpenClaw runs this command from another directory.`,
      Exit.usage,
      hint,
    );
  }
  return paths;
}

/** Whether the store holds anything `target` could name (else the id is `NOT_FOUND`). */
function knows(paths: Paths, store: StoreData, target: SecretTarget): boolean {
  if (target.profileId !== undefined) {
    return Object.hasOwn(store.profiles, storedProfileId(paths.backend, target.profileId));
  }
  const route = storedRoute(paths.backend, target.provider);
  return listProfiles(store.profiles).some((profile) =>
    profile.provider === route.provider &&
    (route.types === undefined ||
      (profile.type !== undefined && route.types.includes(profile.type)))
  );
}

/**
 * Why an id failed, as its per-id error; `missing` tells a missing credential
 * (`NOT_FOUND`) from one that exists but cannot serve. A stop signal (exit
 * 128 and up, e.g. SIGTERM after a refresh was saved) is rethrown: it ends the run.
 */
function failureOf(ctx: Context, error: unknown, missing: () => boolean): SecretError {
  if (!(error instanceof ClawauthError)) {
    if (ctx.env("CLAWAUTH_DEBUG") === "1" && error instanceof Error) ctx.err(`${error.stack}\n`);
    // Its text is not ours to vouch for (it may quote a file): keep it out of the answer.
    return secretError(
      "FAILED",
      "An unexpected error occurred; run the command by hand with CLAWAUTH_DEBUG=1 for details.",
    );
  }
  if (error.exitCode >= 128) throw error;
  if (error.exitCode === Exit.noCredential && missing()) {
    return secretError("NOT_FOUND", error.message);
  }
  return secretError(errorCodeOf(error.exitCode), error.message);
}

/**
 * Opens the store for an answer: a store that cannot be read fails every id
 * alike, but the answer stays well-formed, so OpenClaw still names each ref.
 */
async function openForAnswer(
  ctx: Context,
  paths: Paths,
): Promise<{ store: StoreData } | { failure: SecretError }> {
  try {
    const store = await openStore(ctx, paths);
    if (Object.keys(store.profiles).length === 0 && !exists(paths.stateDir)) {
      warn(ctx, `the state dir ${safeText(paths.stateDir)} does not exist.`);
    }
    return { store };
  } catch (error) {
    const failure = failureOf(ctx, error, () => false);
    ctx.err(`clawauth: ${failure.message}\n`);
    if (error instanceof ClawauthError && error.hint) ctx.err(`${error.hint}\n`);
    return { failure };
  }
}

/** The `openclaw-secret` command. */
export const command = defineCommand({
  flags: {
    "min-valid": flag.duration({ default: "5m" }),
  },
  help: `Usage: clawauth openclaw-secret [--state-dir DIR] [--agent ID] [--min-valid 5m]

An OpenClaw exec SecretRef provider (protocol v1). Reads
  {"protocolVersion":1,"provider":"clawauth","ids":["anthropic:work","openai"]}
on stdin and prints
  {"protocolVersion":1,"values":{"<id>":"<secret>"},"errors":{"<id>":{"code","message"}}}
on stdout. An id is a profile id (anthropic:work, used exactly) or a provider
id (openai, routed like clawauth token --provider openai). Each secret is got
as clawauth token gets it: refreshed first when it expires within --min-valid.
An id that cannot be served is answered under "errors" with a code (NOT_FOUND,
NEEDS_LOGIN, UNAVAILABLE, INVALID_DATA, INVALID_REQUEST, FAILED) and a message
without secrets; the exit code is then still 0. A request that is not
protocol v1 exits 65 with one sentence on stderr.

OpenClaw runs the command with an EMPTY environment (no HOME) plus the
variables named in passEnv, from the command's own directory: give the state
dir as an absolute --state-dir in args (or pass OPENCLAW_STATE_DIR through
passEnv), likewise CLAWAUTH_AGENT or CLAWAUTH_STORE if you use them. The
command must be an absolute path to the real binary (not a symlink; see
realpath), owned by you and not group- or world-writable.

Only "token" and "api_key" profiles may take their secret from a SecretRef
(tokenRef / keyRef), and OpenClaw keeps resolved values until
"openclaw secrets reload" or a gateway restart: this suits long-lived
setup-tokens and API keys, not OAuth access tokens that expire within hours.

Flags:
  --min-valid SPAN  refresh when a token expires sooner than this (default 5m)
${GLOBAL_HELP}

OpenClaw config (openclaw.json):
  {
    "secrets": {
      "providers": {
        "clawauth": {
          "source": "exec",
          "command": "/usr/local/bin/clawauth",
          "args": ["openclaw-secret", "--state-dir", "/home/me/.clawauth"],
          "passEnv": [],
          "jsonOnly": true,
          "timeoutMs": 15000
        }
      }
    }
  }

Then give OpenClaw a token profile whose tokenRef names it, with a plan
(an api_key profile: type auth-profiles.api_key.key, path profiles.<id>.key):
  {"version": 1, "protocolVersion": 1, "targets": [{
    "type": "auth-profiles.token.token", "path": "profiles.anthropic:work.token",
    "agentId": "main", "authProfileProvider": "anthropic",
    "ref": {"source": "exec", "provider": "clawauth", "id": "anthropic:work"}}]}
  openclaw secrets apply --from plan.json --allow-exec
  openclaw secrets audit --allow-exec --json   # refsChecked 1, unresolvedRefCount 0

Examples:
  echo '{"protocolVersion":1,"provider":"clawauth","ids":["anthropic:work"]}' |
    clawauth openclaw-secret --state-dir "$HOME/.clawauth"
  openclaw secrets reload   # a running gateway picks up new values`,
  async run(ctx, args) {
    const minValidMs = args["min-valid"];
    const paths = pathsFor(ctx, args);
    if (ctx.stdinIsTTY) {
      ctx.err("Reading a protocol v1 request from stdin (end it with Ctrl-D)…\n");
    }
    const request = parseSecretRequest(await readRequest(ctx));
    const opened = await openForAnswer(ctx, paths);
    const values = new Map<string, string>();
    const errors = new Map<string, SecretError>();
    let openclawOrder: Promise<unknown> | undefined;
    for (const id of request.ids) {
      const target = secretTargetOf(id);
      if (target === undefined) {
        errors.set(
          id,
          secretError("INVALID_REQUEST", "The id is neither a profile id nor a provider id."),
        );
        continue;
      }
      if (!("store" in opened)) {
        errors.set(id, opened.failure);
        continue;
      }
      const { store } = opened;
      try {
        // OpenClaw's auth.order matters only to routed ids; read it once, when first needed.
        const externalOrder = target.profileId === undefined
          ? await (openclawOrder ??= routingOrder(ctx, paths.openclawConfig))
          : undefined;
        const { secret } = await obtainCredential(ctx, paths, store, target, {
          minValidMs,
          externalOrder,
        });
        values.set(id, secret);
      } catch (error) {
        const failure = failureOf(ctx, error, () => !knows(paths, store, target));
        errors.set(id, failure);
        // stderr is for the person debugging the provider by hand; OpenClaw shows codes only.
        ctx.err(`clawauth: ${safeText(id)}: ${failure.code}: ${failure.message}\n`);
      }
    }
    ctx.out(`${JSON.stringify(secretResponse(values, errors))}\n`);
    return Exit.ok;
  },
});
