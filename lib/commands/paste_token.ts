/**
 * `clawauth paste-token`: store a setup-token or API key read from stdin.
 *
 * @module
 */

import type { Args } from "../args.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { formatSpan } from "../duration.ts";
import { usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { printJson, warn } from "../output/output.ts";
import { type AgentPaths, resolvePaths } from "../paths.ts";
import { CREDENTIAL_FIELDS, type CredentialFields, type ProfileType } from "../profiles.ts";
import { readSecret } from "../login/secret_input.ts";
import { putProfile, updateStore } from "../store.ts";
import { findProvider } from "../../providers/index.ts";
import type { Context } from "../context.ts";

const TYPES = { token: "token", "api-key": "api_key" } as const satisfies Record<
  string,
  ProfileType
>;

/** The flags `paste-token` and `setup-token` share. */
export const PASTE_FLAGS = {
  provider: flag.provider(),
  profile: flag.profileName(),
  // Far below what a Date holds (8.64e15 ms), which an expiry must fit in.
  "expires-in": flag.duration({ positive: true, max: "36500d" }),
  json: flag.boolean(),
};

/** Why neither command takes an argument. */
export const NO_SECRET_ARGUMENT =
  "a secret on the command line leaks into shell history and ps; pipe it on stdin";

/** Picks the type: `--type`, else the one whose known prefix the secret has, else the provider's first. */
function typeFor(
  provider: string,
  secret: string,
  typeFlag: keyof typeof TYPES | undefined,
): ProfileType {
  if (typeFlag !== undefined) return TYPES[typeFlag];
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
  const type = opts.type === "api_key" ? "api_key" : "token";
  const fields: CredentialFields = CREDENTIAL_FIELDS[type];
  const entry = {
    type,
    provider: opts.provider,
    [fields.secret]: opts.secret,
    ...(opts.expires && fields.expiry ? { [fields.expiry]: opts.expires } : {}),
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

/** The parsed flags of either command; only `paste-token` has `--type`. */
export type PasteArgs = Args<typeof PASTE_FLAGS> & {
  readonly type?: keyof typeof TYPES;
};

/** Reads one secret from stdin and stores it, as the (parsed) flags say. */
export async function runPaste(ctx: Context, args: PasteArgs, opts: PasteOptions): Promise<number> {
  const { command } = opts;
  const { provider, type: typeFlag } = args;
  if (!provider) throw usageError(`${command} needs --provider ID.`, command);
  const name = args.profile ?? "default";
  const span = args["expires-in"];
  const spanMs = span ?? opts.defaultExpiresMs;
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
    json: args.json,
    paths,
    expires: spanMs && type !== "api_key" ? ctx.now() + spanMs : undefined,
  });
}

/** The `paste-token` command. */
export const command = defineCommand({
  argumentNote: NO_SECRET_ARGUMENT,
  flags: { ...PASTE_FLAGS, type: flag.oneOf(["token", "api-key"]) },
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
});
