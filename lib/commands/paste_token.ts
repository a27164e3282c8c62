/**
 * `clawauth paste-token`: store a setup-token or API key read from stdin.
 *
 * @module
 */

import { type Args } from "../args.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import { formatSpan, parseDuration } from "../duration.ts";
import { usageError } from "../errors.ts";
import { printJson, safeText, warn } from "../output/output.ts";
import { type AgentPaths, resolvePaths } from "../paths.ts";
import { MAX_EXPIRES, PROFILE_NAME, type ProfileType, PROVIDER_ID } from "../profiles.ts";
import { readSecret } from "../login/secret_input.ts";
import { putProfile, updateStore } from "../store.ts";
import { findProvider } from "../../providers/index.ts";
import type { Context } from "../context.ts";

const TYPES: Record<string, ProfileType> = {
  token: "token",
  "api-key": "api_key",
};

/** Picks the type: `--type`, else the one whose known prefix the secret has, else the provider's first. */
function typeFor(
  provider: string,
  secret: string,
  flag: string | undefined,
): ProfileType {
  if (flag !== undefined) return TYPES[flag];
  const def = findProvider(provider);
  const byPrefix = (def?.pasteTypes ?? []).find((type) =>
    def?.prefixes?.[type]?.some((prefix) => secret.startsWith(prefix))
  );
  return byPrefix ?? def?.pasteTypes?.[0] ?? "token";
}

function prefixWarning(
  ctx: Context,
  provider: string,
  type: ProfileType,
  secret: string,
): void {
  const expected = findProvider(provider)?.prefixes?.[type];
  if (expected && !expected.some((prefix) => secret.startsWith(prefix))) {
    warn(
      ctx,
      `this does not look like ${
        type === "api_key" ? "an API key" : "a token"
      } for ${provider} (expected ${expected.join(" or ")}…); stored anyway.`,
    );
  }
}

/** Stores one pasted secret as a `token` or `api_key` profile. */
export async function storePasted(
  ctx: Context,
  opts: {
    provider: string;
    name: string;
    type: ProfileType;
    secret: string;
    expires?: number;
    json: boolean;
    paths: AgentPaths;
  },
): Promise<number> {
  const paths = opts.paths;
  const id = `${opts.provider}:${opts.name}`;
  prefixWarning(ctx, opts.provider, opts.type, opts.secret);
  const entry = opts.type === "api_key"
    ? { type: "api_key", provider: opts.provider, key: opts.secret }
    : {
      type: "token",
      provider: opts.provider,
      token: opts.secret,
      ...(opts.expires ? { expires: opts.expires } : {}),
    };
  const replaced = await updateStore(
    ctx,
    paths,
    (store) => putProfile(store, id, entry),
  );
  if (opts.json) {
    printJson(ctx, {
      profile: id,
      provider: opts.provider,
      type: opts.type,
      expires: opts.expires ?? null,
      replaced,
    });
  } else {
    const expiry = opts.expires ? `, expires in ${formatSpan(opts.expires - ctx.now())}` : "";
    ctx.out(
      `${
        replaced ? "Replaced" : "Stored"
      } ${id} (${opts.type}${expiry}) in agent ${paths.agent}.\n`,
    );
  }
  return 0;
}

/** How `paste-token` and `setup-token` differ. */
export interface PasteOptions {
  /** The command name, for usage errors. */
  command: string;
  /** Runs before the secret is read (e.g. `claude setup-token`). */
  beforeRead?: (provider: string) => Promise<void>;
  /** The expiry of a token when `--expires-in` is not given. */
  defaultExpiresMs?: number;
}

/** Validates the flags, reads one secret from stdin and stores it. */
export async function runPaste(ctx: Context, args: Args, opts: PasteOptions): Promise<number> {
  const { command } = opts;
  if (args.positionals.length > 0) {
    // Never echo it: the extra argument may well be the secret itself.
    throw usageError(
      `${command} takes no arguments: a secret on the command line leaks into shell history and ps; pipe it on stdin.`,
      command,
    );
  }
  const provider = args.string("provider");
  if (!provider) throw usageError(`${command} needs --provider ID.`, command);
  if (!PROVIDER_ID.test(provider)) {
    throw usageError(`${safeText(provider)} is not a provider id.`, command);
  }
  const name = args.string("profile") ?? "default";
  if (!PROFILE_NAME.test(name)) {
    throw usageError("A profile name is 1-128 characters of A-Z a-z 0-9 . _ @ + -.", command);
  }
  const typeFlag = args.string("type");
  if (typeFlag !== undefined && !Object.hasOwn(TYPES, typeFlag)) {
    throw usageError("--type is token or api-key.", command);
  }
  const span = args.string("expires-in");
  const spanMs = span === undefined ? opts.defaultExpiresMs : parseDuration(span);
  if (span !== undefined && (!spanMs || ctx.now() + spanMs > MAX_EXPIRES)) {
    throw usageError(`--expires-in ${safeText(span)} is not a duration such as 365d.`, command);
  }
  if (span !== undefined && typeFlag === "api-key") {
    throw usageError("API keys do not expire; drop --expires-in.", command);
  }
  const paths = resolvePaths(args, ctx); // a bad --agent fails before the secret is asked for
  await opts.beforeRead?.(provider);
  const secret = await readSecret(ctx, `Paste the ${provider} secret (input hidden): `);
  const type = typeFor(provider, secret, typeFlag);
  if (span !== undefined && type === "api_key") {
    throw usageError("API keys do not expire; drop --expires-in.", command);
  }
  return storePasted(ctx, {
    provider,
    name,
    type,
    secret,
    json: args.bool("json"),
    paths,
    expires: spanMs && type !== "api_key" ? ctx.now() + spanMs : undefined,
  });
}

/** The `paste-token` command. */
export const command: Command = {
  positionals: true,
  flags: {
    provider: { type: "string" },
    profile: { type: "string" },
    type: { type: "string" },
    "expires-in": { type: "string" },
    json: { type: "boolean" },
  },
  help:
    `Usage: clawauth paste-token --provider ID [--profile NAME] [--type token|api-key] [--expires-in 365d] [--json]

Reads one secret from stdin (hidden on a terminal) and stores it as the
profile <provider>:<name>. A secret is never accepted as an argument.

Flags:
  --provider ID       provider, e.g. anthropic, openai
  --profile NAME      profile name (default: default)
  --type TYPE         token (setup-token, no refresh) or api-key; default from
                      the secret's prefix, else the provider's usual kind
  --expires-in SPAN   when a token expires, e.g. 365d, 12h (tokens only)
  --json              print {"profile","provider","type","expires","replaced"}
${GLOBAL_HELP}

Examples:
  claude setup-token | clawauth paste-token --provider anthropic --profile work
  printf %s "$OPENAI_API_KEY" | clawauth paste-token --provider openai --type api-key`,
  run: (ctx, args) => runPaste(ctx, args, { command: "paste-token" }),
};
